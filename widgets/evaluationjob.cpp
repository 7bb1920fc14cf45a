#include "evaluationjob.h"

#include <QMetaObject>
#include <QPointer>

namespace ll::widgets {

EvaluationJob::EvaluationJob(QObject* parent) : QObject(parent) {}

EvaluationJob::~EvaluationJob() {
    m_thread.request_stop();
    // jthread joins here; the worker's queued signals die with this object.
}

void EvaluationJob::post(std::function<void()> f) {
    QPointer<EvaluationJob> self(this);
    QMetaObject::invokeMethod(
        this,
        [self, f = std::move(f)] {
            if (self) f();
        },
        Qt::QueuedConnection);
}

void EvaluationJob::start(std::function<void(std::stop_token)> work) {
    if (m_thread.joinable()) m_thread.join();  // the last job has ended: it posted finished()
    m_running = true;
    m_thread = std::jthread(std::move(work));
}

void EvaluationJob::cancel() {
    m_thread.request_stop();
}

bool EvaluationJob::evaluate(const QString& runDir,
                             const std::vector<std::optional<std::int64_t>>& steps,
                             const std::vector<double>& guidances, const ll::EvalOptions& options) {
    if (m_running || steps.empty() || guidances.empty()) return false;
    start([this, run = runDir.toStdString(), steps, guidances, options](std::stop_token stop) {
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
                ll::Result<std::filesystem::path> file;
                try {
                    file = ll::evaluateRun(run, step, o, [&](const std::string& stage, double f) {
                        if (stop.stop_requested()) return false;
                        const QString label =
                            what + QStringLiteral(": ") + QString::fromStdString(stage);
                        const double overall = (done + f * 0.999) / jobs;
                        post([this, label, overall] { Q_EMIT progress(label, overall); });
                        return true;
                    });
                } catch (const std::exception& e) {
                    file = ll::fail(e.what());
                }
                if (!file) {
                    error = QString::fromStdString(file.error().message);
                    break;
                }
                ++done;
                post([this, f = QString::fromStdString(file->string())] {
                    Q_EMIT recordWritten(f);
                });
            }
            if (!error.isEmpty()) break;
        }
        post([this, error] {
            m_running = false;
            Q_EMIT finished(error.isEmpty(), error);
        });
    });
    return true;
}

bool EvaluationJob::trainExtractor(const ll::ExtractorTraining& training) {
    if (m_running) return false;
    start([this, training](std::stop_token stop) {
        auto info = ll::trainExtractor(training, stop, [this](const ll::TrainEvent& event) {
            if (auto* p = std::get_if<ll::TrainProgress>(&event)) {
                const double f = p->totalSteps ? double(p->step) / double(p->totalSteps) : 0;
                const QString label = tr("training the feature extractor: step %1 of %2")
                                          .arg(p->step)
                                          .arg(p->totalSteps);
                post([this, label, f] { Q_EMIT progress(label, f); });
            }
        });
        post([this, info] {
            m_running = false;
            if (info) Q_EMIT extractorReady(QString::fromStdString(info->dir.string()));
            Q_EMIT finished(info.has_value(),
                            info ? QString() : QString::fromStdString(info.error().message));
        });
    });
    return true;
}

}  // namespace ll::widgets
