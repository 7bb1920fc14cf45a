#include "window/runwatcher.h"

#include <system_error>

#include "run/runfolder.h"
#include "run/runlock.h"

namespace ll::widgets {

RunWatcher::RunWatcher(QObject* parent) : QObject(parent) {
    m_timer.setInterval(2000);
    connect(&m_timer, &QTimer::timeout, this, &RunWatcher::look);
}

bool RunWatcher::watch(const QString& runDir) {
    if (runDir == m_run && isWatching()) return true;
    stop();
    const std::filesystem::path path = runDir.toStdString();
    const auto owner = ll::RunLock::owner(path);
    if (!owner || owner->thisProcess) return false;
    m_run = runDir;
    m_path = path;
    m_logSize = 0;
    m_samplesStep = -1;
    m_step = -1;
    m_timer.start();
    look();
    return true;
}

void RunWatcher::stop() {
    m_timer.stop();
    m_run.clear();
    m_path.clear();
}

void RunWatcher::look() {
    if (!isWatching()) return;
    const QString run = m_run;  // a receiver may watch another run from a signal
    const auto owner = ll::RunLock::owner(m_path);
    const auto info = ll::readRunInfo(m_path);
    if (!owner || owner->thisProcess) {
        stop();
        Q_EMIT ended(run, info ? QString::fromStdString(info->status) : QString(),
                     info ? info->step : 0);
        return;
    }
    if (info && info->step != m_step) {
        m_step = info->step;
        Q_EMIT progressed(run, info->step, info->totalSteps, QString::fromStdString(owner->text));
    }
    std::error_code error;
    const auto logSize = std::filesystem::file_size(m_path / ll::runfiles::kLog, error);
    if (!error && logSize != m_logSize) {
        m_logSize = logSize;
        Q_EMIT logGrew(run);
    }
    if (m_run != run) return;
    const auto steps = ll::runfiles::sampleSteps(m_path);
    if (!steps.empty() && steps.back() != m_samplesStep) {
        m_samplesStep = steps.back();
        Q_EMIT samplesSaved(run, m_samplesStep);
    }
}

}  // namespace ll::widgets
