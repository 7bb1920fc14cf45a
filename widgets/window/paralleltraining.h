#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QString>

#include "common/error.h"
#include "run/trainconfig.h"
#include "train/events.h"

namespace ll::widgets {

class RunWatcher;

/// A data-parallel run the Train panel starts on this machine: latentlab-cli trains it with
/// `--nproc N` in processes of their own (the window only watches, so closing it loses
/// nothing), and this follows the run's log to drive the panel as a TrainingJob would:
/// started, progress (from log.jsonl), finished (when the processes let the run go).
class ParallelTraining : public QObject {
    Q_OBJECT
public:
    explicit ParallelTraining(QObject* parent = nullptr);

    /// Writes the request beside a new run folder of the workspace and starts the processes
    /// (config.worldSize of them); returns once rank 0 holds the run's lock. The run folder.
    ll::Result<QString> start(const ll::TrainConfig& config, const QString& datasetName);
    /// Asks the processes to stop: they save a checkpoint and end together.
    void stop();
    bool isRunning() const { return !m_run.isEmpty(); }
    const QString& run() const { return m_run; }

Q_SIGNALS:
    void started(const ll::TrainStarted& info);
    void progress(const ll::TrainProgress& progress);
    void finished(const ll::TrainFinished& result);

private:
    void onLogGrew(const QString& run);
    void onEnded(const QString& run, const QString& status, qint64 step);

    RunWatcher* m_watcher;
    QString m_run;
    std::int64_t m_totalSteps = 0;
    std::int64_t m_lastStep = -1;
    double m_rate = 0;          // steps/s, smoothed
    QElapsedTimer m_sinceLook;  // since the last step seen
};

}  // namespace ll::widgets
