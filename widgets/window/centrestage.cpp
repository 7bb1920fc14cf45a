#include "window/centrestage.h"

#include <memory>

#include <QFileInfo>
#include <QLabel>
#include <QStackedWidget>
#include <QVBoxLayout>

#include "classify/classifyview.h"
#include "common/tabularview.h"
#include "export/exportview.h"
#include "gridview/gridview.h"
#include "inspect/inspectview.h"
#include "latent/latentview.h"
#include "window/runsamplebar.h"

namespace ll::widgets {

namespace {

bool hasGrid(const std::shared_ptr<const ll::SampleGrid>& grid) {
    return grid && !grid->empty();
}

}  // namespace

CentreStage::CentreStage(QVulkanInstance* vulkan, RunSampleBar* sampleBar, QWidget* parent)
    : QWidget(parent), m_sampleBar(sampleBar) {
    setObjectName(QStringLiteral("centreStage"));
    m_grid = new GridView(vulkan);
    m_tabular = new TabularView;
    m_inspectView = new InspectView;
    m_latentView = new LatentView;
    m_exportView = new ExportView;
    m_classifyView = new ClassifyView;
    m_stack = new QStackedWidget;
    for (QWidget* view :
         {static_cast<QWidget*>(m_grid), static_cast<QWidget*>(m_tabular),
          static_cast<QWidget*>(m_inspectView), static_cast<QWidget*>(m_latentView),
          static_cast<QWidget*>(m_exportView), static_cast<QWidget*>(m_classifyView)})
        m_stack->addWidget(view);
    m_caption = new QLabel;
    m_caption->setObjectName(QStringLiteral("gridCaption"));
    m_caption->setContentsMargins(8, 4, 8, 4);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_caption);
    layout->addWidget(m_sampleBar);
    layout->addWidget(m_stack, 1);
    refresh();
}

QString CentreStage::caption() const {
    return m_caption->text();
}

bool CentreStage::showsTable() const {
    return m_stack->currentWidget() == m_tabular;
}

void CentreStage::setMode(Mode mode) {
    m_mode = mode;
    // The bar samples the browsed run for Data and Train; the browsing modes have their own.
    if (!m_sampleBar->runDir().isEmpty()) m_sampleBar->setVisible(!followsBrowser(mode));
    refresh();
}

void CentreStage::setRealData(const ll::SampleGrid& grid, const ll::TableSamples& rows,
                              bool tabular, const QString& caption) {
    m_realGrid = std::make_shared<const ll::SampleGrid>(grid);
    if (tabular) m_tabular->setReal(rows);
    m_dataTabular = tabular;
    m_realCaption = caption;
    // Train falls back to the real data while it has no samples of its own.
    if (m_mode == Mode::Data || m_mode == Mode::Train) refresh();
}

bool CentreStage::hasTrainGrid() const {
    return hasGrid(m_trainGrid);
}

void CentreStage::setTrainGrid(std::shared_ptr<const ll::SampleGrid> grid, const QString& caption) {
    m_train = TrainContent::Grid;
    m_trainGrid = std::move(grid);
    m_trainCaption = caption;
    if (m_mode == Mode::Train) refresh();
}

void CentreStage::setTrainTable(const ll::TableSamples& generated, const ll::TableSamples& real,
                                const QString& caption) {
    m_tabular->setTables(generated, real);
    m_train = TrainContent::Table;
    m_trainGrid.reset();
    m_trainCaption = caption;
    if (m_mode == Mode::Train) refresh();
}

void CentreStage::clearTrain(const QString& message) {
    m_train = message.isEmpty() ? TrainContent::Nothing : TrainContent::Message;
    m_trainGrid.reset();
    m_trainCaption = message;
    if (message.isEmpty()) m_tabular->clear();
    if (m_mode == Mode::Train) refresh();
}

void CentreStage::setSteerRun(const QString& runDir) {
    if (runDir != m_steerRun) {
        m_steerRun = runDir;
        m_steerGrid.reset();
        m_steerCaption.clear();
    }
    if (m_mode == Mode::Steer) refresh();
}

void CentreStage::setSteerGrid(const ll::SampleGrid& grid, const QString& caption) {
    m_steerGrid = std::make_shared<const ll::SampleGrid>(grid);
    m_steerCaption = caption;
    if (m_mode == Mode::Steer) refresh();
}

void CentreStage::setLatentRun(const QString& runDir) {
    m_latentRun = runDir;
    if (m_mode == Mode::Latent) refresh();
}

void CentreStage::setInspectRun(const QString& runDir) {
    m_inspectRun = runDir;
    if (m_mode == Mode::Inspect) refresh();
}

void CentreStage::setExportRun(const QString& runDir) {
    m_exportRun = runDir;
    if (m_mode == Mode::Export) refresh();
}

void CentreStage::setClassifyRun(const QString& runDir) {
    m_classifyRun = runDir;
    if (m_mode == Mode::Classify) refresh();
}

void CentreStage::refresh() {
    switch (m_mode) {
        case Mode::Data:
            if (m_dataTabular)
                showTable(m_realCaption);
            else if (hasGrid(m_realGrid))
                showGrid(m_realGrid, m_realCaption);
            else
                showGrid(nullptr, tr("Load a dataset in the Data mode to see its samples here."));
            return;
        case Mode::Train:
            if (m_train == TrainContent::Table && !m_tabular->generated().empty())
                showTable(m_trainCaption);
            else if (m_dataTabular)
                showTable(m_realCaption);
            else if (m_train == TrainContent::Grid && hasGrid(m_trainGrid))
                showGrid(m_trainGrid, m_trainCaption);
            else if (m_train == TrainContent::Message)
                showGrid(nullptr, m_trainCaption);
            else if (hasGrid(m_realGrid))
                showGrid(m_realGrid, m_realCaption + tr(" (no model samples yet)"));
            else
                showGrid(nullptr, tr("Train: load a dataset in the Data mode, then press Train."));
            return;
        case Mode::Steer:
            if (m_steerRun.isEmpty())
                showGrid(nullptr,
                         tr("Steer: select a generator run of images in the runs browser."));
            else if (!hasGrid(m_steerGrid))
                showGrid(nullptr, tr("Drawing…"));
            else
                showGrid(m_steerGrid, m_steerCaption);
            return;
        case Mode::Latent:
            showView(m_latentView,
                     m_latentRun.isEmpty()
                         ? tr("Latent space: select a generator run of images in the runs browser.")
                         : tr("Latent space of %1: hover a point for its image, click to decode it")
                               .arg(QFileInfo(m_latentRun).fileName()));
            return;
        case Mode::Inspect:
            showView(m_inspectView,
                     m_inspectRun.isEmpty()
                         ? tr("Inspect: select a generator run in the runs browser.")
                         : tr("Inspect %1: how faithful, diverse and novel its samples are")
                               .arg(QFileInfo(m_inspectRun).fileName()));
            return;
        case Mode::Classify:
            showView(m_classifyView, m_classifyRun.isEmpty()
                                         ? tr("Classify: generative models as classifiers")
                                         : tr("Classify: generative models as classifiers (run %1)")
                                               .arg(QFileInfo(m_classifyRun).fileName()));
            return;
        case Mode::Export:
            showView(m_exportView, m_exportRun.isEmpty()
                                       ? tr("Export: select a run in the runs browser.")
                                       : tr("Export from %1: a dataset, its weights or a report")
                                             .arg(QFileInfo(m_exportRun).fileName()));
            return;
    }
}

void CentreStage::showGrid(std::shared_ptr<const ll::SampleGrid> grid, const QString& caption) {
    m_stack->setCurrentWidget(m_grid);
    m_grid->setGrid(std::move(grid));
    m_caption->setText(caption);
}

void CentreStage::showTable(const QString& caption) {
    m_stack->setCurrentWidget(m_tabular);
    m_caption->setText(caption);
}

void CentreStage::showView(QWidget* view, const QString& caption) {
    m_stack->setCurrentWidget(view);
    m_caption->setText(caption);
}

}  // namespace ll::widgets
