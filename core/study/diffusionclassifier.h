#pragma once

// The diffusion classifier (Li et al. 2023, "Your Diffusion Model is Secretly a Zero-Shot
// Classifier"): an image goes to the class whose conditional denoising error is lowest,
// averaged over one set of (t, noise) pairs shared by every class, with adaptive pruning (after
// each stage only the best classes go on). Works for ddpm runs (in pixel space) and latent-ddpm
// runs (in latent space). Beside it, the accuracy of the dataset's clean domain classifier, and
// the same record for a plain classifier run. Torch-free: the window's Classify mode holds
// these types.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/datasetspec.h"

namespace ll {

/// The error between the predicted and the true noise: mean absolute (l1) or squared (l2).
enum class DenoisingLoss { L1, L2 };

/// "l1", "l2"; parseDenoisingLoss refuses anything else, naming the choices.
std::string denoisingLossName(DenoisingLoss loss);
Result<DenoisingLoss> parseDenoisingLoss(const std::string& name);

/// How each image is scored. The (t, noise) pairs are `timesteps` evenly spaced t, each with
/// `noiseDraws` noises drawn from `seed`, the same for every image and every class. They are
/// visited in an order whose every prefix spreads over the whole range of t (bit-reversed), so
/// that the first k pairs are a fair cheaper classifier (the budget curve) and a stage can
/// prune on them.
struct DiffusionClassifierOptions {
    int timesteps = 50;
    int noiseDraws = 1;
    /// Adaptive pruning: after stages[i] pairs (cumulative, per class) only the keep[i] classes
    /// with the lowest mean error so far go on. Both empty: no pruning (every class sees every
    /// pair). Stages ascend and lie below timesteps x noiseDraws; keep descends, >= 1.
    std::vector<int> stages;
    std::vector<int> keep;
    DenoisingLoss loss = DenoisingLoss::L2;
    std::uint64_t seed = 0;
};

/// Checks the options alone (counts, stages against keep); the error names the fault.
Result<void> checkDiffusionClassifierOptions(const DiffusionClassifierOptions& options);

/// "--timesteps 50 --noise-draws 1 --stages 20 --keep 3 --loss l2 --seed 0": how the options
/// read on the command line (the parts' and the result's record of them).
std::string diffusionClassifierOptionsText(const DiffusionClassifierOptions& options);

/// Stage ("loading", "baseline", "classifying", "charts") and the fraction done; false cancels.
using DiffusionClassifyProgressFn = std::function<bool(const std::string& stage, double fraction)>;

struct DiffusionClassifyRequest {
    std::filesystem::path run;
    std::optional<std::int64_t> step;  // the latest checkpoint when empty
    /// The images to classify (the CLI: --dataset D --split test --limit N). Image folders are
    /// shaped as the run's own data was.
    DatasetSpec data;
    /// Only these rows of `data`, in this order (empty: every row): a study that scores a
    /// chosen held-out subset (the learning curve) names it here.
    std::vector<std::int64_t> rows;
    DiffusionClassifierOptions options;
    /// With pruning on, also score every image on every pair unpruned (its accuracy and the
    /// budget curve); costs the unpruned evaluations on top.
    bool unpruned = true;
    /// The budget curve's points: the first k pairs for these k (empty: 1, 2, 5, 10, ... up to
    /// every pair).
    std::vector<int> budgets;
    /// Images per part (one file under OUT/parts/, the unit of resuming).
    std::int64_t partSize = 64;
    /// Explain the first `explain` images: explain/<index>-errors.png and -curve.png.
    int explain = 4;
    /// The clean domain classifier beside it (extractor folder or classifier run; empty finds
    /// the dataset's own, as evaluation does). No classifier found is a note, not a failure.
    bool baseline = true;
    std::filesystem::path extractor;
    std::filesystem::path workspace;  // where to look for extractors; the run's when empty
    /// Where result.json, the charts and parts/ go; empty: diffusionClassifierFolder(run).
    std::filesystem::path out;
};

/// Where a run's diffusion-classifier study goes unless told otherwise, and where the window
/// and the report look for it: the run's studies/diffusion-classifier/.
std::filesystem::path diffusionClassifierFolder(const std::filesystem::path& run);

/// Accuracy at a budget: `evaluations` network evaluations per image.
struct BudgetPoint {
    double evaluations = 0;
    double accuracy = 0;
    bool pruned = false;  // the pruned run's own point
};

/// What result.json holds (keys in brackets).
struct DiffusionClassifyResult {
    std::filesystem::path out;
    std::vector<std::string> classes;                  // [classes]
    std::int64_t count = 0;                            // [count] images classified
    double accuracy = 0;                               // [accuracy]
    std::vector<std::vector<std::int64_t>> confusion;  // [confusion] rows = true class
    double evaluationsPerImage = 0;                    // [evaluations_per_image]; 0: a classifier
    std::optional<double> unprunedAccuracy;            // [unpruned_accuracy]
    double unprunedEvaluationsPerImage = 0;            // [unpruned_evaluations_per_image]
    std::vector<BudgetPoint> budget;                   // [budget]
    std::optional<double> baselineAccuracy;            // [baseline.accuracy] on the same images
    std::string baselineName;                          // [baseline.classifier]
    std::string baselineNote;                          // why there is none
    std::string model;                                 // [model] ddpm, latent-ddpm, classifier
    std::int64_t step = 0;                             // [step]
    std::string settings;                              // [settings] the options as CLI text
    double seconds = 0;                                // [seconds] this invocation's work
    double imagesPerSecond = 0;                        // [images_per_second]
    std::int64_t resumedImages = 0;                    // [resumed_images] from earlier parts
    std::vector<std::filesystem::path> charts;         // the PNGs written
    double unprunedImagesPerSecond = 0;                // [unpruned_images_per_second]
    /// What a reader should know: resumed or started over, no baseline classifier, a chart
    /// that could not be drawn (a build without OpenCV). [notes]
    std::vector<std::string> notes;
    /// Per image (in data order) and class: the mean error over the pairs the class saw
    /// before it was pruned (NaN: never scored), and unpruned over every pair (empty when
    /// not run). Kept in OUT/parts/, not in result.json.
    std::vector<std::vector<double>> scores, unprunedScores;
    std::vector<int> labels, predictions;  // [labels], [predictions] per image, in data order
};

/// Classifies the request's images with a ddpm or latent-ddpm run and writes OUT/result.json
/// (atomically, at the end), OUT/confusion.png, OUT/budget.png and OUT/explain/*.png. Finished
/// parts land in OUT/parts/ as they complete; a rerun with the same options skips them, with
/// other options it starts over. Another model's run is refused ("<run> is a <model> run; the
/// diffusion classifier needs a ddpm or latent-ddpm run"). Blocks; a cancel keeps the parts.
Result<DiffusionClassifyResult> classifyWithDiffusion(
    const DiffusionClassifyRequest& request, const DiffusionClassifyProgressFn& progress = {});

/// A classifier run's accuracy and confusion on the request's images (the diffusion options
/// are ignored), written as the same result.json keys without evaluations_per_image, plus
/// OUT/confusion.png; with `out` empty nothing is written. Another model's run is refused.
Result<DiffusionClassifyResult> classifyWithClassifier(
    const DiffusionClassifyRequest& request, const DiffusionClassifyProgressFn& progress = {});

/// Reads a result.json that either of the above wrote (the window shows an earlier study).
Result<DiffusionClassifyResult> readDiffusionClassifyResult(const std::filesystem::path& out);

/// Why one image went where it did: the per-class mean error over the pairs it saw and each
/// class's error against t (averaged over the noise draws).
struct DiffusionExplanation {
    std::vector<std::string> classes;
    std::vector<int> timesteps;               // ascending: the x of the curves
    std::vector<double> errors;               // per class, over every pair
    std::vector<std::vector<double>> curves;  // [class][timestep index]
    int predicted = 0;                        // the lowest error
    int label = -1;                           // the true class, when known
    std::int64_t evaluations = 0;             // network evaluations spent (classes x pairs)
};

/// A diffusion run held open for explaining images one at a time (the window's Classify mode:
/// click an image, see its bars and curves). Unpruned: every class sees every pair.
class DiffusionClassifier {
public:
    /// Opens the run (refused unless ddpm or latent-ddpm, as classifyWithDiffusion refuses).
    static Result<DiffusionClassifier> open(const std::filesystem::path& run,
                                            std::optional<std::int64_t> step = {});
    DiffusionClassifier(DiffusionClassifier&&) noexcept;
    DiffusionClassifier& operator=(DiffusionClassifier&&) noexcept;
    ~DiffusionClassifier();

    const std::vector<std::string>& classes() const;
    /// The run's image shape (channels, height, width).
    int channels() const;
    int height() const;
    int width() const;

    /// Image `index` of `data` (shaped as the run's data).
    Result<DiffusionExplanation> explain(const DatasetSpec& data, std::int64_t index,
                                         const DiffusionClassifierOptions& options);
    /// One image as channels x height x width floats in [0, 1] (gray: one channel).
    Result<DiffusionExplanation> explain(const std::vector<float>& pixels, int label,
                                         const DiffusionClassifierOptions& options);

private:
    struct Impl;
    explicit DiffusionClassifier(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

/// Writes an explanation's two charts: `<stem>-errors.png` (bars per class, the chosen one
/// highlighted) and `<stem>-curve.png` (error against t, a line per class).
Result<void> writeExplanationCharts(const DiffusionExplanation& explanation,
                                    const std::filesystem::path& stem);

}  // namespace ll
