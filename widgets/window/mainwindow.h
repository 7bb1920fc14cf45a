#pragma once

#include <filesystem>

#include <QMainWindow>

#include "run/trainconfig.h"
#include "window/mode.h"

class QLabel;
class QTabWidget;
class QVulkanInstance;

namespace ll::widgets {

class CentreStage;
class ClassifyPanel;
class ClassifyView;
class DataPanel;
class ExportPanel;
class ExportView;
class GridView;
class InspectPanel;
class InspectView;
class LatentPanel;
class LatentView;
class LossChart;
class ModeBar;
class PanelDock;
class ParallelTraining;
class RunSampleBar;
class RunWatcher;
class RunsBrowser;
class SteerPanel;
class TabularView;
class TrainPanel;
class TrainingJob;

/// The window's layout and wiring (design.md, "The window"): the mode bar across the top, the
/// runs browser on the left, the centre stage (which knows what each mode shows), the mode's
/// panel on the right, the loss chart at the bottom, and the signals between them. The panels
/// own their behaviour and training runs in a TrainingJob; what stays here is what belongs to
/// the window as a whole: starting and continuing a training run, what selecting a run in the
/// browser shows, and the layout and settings it keeps between sessions.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    using Mode = ll::widgets::Mode;

    MainWindow(QVulkanInstance* vulkan, std::filesystem::path workspace, QWidget* parent = nullptr);
    ~MainWindow() override;

    void setMode(Mode mode);
    Mode mode() const { return m_mode; }
    CentreStage* centreStage() const { return m_centre; }
    DataPanel* dataPanel() const { return m_dataPanel; }
    TrainPanel* trainPanel() const { return m_trainPanel; }
    GridView* gridView() const;
    TabularView* tabularView() const;
    RunSampleBar* sampleBar() const { return m_sampleBar; }
    /// True when the centre shows the tabular view, false for the image grid.
    bool showsTable() const;
    LossChart* lossChart() const { return m_lossChart; }
    RunsBrowser* runsBrowser() const { return m_runs; }
    TrainingJob* trainingJob() const { return m_job; }
    ParallelTraining* parallelTraining() const { return m_parallel; }
    InspectPanel* inspectPanel() const { return m_inspectPanel; }
    InspectView* inspectView() const;
    SteerPanel* steerPanel() const { return m_steerPanel; }
    LatentPanel* latentPanel() const { return m_latentPanel; }
    LatentView* latentView() const;
    ExportPanel* exportPanel() const { return m_exportPanel; }
    ExportView* exportView() const;
    ClassifyPanel* classifyPanel() const { return m_classifyPanel; }
    ClassifyView* classifyView() const;
    /// Watches the selected run while another process trains it (one left training in the
    /// background when a window closed).
    RunWatcher* runWatcher() const { return m_watcher; }

public Q_SLOTS:
    void startTraining();
    /// Resumes a run from its last checkpoint (to its own step budget; a completed run gets
    /// the panel's steps more).
    void continueRun(const QString& runDir);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void wireData();
    void wireTraining();
    void wireBrowsing();
    void wireStatus();
    void wireWatcher();
    /// A run another process trains (the one a closed window left training): selected and
    /// watched, so the next window shows it live.
    void findBackgroundRun();
    /// Settings kept between sessions.
    void saveSettings();
    /// The runs browser's choice: the browsing modes, the chart and the Train centre follow it.
    void showRun(const QString& runDir);
    void compareRuns(const QStringList& runDirs);
    void restoreSettings();
    /// A data-parallel run's per-rank speed on the Charts dock's Ranks tab (off for others).
    void showRanks(const QString& runDir);
    /// The Train panel asked for several processes: they train outside the window.
    void startParallelTraining(ll::TrainConfig config);

    Mode m_mode = Mode::Data;
    std::filesystem::path m_workspace;
    QString m_selectedRun;  // the runs browser's choice, for the modes that follow it
    QString m_liveRun;      // the run this window trains, and its step budget
    qint64 m_liveTotalSteps = 0;
    qint64 m_liveStep = 0;

    ModeBar* m_modeBar;
    CentreStage* m_centre;
    RunSampleBar* m_sampleBar;
    PanelDock* m_panels;
    DataPanel* m_dataPanel;
    TrainPanel* m_trainPanel;
    SteerPanel* m_steerPanel;
    LatentPanel* m_latentPanel;
    InspectPanel* m_inspectPanel;
    ExportPanel* m_exportPanel;
    ClassifyPanel* m_classifyPanel;
    LossChart* m_lossChart;
    LossChart* m_rankChart;
    QTabWidget* m_charts;
    ParallelTraining* m_parallel;
    RunsBrowser* m_runs;
    TrainingJob* m_job;
    RunWatcher* m_watcher;
    QLabel* m_runLabel;
    QLabel* m_deviceLabel;
};

}  // namespace ll::widgets
