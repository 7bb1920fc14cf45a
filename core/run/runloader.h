#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "common/error.h"
#include "models/model.h"
#include "run/runfolder.h"

namespace ll {

/// A trained model opened from its run folder, ready to sample.
struct OpenedRun {
    std::unique_ptr<GenerativeModel> model;
    RunData data;
    TrainConfig config;
    std::int64_t step = 0;
};

/// Opens a run at its latest checkpoint, or at `step` when given.
Result<OpenedRun> openRun(const std::filesystem::path& run, std::optional<std::int64_t> step = {});

}  // namespace ll
