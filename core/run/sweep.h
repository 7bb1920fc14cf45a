#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/samplegrid.h"
#include "models/request.h"

namespace ll {

/// What an axis of a sweep varies.
enum class SweepAxis {
    Guidance,
    ClassifierScale,
    Steps,
    Class,
    Seed,
    Checkpoint,
    Truncation,
    Temperature
};

struct SweepAxisValues {
    SweepAxis axis = SweepAxis::Guidance;
    std::vector<double> values;
};

/// "guidance=0,1,3", "class=0,5,9", "checkpoint=1000,2000", ...; the error lists the axes.
Result<SweepAxisValues> parseSweepAxis(const std::string& text);
std::string sweepAxisName(SweepAxis axis);

/// An X/Y grid of samples: one tile per (y, x) cell, every other setting from `base`. Cells
/// are drawn row by row; `onCell` sees each one as it is done (the GUI streams them) and
/// returning false cancels. Writes `out` (a PNG with the axes labelled) and out + ".json",
/// every cell's settings. Blocks; call it from a worker.
struct SweepRequest {
    std::filesystem::path run;
    std::optional<std::int64_t> step;  // the checkpoint unless an axis varies it
    SweepAxisValues x, y;
    SampleRequest base;  // count and labels are the sweep's
    int defaultClass = 0;
    /// A noisy-classifier run to guide the draws when base.classifier is not set (the window
    /// names the run; the CLI opens its classifier itself).
    std::filesystem::path classifierRun;
};
using SweepCellFn = std::function<bool(int row, int col, const SampleGrid& tile)>;
Result<std::filesystem::path> runSweep(const SweepRequest& request,
                                       const std::filesystem::path& out,
                                       const SweepCellFn& onCell = {});

}  // namespace ll
