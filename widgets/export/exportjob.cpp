#include "export/exportjob.h"

#include <cmath>
#include <memory>
#include <string>

namespace ll::widgets {

namespace {

// The export's stages as the panel says them, and where each lies in the whole job: with a
// card, scoring the samples takes about as long as drawing them.
QString stageText(const std::string& stage) {
    if (stage == "loading") return ExportJob::tr("Loading the run");
    if (stage == "drawing") return ExportJob::tr("Drawing samples");
    if (stage == "card") return ExportJob::tr("Scoring the samples for the card");
    if (stage == "writing") return ExportJob::tr("Writing the card");
    return QString::fromStdString(stage);
}

double overall(const std::string& stage, double f, bool card) {
    if (stage == "loading") return 0;
    if (stage == "drawing") return card ? 0.5 * f : 0.99 * f;
    if (stage == "card") return 0.5 + 0.48 * f;
    return 0.99;
}

}  // namespace

ExportJob::ExportJob(QObject* parent) : QObject(parent) {
    connect(&m_bridge, &JobBridge::progress, this, &ExportJob::progress);
    connect(&m_bridge, &JobBridge::failed, this,
            [this](const QString& why) { Q_EMIT finished(false, why); });
    connect(&m_previewBridge, &JobBridge::failed, this, &ExportJob::previewFailed);
    // The newest preview asked for meanwhile starts once the last one has ended.
    connect(&m_previewBridge, &JobBridge::finished, this, [this] {
        if (m_pendingPreview && !m_previewBridge.isRunning()) startPreview();
    });
}

// The bridges cancel and join their jobs.
ExportJob::~ExportJob() = default;

void ExportJob::cancel() {
    m_bridge.requestStop();
}

bool ExportJob::exportDataset(const ll::ExportRequest& request) {
    if (isRunning()) return false;
    return m_bridge.start([this, request](JobContext& job) -> JobBridge::Then {
        std::string lastStage;
        double lastFraction = -1;
        auto summary = ll::exportDataset(request, [&](const std::string& stage, double f) {
            if (job.stopRequested()) return false;
            // Reported when the stage or a tenth of a percent changes, not every sample.
            const double at = overall(stage, f, request.card);
            if (stage != lastStage || std::abs(at - lastFraction) >= 0.001) {
                job.progress(stageText(stage), at);
                lastStage = stage;
                lastFraction = at;
            }
            return true;
        });
        auto result = std::make_shared<decltype(summary)>(std::move(summary));
        return [this, result] {
            if (*result) Q_EMIT exported(**result);
            Q_EMIT finished(result->has_value(),
                            *result ? QString() : QString::fromStdString(result->error().message));
        };
    });
}

bool ExportJob::exportWeights(const QString& runDir, std::optional<std::int64_t> step,
                              const QString& file) {
    if (isRunning()) return false;
    return m_bridge.start([this, runDir, step, file](JobContext& job) -> JobBridge::Then {
        job.progress(tr("Writing the weights"), 0.1);
        auto info = ll::exportWeights(runDir.toStdString(), step, file.toStdString());
        return [this, info, file] {
            if (info) Q_EMIT weightsExported(file, *info);
            Q_EMIT finished(info.has_value(),
                            info ? QString() : QString::fromStdString(info.error().message));
        };
    });
}

bool ExportJob::writeReport(const ll::report::ReportRequest& request) {
    if (isRunning()) return false;
    return m_bridge.start([this, request](JobContext& job) -> JobBridge::Then {
        job.progress(tr("Reading the runs and studies"), 0.05);
        auto data = std::make_shared<ll::Result<ll::report::ReportData>>(
            ll::report::loadReport(request.runs, request.studies));
        // Painting the charts needs the GUI thread; it takes well under a second.
        return [this, data, request] {
            if (!*data)
                return Q_EMIT finished(false, QString::fromStdString(data->error().message));
            auto files = ll::report::renderReport(
                **data, request, [this](const std::string& stage, double f) {
                    Q_EMIT progress(tr("Report: %1").arg(QString::fromStdString(stage)), f);
                });
            if (files) Q_EMIT reportWritten(*files);
            Q_EMIT finished(files.has_value(),
                            files ? QString() : QString::fromStdString(files.error().message));
        };
    });
}

void ExportJob::preview(const ll::ExportRequest& request, std::int64_t count) {
    m_pendingPreview = std::make_pair(request, count);
    if (!m_previewBridge.isRunning()) startPreview();
}

void ExportJob::startPreview() {
    auto [request, count] = std::move(*m_pendingPreview);
    m_pendingPreview.reset();
    m_previewBridge.start([this, request, count](JobContext&) -> JobBridge::Then {
        auto result =
            std::make_shared<ll::Result<ll::ExportPreview>>(ll::previewExport(request, count));
        return [this, result] {
            // A newer preview is on its way: this one is stale.
            if (m_pendingPreview) return;
            if (*result)
                Q_EMIT previewReady(**result);
            else
                Q_EMIT previewFailed(QString::fromStdString(result->error().message));
        };
    });
}

}  // namespace ll::widgets
