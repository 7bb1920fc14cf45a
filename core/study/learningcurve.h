#pragma once

// The learning-curve study of Ng and Jordan (2001): generative classifiers (naive Bayes,
// GDA, QDA) against discriminative ones (logistic regression, the CNN classifier) as the
// training set grows from 10 rows per class to all of them, on a log scale, repeated over
// seeds (each seed draws its own class-balanced subset), scored on a held-out part: the test
// split for IDX data and Fashion-MNIST, a seeded stratified fraction of a CSV. "The
// generative classifier reaches its (higher) asymptotic error faster": the crossing is the
// size at which a generative method stops being better than logistic regression.
//
// Results land in OUT: result.json (the curves, crossings, per-seed accuracies, settings),
// learning-curve.png (a band per method, log x, the crossings marked), and parts/, one small
// JSON per (method, size, seed) written as it finishes, so that a rerun with the same OUT and
// options resumes. Torch-free: the window's study panel holds these types.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/datasetspec.h"
#include "study/classicclassifiers.h"
#include "study/diffusionclassifier.h"

namespace ll {

/// What the classic classifiers see: the domain extractor's features (what evaluation uses),
/// the raw pixels flattened, or a CSV's (standardised) columns.
enum class CurveFeatures { Extractor, Pixels, Columns };

/// "extractor", "pixels", "columns"; parseCurveFeatures refuses anything else.
std::string curveFeaturesName(CurveFeatures features);
Result<CurveFeatures> parseCurveFeatures(const std::string& name);

/// Every method the study knows, in chart order: "nb", "gda", "qda", "logistic", "cnn",
/// "diffusion". The diffusion classifier (study/diffusionclassifier.h) is not trained per
/// subset (a diffusion model per size and seed would cost hours on a CPU): it scores a given
/// ddpm or latent-ddpm run on the same held-out images, a point at the run's own training size.
std::vector<std::string> learningCurveMethods();

struct LearningCurveRequest {
    /// The data as DatasetSpec takes it (source, label column, classes, image size); its
    /// split is the training part and its limit caps the training rows.
    DatasetSpec data;
    /// Empty: extractor for images, columns for tables.
    std::optional<CurveFeatures> features;
    /// The domain extractor (folder or classifier run); empty finds the dataset's own.
    std::filesystem::path extractor;
    std::filesystem::path workspace;

    std::vector<std::string> methods = {"nb", "gda", "qda", "logistic"};
    /// Training rows per class; empty: 10, 30, 100, 300, ... and the largest balanced size
    /// the data allows. Every size must fit in the smallest class's training rows.
    std::vector<std::int64_t> sizes;
    int seeds = 5;
    std::uint64_t seed = 1;  // seed s of the study draws with seed + s
    /// CSV (no test split): the stratified fraction held out, drawn with `seed`.
    double heldOutFraction = 0.25;
    /// At most this many held-out rows (a seeded subset), 0 for all.
    std::int64_t heldOutLimit = 0;

    ClassicSettings settings;
    /// cnn: the `classifier` model trained with the Trainer for cnnStepsPerRow x the
    /// training rows steps, within [cnnMinSteps, cnnMaxSteps], batch cnnBatch.
    std::string cnnPreset;  // empty: the classifier's default settings
    double cnnStepsPerRow = 0.5;
    std::int64_t cnnMinSteps = 100, cnnMaxSteps = 2000;
    std::int64_t cnnBatch = 64;

    /// diffusion: the ddpm or latent-ddpm run (trained on this data's training split), scored
    /// on at most diffusionImages of the held-out images (spread over them; 0: all), once per
    /// seed with the pairs' seed diffusionOptions.seed + s.
    std::filesystem::path diffusionRun;
    DiffusionClassifierOptions diffusionOptions;
    std::int64_t diffusionImages = 500;

    std::filesystem::path out;
};

/// One method at one size: mean and sd (sample sd, n - 1) of the held-out accuracy over
/// seeds, and each seed's.
struct CurvePoint {
    std::string method;
    std::int64_t size = 0;       // per class
    std::int64_t trainRows = 0;  // size x classes (diffusion: the run's training rows)
    /// diffusion: held-out images scored (may be fewer than the others') and the network
    /// evaluations each cost; 0 for the other methods.
    std::int64_t images = 0;
    double evaluationsPerImage = 0;
    double mean = 0, sd = 0;
    std::vector<double> accuracies;  // per seed, in seed order
};

/// Where a generative method stops being better than the discriminative one (by mean
/// accuracy), interpolated on the log-size axis between the last size where it was better
/// and the next; `found` false when it never was better or still is at the largest size
/// (`note` says which).
struct CurveCrossing {
    std::string generative;
    std::string discriminative = "logistic";
    bool found = false;
    double size = 0;      // per class, between two measured sizes
    double accuracy = 0;  // where the two lines meet
    std::string note;
};

struct LearningCurveResult {
    std::vector<CurvePoint> curves;  // by method (request order), then size
    std::vector<CurveCrossing> crossings;
    std::string sizeUnit = "per_class";
    std::string features;   // "extractor", "pixels", "columns"
    std::string extractor;  // the extractor's folder when features is "extractor"
    std::int64_t featureDim = 0;
    std::vector<std::string> classes;
    std::int64_t trainRows = 0;      // available for training
    std::int64_t heldOutRows = 0;    // scored on
    std::string heldOut;             // "the test split", "a stratified 25% of the rows"
    std::int64_t partsReused = 0;    // finished parts a resumed study did not redo
    std::vector<std::string> notes;  // what the study decided on its own (started over, ...)
    std::filesystem::path json, chart;
};

/// Stage ("loading", "features", "fitting", "chart") and the fraction done; false cancels.
using LearningCurveProgressFn = std::function<bool(const std::string& stage, double fraction)>;

/// Checks the request without loading data: methods, sizes, seeds, fractions, the folder.
Result<void> checkLearningCurve(const LearningCurveRequest& request);

/// Runs the study (blocks). Finished parts under OUT/parts/ made with the same options are
/// reused; with other options they are cleared first (the result's partsReused says 0).
/// Bad data (one class, a size larger than a class, a label column that is not there) is an
/// error naming the fault; a cancel returns the error "cancelled" and keeps finished parts.
Result<LearningCurveResult> runLearningCurve(const LearningCurveRequest& request,
                                             const LearningCurveProgressFn& progress = {});

/// The default sizes per class: 10, 30, 100, 300, 1000, ... below `largest`, then `largest`.
std::vector<std::int64_t> learningCurveSizes(std::int64_t largest);

/// The crossing of each generative method in `curves` with `discriminative` (see
/// CurveCrossing). Sizes are matched by value; a method without that curve is skipped.
std::vector<CurveCrossing> findCrossings(const std::vector<CurvePoint>& curves,
                                         const std::string& discriminative = "logistic");

/// Reads a result.json this study wrote (the window shows a finished study with it).
Result<LearningCurveResult> readLearningCurve(const std::filesystem::path& resultJson);

}  // namespace ll
