#pragma once

#include <functional>
#include <memory>
#include <stop_token>

#include "run/trainconfig.h"
#include "train/events.h"

namespace ll {

/// Trains one model on one dataset. run() blocks the calling thread (a worker) until the run
/// completes, is cancelled through the stop token (checked every step) or fails; every event
/// goes to the observer on that same thread. pause(), resume() and the setters may be called
/// from any thread; changes take effect at the next step and are recorded in log.jsonl.
/// A NaN or infinite loss restores the last good checkpoint and pauses the run with a
/// message (TrainPaused::message) saying what happened and what to try.
/// Torch-free header: widgets hold a Trainer through it.
class Trainer {
public:
    using Observer = std::function<void(const TrainEvent&)>;

    Trainer(TrainConfig config, Observer observer);
    ~Trainer();
    Trainer(const Trainer&) = delete;
    Trainer& operator=(const Trainer&) = delete;

    TrainFinished run(std::stop_token stop);

    void pause();
    void resume();
    bool isPaused() const;
    void setLearningRate(double lr);
    void setSampleEvery(int steps);
    void setCheckpointEvery(int steps);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace ll
