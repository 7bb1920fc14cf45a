#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <QWidget>

#include "eval/evaluate.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace ll::widgets {

class EvaluationJob;

/// The Inspect mode's panel: which run, the feature extractor its scores use (or a button
/// that trains one for data without one), the evaluation's protocol (samples, seed,
/// checkpoint, metrics, feature space), Evaluate / Evaluate every checkpoint / Guidance
/// sweep, and the job's progress with Cancel. The work runs in an EvaluationJob.
class InspectPanel : public QWidget {
    Q_OBJECT
public:
    explicit InspectPanel(std::filesystem::path workspace, QWidget* parent = nullptr);

    /// The run the buttons evaluate (a generator run folder).
    void setRun(const QString& runDir);
    QString runDir() const { return m_runDir; }
    bool isBusy() const;
    EvaluationJob* job() const { return m_job; }
    /// The options the panel's controls say (for the chosen guidance weight).
    ll::EvalOptions options() const;

public Q_SLOTS:
    void evaluate();
    void evaluateAllCheckpoints();
    void sweepGuidance();
    void trainExtractor();
    void cancel();

Q_SIGNALS:
    /// A record was written (or the run changed): the view should read the run's records.
    void recordsChanged(const QString& runDir, const QString& file);
    void message(const QString& text);

private:
    void refreshExtractor();
    void showClassifierMetrics();
    void setBusy(bool busy);
    std::vector<double> sweepWeights() const;
    void browseHeldOut();

    std::filesystem::path m_workspace;
    QString m_runDir;
    std::string m_dataset;     // the run's dataset name
    bool m_diffusion = false;  // the run takes guidance: the guidance sweep applies
    bool m_haveExtractor = false;
    bool m_tabular = false;  // the run's data are table rows
    EvaluationJob* m_job;
    QLabel* m_run;
    QLabel* m_extractor;
    QPushButton* m_trainExtractor;
    QSpinBox* m_count;
    QSpinBox* m_seed;
    QComboBox* m_checkpoint;
    QLineEdit* m_heldOut;
    QPushButton* m_browseHeldOut;
    QComboBox* m_space;
    std::map<std::string, QCheckBox*> m_metrics;
    QLineEdit* m_sweep;
    QPushButton* m_evaluate;
    QPushButton* m_evaluateAll;
    QPushButton* m_sweepButton;
    QProgressBar* m_progress;
    QLabel* m_stage;
    QPushButton* m_cancel;
};

}  // namespace ll::widgets
