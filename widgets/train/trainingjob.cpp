#include "train/trainingjob.h"

#include <utility>

#include <QEventLoop>

#include "train/trainer.h"

namespace ll::widgets {

namespace {
enum Slot { GridSlot, TableSlot };
// Every grid costs the window a frame: its upload and draw, and the frame's way to the screen
// (on a software Vulkan under Xvfb, some 10 ms of CPU). A fast model sampling every few steps
// makes grids faster than anyone reads them, and on two cores their frames come out of
// training: at most this often; the newest grid is the one delivered.
constexpr int kGridIntervalMs = 500;
}  // namespace

TrainingJob::TrainingJob(QObject* parent) : QObject(parent) {
    m_gridPacer.setSingleShot(true);
    m_gridPacer.setInterval(kGridIntervalMs);
    connect(&m_gridPacer, &QTimer::timeout, this, &TrainingJob::deliverGrid);
    // Something the trainer's own guard did not catch: the run ends as Failed all the same.
    connect(&m_bridge, &JobBridge::failed, this, [this](const QString& why) {
        m_paused = false;
        Q_EMIT finished(
            {.outcome = ll::TrainFinished::Outcome::Failed, .message = why.toStdString()});
    });
}

TrainingJob::~TrainingJob() {
    // A paused run must wake up to notice the stop; m_bridge then joins it.
    m_bridge.requestStop();
    if (m_trainer) m_trainer->resume();
}

bool TrainingJob::start(const ll::TrainConfig& config) {
    if (m_bridge.isRunning()) return false;
    m_trainer = std::make_unique<ll::Trainer>(config, [this](const ll::TrainEvent& e) {
        if (m_job) onEvent(e, *m_job);
    });
    m_paused = false;
    m_heldGrid.reset();  // a failed run's, never delivered
    m_gridPacer.stop();
    return m_bridge.start([this, trainer = m_trainer.get()](JobContext& job) -> JobBridge::Then {
        m_job = &job;
        const ll::TrainFinished result = trainer->run(job.stopToken());
        m_job = nullptr;
        // The end arrives as the job's result: isRunning() is false when finished() is told.
        return [this, result] { deliver(result); };
    });
}

void TrainingJob::pause() {
    if (isRunning() && m_trainer) m_trainer->pause();
}

void TrainingJob::resume() {
    if (isRunning() && m_trainer) m_trainer->resume();
}

void TrainingJob::stop() {
    if (!isRunning()) return;
    m_bridge.requestStop();
    m_trainer->resume();  // a paused run must wake up to notice the stop
}

void TrainingJob::stopAndWait() {
    if (!isRunning()) return;
    QEventLoop loop;
    connect(this, &TrainingJob::finished, &loop, &QEventLoop::quit);
    stop();
    // finished() comes through the GUI thread's events, so it cannot slip past exec().
    if (isRunning()) loop.exec(QEventLoop::ExcludeUserInputEvents);
}

void TrainingJob::setLearningRate(double lr) {
    if (isRunning() && m_trainer) m_trainer->setLearningRate(lr);
}

void TrainingJob::setSampleEvery(int steps) {
    if (isRunning() && m_trainer) m_trainer->setSampleEvery(steps);
}

void TrainingJob::setCheckpointEvery(int steps) {
    if (isRunning() && m_trainer) m_trainer->setCheckpointEvery(steps);
}

// Runs on the worker thread: never touches a widget, only posts to the GUI thread.
void TrainingJob::onEvent(const ll::TrainEvent& event, JobContext& job) {
    // Not saving samples is told however the grids are paced (each time, not latest-wins).
    const auto notSaved = [&](const std::string& error) {
        if (!error.empty())
            job.post([this, m = QString::fromStdString(error)] { Q_EMIT samplesNotSaved(m); });
    };
    if (const auto* grid = std::get_if<ll::TrainSamples>(&event)) {
        notSaved(grid->saveError);
        // Copied here, on the worker: the GUI thread only passes the pointer on.
        job.postLatest(GridSlot,
                       [this, shared = std::make_shared<const ll::SampleGrid>(grid->grid)] {
                           m_heldGrid = shared;
                           if (!m_gridPacer.isActive()) deliverGrid();
                       });
        return;
    }
    if (const auto* table = std::get_if<ll::TrainTable>(&event)) {
        notSaved(table->saveError);
        job.postLatest(TableSlot, [this, t = *table] { Q_EMIT tables(t.generated, t.real); });
        return;
    }
    if (std::holds_alternative<ll::TrainFinished>(event)) return;  // run() returns it too
    job.post([this, event] { deliver(event); });
}

void TrainingJob::deliver(const ll::TrainEvent& event) {
    std::visit(
        [this](const auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, ll::TrainStarted>) {
                Q_EMIT started(e);
            } else if constexpr (std::is_same_v<T, ll::TrainProgress>) {
                Q_EMIT progress(e);
            } else if constexpr (std::is_same_v<T, ll::TrainCheckpoint>) {
                Q_EMIT checkpointSaved(e.step, QString::fromStdString(e.path));
            } else if constexpr (std::is_same_v<T, ll::TrainEvaluated>) {
                Q_EMIT evaluated(e.step, QString::fromStdString(e.file),
                                 QString::fromStdString(e.message));
            } else if constexpr (std::is_same_v<T, ll::TrainPaused>) {
                m_paused = e.paused;
                Q_EMIT pausedChanged(e.paused);
                if (e.paused && !e.message.empty())
                    Q_EMIT guardTripped(QString::fromStdString(e.message));
            } else if constexpr (std::is_same_v<T, ll::TrainFinished>) {
                m_bridge.deliverLatest();  // the last grid and table before the end
                deliverGrid();             // the held one too: the run's last grid is always seen
                m_gridPacer.stop();
                m_paused = false;
                Q_EMIT finished(e);
            }
        },
        event);
}

void TrainingJob::deliverGrid() {
    if (!m_heldGrid) return;
    Q_EMIT samples(std::exchange(m_heldGrid, nullptr));
    m_gridPacer.start();
}

}  // namespace ll::widgets
