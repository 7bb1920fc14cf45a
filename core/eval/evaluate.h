#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "data/datasetspec.h"
#include "models/request.h"

namespace ll {

// Evaluation of a run's samples (design.md, Inspect): every score beside its floor (the same
// score of real training images against the real reference images, same count, same
// extractor), saved as <run>/eval/step-NNNNNN-gW.json with its protocol, plus PNGs of the
// nearest-neighbour pairs and the data-copying cells. Torch-free: the GUI reads the records.

/// Every metric evaluate() knows, in table order: fid, kid, precision, recall, density,
/// coverage, is, agreement, classes, neighbours, ct, tstr.
const std::vector<std::string>& evalMetricNames();
/// What runs when no list is given: all but tstr (which trains two classifiers).
std::vector<std::string> defaultEvalMetrics();
/// True for the metrics that read the dataset's classifier (an extractor) whatever the feature
/// space: is, agreement, classes. In raw pixels with no extractor they cannot be had (tstr
/// trains classifiers of its own).
bool metricNeedsClassifier(const std::string& metric);
/// Parses "fid,kid,..." or "all"; the error names the unknown metric and lists the others.
Result<std::vector<std::string>> parseEvalMetrics(const std::string& list);

/// A score's name for tables ("fid" -> "FID") and one sentence on how to read it.
std::string scoreLabel(const std::string& score);
std::string scoreHelp(const std::string& score);

struct EvalOptions {
    std::vector<std::string> metrics;  // empty: defaultEvalMetrics()
    std::int64_t count = 2000;         // generated samples (and real ones, where there are)
    /// Seed, guidance and other steering of the samples; labels empty cycles the classes.
    SampleRequest request;
    /// A feature extractor folder (eval/extractor.h) or a classifier run; empty finds the
    /// dataset's own (workspace first, then shipped).
    std::filesystem::path extractor;
    bool pixels = false;  // raw pixels (or standardised rows) as the feature space instead
    std::filesystem::path workspace;
    int k = 3;  // precision/recall
    int kDensity = 5;
    int kidSubsets = 100;
    std::int64_t kidSize = 1000;
    int cells = 10;  // data-copying k-means cells
    std::int64_t tstrSteps = 600;
    int neighbourRows = 48;  // generated samples kept in the nearest-neighbour view
    /// Where the record and its PNGs go; empty: the run's eval folder. An exported dataset's
    /// card evaluates into a folder of its own, so that Inspect does not list it.
    std::filesystem::path recordDir;
    /// Samples scored as given (evaluate --samples): where they came from. Their record says
    /// so and takes a name of its own, so the run's own evaluation of that step is kept.
    std::string samplesFrom;
    /// Real data training did not see, to score against (the reference, the data-copying test,
    /// TSTR): a held-out file or folder of the run's kind, read as the run's data was
    /// (loadForRun; a table's label column is the run's unless given). Empty `source`: the
    /// data's own other split where it has one, else halves of the training data.
    DatasetSpec heldOut{.source = ""};
};

/// Stage name and fraction of it done; returning false cancels.
using EvalProgressFn = std::function<bool(const std::string& stage, double fraction)>;

/// Evaluates the run at `step` (its latest checkpoint when empty) and writes the record.
/// Blocks the calling thread; returns the JSON file written.
Result<std::filesystem::path> evaluateRun(const std::filesystem::path& run,
                                          std::optional<std::int64_t> step,
                                          const EvalOptions& options,
                                          const EvalProgressFn& progress = {});

/// The same for a model in memory (a training run's, between two steps), recorded as the
/// run's `step`. Draws from torch's default generator: a trainer saves and restores it.
Result<std::filesystem::path> evaluateModel(GenerativeModel& generator,
                                            const std::filesystem::path& run, std::int64_t step,
                                            const EvalOptions& options,
                                            const EvalProgressFn& progress = {});

/// Evaluates samples drawn elsewhere: a folder as `sample` and `export` write them (PNG files
/// listed with their classes in manifest.csv, tables as CSV rows), scored against the run's
/// real data at `step` (its latest checkpoint when empty) exactly as evaluateModel scores the
/// samples it draws. options.count is ignored: every sample of the folder counts.
Result<std::filesystem::path> evaluateSampleFolder(const std::filesystem::path& run,
                                                   std::optional<std::int64_t> step,
                                                   const std::filesystem::path& samples,
                                                   const EvalOptions& options,
                                                   const EvalProgressFn& progress = {});

// ---- Reading records back (the GUI and the CLI table) ----

inline constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

struct EvalScore {
    std::string name;  // fid, kid, precision, ...
    double value = kNoValue;
    double floor = kNoValue;  // the real-vs-real value, NaN where it has none
    double std = kNoValue;    // KID's standard deviation over subsets
    bool lowerIsBetter = false;
};

/// One generated sample and its nearest training images in feature space.
struct EvalNeighbour {
    std::int64_t sample = 0;          // index among the generated samples
    int label = -1;                   // its conditioned class
    std::vector<std::int64_t> train;  // training-set rows, nearest first
    std::vector<double> distances;
};

/// A data-copying cell on the 2-D PCA map of the training features.
struct EvalCell {
    int id = 0;
    double z = 0;
    bool kept = false;  // counted in C_T (enough generated samples)
    std::int64_t train = 0, test = 0, generated = 0;
    double x = 0, y = 0;  // centroid on the map
    /// Generated samples of the cell (rows of the cells PNG hold them beside their nearest
    /// training image) and their distances.
    std::vector<std::int64_t> samples;
    std::vector<double> distances;
};

struct EvalRecord {
    std::filesystem::path file;
    std::int64_t step = 0;
    std::int64_t count = 0;
    std::uint64_t seed = 0;
    double guidance = 0;
    std::string featureSpace;  // "classifier" or "pixels"
    std::string extractor;     // folder of the extractor; empty for pixels
    std::string extractorSha256;
    std::string reference;    // "held-out" or "train" (data without a held-out split)
    std::string protocol;     // one readable line
    std::string samplesFrom;  // samples scored as given: their folder; empty for the run's draws
    std::vector<EvalScore> scores;
    /// Metrics that were asked for but could not be computed, with the reason.
    std::vector<std::pair<std::string, std::string>> errors;
    std::vector<std::string> classNames;
    std::vector<std::int64_t> generatedClasses, realClasses;  // predicted-class histograms
    std::vector<EvalNeighbour> neighbours;                    // nearest first
    std::filesystem::path neighboursImage;  // row i: neighbours[i]'s sample, then its train rows
    std::vector<EvalCell> cells;
    std::filesystem::path cellsImage;  // row i: cells[i]'s samples and neighbours, in pairs
    std::vector<float> mapX, mapY;     // training points on the PCA map
    std::vector<int> mapCell;

    const EvalScore* score(const std::string& name) const;
};

Result<EvalRecord> readEvaluation(const std::filesystem::path& file);
/// Every record of a run, by step then guidance. A file named as a record that does not read
/// is skipped; `unreadable`, when given, gets why ("<file>: malformed ...").
std::vector<EvalRecord> listEvaluations(const std::filesystem::path& run,
                                        std::vector<std::string>* unreadable = nullptr);

}  // namespace ll
