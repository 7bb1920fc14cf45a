#pragma once

#include <memory>
#include <optional>

#include <QObject>
#include <QString>
#include <QTimer>

#include "common/jobbridge.h"
#include "run/trainconfig.h"
#include "train/events.h"

namespace ll {
class Trainer;
}

namespace ll::widgets {

/// Training on a JobBridge: runs a core Trainer on the bridge's thread and re-emits its
/// events as Qt signals on the GUI thread. Sample grids are latest-wins: a grid that arrives
/// while the previous one has not been delivered replaces it, and grids are delivered at most
/// a few times a second (the last one always, before finished()). Destroying the job stops and
/// joins it; anything the trainer throws past its own guard ends the run as Failed.
class TrainingJob : public QObject {
    Q_OBJECT
public:
    explicit TrainingJob(QObject* parent = nullptr);
    ~TrainingJob() override;

    bool isRunning() const { return m_bridge.isRunning(); }
    bool isPaused() const { return m_paused; }

    /// Starts a run; false (and nothing happens) if one is running.
    bool start(const ll::TrainConfig& config);
    void pause();
    void resume();
    /// Asks the run to stop; it saves a checkpoint and emits finished().
    void stop();
    /// Stops the run and returns once it has ended: its checkpoint saved, its lock released,
    /// finished() emitted. The GUI's events run meanwhile.
    void stopAndWait();
    void setLearningRate(double lr);
    /// Sample and checkpoint intervals of the running job, from its next step on.
    void setSampleEvery(int steps);
    void setCheckpointEvery(int steps);

Q_SIGNALS:
    void started(const ll::TrainStarted& info);
    void progress(const ll::TrainProgress& progress);
    /// Shared, not copied: the grid view keeps this very grid (a 64 x 64 grid of 28 x 28 tiles
    /// is 12.8 MB of pixels).
    void samples(std::shared_ptr<const ll::SampleGrid> grid);
    /// Tabular runs: generated rows beside real ones (latest wins, like grids).
    void tables(const ll::TableSamples& generated, const ll::TableSamples& real);
    void checkpointSaved(qint64 step, const QString& path);
    /// A grid or table could not be saved in the run's samples/ (a full disk): why.
    void samplesNotSaved(const QString& message);
    /// Metrics during training: a record was written, or (message) they failed and are off.
    void evaluated(qint64 step, const QString& file, const QString& message);
    void pausedChanged(bool paused);
    /// The trainer paused by itself (the NaN guard restored a checkpoint); says why.
    void guardTripped(const QString& message);
    void finished(const ll::TrainFinished& result);

private:
    void onEvent(const ll::TrainEvent& event, JobContext& job);
    void deliver(const ll::TrainEvent& event);
    /// Emits samples() with the grid held back, if any, and holds the next one back a while.
    void deliverGrid();

    // Declared before the bridge: the bridge joins the worker before the trainer goes.
    std::unique_ptr<ll::Trainer> m_trainer;
    JobContext* m_job = nullptr;  // the running job's context; read on the worker only
    bool m_paused = false;
    std::shared_ptr<const ll::SampleGrid> m_heldGrid;  // the newest grid, waiting for the pacer
    QTimer m_gridPacer;  // running: a grid was just delivered, the next waits for it
    JobBridge m_bridge;
};

}  // namespace ll::widgets
