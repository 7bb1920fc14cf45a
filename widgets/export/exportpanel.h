#pragma once

#include <filesystem>
#include <functional>
#include <optional>

#include <QWidget>

#include "export/datasetexport.h"
#include "report/report.h"

class QButtonGroup;
class QCheckBox;
class QComboBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTimer;

namespace ll::widgets {

class ExportJob;
class ExportSettings;
class ExportView;

/// The Export mode's panel (design.md, Export): the runs browser's run and one of its
/// checkpoints; what to export (a synthetic dataset, the weights as safetensors, or a report
/// in HTML and PDF); the dataset's settings (ExportSettings); the folder or file; Export,
/// its progress and Cancel. The centre (ExportView) previews the first samples with what the
/// filters drop, and shows the card and an Open folder button at the end. The work runs in an
/// ExportJob; the settings persist in QSettings.
class ExportPanel : public QWidget {
    Q_OBJECT
public:
    enum class What { Dataset, Weights, Report };

    ExportPanel(std::filesystem::path workspace, ExportView* view, QWidget* parent = nullptr);
    ~ExportPanel() override;

    /// The run to export from (the runs browser's choice; empty: none).
    void setRun(const QString& runDir);
    QString runDir() const { return m_runDir; }
    What what() const;
    void setWhat(What what);
    /// The folder (dataset) or file (weights, report) the export writes.
    QString outputPath() const;
    void setOutputPath(const QString& path);
    /// The dataset export the controls say now.
    ll::ExportRequest request() const;
    /// The report the controls say now, written to `html`: the run, the PDF beside it, and
    /// the workspace's latest finished studies when their box is ticked.
    ll::report::ReportRequest reportRequest(const QString& html) const;
    ExportSettings* settings() const { return m_settings; }
    ExportJob* job() const { return m_job; }
    bool isBusy() const;

    /// Asked before an export replaces a folder that is not empty: true replaces it. The
    /// default asks with a message box; tests answer in its place.
    using ReplaceQuestion = std::function<bool(const QString& path)>;
    void setReplaceQuestion(ReplaceQuestion ask) { m_askReplace = std::move(ask); }

public Q_SLOTS:
    void startExport();
    void cancel();
    /// Draws the preview again (the centre shows it).
    void refreshPreview();

Q_SIGNALS:
    void message(const QString& text);

protected:
    void showEvent(QShowEvent* event) override;

private:
    QGroupBox* runBox();
    QGroupBox* outputBox();
    void showControls();
    void setBusy(bool busy);
    void schedulePreview();
    /// The output's default for the run and the kind of export, under the remembered folder.
    QString defaultPath() const;
    std::optional<std::int64_t> step() const;
    void onExported(const ll::ExportSummary& summary);
    void saveSettings() const;
    void restoreSettings();

    std::filesystem::path m_workspace;
    ExportView* m_view;
    ExportJob* m_job;
    QString m_runDir;
    bool m_generates = false;
    bool m_pathEdited = false;  // the user chose the output: a new run keeps it
    bool m_previewDirty = true;
    ReplaceQuestion m_askReplace;
    QTimer* m_previewTimer;
    QLabel* m_run;
    QComboBox* m_checkpoint;
    QButtonGroup* m_what;
    ExportSettings* m_settings;
    QGroupBox* m_reportBox;
    QCheckBox* m_reportPdf;
    QCheckBox* m_reportStudies;
    QLabel* m_pathLabel;
    QLineEdit* m_path;
    QPushButton* m_browse;
    QPushButton* m_preview;
    QPushButton* m_export;
    QPushButton* m_cancel;
    QProgressBar* m_progress;
    QLabel* m_stage;
    QLabel* m_result;
};

}  // namespace ll::widgets
