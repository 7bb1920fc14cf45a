#include "trainingjob.h"

#include <QMetaObject>

#include "train/trainer.h"

namespace ll::widgets {

TrainingJob::TrainingJob(QObject* parent) : QObject(parent) {}

TrainingJob::~TrainingJob() {
    // Stop and join before the trainer goes: the worker still uses it.
    if (m_thread.joinable()) {
        m_thread.request_stop();
        if (m_trainer) m_trainer->resume();
        m_thread.join();
    }
}

bool TrainingJob::start(const ll::TrainConfig& config) {
    if (m_running) return false;
    if (m_thread.joinable()) m_thread.join();  // the previous run has finished; reap it
    m_trainer =
        std::make_unique<ll::Trainer>(config, [this](const ll::TrainEvent& e) { onEvent(e); });
    m_running = true;
    m_paused = false;
    m_thread =
        std::jthread([trainer = m_trainer.get()](std::stop_token stop) { trainer->run(stop); });
    return true;
}

void TrainingJob::pause() {
    if (m_running && m_trainer) m_trainer->pause();
}

void TrainingJob::resume() {
    if (m_running && m_trainer) m_trainer->resume();
}

void TrainingJob::stop() {
    if (!m_running) return;
    m_thread.request_stop();
    m_trainer->resume();  // a paused run must wake up to notice the stop
}

void TrainingJob::setLearningRate(double lr) {
    if (m_running && m_trainer) m_trainer->setLearningRate(lr);
}

void TrainingJob::setSampleEvery(int steps) {
    if (m_running && m_trainer) m_trainer->setSampleEvery(steps);
}

void TrainingJob::setCheckpointEvery(int steps) {
    if (m_running && m_trainer) m_trainer->setCheckpointEvery(steps);
}

// Runs on the worker thread: never touches a widget, only posts to the GUI thread.
void TrainingJob::onEvent(const ll::TrainEvent& event) {
    if (const auto* grid = std::get_if<ll::TrainSamples>(&event)) {
        bool first = false;
        {
            std::lock_guard lock(m_gridMutex);
            first = !m_pendingGrid.has_value();
            m_pendingGrid = grid->grid;
        }
        if (first) QMetaObject::invokeMethod(this, &TrainingJob::deliverGrid, Qt::QueuedConnection);
        return;
    }
    if (const auto* table = std::get_if<ll::TrainTable>(&event)) {
        bool first = false;
        {
            std::lock_guard lock(m_gridMutex);
            first = !m_pendingTable.has_value();
            m_pendingTable = *table;
        }
        if (first)
            QMetaObject::invokeMethod(this, &TrainingJob::deliverTable, Qt::QueuedConnection);
        return;
    }
    QMetaObject::invokeMethod(
        this,
        [this, event] {
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
                        deliverGrid();  // the last grid before the end
                        deliverTable();
                        m_running = false;
                        m_paused = false;
                        Q_EMIT finished(e);
                    }
                },
                event);
        },
        Qt::QueuedConnection);
}

void TrainingJob::deliverGrid() {
    std::optional<ll::SampleGrid> grid;
    {
        std::lock_guard lock(m_gridMutex);
        grid.swap(m_pendingGrid);
    }
    if (grid) Q_EMIT samples(*grid);
}

void TrainingJob::deliverTable() {
    std::optional<ll::TrainTable> table;
    {
        std::lock_guard lock(m_gridMutex);
        table.swap(m_pendingTable);
    }
    if (table) Q_EMIT tables(table->generated, table->real);
}

}  // namespace ll::widgets
