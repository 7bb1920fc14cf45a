#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include <QObject>
#include <QString>

#include "eval/evaluate.h"
#include "eval/extractor.h"

namespace ll::widgets {

/// The Inspect mode's worker: evaluates checkpoints or trains a feature extractor on its own
/// thread, one job at a time, and reports progress, records and the end as Qt signals on
/// the GUI thread. cancel() stops at the next stage boundary; destroying the job cancels and
/// joins it.
class EvaluationJob : public QObject {
    Q_OBJECT
public:
    explicit EvaluationJob(QObject* parent = nullptr);
    ~EvaluationJob() override;

    bool isRunning() const { return m_running; }

    /// Evaluates the run at every step (empty: the latest checkpoint) and guidance weight in
    /// turn; false if a job is running.
    bool evaluate(const QString& runDir, const std::vector<std::optional<std::int64_t>>& steps,
                  const std::vector<double>& guidances, const ll::EvalOptions& options);
    /// Trains an extractor (eval/extractor.h); false if a job is running.
    bool trainExtractor(const ll::ExtractorTraining& training);
    void cancel();

Q_SIGNALS:
    /// What runs now, and how much of the whole job is done (0..1).
    void progress(const QString& stage, double fraction);
    void recordWritten(const QString& file);
    void extractorReady(const QString& dir);
    /// The job ended: ok, or the reason it did not (a cancel says "cancelled").
    void finished(bool ok, const QString& message);

private:
    void post(std::function<void()> f);
    void start(std::function<void(std::stop_token)> work);

    std::jthread m_thread;
    bool m_running = false;
};

}  // namespace ll::widgets
