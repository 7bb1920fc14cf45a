#include "inspect/evaluationjob.h"

namespace ll::widgets {

EvaluationJob::EvaluationJob(QObject* parent) : QObject(parent) {
    connect(&m_bridge, &JobBridge::progress, this, &EvaluationJob::progress);
    // A job that threw ends like one that failed.
    connect(&m_bridge, &JobBridge::failed, this,
            [this](const QString& why) { Q_EMIT finished(false, why); });
}

// m_bridge cancels and joins the running job.
EvaluationJob::~EvaluationJob() = default;

void EvaluationJob::cancel() {
    m_bridge.requestStop();
}

bool EvaluationJob::evaluate(const QString& runDir,
                             const std::vector<std::optional<std::int64_t>>& steps,
                             const std::vector<double>& guidances, const ll::EvalOptions& options) {
    if (isRunning() || steps.empty() || guidances.empty()) return false;
    return m_bridge.start([this, run = runDir.toStdString(), steps, guidances,
                           options](JobContext& job) -> JobBridge::Then {
        const double jobs = double(steps.size() * guidances.size());
        int done = 0;
        QString error;
        for (const auto& step : steps) {
            for (double g : guidances) {
                ll::EvalOptions o = options;
                o.request.guidance = g;
                const QString what =
                    (step ? tr("step %1").arg(*step) : tr("latest checkpoint")) +
                    (guidances.size() > 1 ? tr(", guidance %1").arg(g) : QString());
                auto file = ll::evaluateRun(run, step, o, [&](const std::string& stage, double f) {
                    if (job.stopRequested()) return false;
                    job.progress(what + QStringLiteral(": ") + QString::fromStdString(stage),
                                 (done + f * 0.999) / jobs);
                    return true;
                });
                if (!file) {
                    error = QString::fromStdString(file.error().message);
                    break;
                }
                ++done;
                job.post([this, f = QString::fromStdString(file->string())] {
                    Q_EMIT recordWritten(f);
                });
            }
            if (!error.isEmpty()) break;
        }
        return [this, error] { Q_EMIT finished(error.isEmpty(), error); };
    });
}

bool EvaluationJob::trainExtractor(const ll::ExtractorTraining& training) {
    if (isRunning()) return false;
    return m_bridge.start([this, training](JobContext& job) -> JobBridge::Then {
        auto info = ll::trainExtractor(training, job.stopToken(), [&job](const ll::TrainEvent& e) {
            if (auto* p = std::get_if<ll::TrainProgress>(&e)) {
                const double f = p->totalSteps ? double(p->step) / double(p->totalSteps) : 0;
                job.progress(tr("training the feature extractor: step %1 of %2")
                                 .arg(p->step)
                                 .arg(p->totalSteps),
                             f);
            }
        });
        return [this, info] {
            if (info) Q_EMIT extractorReady(QString::fromStdString(info->dir.string()));
            Q_EMIT finished(info.has_value(),
                            info ? QString() : QString::fromStdString(info.error().message));
        };
    });
}

}  // namespace ll::widgets
