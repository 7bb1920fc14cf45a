#pragma once

#include <memory>

#include <QString>
#include <QWidget>

#include "common/samplegrid.h"
#include "common/table.h"
#include "window/mode.h"

class QLabel;
class QStackedWidget;
class QVulkanInstance;

namespace ll::widgets {

class ClassifyView;
class ExportView;
class GridView;
class InspectView;
class LatentView;
class RunSampleBar;
class TabularView;

/// The centre of the window (design.md, "The window"): a caption, the run sample bar, and
/// what the current mode shows. It knows what each mode shows and keeps it while another mode
/// is on, so that switching back shows it again:
///   Data     the loaded dataset: a class grid of real images, or its rows
///   Train    the live run's samples (or a browsed run's saved or drawn ones), else real data
///   Steer    the steered run's newest grid
///   Latent   the latent map of the Latent panel's run
///   Inspect  the evaluation records of the Inspect panel's run
///   Classify the result of the study the Classify panel shows
///   Export   the export's preview (what the filters drop) and, at the end, its card
/// The setters store a mode's content and show it at once when that mode is on; none of them
/// changes the mode.
class CentreStage : public QWidget {
    Q_OBJECT
public:
    /// `sampleBar` (owned by the caller's layout from now on) sits above the views.
    CentreStage(QVulkanInstance* vulkan, RunSampleBar* sampleBar, QWidget* parent = nullptr);

    GridView* gridView() const { return m_grid; }
    TabularView* tabularView() const { return m_tabular; }
    InspectView* inspectView() const { return m_inspectView; }
    LatentView* latentView() const { return m_latentView; }
    ExportView* exportView() const { return m_exportView; }
    ClassifyView* classifyView() const { return m_classifyView; }
    QString caption() const;
    /// True when the centre shows the tabular view, false for the image grid.
    bool showsTable() const;

    /// Shows what `mode` showed last (or a line saying how to fill it).
    void setMode(Mode mode);
    Mode mode() const { return m_mode; }

    /// Data: a loaded dataset, a class grid of its images or (tabular) its rows.
    void setRealData(const ll::SampleGrid& grid, const ll::TableSamples& rows, bool tabular,
                     const QString& caption);
    bool hasTabularData() const { return m_dataTabular; }

    /// Train: a sample grid.
    void setTrainGrid(std::shared_ptr<const ll::SampleGrid> grid, const QString& caption);
    /// Train: generated rows (beside real ones when `real` has rows).
    void setTrainTable(const ll::TableSamples& generated, const ll::TableSamples& real,
                       const QString& caption);
    /// Train: nothing yet; `message` (when given) says why, in place of the real data.
    void clearTrain(const QString& message = {});
    bool hasTrainGrid() const;

    /// Steer: the run it steers; another run drops the previous run's grid.
    void setSteerRun(const QString& runDir);
    void setSteerGrid(const ll::SampleGrid& grid, const QString& caption);

    /// Latent and Inspect: the run they show, for the caption.
    void setLatentRun(const QString& runDir);
    void setInspectRun(const QString& runDir);
    /// Export: the run it exports from, for the caption.
    void setExportRun(const QString& runDir);
    /// Classify: the run the diffusion classifier uses, for the caption.
    void setClassifyRun(const QString& runDir);

private:
    enum class TrainContent { Nothing, Grid, Table, Message };

    /// Shows the current mode's content again.
    void refresh();
    void showGrid(std::shared_ptr<const ll::SampleGrid> grid, const QString& caption);
    void showTable(const QString& caption);
    void showView(QWidget* view, const QString& caption);

    Mode m_mode = Mode::Data;
    QLabel* m_caption;
    RunSampleBar* m_sampleBar;
    QStackedWidget* m_stack;
    GridView* m_grid;
    TabularView* m_tabular;
    InspectView* m_inspectView;
    LatentView* m_latentView;
    ExportView* m_exportView;
    ClassifyView* m_classifyView;

    // Shared with the grid view, which shows them without a copy of its own.
    std::shared_ptr<const ll::SampleGrid> m_realGrid;
    QString m_realCaption;
    bool m_dataTabular = false;

    TrainContent m_train = TrainContent::Nothing;
    std::shared_ptr<const ll::SampleGrid> m_trainGrid;
    QString m_trainCaption;

    QString m_steerRun;
    std::shared_ptr<const ll::SampleGrid> m_steerGrid;
    QString m_steerCaption;

    QString m_latentRun;
    QString m_inspectRun;
    QString m_exportRun;
    QString m_classifyRun;
};

}  // namespace ll::widgets
