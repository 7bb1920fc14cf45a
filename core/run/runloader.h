#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/error.h"
#include "models/model.h"
#include "run/runfolder.h"

namespace ll {

/// Builds a model as createModel does, first opening the runs its run-naming settings name
/// (ModelInfo::runSettings, at their latest checkpoint) and handing their models in.
Result<std::unique_ptr<GenerativeModel>> buildModel(const std::string& name,
                                                    const ModelShape& shape,
                                                    const Settings& settings);

/// A trained model loaded from its run folder, ready to sample.
struct LoadedRun {
    std::unique_ptr<GenerativeModel> model;
    RunData data;
    TrainConfig config;
    std::int64_t step = 0;
};

/// Loads a run's model at its latest checkpoint, or at `step` when given.
Result<LoadedRun> loadRun(const std::filesystem::path& run, std::optional<std::int64_t> step = {});

}  // namespace ll
