#pragma once

// One-class detection ("Chaotic Variational Auto Encoder based One Class Classifier"): one
// class of a dataset is normal; vae and chaotic-vae learn it alone (through the Trainer) and
// score held-out rows by how badly they fit it, beside a Mahalanobis baseline on classifier
// features. Repeated over recorded seeds, with a t-test of chaotic-vae against vae. Every
// model and seed is a part saved under OUT/parts/ as it finishes, so a rerun resumes.
// Torch-free: the window's Classify mode holds these types.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/datasetspec.h"
#include "study/stats.h"

namespace ll {

/// The detectors: the two VAEs, and Mahalanobis distance on classifier features (the
/// dataset's extractor for images, the standardised columns for tables).
enum class OneClassModel { Vae, ChaoticVae, Mahalanobis };

/// "vae", "chaotic-vae", "mahalanobis"; parsing refuses anything else, naming the choices.
std::string oneClassModelName(OneClassModel model);
Result<OneClassModel> parseOneClassModel(const std::string& name);
/// "vae,chaotic-vae,mahalanobis": a comma-separated list, each once.
Result<std::vector<OneClassModel>> parseOneClassModels(const std::string& list);

/// How a row is scored, higher meaning more anomalous:
///   reconstruction   squared error (tables) or binary cross-entropy (images) of the decoded
///                    posterior mean
///   elbo             the negative ELBO, its reconstruction averaged over several latent draws
///   latent           Mahalanobis distance of the latent mean to the training normals'
///   features         Mahalanobis distance of classifier features (the baseline's only score)
enum class OneClassScore { Reconstruction, Elbo, Latent, Features };
std::string oneClassScoreName(OneClassScore score);
Result<OneClassScore> parseOneClassScore(const std::string& name);

/// The chaotic VAE's noise: the logistic map's values standardised with the map's own mean
/// and spread, or sent through the inverse normal CDF of the map's invariant distribution
/// (which makes them standard normal in distribution).
enum class ChaoticTransform { Standardise, InverseNormal };
std::string chaoticTransformName(ChaoticTransform transform);  // "standardise", "inverse-normal"
Result<ChaoticTransform> parseChaoticTransform(const std::string& name);

struct OneClassRequest {
    /// The data (source, label column, limit). Images with a held-out split (Fashion-MNIST,
    /// IDX folders) are tested on it; other data holds out testFraction of its normal rows.
    DatasetSpec data;
    /// The normal class: a class name or number.
    std::string normal;
    std::vector<OneClassModel> models{OneClassModel::Vae, OneClassModel::ChaoticVae,
                                      OneClassModel::Mahalanobis};
    /// Seeds firstSeed, firstSeed + 1, ...: each trains both VAEs afresh and redraws the
    /// validation split.
    int seeds = 10;
    std::uint64_t firstSeed = 1;

    // Training, the same for both VAEs.
    std::int64_t steps = 1500;
    std::int64_t batchSize = 64;
    double learningRate = 1e-3;
    int latent = 8;
    std::vector<int> hidden;  // empty: 512,256 for images, 64,32 for tables
    double beta = 1;

    // The chaotic VAE's settings.
    double r = 4;
    /// The logistic map's start value in (0, 1), the same for every latent unit then spread
    /// by a burn-in; unset draws one per unit from the seed.
    std::optional<double> chaoticStart;
    ChaoticTransform transform = ChaoticTransform::Standardise;

    // Scoring.
    /// Latent draws in the ELBO score.
    int elboSamples = 10;
    /// The VAEs' headline score (the one their AUROC, rate and t-test report).
    OneClassScore headline = OneClassScore::Reconstruction;
    /// The threshold: this percentile of the validation normals' scores; above it is
    /// anomalous.
    double percentile = 95;
    /// Of the normal training rows, this fraction is held back for the threshold.
    double validationFraction = 0.2;
    /// Data without a held-out split: this fraction of the normal rows is tested (with every
    /// anomalous row).
    double testFraction = 0.3;
    /// Held-out rows tested at most (a seeded subset, every class kept); 0 for all.
    std::int64_t testLimit = 2000;
    /// The most anomalous test rows shown (anomalies.png for images, anomalies.csv for rows).
    int topAnomalies = 32;

    /// The classifier for the feature baseline (extractor folder or classifier run); empty
    /// finds the dataset's own. Tables use their standardised columns when none applies.
    std::filesystem::path extractor;
    std::filesystem::path workspace;
    std::filesystem::path out;
};

/// One model at one seed, as its part file holds it.
struct OneClassRun {
    OneClassModel model = OneClassModel::Vae;
    std::uint64_t seed = 0;
    std::map<std::string, double> auroc;  // score name -> AUROC
    double headlineAuroc = 0;
    double averagePrecision = 0;
    double threshold = 0;
    double rate = 0;       // accuracy on the held-out normal + anomalous rows at the threshold
    double finalLoss = 0;  // the VAEs' last training loss; 0 for the baseline
    // The headline score's curves: the first seed's only (the charts'); empty for the others.
    stats::RocCurve roc;
    stats::PrCurve pr;
};

/// One model over all seeds.
struct OneClassSummary {
    OneClassModel model = OneClassModel::Vae;
    std::string headline;  // the score name that aurocs and rates are of
    std::vector<std::uint64_t> seeds;
    std::vector<double> aurocs, rates;
    double aurocMean = 0, aurocSd = 0, rateMean = 0, rateSd = 0;
    std::map<std::string, double> scoreAurocMean;  // every score this model has
};

struct OneClassResult {
    std::filesystem::path out;
    std::string normalClass;
    std::vector<std::string> classes;
    /// What the baseline (and nothing else) measured on: "extractor <dir>" or "standardised
    /// columns".
    std::string features;
    std::int64_t trainRows = 0, validationRows = 0, testNormal = 0, testAnomalous = 0;
    std::vector<OneClassSummary> models;
    std::vector<OneClassRun> runs;  // every model and seed
    /// chaotic-vae against vae on their headline AUROCs; unset unless both ran on 2+ seeds.
    std::optional<stats::TTest> ttest;
    int resumedParts = 0;    // parts read back from OUT/parts instead of computed
    bool restarted = false;  // OUT/parts held parts of other options and was cleared
    std::vector<std::filesystem::path> charts;  // roc.png, pr.png, auroc_seeds.png
    std::filesystem::path anomalies;            // anomalies.png or anomalies.csv
};

/// Stage ("loading", "vae seed 3", "scoring", "charts") and the fraction done; false cancels.
using OneClassProgressFn = std::function<bool(const std::string& stage, double fraction)>;

/// Checks the request without training: the data loads, the normal class exists (the error
/// lists the classes), enough normal rows for the split, sane numbers. What the window and the
/// CLI ask before they start.
Result<void> checkOneClass(const OneClassRequest& request);

/// Runs the study into request.out: parts/<model>-seed<N>.json as each finishes (a rerun with
/// the same options skips them; other options clear them), then result.json, the charts and
/// the anomalies, each written atomically. Blocks; cancelling returns the error "cancelled"
/// and keeps the finished parts.
Result<OneClassResult> runOneClass(const OneClassRequest& request,
                                   const OneClassProgressFn& progress = {});

}  // namespace ll
