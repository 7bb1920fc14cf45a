#pragma once

#include <cstdint>
#include <filesystem>

#include <QObject>
#include <QString>
#include <QTimer>

namespace ll::widgets {

/// Watches a run that another process trains (the CLI the window left training in the
/// background, or a run started from a shell): every couple of seconds it looks at the run's
/// lock, its log and its newest sample grid, and says what changed. The watching ends when
/// the lock is released, with ended().
class RunWatcher : public QObject {
    Q_OBJECT
public:
    explicit RunWatcher(QObject* parent = nullptr);

    /// Starts watching the run if another process trains it; false (and nothing watched)
    /// when nobody does or this process does.
    bool watch(const QString& runDir);
    void stop();
    bool isWatching() const { return !m_run.isEmpty(); }
    const QString& run() const { return m_run; }
    /// Seconds between looks (2 by default).
    void setInterval(int ms) { m_timer.setInterval(ms); }

Q_SIGNALS:
    /// The step the run's config records, the budget and who trains it ("pid 4242 on studio").
    void progressed(const QString& runDir, qint64 step, qint64 totalSteps, const QString& owner);
    /// log.jsonl grew: its curves have more points.
    void logGrew(const QString& runDir);
    /// A newer sample grid was saved.
    void samplesSaved(const QString& runDir, qint64 step);
    /// The other process let the run go (finished, stopped or died); status from its config.
    void ended(const QString& runDir, const QString& status, qint64 step);

private:
    void look();

    QString m_run;
    std::filesystem::path m_path;
    QTimer m_timer;
    std::uintmax_t m_logSize = 0;
    std::int64_t m_samplesStep = -1;
    std::int64_t m_step = -1;
};

}  // namespace ll::widgets
