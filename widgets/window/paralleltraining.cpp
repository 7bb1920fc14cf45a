#include "window/paralleltraining.h"

#include <filesystem>

#include <QDir>
#include <QFile>

#include "common/atomicfile.h"
#include "run/runfolder.h"
#include "run/runlock.h"
#include "train/backgroundtraining.h"
#include "window/runwatcher.h"

namespace ll::widgets {

namespace fs = std::filesystem;

ParallelTraining::ParallelTraining(QObject* parent)
    : QObject(parent), m_watcher(new RunWatcher(this)) {
    m_watcher->setInterval(1000);
    connect(m_watcher, &RunWatcher::logGrew, this, &ParallelTraining::onLogGrew);
    connect(m_watcher, &RunWatcher::ended, this, &ParallelTraining::onEnded);
}

ll::Result<QString> ParallelTraining::start(const ll::TrainConfig& config,
                                            const QString& datasetName) {
    if (isRunning()) return ll::fail("a data-parallel run is training already");
    const fs::path workspace = config.workspace.empty() ? ll::defaultWorkspace() : config.workspace;
    const fs::path run = ll::newRunFolder(workspace, config.model, datasetName.toStdString());
    std::error_code ec;
    fs::create_directories(run, ec);
    if (ec) return ll::fail(run.string() + ": cannot create the run folder (" + ec.message() + ")");
    // The request: what the panel asks for, in config.json's words (train --config reads it).
    const fs::path request = run / "request.json";
    if (auto ok = ll::writeFileAtomic(
            request, ll::runConfigText(config, "requested", datasetName.toStdString(), 0));
        !ok)
        return tl::unexpected(ok.error());
    const QString dir = QString::fromStdString(run.string());
    auto pid = BackgroundTraining::launch(
        {QStringLiteral("train"), QStringLiteral("--config"),
         QString::fromStdString(request.string()), QStringLiteral("--out"), dir,
         QStringLiteral("--nproc"), QString::number(config.worldSize)},
        dir);
    fs::remove(request, ec);  // read by now, or never to be
    if (!pid) return tl::unexpected(pid.error());
    m_run = dir;
    m_totalSteps = config.steps;
    m_lastStep = -1;
    m_rate = 0;
    m_sinceLook.invalidate();
    m_watcher->watch(dir);
    const auto owner = ll::RunLock::owner(run);
    Q_EMIT started(ll::TrainStarted{.runDir = run.string(),
                                    .totalSteps = config.steps,
                                    .device = "CPU, " + std::to_string(config.worldSize) +
                                              " processes" +
                                              (owner ? " (" + owner->text + ")" : std::string())});
    return dir;
}

void ParallelTraining::stop() {
    if (isRunning()) (void)ll::RunLock::askOwnerToStop(m_run.toStdString());
}

void ParallelTraining::onLogGrew(const QString& run) {
    if (run != m_run) return;
    const auto log = ll::readLossLog(run.toStdString());
    if (log.empty() || log.back().first == m_lastStep) return;
    // Steps per second between two looks, smoothed as the trainer smooths its own.
    const double seconds = m_sinceLook.isValid() ? m_sinceLook.restart() / 1000.0 : 0;
    if (m_lastStep >= 0 && seconds > 0) {
        const double rate = double(log.back().first - m_lastStep) / seconds;
        m_rate = m_rate == 0 ? rate : 0.7 * m_rate + 0.3 * rate;
    }
    m_sinceLook.start();
    m_lastStep = log.back().first;
    Q_EMIT progress(ll::TrainProgress{
        .step = m_lastStep,
        .totalSteps = m_totalSteps,
        .losses = log.back().second,
        .stepsPerSecond = m_rate,
        .secondsLeft = m_rate > 0 ? double(m_totalSteps - m_lastStep) / m_rate : 0});
}

void ParallelTraining::onEnded(const QString& run, const QString& status, qint64 step) {
    if (run != m_run) return;
    onLogGrew(run);
    m_watcher->stop();
    m_run.clear();
    using Outcome = ll::TrainFinished::Outcome;
    const Outcome outcome = status == QLatin1String("completed")   ? Outcome::Completed
                            : status == QLatin1String("cancelled") ? Outcome::Cancelled
                                                                   : Outcome::Failed;
    // A failure's words are the last line the processes printed.
    QString message = tr("%1 at step %2").arg(status).arg(step);
    if (outcome == Outcome::Failed) {
        QFile log(QDir(run).filePath(QString::fromStdString(ll::runfiles::kBackgroundLog)));
        if (log.open(QIODevice::ReadOnly)) {
            const auto lines =
                QString::fromUtf8(log.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
            if (!lines.isEmpty()) message = lines.back().trimmed();
        }
    }
    Q_EMIT finished(ll::TrainFinished{.outcome = outcome,
                                      .step = step,
                                      .message = message.toStdString(),
                                      .runDir = run.toStdString()});
}

}  // namespace ll::widgets
