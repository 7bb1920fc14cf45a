#pragma once

#include <cstdint>
#include <optional>

#include <QObject>
#include <QString>

#include "common/jobbridge.h"
#include "export/datasetexport.h"
#include "report/report.h"
#include "run/weights.h"

namespace ll::widgets {

/// The Export mode's worker: a dataset export, a weights file or a report on one JobBridge
/// (one at a time, with progress and cancel), and the centre's previews on a second one, so
/// that a preview never waits behind a long export. A preview asked for while one is drawing
/// waits, and a newer one replaces it (latest wins). Destroying the job cancels and joins
/// both; whatever a job throws ends it with its message.
class ExportJob : public QObject {
    Q_OBJECT
public:
    explicit ExportJob(QObject* parent = nullptr);
    ~ExportJob() override;

    /// An export, weights or report job is running.
    bool isRunning() const { return m_bridge.isRunning(); }
    bool isPreviewing() const { return m_previewBridge.isRunning(); }

    /// Draws, filters and writes a dataset (core's exportDataset); false while a job runs.
    bool exportDataset(const ll::ExportRequest& request);
    /// Writes a checkpoint's weights as safetensors; false while a job runs.
    bool exportWeights(const QString& runDir, std::optional<std::int64_t> step,
                       const QString& file);
    /// Reads the runs and studies on the worker and paints the report on the GUI thread; false
    /// while a job runs.
    bool writeReport(const ll::report::ReportRequest& request);
    /// The first `count` samples of `request` and what its filters drop.
    void preview(const ll::ExportRequest& request, std::int64_t count);
    /// Stops the running export at its next batch (a weights file or a report runs to its
    /// end: they take seconds).
    void cancel();

Q_SIGNALS:
    /// What runs now ("Drawing samples") and how much of the job is done (0..1).
    void progress(const QString& stage, double fraction);
    void exported(const ll::ExportSummary& summary);
    void weightsExported(const QString& file, const ll::WeightsExported& info);
    void reportWritten(const ll::report::ReportFiles& files);
    /// An export, weights or report job ended: ok, or why not ("cancelled" for a cancel).
    void finished(bool ok, const QString& message);
    void previewReady(const ll::ExportPreview& preview);
    void previewFailed(const QString& message);

private:
    void startPreview();

    std::optional<std::pair<ll::ExportRequest, std::int64_t>> m_pendingPreview;
    JobBridge m_bridge;
    JobBridge m_previewBridge;
};

}  // namespace ll::widgets
