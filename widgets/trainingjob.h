#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <QObject>
#include <QString>

#include "train/trainconfig.h"

namespace ll {
class Trainer;
}

namespace ll::widgets {

/// The job bridge: runs a core Trainer on its own thread and re-emits its events as Qt
/// signals on the GUI thread. Sample grids are latest-wins: a grid that arrives while the
/// previous one has not been delivered replaces it. Destroying the job stops and joins it.
class TrainingJob : public QObject {
    Q_OBJECT
public:
    explicit TrainingJob(QObject* parent = nullptr);
    ~TrainingJob() override;

    bool isRunning() const { return m_running; }
    bool isPaused() const { return m_paused; }

    /// Starts a run; false (and nothing happens) if one is running.
    bool start(const ll::TrainConfig& config);
    void pause();
    void resume();
    /// Asks the run to stop; it saves a checkpoint and emits finished().
    void stop();
    void setLearningRate(double lr);

Q_SIGNALS:
    void started(const ll::TrainStarted& info);
    void progress(const ll::TrainProgress& progress);
    void samples(const ll::SampleGrid& grid);
    void checkpointSaved(qint64 step, const QString& path);
    void pausedChanged(bool paused);
    void finished(const ll::TrainFinished& result);

private:
    void onEvent(const ll::TrainEvent& event);
    void deliverGrid();

    std::unique_ptr<ll::Trainer> m_trainer;
    std::jthread m_thread;
    bool m_running = false;
    bool m_paused = false;

    std::mutex m_gridMutex;
    std::optional<ll::SampleGrid> m_pendingGrid;
};

}  // namespace ll::widgets
