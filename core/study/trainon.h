#pragma once

// Training a model of the zoo on rows a study holds in memory (a subset, a rebalanced set,
// rows with synthetic ones added): the rows are written into a work folder in a form the
// Trainer loads (images as IDX bytes, tables as a CSV in original units), the Trainer trains
// the model there, and the run's data.json is given the rows' own class names, dataset name
// and categorical columns (the VAE family is told them too, and learns them as categories),
// so that the run reads as trained on the study's data (the check a study makes of a
// generator run compares them). Any model: the `classifier` (a CNN for images, an MLP for
// tables) or a conditional generator (cvae, cgan, acgan, ddpm, latent-ddpm). Internal to core
// (torch): the window reads the studies' results, not this.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <torch/types.h>

#include "common/error.h"
#include "data/dataset.h"
#include "models/catalog.h"
#include "run/runloader.h"

namespace ll {

struct TrainOnRequest {
    /// A preset of the zoo ("classifier-cpu", "cgan-cpu"): the model and its settings, steps,
    /// batch and learning rate. Empty: `model` with its defaults.
    std::string preset;
    std::string model;
    /// On top of the preset's settings.
    Settings settings;
    std::int64_t steps = 0;   // 0: the preset's
    int batch = 0;            // 0: the preset's (128 without a preset)
    double learningRate = 0;  // 0: the preset's (1e-3 without a preset)
    std::uint64_t seed = 1;   // the Trainer's: weights and batches
    int threads = 0;          // TrainConfig::threads
    /// Checkpoints every this many steps (0: at the end only). A run cut short keeps them.
    int checkpointEvery = 0;
    /// The rows go to work/data, the run to work/run; both are replaced.
    std::filesystem::path work;
};

/// The fraction of steps done; false cancels.
using TrainOnProgressFn = std::function<bool(double fraction)>;

/// Trains the model `request` names on `rows` (images float in [0, 1], N x C x H x W, or
/// standardised table rows with their mean and std; every class of rows.classNames needs a
/// row, since the Trainer counts the classes it sees) and returns the run folder (work/run).
/// A cancel is the error "cancelled"; a failed run is an error with the Trainer's message.
Result<std::filesystem::path> trainOn(const Dataset& rows, const TrainOnRequest& request,
                                      const TrainOnProgressFn& progress = {});

/// trainOn, then the run loaded at its last checkpoint.
Result<LoadedRun> trainAndLoad(const Dataset& rows, const TrainOnRequest& request,
                               const TrainOnProgressFn& progress = {});

/// The preset a request resolves to, checked: a known preset, or a known model without one.
/// Errors name the unknown preset or model.
Result<ModelPreset> resolveTrainOn(const TrainOnRequest& request);

/// Table rows standardised as `data` holds them, standardised as `run` was trained (its
/// data.json's mean and std): what a run trained by trainOn takes. And back.
torch::Tensor toRunTable(const torch::Tensor& rows, const Dataset& data, const RunData& run);
torch::Tensor fromRunTable(const torch::Tensor& rows, const RunData& run, const Dataset& data);

}  // namespace ll
