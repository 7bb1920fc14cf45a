#pragma once

// Training a feature extractor: the clean classifier of the classifier-cpu preset, trained
// by the Trainer like any run and then sealed as an extractor (eval/extractor.h) that the
// metrics read. Torch-free header: the GUI trains extractors through it.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>

#include "common/error.h"
#include "data/datasetspec.h"
#include "eval/extractor.h"
#include "train/events.h"

namespace ll {

/// How to train an extractor. The same data, seed, steps and threads on the same LibTorch
/// build and CPU give the same weights, byte for byte.
struct ExtractorTraining {
    DatasetSpec dataset;
    std::filesystem::path out;
    std::uint64_t seed = 1;
    std::int64_t steps = 3000;
    int threads = 2;
};

/// The CLI command that runs `t`.
std::string extractorCommand(const ExtractorTraining& t);

/// Trains the clean classifier of the classifier-cpu preset on t.dataset into t.out (which
/// must not hold a run), keeps its last weights only, measures its accuracy and writes
/// extractor.json. Blocks the calling thread (a worker); training events (progress) go to
/// `observer` on it; the stop token cancels, and a cancelled or failed training leaves no
/// folder behind.
Result<ExtractorInfo> trainExtractor(const ExtractorTraining& t, std::stop_token stop,
                                     const std::function<void(const TrainEvent&)>& observer = {});

}  // namespace ll
