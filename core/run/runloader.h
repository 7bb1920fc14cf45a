#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/error.h"
#include "data/datasetspec.h"
#include "models/model.h"
#include "run/runfolder.h"

namespace ll {

struct Dataset;

/// Builds a model as createModel does, first opening the runs its run-naming settings name
/// (ModelInfo::runSettings, at their latest checkpoint) and handing their models in.
Result<std::unique_ptr<GenerativeModel>> buildModel(const std::string& name,
                                                    const ModelShape& shape,
                                                    const Settings& settings);

/// A checkpoint that loaded, and what was wrong with newer ones (empty when nothing was).
struct LoadedCheckpoint {
    std::int64_t step = 0;
    std::filesystem::path path;
    std::string warning;
};

/// Loads the run's newest checkpoint that loads into `model`: the one latest.json names,
/// else the other checkpoint files, newest first. Falling back (a crash, a full disk or a
/// damaged file took the newer one) gives a warning naming the file and the fault; an error
/// only when none loads. A model that failed to load one is loaded whole by the next.
Result<LoadedCheckpoint> loadNewestCheckpoint(GenerativeModel& model,
                                              const std::filesystem::path& run);

/// A trained model loaded from its run folder, ready to sample.
struct LoadedRun {
    std::unique_ptr<GenerativeModel> model;
    RunData data;
    TrainConfig config;
    std::int64_t step = 0;
    /// Its latest checkpoint did not load and an older one did (loadNewestCheckpoint).
    std::string warning;
};

/// Loads a run's model at its newest checkpoint that loads, or at `step` when given.
Result<LoadedRun> loadRun(const std::filesystem::path& run, std::optional<std::int64_t> step = {});

/// Other data for a trained run (`config` and `data` its own): held-out rows or images to
/// classify, encode or score against. Images are read in the run's size and colour; a table
/// the run's way (TableLayout: its columns, categories and classes, whatever a few rows would
/// say) and put in the run's standardisation. Data of the other kind, of other classes or of
/// another shape, and no samples at all, are refused, naming `spec.source`.
Result<Dataset> loadForRun(const DatasetSpec& spec, const TrainConfig& config, const RunData& data);

}  // namespace ll
