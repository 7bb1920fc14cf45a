#pragma once

#include <filesystem>

#include <QMainWindow>

#include "common/samplegrid.h"
#include "common/table.h"

class QActionGroup;
class QLabel;
class QStackedWidget;
class QVulkanInstance;

namespace ll::widgets {

class DataPanel;
class InspectPanel;
class InspectView;
class LatentPanel;
class LatentView;
class GridView;
class LossChart;
class RunSampleBar;
class RunsBrowser;
class SteerPanel;
class TabularView;
class TrainPanel;
class TrainingJob;

/// Layout and wiring only (design.md, "The window"): the mode bar, the runs browser on the
/// left, the sample grid in the centre, the mode's panel on the right, charts at the bottom.
/// The panels own their behaviour; training runs in a TrainingJob.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    enum class Mode { Data, Train, Steer, Inspect, Export, Latent };

    MainWindow(QVulkanInstance* vulkan, std::filesystem::path workspace, QWidget* parent = nullptr);
    ~MainWindow() override;

    void setMode(Mode mode);
    Mode mode() const { return m_mode; }
    DataPanel* dataPanel() const { return m_dataPanel; }
    TrainPanel* trainPanel() const { return m_trainPanel; }
    GridView* gridView() const { return m_grid; }
    TabularView* tabularView() const { return m_tabular; }
    RunSampleBar* sampleBar() const { return m_sampleBar; }
    /// True when the centre shows the tabular view, false for the image grid.
    bool showsTable() const;
    LossChart* lossChart() const { return m_lossChart; }
    RunsBrowser* runsBrowser() const { return m_runs; }
    TrainingJob* trainingJob() const { return m_job; }
    InspectPanel* inspectPanel() const { return m_inspectPanel; }
    InspectView* inspectView() const { return m_inspectView; }
    SteerPanel* steerPanel() const { return m_steerPanel; }
    LatentPanel* latentPanel() const { return m_latentPanel; }
    LatentView* latentView() const { return m_latentView; }

public Q_SLOTS:
    void startTraining();
    /// Resumes a run from its last checkpoint (to its own step budget; a completed run gets
    /// the panel's steps more).
    void continueRun(const QString& runDir);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildModeBar();
    /// The modes that show the runs browser's choice (Steer, Latent, Inspect): training
    /// does not take the centre from them.
    bool browsing() const;
    void showGrid(const ll::SampleGrid& grid, const QString& caption);
    void showTable(const QString& caption);
    void openRun(const QString& runDir);
    void compareRuns(const QStringList& runDirs);
    void restoreSettings();

    Mode m_mode = Mode::Data;
    std::filesystem::path m_workspace;
    GridView* m_grid;
    TabularView* m_tabular;
    QStackedWidget* m_centre;
    RunSampleBar* m_sampleBar;
    QLabel* m_gridCaption;
    QStackedWidget* m_panels;
    DataPanel* m_dataPanel;
    TrainPanel* m_trainPanel;
    InspectPanel* m_inspectPanel;
    InspectView* m_inspectView;
    SteerPanel* m_steerPanel;
    LatentPanel* m_latentPanel;
    LatentView* m_latentView;
    QString m_selectedRun;  // the runs browser's choice, for the modes that follow it
    ll::SampleGrid m_steerGrid;
    QString m_steerCaption;
    LossChart* m_lossChart;
    RunsBrowser* m_runs;
    TrainingJob* m_job;
    QActionGroup* m_modes = nullptr;
    QLabel* m_rendererLabel;
    QLabel* m_runLabel;
    QLabel* m_deviceLabel;

    ll::SampleGrid m_realGrid;
    ll::SampleGrid m_trainGrid;
    QString m_realCaption;
    QString m_trainCaption;
    bool m_dataTabular = false;
    bool m_trainIsTable = false;  // the latest training output is rows, not a grid
};

}  // namespace ll::widgets
