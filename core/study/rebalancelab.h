#pragma once

// The imbalance lab's insides (study/rebalance.h is its public face): the prepared data, the
// methods that rebalance it, the classifier trained and scored on each, and the generators the
// lab draws from. Private to study/ (torch).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "run/runloader.h"
#include "study/imbalancemetrics.h"
#include "study/rebalance.h"
#include "study/resample.h"

namespace ll::rebalance {

/// The lab's data, checked: the imbalanced training part, the held-out part, the minority
/// classes, and what the methods need (the domain classifier, the generators).
struct Lab {
    Dataset train;  // imbalanced
    Dataset held;
    std::vector<std::int64_t> originalCounts;
    std::vector<int> minority;
    ImbalanceProfile profile;
    std::string classifier;  // "cnn", "mlp", "logistic"
    std::string heldOutText, imbalanceText;
    /// The domain classifier (for the confidence filter), when one is needed, and its index
    /// of each of the lab's classes.
    std::shared_ptr<LoadedRun> domain;
    std::string domainDir;
    std::vector<std::int64_t> domainClass;
    /// Generator methods: the run each draws from (given, or trained into OUT/generator/).
    std::map<std::string, std::filesystem::path> generatorRuns;
    std::map<std::string, std::shared_ptr<LoadedRun>> generators;
    /// smote-latent: the VAE run, given or trained.
    std::filesystem::path vaeRun;
    std::shared_ptr<LoadedRun> vae;
    std::vector<std::string> notes;

    bool images() const { return train.modality == Modality::Image; }
};

/// Loads the data, splits off the held-out part, makes the training part imbalanced and checks
/// everything the methods will need (class names, SMOTE's rows, generator runs) without
/// writing anything.
Result<Lab> prepareLab(const RebalanceRequest& r);

/// Opens and checks the generator runs and the VAE run given (the lab's data, classes and
/// shape), the presets of those the lab will train, and the domain classifier the confidence
/// filter needs. Called by prepareLab; writes nothing.
Result<void> checkGenerators(const RebalanceRequest& r, Lab& lab);

/// The lab's own generators and VAE: trained into OUT/generator/<method>/ unless a finished
/// one made with the same options is there; then every generator is loaded.
Result<void> prepareGenerators(const RebalanceRequest& r, Lab& lab, const nlohmann::json& options,
                               const std::function<bool(double)>& progress);

/// What a method added, for the samples figure: synthetic images beside real ones
/// (columns), a row per sample.
struct Figure {
    std::vector<torch::Tensor> columns;  // each K x C x H x W
    std::vector<std::string> columnLabels, rowLabels;
};

/// One method's training set at one seed.
struct Rebalanced {
    Dataset data;
    std::int64_t synthetic = 0;
    Figure figure;
    std::vector<std::string> notes;  // a confidence filter that left a class short  // images only,
                                     // when the method made samples
};

/// Rebalances the lab's training set with `method` at seed index `s` (draws with seed + s).
Result<Rebalanced> rebalanceWith(const RebalanceRequest& r, const Lab& lab,
                                 const std::string& method, int s,
                                 const std::function<bool(double)>& progress);

/// Generator methods: every class below the largest filled with the generator's samples.
Result<Rebalanced> generatorFill(const RebalanceRequest& r, const Lab& lab,
                                 const std::string& method, std::uint64_t seed,
                                 const std::function<bool(double)>& progress);

/// smote-latent: SMOTE in the VAE's latent space, decoded back.
Result<Rebalanced> latentSmote(const RebalanceRequest& r, const Lab& lab, std::uint64_t seed);

/// Trains the lab's classifier on `train` (seed `seed`; cnn and mlp in `work`, removed
/// after) and scores it on the held-out part.
Result<ImbalanceScores> fitAndScore(const RebalanceRequest& r, const Lab& lab, const Dataset& train,
                                    std::uint64_t seed, const std::filesystem::path& work,
                                    const std::function<bool(double)>& progress);

/// Writes the figure as a labelled grid PNG.
Result<void> writeFigure(const Figure& figure, const std::string& title,
                         const std::filesystem::path& png);

/// Training rows with `extra` rows (same layout) and their labels appended.
Dataset withRows(const Dataset& data, const torch::Tensor& extra, const torch::Tensor& labels);

/// The options of one method beyond the lab's (its generator run, SMOTE's k, ...): a part is
/// reused only when these match too.
nlohmann::json methodOptions(const RebalanceRequest& r, const Lab& lab, const std::string& method);

/// Names with ", " between them (class names in a message).
inline std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace ll::rebalance
