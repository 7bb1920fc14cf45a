#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <QObject>
#include <QString>

#include "common/jobbridge.h"
#include "eval/evaluate.h"
#include "eval/extractor.h"
#include "train/extractortraining.h"

namespace ll::widgets {

/// The Inspect mode's worker, on a JobBridge: evaluates checkpoints or trains a feature
/// extractor on the bridge's thread, one job at a time, and reports progress, records and the
/// end as Qt signals on the GUI thread. cancel() stops at the next stage boundary; destroying
/// the job cancels and joins it; whatever a job throws ends it with its message.
class EvaluationJob : public QObject {
    Q_OBJECT
public:
    explicit EvaluationJob(QObject* parent = nullptr);
    ~EvaluationJob() override;

    bool isRunning() const { return m_bridge.isRunning(); }

    /// Evaluates the run at every step (empty: the latest checkpoint) and guidance weight in
    /// turn; false if a job is running.
    bool evaluate(const QString& runDir, const std::vector<std::optional<std::int64_t>>& steps,
                  const std::vector<double>& guidances, const ll::EvalOptions& options);
    /// Trains an extractor (train/extractortraining.h); false if a job is running.
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
    JobBridge m_bridge;
};

}  // namespace ll::widgets
