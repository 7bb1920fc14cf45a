#pragma once

// The diffusion classifier's scoring (Li et al. 2023): the shared (t, noise) pairs, the
// pruned and unpruned scoring of a batch of images, and an explanation out of one image's
// per-pair errors. Private to study/ (torch); the public face is study/diffusionclassifier.h.

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "models/diffusion.h"
#include "run/runloader.h"
#include "study/diffusionclassifier.h"

namespace ll::diffusionclassify {

/// The (t, noise) pairs every image and every class share, in visiting order: draw by draw,
/// the timesteps of each draw bit-reversed, so that every prefix spreads over all of t.
struct Pairs {
    torch::Tensor t;             // P, int64, on the model's device
    torch::Tensor noise;         // P x (one item of the diffusion space), on the model's device
    std::vector<int> timesteps;  // the K distinct t, ascending
    std::vector<int> column;     // per pair: its t's index in `timesteps`
    std::int64_t size() const { return t.size(0); }
};

/// `timesteps` evenly spaced t over 0..T-1 (the middle of K equal bins), each with
/// `noiseDraws` noises drawn from `seed`; `item` is one item's shape in the diffusion space.
Pairs makePairs(const DiffusionClassifierOptions& options, const NoiseSchedule& schedule,
                torch::IntArrayRef item, torch::Device device);

/// Per image: the mean error of each class over the pairs it saw (NaN: pruned before any),
/// the class chosen and the network evaluations spent; with `keepPairErrors`, every error
/// (N x C x P float32 on the CPU, NaN where a class was pruned).
struct Scored {
    std::vector<std::vector<double>> scores;
    std::vector<int> predictions;
    std::vector<std::int64_t> evaluations;
    torch::Tensor pairErrors;
};

/// Scores images x0 (N x ... in the diffusion space) for `numClasses` classes, pruning after
/// options.stages as options.keep says (none when empty). Every (image, class, pair) of a stage
/// goes into as few network calls as the model's denoisingBatch allows. Errors are summed in
/// double, pair by pair in visiting order; stages that prune nothing are merged, so pruning
/// with keep = every class scores bit for bit as the unpruned pass. `progress` (fraction of
/// this batch) returning false cancels: the result is then empty.
Scored scoreImages(DenoisingClassifiable& model, const torch::Tensor& x0, int numClasses,
                   const Pairs& pairs, const DiffusionClassifierOptions& options,
                   bool keepPairErrors, const std::function<bool(double)>& progress = {});

/// The prediction with only the first k pairs, per k in `budgets`, from unpruned pair errors
/// (C x P of one image).
std::vector<int> budgetPredictions(const torch::Tensor& pairErrors,
                                   const std::vector<int>& budgets);

/// One image's explanation out of its unpruned pair errors (C x P).
DiffusionExplanation explanationOf(const torch::Tensor& pairErrors, const Pairs& pairs,
                                   const std::vector<std::string>& classes, int label);

/// The budgets of the curve: 1, 2, 5, 10, 20, 50, ... below `pairs`, then `pairs`.
std::vector<int> defaultBudgets(int pairs);

/// The samples of `spec` (only `rows` of them, in that order, when given), shaped as the run's
/// own data was (images, or a classifier run's table rows), checked against its classes and
/// shape; a row out of range is an error naming it.
Result<Dataset> loadRunImages(const DatasetSpec& spec, const LoadedRun& run,
                              const std::vector<std::int64_t>& rows = {});

// The record (diffusionclassifierrecord.cpp).

/// rows = true class, columns = the class chosen.
std::vector<std::vector<std::int64_t>> confusionOf(const std::vector<int>& labels,
                                                   const std::vector<int>& predictions,
                                                   int numClasses);
/// Writes OUT/confusion.png and, with a budget curve, OUT/budget.png; a chart that cannot be
/// drawn becomes a note.
void writeResultCharts(DiffusionClassifyResult& result);
/// Writes OUT/result.json atomically: the result's keys, then `extra`'s.
Result<void> writeResult(const DiffusionClassifyResult& result, const nlohmann::json& extra);

}  // namespace ll::diffusionclassify
