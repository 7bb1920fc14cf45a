#pragma once

// The imbalance lab: does a classifier trained on an imbalanced set gain more from
// SMOTE or from a generator's samples? The training part of a labelled dataset (images or a
// table) is made imbalanced once, with the study's seed (a long tail, chosen minority classes at
// chosen shares, or as it is); the held-out part (the test split of IDX data, a seeded
// stratified fraction of a CSV or an image folder) stays as given and is never resampled. Each
// method rebalances the training set, over seeds (seed s: the method's draw and the
// classifier's initialisation with seed + s), and the same classifier is trained on the result
// and scored on the held-out part (study/imbalancemetrics.h): per-class recall, balanced
// accuracy, macro F1, G-mean, the minority classes' recall and AUROC, mean and sd over seeds.
//
// Methods (every one that adds rows brings every class up to the largest class's count, so
// that the methods compare like for like):
//   none         the imbalanced set as it is (the baseline)
//   under        random under-sampling of every class to the smallest class's count
//   over         random over-sampling (copies) of every class to the largest
//   smote        SMOTE (Chawla et al. 2002) in input space (pixels, standardised columns)
//   smote+under  the SMOTE paper's combination: SMOTE every class below s x the largest count
//                up to t = ceil(s x largest) (s = smoteUnderShare), then under-sample every
//                class above t down to t: a balanced set of t rows a class
//   smote-latent SMOTE in a VAE run's latent space (its encoder's means), decoded back to
//                images: vaeRun, or a VAE the lab trains on the imbalanced set
//   cvae, cgan, acgan, ddpm, latent-ddpm
//                samples of that conditional generator, trained on the imbalanced set itself
//                (by the lab, under OUT/generator/<method>/, or given as a run trained on the
//                same data and classes), fill every class up to the largest; guidance weight
//                and an optional confidence filter by the dataset's domain classifier
// (SMOTE in the domain extractor's feature space is not offered: features cannot be decoded
// back to images, so the classifier would have to change with the method.)
//
// Results land in OUT: result.json, metrics.png (methods x metrics, sd whiskers),
// per-class-recall.png, samples-<method>.png (images: synthetic minority samples beside their
// nearest real minority sample, SMOTE's between both parents) and parts/, one small JSON per
// finished (method, seed), so that a rerun with the same options resumes. Torch-free: the
// window's Rebalance panel holds these types.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/datasetspec.h"
#include "study/classicclassifiers.h"

namespace ll {

/// How the lab makes the training set imbalanced.
enum class ImbalanceMode { AsIs, LongTail, Minority };

/// A minority class by name or number and its share of the imbalanced training rows.
struct MinorityShare {
    std::string cls;
    double share = 0.05;
};

/// "3:0.02,5:0.02" or "malignant:0.05" into shares; an empty or malformed entry is an error
/// naming it.
Result<std::vector<MinorityShare>> parseMinorityShares(const std::string& text);

/// Every method the lab knows, in chart order.
std::vector<std::string> rebalanceMethods();
/// Whether a method is a generator's (its name is the zoo's model).
bool isGeneratorMethod(const std::string& method);

struct RebalanceRequest {
    /// The data as DatasetSpec takes it (source, label column, classes, image size, limit).
    /// Its split is the training part; its own longTailRatio must stay 1 (the lab's imbalance
    /// is `imbalance`).
    DatasetSpec data;
    ImbalanceMode imbalance = ImbalanceMode::LongTail;
    double longTailRatio = 100;
    std::vector<MinorityShare> minority;

    std::vector<std::string> methods = {"none", "under", "over", "smote", "smote+under"};
    int seeds = 5;
    std::uint64_t seed = 1;  // the imbalance's draw; seed s of a method uses seed + s
    /// CSV and image folders (no test split): the stratified fraction held out, drawn with
    /// `seed`, before the imbalance.
    double heldOutFraction = 0.25;
    /// At most this many held-out rows (a seeded subset), 0 for all.
    std::int64_t heldOutLimit = 0;

    /// "cnn" (images), "mlp" or "logistic" (tables); empty: cnn for images, logistic for
    /// tables. cnn and mlp are the zoo's `classifier` model trained with the Trainer for
    /// classifierSteps steps whatever the set's size (every method gets the same training).
    std::string classifier;
    std::string classifierPreset;  // empty: classifier-cpu
    std::int64_t classifierSteps = 400;
    std::int64_t classifierBatch = 64;
    ClassicSettings logistic;

    int smoteK = 5;
    /// smote+under: the share s of the largest class's count that SMOTE fills up to.
    double smoteUnderShare = 0.5;

    /// Generator methods: runs to use (each run's model names its method); a generator method
    /// without one is trained by the lab with generatorPresets' preset of its model (default
    /// "<model>-cpu") for generatorSteps steps (0: the preset's).
    std::vector<std::filesystem::path> generatorRuns;
    std::vector<std::string> generatorPresets;
    std::int64_t generatorSteps = 0;
    /// Diffusion: classifier-free guidance weight; ignored by models that do not take it.
    double guidance = 0;
    /// Keep a generated sample only when the domain classifier gives its class at least this
    /// probability (0: keep all); draws stop after 8 x the samples needed.
    double minConfidence = 0;
    /// smote-latent: a VAE run (vae, cvae, chaotic-vae) of the same data; empty: the lab
    /// trains vaePreset on the imbalanced set for generatorSteps (0: the preset's).
    std::filesystem::path vaeRun;
    std::string vaePreset = "vae-cpu";

    /// The domain classifier (extractor folder or classifier run); empty finds the dataset's.
    std::filesystem::path extractor;
    std::filesystem::path workspace;
    /// Training threads for the Trainer (0: every core).
    int threads = 0;
    std::filesystem::path out;
};

/// A method's scores over seeds: mean and sample sd (n - 1; 0 for one seed) of each metric,
/// and each seed's values.
struct MethodScores {
    std::string method;
    std::map<std::string, double> mean, sd;  // by metric name (rebalanceMetrics())
    std::vector<std::map<std::string, double>> perSeed;
    std::vector<double> perClassRecall, perClassRecallSd;  // by class
    std::vector<std::int64_t> trainCounts;                 // the rebalanced set's (seed 0)
    std::int64_t synthetic = 0;                            // rows added (seed 0)
};

/// The metrics every method reports, as result.json names them: "minority_recall",
/// "balanced_accuracy", "macro_f1", "g_mean", "minority_auroc", "accuracy".
std::vector<std::string> rebalanceMetrics();
/// A metric as charts and tables name it ("balanced_accuracy": "balanced accuracy").
std::string rebalanceMetricLabel(const std::string& metric);

struct RebalanceResult {
    std::vector<MethodScores> methods;  // in the request's order
    std::vector<std::string> classes;
    std::vector<std::int64_t> counts;          // the imbalanced training set's, by class
    std::vector<std::int64_t> originalCounts;  // before the imbalance
    std::vector<std::int64_t> heldOutCounts;
    std::vector<std::string> minority;  // class names
    std::string imbalance;              // in words: "long tail, ratio 100"
    std::string classifier;             // "cnn", "mlp", "logistic"
    std::string heldOut;                // "the test split", "a stratified 25% of the rows"
    bool images = true;
    std::int64_t partsReused = 0;
    std::vector<std::string> notes;
    std::filesystem::path json, metricsChart, recallChart;
    std::map<std::string, std::filesystem::path> samples;  // method -> figure
};

/// Stage ("loading", "generator", "fitting", "chart") and the fraction done; false cancels.
using RebalanceProgressFn = std::function<bool(const std::string& stage, double fraction)>;

/// Checks the request without loading data: methods, seeds, shares, k, the folder.
Result<void> checkRebalance(const RebalanceRequest& request);

/// Runs the lab (blocks). Finished parts under OUT/parts/ made with the same options are
/// reused; with other options they are cleared first (with a note). Bad input (a class name
/// that does not exist, a share that leaves SMOTE fewer than k + 1 rows of a class, a
/// generator run of other data or classes, no minority class) is an error naming the fault,
/// before anything is written; a cancel returns "cancelled" and keeps finished parts.
Result<RebalanceResult> runRebalance(const RebalanceRequest& request,
                                     const RebalanceProgressFn& progress = {});

/// Reads a result.json this lab wrote (the window shows a finished study with it).
Result<RebalanceResult> readRebalance(const std::filesystem::path& resultJson);

}  // namespace ll
