#pragma once

// What a training run tells its observer (the job bridge, the CLI's progress bar): plain
// values, torch-free, so the widgets can receive them.

#include <cstdint>
#include <string>
#include <variant>

#include "common/samplegrid.h"
#include "common/table.h"
#include "data/datasetspec.h"
#include "models/catalog.h"

namespace ll {

struct TrainStarted {
    std::string runDir;
    std::int64_t startStep = 0;
    std::int64_t totalSteps = 0;
    DatasetSummary dataset;
    std::string device;
    std::int64_t parameters = 0;      // the model's, every network's
    std::uint64_t trainingBytes = 0;  // weights, gradients and Adam's two moments, float32
    /// A resume that fell back to an older checkpoint: which one failed and why.
    std::string warning;
};
struct TrainProgress {
    std::int64_t step = 0;
    std::int64_t totalSteps = 0;
    LossMap losses;
    double learningRate = 0;
    double stepsPerSecond = 0;
    double secondsLeft = 0;
};
/// A grid drawn while training. saveError: it could not be saved in samples/ (a full disk:
/// the file and the fault); training goes on, but its next checkpoint will need the space.
struct TrainSamples {
    SampleGrid grid;
    std::string saveError;
};
/// Tabular runs: generated rows beside a fixed set of real rows, both in original units.
struct TrainTable {
    TableSamples generated;
    TableSamples real;
    std::string saveError;
};
struct TrainCheckpoint {
    std::int64_t step = 0;
    std::string path;
};
/// An evaluation during training was written to `file`; or, with a message, it failed and
/// metrics during training are off for the rest of the run.
struct TrainEvaluated {
    std::int64_t step = 0;
    std::string file;
    std::string message;
};
struct TrainPaused {
    bool paused = false;
    std::int64_t step = 0;
    /// Why the trainer paused by itself (the NaN guard); empty when the user paused.
    std::string message;
};
struct TrainFinished {
    enum class Outcome { Completed, Cancelled, Failed };
    Outcome outcome = Outcome::Completed;
    std::int64_t step = 0;
    std::string message;
    std::string runDir;
};
using TrainEvent = std::variant<TrainStarted, TrainProgress, TrainSamples, TrainTable,
                                TrainCheckpoint, TrainEvaluated, TrainPaused, TrainFinished>;

}  // namespace ll
