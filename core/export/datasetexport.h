#pragma once

// Synthetic datasets out of a generator run (design.md, Export): drawn per class under any
// steering of `sample`, filtered (classifier confidence, near-copies of training images, a cap
// per class), written as a PNG folder, IDX, NumPy or CSV with a manifest of every sample's
// provenance, and a dataset card with the data's quality beside its real-vs-real floors.
// Torch-free: the window's Export mode holds these types.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/samplegrid.h"
#include "common/table.h"
#include "models/request.h"

namespace ll {

enum class ExportFormat { Png, Idx, Npy, Csv };

/// "png", "idx", "npy", "csv"; parseExportFormat refuses anything else, naming the choices.
std::string exportFormatName(ExportFormat format);
Result<ExportFormat> parseExportFormat(const std::string& name);

struct ExportRequest {
    std::filesystem::path run;
    std::optional<std::int64_t> step;  // the latest checkpoint when empty

    // How many of which class. perClass samples of each class in `classes` (all when empty),
    // or, with `proportions` (class, weight), `total` samples split by the weights.
    std::int64_t perClass = 100;
    std::vector<int> classes;
    std::vector<std::pair<int, double>> proportions;
    std::int64_t total = 0;

    /// Seed and steering as `sample` takes them (guidance, interval, steps, sampler,
    /// truncation, temperature, a conditioning mixture); labels and count are the export's.
    SampleRequest steering;
    /// A noisy classifier run for classifier guidance (steering.classifierScale).
    std::filesystem::path guidingClassifier;

    // Filters, each reported with the samples it dropped.
    /// Keep a sample only when the domain classifier gives its class at least this
    /// probability; 0 keeps all.
    double minConfidence = 0;
    /// Drop samples whose feature distance to their nearest training image is below
    /// copyDistance (NaN: the 1st percentile of real held-out images' distances to theirs, or
    /// where the data holds none out, of training images' distances to their nearest other).
    bool dropCopies = false;
    double copyDistance = std::numeric_limits<double>::quiet_NaN();
    /// At most this many per class (0: no cap).
    std::int64_t capPerClass = 0;
    /// Draws per class give up after maxDrawFactor x the class's target (filters too strict;
    /// for unconditional models, x the number of classes too); the card says what was short.
    double maxDrawFactor = 4;
    /// Samples per draw: part of what makes an export repeat bit for bit.
    std::int64_t batch = 200;

    ExportFormat format = ExportFormat::Png;
    bool gzip = false;   // IDX only: .gz files
    bool card = true;    // card.md, card.json, croissant.json with metrics
    bool force = false;  // replace a folder that is not empty
    std::filesystem::path out;

    /// The domain classifier (extractor folder or classifier run); empty finds the dataset's.
    std::filesystem::path extractor;
    std::filesystem::path workspace;
    /// The card's metrics: every evaluation metric (TSTR included) unless given.
    std::vector<std::string> metrics;
    std::int64_t tstrSteps = 600;
};

/// One sample's fate in a preview: kept, or the filter that drops it.
struct ExportPreview {
    SampleGrid grid;                   // the first samples, in draw order, one class per row
    TableSamples table;                // a table's run: the first rows, in draw order
    std::vector<std::string> dropped;  // per tile: "" (kept), "confidence", "copy" or "cap"
    std::vector<double> confidence;    // per tile; NaN without a classifier
    std::vector<double> distance;      // per tile: to the nearest training image
    double copyDistance = 0;           // the near-copy threshold in use
};

struct ExportSummary {
    std::filesystem::path out;
    std::int64_t step = 0;
    std::map<std::string, std::int64_t> counts;   // class name -> samples kept
    std::map<std::string, std::int64_t> dropped;  // filter -> samples dropped
    std::int64_t drawn = 0;
    std::vector<std::string> shortfalls;       // "Bag: 37 of 100 after 400 draws"
    std::vector<std::filesystem::path> files;  // the data files (not the card)
    std::filesystem::path card;                // card.md; empty with card off
    std::string cardText;                      // card.md's text, for the window
};

/// Stage ("loading", "drawing", "card", "writing") and the fraction done; false cancels.
using ExportProgressFn = std::function<bool(const std::string& stage, double fraction)>;

/// Checks the request against the run (classes, counts, format for images or tables, the
/// folder) without drawing: what the window and the CLI ask before they start.
Result<void> checkExport(const ExportRequest& request);

/// Draws, filters and writes the dataset into a temporary folder beside `out`, renamed to
/// `out` at the end: a failure or a cancel leaves nothing. Streams: samples are written as
/// they are drawn and only the kept ones' bytes stay in memory (for the card). Blocks.
Result<ExportSummary> exportDataset(const ExportRequest& request,
                                    const ExportProgressFn& progress = {});

/// The first `count` draws of the export (per class in turn) and which the filters drop.
Result<ExportPreview> previewExport(const ExportRequest& request, std::int64_t count);

/// The command line that repeats an export bit for bit (latentlab-cli export ...).
std::string exportCommand(const ExportRequest& request, std::int64_t step,
                          const std::vector<std::string>& classNames);

}  // namespace ll
