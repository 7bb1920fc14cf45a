#pragma once

// The Trainer's insides, shared by its sources: trainer.cpp (preparing a run and the training
// loop), trainerrecords.cpp (what it writes: checkpoints, samples, metrics, changes asked
// while it runs) and trainerparallel.cpp (data-parallel training across processes).

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "data/dataset.h"
#include "models/model.h"
#include "run/runlock.h"
#include "train/dataparallel.h"
#include "train/trainer.h"

namespace ll {

struct Trainer::Impl {
    TrainConfig config;
    Observer observer;

    mutable std::mutex mutex;
    std::condition_variable_any wake;
    bool paused = false;
    std::string pauseMessage;
    // Changes asked from other threads, applied at the next step; 0: none asked.
    double pendingLearningRate = 0;
    int pendingSampleEvery = 0;
    int pendingCheckpointEvery = 0;
    int restores = 0;

    std::unique_ptr<GenerativeModel> model;
    Dataset data;
    std::filesystem::path run;
    std::optional<RunLock> lock;  // held while this trainer may write the run
    std::string resumeWarning;    // an older checkpoint was resumed from: why
    std::int64_t savedStep = -1;  // the step of the last checkpoint on disk
    std::int64_t step = 0;
    std::int64_t parameters = 0;      // the model's, counted when it is built
    std::uint64_t trainingBytes = 0;  // what its training holds: weights, gradients, Adam

    // Data-parallel training: this process's part of the run (nullptr: it trains alone).
    std::unique_ptr<DataParallel> parallel;
    int rank() const { return parallel ? parallel->rank() : 0; }
    int worldSize() const { return parallel ? parallel->worldSize() : 1; }
    // Rank 0 (or a process alone) writes the run; the other ranks only train.
    bool writes() const { return rank() == 0; }

    void emit(const TrainEvent& e) {
        if (observer) observer(e);
    }
    Result<void> prepare();
    // The run this process writes: its folder, config, lock and first checkpoint.
    Result<void> prepareRun();
    // data.json and config.json for the run as it starts (or resumes) now.
    Result<void> writeRunFiles();
    // On a resume: refused where the data's classes or columns are not the run's any more.
    Result<void> sameDataAsBefore() const;
    // The dataset and a fresh model for it, refused when no model can learn from the data.
    Result<void> loadDataAndBuildModel();
    Result<void> checkpoint();
    void publishSamples();
    // Metrics of the model as it is now (config.evalEvery); turns them off if they fail.
    void evaluateNow();
    void applyPendingChanges();
    // Restores the last checkpoint after a non-finite loss and pauses; false if that fails.
    Result<void> restoreAfterNan(const std::string& what);
    TrainFinished loop(std::stop_token stop);

    // trainerparallel.cpp
    struct Agreement {
        bool stop = false;
        LossMap losses;  // every rank's mean
    };
    Result<void> joinParallel();
    // Ranks > 0: the run's config from rank 0, then its data and model. `rankZeroFailed`
    // says the run never started, so there is nothing to agree on.
    Result<void> prepareFollower(bool& rankZeroFailed);
    // Every rank: all ready (or the first failure, named, on every rank), rank 0's weights and
    // optimiser state on every rank, the collectives installed, this rank's own noise.
    Result<void> startTogether(Result<void> own, bool rankZeroFailed);
    // After each step: every rank's losses averaged, and whether any rank was asked to stop.
    Agreement agreeOnStep(bool stopAsked, const LossMap& losses);
    // At a log step: each rank's steps/s, and its all-reduce milliseconds and megabytes per
    // step, for rank 0 to log ("ranks").
    nlohmann::json rankRates(double stepsPerSecond, std::int64_t steps);
    // At a checkpoint step: whether every rank holds exactly rank 0's weights, buffers and
    // EMA copies (a fingerprint of each, compared bit for bit); fails naming the first rank
    // that drifted. A process alone is always in step.
    Result<void> checkRanksInStep();
    // Blocks while paused; false if a stop came meanwhile.
    bool waitWhilePaused(std::stop_token stop);
};

}  // namespace ll
