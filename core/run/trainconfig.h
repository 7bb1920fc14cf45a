#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "data/datasetspec.h"
#include "models/catalog.h"

namespace ll {

/// Everything a training run needs; saved as the run's config.json. Plain value: the GUI and
/// the CLI build it with designated initialisers.
struct TrainConfig {
    DatasetSpec dataset;
    std::string model = "cvae";
    std::string preset;
    Settings settings;
    std::int64_t steps = 5000;
    double learningRate = 1e-3;
    /// The batch of each process: a data-parallel run's global batch is worldSize x this.
    int batchSize = 128;
    /// Data-parallel training (train/dataparallel.h): the number of processes, saved; this
    /// process's rank, where rank 0 serves the rendezvous ("HOST:PORT") and how long a rank
    /// waits for its peers, not saved. Rank 0 writes the run; the others take its config.
    int worldSize = 1;
    int rank = 0;
    std::string master;
    int parallelTimeoutSeconds = 600;
    std::uint64_t seed = 1;
    /// Intra-op threads; 0 gives every core to the workload's pool (common/cpu.h). A fixed
    /// count makes CPU training reproducible bit for bit on machines with other core counts.
    int threads = 0;
    int logEvery = 10;
    int sampleEvery = 250;
    int checkpointEvery = 1000;
    /// Metrics while training (eval/evaluate.h) every this many steps, 0 for none: FID,
    /// precision, recall and (conditional models) agreement of evalCount samples, written
    /// to eval/ like any evaluation. The steps they take are not training steps.
    int evalEvery = 0;
    std::int64_t evalCount = 2000;
    /// Sample grid: one row per class (at most maxGridRows), this many columns.
    int samplesPerClass = 8;
    int maxGridRows = 10;
    /// The run folder. Empty: a new folder under workspace/runs named by time, model, dataset.
    std::filesystem::path runDir;
    std::filesystem::path workspace;
    /// Continue the run in runDir from its last checkpoint.
    bool resume = false;
    /// With resume: continue at this learning rate instead of the run's own (0: keep it).
    double resumeLearningRate = 0;
    /// Test hook, not saved: the loss of this step is treated as NaN (exercises the guard).
    std::int64_t injectNanAtStep = 0;
};

}  // namespace ll
