#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include <QElapsedTimer>
#include <QWidget>

#include "classify/studyfolders.h"
#include "data/datasetspec.h"
#include "study/diffusionclassifier.h"

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;

namespace ll::widgets {

class ClassifyJob;
class ClassifyView;
class CurveForm;
class DiffusionForm;
class OneClassForm;
class RebalanceForm;

/// The Classify mode's panel: generative models as classifiers, four studies chosen at the
/// top, each a page of settings (DiffusionForm on the runs browser's run; CurveForm,
/// OneClassForm and the imbalance lab's RebalanceForm on the window's dataset); Start, Resume (an
/// interrupted study of the same options into the same folder), Cancel, progress with time left,
/// and core's message when a study fails or a run cannot classify. The studies run in a
/// ClassifyJob; their results go to the centre (ClassifyView), and the latest finished study of
/// each kind comes back when the mode opens. Diffusion studies land in the run's studies folder,
/// the dataset studies in
/// `<workspace>/studies/<kind>-<time>/`.
class ClassifyPanel : public QWidget {
    Q_OBJECT
public:
    ClassifyPanel(std::filesystem::path workspace, ClassifyView* view, QWidget* parent = nullptr);
    ~ClassifyPanel() override;

    /// The diffusion page's run (the runs browser's choice; empty: none).
    void setRun(const QString& runDir);
    QString runDir() const { return m_runDir; }
    /// The window's dataset as the Data mode has it; `summary` unset while none is loaded.
    void setDataset(const ll::DatasetSpec& spec, const std::optional<ll::DatasetSummary>& summary);

    StudyKind study() const;
    void setStudy(StudyKind kind);
    DiffusionForm* diffusionForm() const { return m_diffusion; }
    CurveForm* curveForm() const { return m_curve; }
    OneClassForm* oneClassForm() const { return m_oneClass; }
    RebalanceForm* rebalanceForm() const { return m_rebalance; }
    ClassifyJob* job() const { return m_job; }
    bool isBusy() const;
    /// Why Start is off for the page shown ("" when it is on).
    QString whyNot() const;
    /// The folder a Resume continues for the page shown ("" when there is none).
    QString resumableFolder() const;
    /// Reads the latest finished study of each kind back into the centre.
    void showLatest();

public Q_SLOTS:
    void start();
    void resume();
    void cancel();

Q_SIGNALS:
    void message(const QString& text);

private:
    /// Starts the page's study into `out` (the dataset studies; ignored by the diffusion one).
    void startInto(const QString& out);
    /// Shows the chosen study's page here and its result in the centre.
    void showPage();
    void setBusy(bool busy);
    void updateButtons();
    void onProgress(const QString& stage, double fraction);
    void onFinished(bool ok, const QString& why);
    void onRunOpened(const QString& run, const QString& refusal);
    void showDiffusionResult(const ll::DiffusionClassifyResult& result);
    void explainImage(int index);
    /// The images a diffusion result was made of (the run's data, the page's split and count).
    std::optional<ll::DatasetSpec> diffusionData() const;
    /// The settings pages, in kStudyKinds' order.
    std::vector<QWidget*> pageForms() const;
    void saveSettings() const;
    void restoreSettings();

    std::filesystem::path m_workspace;
    ClassifyView* m_view;
    ClassifyJob* m_job;
    QString m_runDir;
    QString m_refusal;  // core's reason the run cannot classify; "…" while asked
    ll::DatasetSpec m_spec;
    std::optional<ll::DatasetSummary> m_summary;
    std::optional<ll::DatasetSpec> m_diffusionData;  // what the shown result classified
    QString m_diffusionResultRun;                    // whose result the centre shows
    std::optional<ll::DatasetSpec> m_runningData;    // what the running study classifies
    QString m_runningRun;
    StudyKind m_running = StudyKind::Diffusion;
    QElapsedTimer m_clock;

    QComboBox* m_study;
    QWidget* m_pages;
    DiffusionForm* m_diffusion;
    CurveForm* m_curve;
    OneClassForm* m_oneClass;
    RebalanceForm* m_rebalance;
    QLabel* m_folder;
    QLabel* m_reason;
    QPushButton* m_start;
    QPushButton* m_resume;
    QPushButton* m_cancel;
    QProgressBar* m_progress;
    QLabel* m_stage;
    QLabel* m_message;
};

}  // namespace ll::widgets
