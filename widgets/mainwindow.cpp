#include "mainwindow.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QImage>
#include <QLabel>
#include <QScrollArea>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QToolBar>
#include <QVBoxLayout>

#include "common/cpu.h"
#include "datapanel.h"
#include "gridview/gridview.h"
#include "inspectpanel.h"
#include "inspectview.h"
#include "latentpanel.h"
#include "latentview.h"
#include "losschart.h"
#include "run/runfolder.h"
#include "runsamplebar.h"
#include "runsbrowser.h"
#include "steerpanel.h"
#include "tabularview.h"
#include "trainingjob.h"
#include "trainpanel.h"
#include "wheelguard.h"

namespace ll::widgets {

namespace {

// A run's saved sample PNG back into tiles: its rows and columns come from the run's config.
ll::SampleGrid gridFromImage(const QImage& image, int rows, int cols,
                             std::vector<std::string> labels) {
    ll::SampleGrid grid;
    if (image.isNull() || rows < 1 || cols < 1 || image.width() % cols || image.height() % rows)
        return grid;
    const QImage rgba = image.convertToFormat(QImage::Format_RGBA8888);
    grid.rows = rows;
    grid.cols = cols;
    grid.tileWidth = rgba.width() / cols;
    grid.tileHeight = rgba.height() / rows;
    grid.rowLabels = std::move(labels);
    grid.rgba.resize(static_cast<std::size_t>(rgba.width()) * rgba.height() * 4);
    for (int y = 0; y < rgba.height(); ++y)
        std::memcpy(grid.rgba.data() + std::size_t(y) * rgba.width() * 4, rgba.constScanLine(y),
                    rgba.width() * 4);
    return grid;
}

// A panel in a vertical scroll area without a frame.
QScrollArea* scrolling(QWidget* panel) {
    auto* scroll = new QScrollArea;
    markPanelScroll(scroll);
    scroll->setWidget(panel);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    return scroll;
}

}  // namespace

MainWindow::MainWindow(QVulkanInstance* vulkan, std::filesystem::path workspace, QWidget* parent)
    : QMainWindow(parent), m_workspace(std::move(workspace)) {
    setWindowTitle(tr("LatentLab"));
    setObjectName(QStringLiteral("mainWindow"));
    qApp->installEventFilter(new PanelWheelGuard(this));

    // Centre: the samples, always there: a tile grid for images, a table view for rows.
    m_grid = new GridView(vulkan);
    m_tabular = new TabularView;
    m_centre = new QStackedWidget;
    m_centre->addWidget(m_grid);
    m_centre->addWidget(m_tabular);
    m_inspectView = new InspectView;
    m_centre->addWidget(m_inspectView);
    m_latentView = new LatentView;
    m_centre->addWidget(m_latentView);
    m_sampleBar = new RunSampleBar;
    m_gridCaption = new QLabel(tr("Load a dataset in the Data mode to see its samples here."));
    m_gridCaption->setObjectName(QStringLiteral("gridCaption"));
    m_gridCaption->setContentsMargins(8, 4, 8, 4);
    auto* centre = new QWidget;
    auto* centreLayout = new QVBoxLayout(centre);
    centreLayout->setContentsMargins(0, 0, 0, 0);
    centreLayout->setSpacing(0);
    centreLayout->addWidget(m_gridCaption);
    centreLayout->addWidget(m_sampleBar);
    centreLayout->addWidget(m_centre, 1);
    setCentralWidget(centre);

    // Right: the active mode's panel.
    m_dataPanel = new DataPanel;
    m_trainPanel = new TrainPanel;
    m_panels = new QStackedWidget;
    m_panels->addWidget(m_dataPanel);
    // The panels grow with their settings (a model's, a run's): they scroll rather than squeeze.
    m_panels->addWidget(scrolling(m_trainPanel));
    m_inspectPanel = new InspectPanel(m_workspace);
    m_panels->addWidget(scrolling(m_inspectPanel));
    m_steerPanel = new SteerPanel(m_workspace);
    m_panels->addWidget(scrolling(m_steerPanel));
    m_latentPanel = new LatentPanel(m_latentView);
    m_panels->addWidget(scrolling(m_latentPanel));
    auto* panelDock = new QDockWidget(tr("Data"), this);
    panelDock->setObjectName(QStringLiteral("panelDock"));
    panelDock->setFeatures(QDockWidget::DockWidgetMovable);
    panelDock->setWidget(m_panels);
    panelDock->setMinimumWidth(320);
    addDockWidget(Qt::RightDockWidgetArea, panelDock);

    // Left: the runs browser.
    m_runs = new RunsBrowser;
    auto* runsDock = new QDockWidget(tr("Runs"), this);
    runsDock->setObjectName(QStringLiteral("runsDock"));
    runsDock->setWidget(m_runs);
    runsDock->setMinimumWidth(300);
    addDockWidget(Qt::LeftDockWidgetArea, runsDock);

    // Bottom: charts.
    m_lossChart = new LossChart;
    auto* chartDock = new QDockWidget(tr("Charts"), this);
    chartDock->setObjectName(QStringLiteral("chartDock"));
    chartDock->setWidget(m_lossChart);
    addDockWidget(Qt::BottomDockWidgetArea, chartDock);

    m_rendererLabel = new QLabel(m_grid->rendererName());
    m_rendererLabel->setObjectName(QStringLiteral("rendererLabel"));
    m_runLabel = new QLabel;
    m_deviceLabel = new QLabel;
    m_deviceLabel->setObjectName(QStringLiteral("deviceStatus"));
    statusBar()->addPermanentWidget(m_runLabel);
    statusBar()->addPermanentWidget(m_deviceLabel);
    statusBar()->addPermanentWidget(new QLabel(QString::fromStdString(ll::cpuSummary())));
    statusBar()->addPermanentWidget(m_rendererLabel);

    m_job = new TrainingJob(this);
    buildModeBar();

    connect(m_dataPanel, &DataPanel::previewReady, this, [this](const ll::DatasetPreview& preview) {
        const auto& s = preview.summary;
        m_realGrid = preview.grid;
        m_dataTabular = s.modality == ll::Modality::Tabular;
        m_trainPanel->setTabularData(m_dataTabular);
        m_realCaption =
            m_dataTabular
                ? tr("%1: %2 rows of %3 columns. Train a model to see generated rows beside real "
                     "ones.")
                      .arg(QString::fromStdString(s.name))
                      .arg(s.count)
                      .arg(s.features)
                : tr("Real samples of %1: one row per class").arg(QString::fromStdString(s.name));
        m_trainPanel->setDatasetDescription(tr("Dataset: <b>%1</b>, %2 samples, %3 classes")
                                                .arg(QString::fromStdString(s.name).toHtmlEscaped())
                                                .arg(s.count)
                                                .arg(s.classNames.size()));
        if (m_dataTabular)
            setMode(m_mode);
        else if (m_mode == Mode::Data || m_trainGrid.empty())
            showGrid(m_realGrid, m_realCaption);
        statusBar()->showMessage(tr("Loaded %1").arg(QString::fromStdString(s.source)), 5000);
    });
    connect(m_dataPanel, &DataPanel::loadFailed, this,
            [this](const QString& message) { statusBar()->showMessage(message, 15000); });

    connect(m_trainPanel, &TrainPanel::trainRequested, this, &MainWindow::startTraining);
    connect(m_trainPanel, &TrainPanel::pauseRequested, m_job, &TrainingJob::pause);
    connect(m_trainPanel, &TrainPanel::resumeRequested, m_job, &TrainingJob::resume);
    connect(m_trainPanel, &TrainPanel::stopRequested, m_job, &TrainingJob::stop);
    connect(m_trainPanel, &TrainPanel::learningRateChanged, m_job, &TrainingJob::setLearningRate);
    connect(m_trainPanel, &TrainPanel::sampleEveryChanged, m_job, &TrainingJob::setSampleEvery);
    connect(m_trainPanel, &TrainPanel::checkpointEveryChanged, m_job,
            &TrainingJob::setCheckpointEvery);
    connect(m_job, &TrainingJob::guardTripped, m_trainPanel, &TrainPanel::onGuardTripped);
    connect(m_job, &TrainingJob::guardTripped, this,
            [this](const QString& message) { statusBar()->showMessage(message, 30000); });

    connect(m_job, &TrainingJob::started, m_trainPanel, &TrainPanel::onStarted);
    connect(m_job, &TrainingJob::progress, m_trainPanel, &TrainPanel::onProgress);
    connect(m_job, &TrainingJob::pausedChanged, m_trainPanel, &TrainPanel::onPausedChanged);
    connect(m_job, &TrainingJob::finished, m_trainPanel, &TrainPanel::onFinished);
    connect(m_job, &TrainingJob::started, this, [this](const ll::TrainStarted& info) {
        // A resumed run continues its curves; a new one starts a clean chart.
        if (info.startStep == 0)
            m_lossChart->clear();
        else
            m_lossChart->setHistory(ll::readLossLog(info.runDir));
        if (auto config = ll::readRunConfig(info.runDir)) m_trainPanel->showRunConfig(*config);
        m_runLabel->setText(tr("Training: %1").arg(QString::fromStdString(info.runDir)));
        m_deviceLabel->setText(tr("Device: %1").arg(QString::fromStdString(info.device)));
        m_runs->refresh();
    });
    connect(m_job, &TrainingJob::progress, this,
            [this](const ll::TrainProgress& p) { m_lossChart->append(p.step, p.losses); });
    connect(m_job, &TrainingJob::samples, this, [this](const ll::SampleGrid& grid) {
        m_trainGrid = grid;
        m_trainIsTable = false;
        m_trainCaption =
            tr("Model samples at step %1: one row per class, fixed seeds").arg(grid.step);
        if (m_mode == Mode::Train) showGrid(m_trainGrid, m_trainCaption);
    });
    connect(
        m_job, &TrainingJob::tables, this,
        [this](const ll::TableSamples& generated, const ll::TableSamples& real) {
            m_tabular->setTables(generated, real);
            m_trainIsTable = true;
            m_trainCaption =
                tr("Generated rows at step %1 beside real rows, fixed seed").arg(generated.step);
            if (m_mode == Mode::Train) showTable(m_trainCaption);
        });
    connect(m_job, &TrainingJob::finished, this, [this](const ll::TrainFinished& result) {
        m_runLabel->setText(QString::fromStdString(result.message));
        statusBar()->showMessage(QString::fromStdString(result.message), 15000);
        m_runs->refresh();
    });
    connect(m_inspectPanel, &InspectPanel::recordsChanged, this,
            [this](const QString& runDir, const QString& file) {
                m_inspectView->setRun(runDir, file);
                if (m_mode == Mode::Inspect) setMode(Mode::Inspect);  // the caption
            });
    connect(m_steerPanel, &SteerPanel::gridReady, this,
            [this](const ll::SampleGrid& grid, const QString& caption, bool) {
                m_steerGrid = grid;
                m_steerCaption = caption;
                if (m_mode == Mode::Steer) showGrid(m_steerGrid, m_steerCaption);
            });
    connect(m_steerPanel, &SteerPanel::message, this,
            [this](const QString& text) { statusBar()->showMessage(text, 15000); });
    connect(m_latentPanel, &LatentPanel::message, this,
            [this](const QString& text) { statusBar()->showMessage(text, 15000); });
    connect(m_steerPanel, &SteerPanel::tileSent, this,
            [this](const QString& run, const ll::SampleRequest& request, qint64 index, int label) {
                setMode(Mode::Latent);
                m_latentPanel->showTile(run, request, index, label);
            });
    connect(m_grid, &GridView::tileClicked, this, [this](int index) {
        if (m_mode == Mode::Steer) m_steerPanel->describeTile(index);
    });
    connect(m_inspectPanel, &InspectPanel::message, this,
            [this](const QString& text) { statusBar()->showMessage(text, 15000); });
    connect(m_job, &TrainingJob::evaluated, this,
            [this](qint64 step, const QString& file, const QString& message) {
                if (!message.isEmpty()) return statusBar()->showMessage(message, 20000);
                statusBar()->showMessage(tr("Metrics of step %1 written").arg(step), 5000);
                const QString run = QFileInfo(file).dir().absolutePath().section(
                    QLatin1Char('/'), 0, -2);  // <run>/eval/x.json -> <run>
                if (QFileInfo(run) == QFileInfo(m_inspectPanel->runDir()))
                    m_inspectView->setRun(m_inspectPanel->runDir(), file);
            });
    connect(m_job, &TrainingJob::started, this, [this](const ll::TrainStarted& info) {
        // The running run is the one to inspect.
        if (m_inspectPanel->runDir().isEmpty())
            m_inspectPanel->setRun(QString::fromStdString(info.runDir));
    });
    connect(m_runs, &RunsBrowser::runSelected, this, &MainWindow::openRun);
    connect(m_runs, &RunsBrowser::compareRequested, this, &MainWindow::compareRuns);
    connect(m_runs, &RunsBrowser::continueRequested, this, &MainWindow::continueRun);
    connect(m_runs, &RunsBrowser::sampleRequested, m_sampleBar, &RunSampleBar::open);
    connect(m_sampleBar, &RunSampleBar::gridReady, this,
            [this](const ll::SampleGrid& grid, const QString& caption) {
                if (m_job->isRunning()) return;  // the live run owns the centre
                m_trainGrid = grid;
                m_trainIsTable = false;
                m_trainCaption = caption;
                if (!browsing()) setMode(Mode::Train);
            });
    connect(m_sampleBar, &RunSampleBar::tableReady, this,
            [this](const ll::TableSamples& table, const QString& caption) {
                if (m_job->isRunning()) return;
                m_tabular->setTables(table);
                m_trainIsTable = true;
                m_trainCaption = caption;
                if (!browsing()) setMode(Mode::Train);
            });
    connect(m_sampleBar, &RunSampleBar::noSamples, this, [this](const QString& message) {
        m_trainGrid = {};
        m_trainIsTable = false;
        if (!browsing()) showGrid({}, message);
    });
    connect(m_sampleBar, &RunSampleBar::failed, this,
            [this](const QString& message) { statusBar()->showMessage(message, 15000); });
    connect(m_grid, &GridView::tileHovered, this, [this](int index) {
        const auto& g = m_grid->grid();
        if (index < 0 || g.empty()) return statusBar()->clearMessage();
        const int row = index / g.cols;
        const QString label = row < static_cast<int>(g.rowLabels.size())
                                  ? QString::fromStdString(g.rowLabels[row])
                                  : QString();
        statusBar()->showMessage(tr("Tile %1 (row %2, column %3) %4")
                                     .arg(index)
                                     .arg(row)
                                     .arg(index % g.cols)
                                     .arg(label));
    });

    m_runs->setWorkspace(m_workspace);
    restoreSettings();
    setMode(Mode::Data);
}

MainWindow::~MainWindow() = default;

void MainWindow::buildModeBar() {
    auto* bar = new QToolBar(tr("Modes"), this);
    bar->setObjectName(QStringLiteral("modeBar"));
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    addToolBar(Qt::TopToolBarArea, bar);
    m_modes = new QActionGroup(this);
    const struct {
        Mode mode;
        QString name;
        bool available;
    } modes[] = {{Mode::Data, tr("Data"), true},       {Mode::Train, tr("Train"), true},
                 {Mode::Steer, tr("Steer"), true},     {Mode::Latent, tr("Latent"), true},
                 {Mode::Inspect, tr("Inspect"), true}, {Mode::Export, tr("Export"), false}};
    for (const auto& m : modes) {
        QAction* action = bar->addAction(m.name);
        action->setObjectName(QStringLiteral("mode") + m.name);
        action->setCheckable(true);
        action->setEnabled(m.available);
        if (!m.available)
            action->setToolTip(tr("%1: not available in this version yet").arg(m.name));
        action->setData(static_cast<int>(m.mode));
        m_modes->addAction(action);
        connect(action, &QAction::triggered, this, [this, mode = m.mode] { setMode(mode); });
    }
}

void MainWindow::setMode(Mode mode) {
    m_mode = mode;
    for (QAction* a : m_modes->actions())
        a->setChecked(a->data().toInt() == static_cast<int>(mode));
    auto* dock = findChild<QDockWidget*>(QStringLiteral("panelDock"));
    if (!m_sampleBar->runDir().isEmpty())
        m_sampleBar->setVisible(mode != Mode::Inspect && mode != Mode::Steer &&
                                mode != Mode::Latent);
    if (mode == Mode::Latent) {
        m_panels->setCurrentIndex(4);
        if (dock) dock->setWindowTitle(tr("Latent space"));
        m_centre->setCurrentWidget(m_latentView);
        m_latentPanel->setRun(m_selectedRun);  // builds the map when the run is new
        m_gridCaption->setText(
            m_latentPanel->runDir().isEmpty()
                ? tr("Latent space: select a generator run of images in the runs browser.")
                : tr("Latent space of %1: hover a point for its image, click to decode it")
                      .arg(QFileInfo(m_latentPanel->runDir()).fileName()));
    } else if (mode == Mode::Steer) {
        m_panels->setCurrentIndex(3);
        if (dock) dock->setWindowTitle(tr("Steer"));
        if (m_steerPanel->runDir() != m_selectedRun || m_steerPanel->runDir().isEmpty())
            m_steerPanel->setRun(m_selectedRun);  // draws; the grid arrives by gridReady
        if (!m_steerGrid.empty() && !m_steerPanel->runDir().isEmpty())
            showGrid(m_steerGrid, m_steerCaption);
        else
            showGrid({}, m_steerPanel->runDir().isEmpty()
                             ? tr("Steer: select a generator run of images in the runs browser.")
                             : tr("Drawing…"));
    } else if (mode == Mode::Inspect) {
        m_panels->setCurrentIndex(2);
        if (dock) dock->setWindowTitle(tr("Inspect"));
        m_centre->setCurrentWidget(m_inspectView);
        const QString run = m_inspectPanel->runDir();
        m_gridCaption->setText(
            run.isEmpty() ? tr("Inspect: select a generator run in the runs browser.")
                          : tr("Inspect %1: how faithful, diverse and novel its samples are")
                                .arg(QFileInfo(run).fileName()));
    } else if (mode == Mode::Train) {
        m_panels->setCurrentIndex(1);
        if (dock) dock->setWindowTitle(tr("Train"));
        if (m_trainIsTable && !m_tabular->generated().empty())
            showTable(m_trainCaption);
        else if (m_dataTabular)
            showTable(m_realCaption);
        else if (!m_trainGrid.empty())
            showGrid(m_trainGrid, m_trainCaption);
        else if (!m_realGrid.empty())
            showGrid(m_realGrid, m_realCaption + tr(" (no model samples yet)"));
    } else {
        m_panels->setCurrentWidget(m_dataPanel);
        if (dock) dock->setWindowTitle(tr("Data"));
        if (m_dataTabular)
            showTable(m_realCaption);
        else if (!m_realGrid.empty())
            showGrid(m_realGrid, m_realCaption);
    }
}

void MainWindow::showGrid(const ll::SampleGrid& grid, const QString& caption) {
    m_centre->setCurrentWidget(m_grid);
    m_grid->setGrid(grid);
    m_gridCaption->setText(caption);
}

void MainWindow::showTable(const QString& caption) {
    m_centre->setCurrentWidget(m_tabular);
    m_gridCaption->setText(caption);
}

bool MainWindow::browsing() const {
    return m_mode == Mode::Inspect || m_mode == Mode::Steer || m_mode == Mode::Latent;
}

bool MainWindow::showsTable() const {
    return m_centre->currentWidget() == m_tabular;
}

void MainWindow::startTraining() {
    if (m_job->isRunning()) return;
    ll::TrainConfig config = m_trainPanel->config();
    config.dataset = m_dataPanel->spec();
    config.workspace = m_workspace;
    m_trainGrid = {};
    m_trainIsTable = false;
    m_tabular->clear();
    m_sampleBar->close();
    setMode(Mode::Train);
    m_job->start(config);
}

void MainWindow::continueRun(const QString& runDir) {
    if (m_job->isRunning()) {
        statusBar()->showMessage(tr("A run is training: stop it before continuing another."),
                                 10000);
        return;
    }
    const std::filesystem::path run = runDir.toStdString();
    auto info = ll::readRunInfo(run);
    if (!info) {
        statusBar()->showMessage(QString::fromStdString(info.error().message), 15000);
        return;
    }
    // An unfinished run goes on to its own budget; a finished one gets the panel's steps more.
    const std::int64_t steps = info->step < info->totalSteps
                                   ? info->totalSteps
                                   : info->step + m_trainPanel->config().steps;
    m_trainGrid = {};
    m_trainIsTable = false;
    m_tabular->clear();
    m_sampleBar->close();
    setMode(Mode::Train);
    m_job->start(
        ll::TrainConfig{.steps = steps, .runDir = run, .workspace = m_workspace, .resume = true});
}

void MainWindow::compareRuns(const QStringList& runDirs) {
    if (m_job->isRunning()) return;  // the live run owns the chart
    std::vector<std::pair<QString, std::vector<std::pair<std::int64_t, ll::LossValues>>>> runs;
    for (const QString& dir : runDirs)
        runs.emplace_back(QFileInfo(dir).fileName(), ll::readLossLog(dir.toStdString()));
    m_lossChart->setComparison(runs);
    statusBar()->showMessage(tr("Comparing the loss curves of %1 runs").arg(runs.size()), 5000);
}

void MainWindow::openRun(const QString& runDir) {
    m_selectedRun = runDir;
    m_inspectPanel->setRun(runDir);
    if (browsing()) {
        if (m_mode == Mode::Steer) m_steerGrid = {};
        setMode(m_mode);
    }
    if (m_job->isRunning()) return;  // the live run owns the chart and the grid
    const std::filesystem::path run = runDir.toStdString();
    m_lossChart->setHistory(ll::readLossLog(run));
    auto config = ll::readRunConfig(run);
    auto data = ll::readRunData(run);
    if (!config || !data) return;
    const ll::ModelInfo* model = ll::findModel(config->model);
    if (data->shape.tabular() || (model && !model->generates)) {
        // Rows are cheap to draw fresh; a classifier says that it has nothing to sample.
        m_sampleBar->open(runDir);
        return;
    }
    m_sampleBar->close();
    QDir samples(runDir + QStringLiteral("/samples"));
    const QStringList pngs =
        samples.entryList({QStringLiteral("step-*.png")}, QDir::Files, QDir::Name);
    if (pngs.isEmpty()) return;
    const int rows = std::min(data->shape.numClasses, config->maxGridRows);
    std::vector<std::string> labels(data->classNames.begin(), data->classNames.begin() + rows);
    m_trainGrid = gridFromImage(QImage(samples.filePath(pngs.last())), rows,
                                config->samplesPerClass, std::move(labels));
    m_trainCaption =
        tr("%1: samples at %2").arg(QString::fromStdString(run.filename().string()), pngs.last());
    if (!browsing()) setMode(Mode::Train);
}

void MainWindow::restoreSettings() {
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    // The last dataset comes back chosen (not loaded: the command line or the user loads it).
    if (const QString source = settings.value(QStringLiteral("data/source")).toString();
        !source.isEmpty()) {
        ll::DatasetSpec spec;
        spec.source = source.toStdString();
        spec.labelColumn =
            settings.value(QStringLiteral("data/labelColumn")).toString().toStdString();
        spec.limit = settings.value(QStringLiteral("data/limit"), 0).toLongLong();
        m_dataPanel->setSpec(spec);
    }
}

void MainWindow::closeEvent(QCloseEvent* event) {
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    const ll::DatasetSpec spec = m_dataPanel->spec();
    settings.setValue(QStringLiteral("data/source"), QString::fromStdString(spec.source));
    settings.setValue(QStringLiteral("data/labelColumn"), QString::fromStdString(spec.labelColumn));
    settings.setValue(QStringLiteral("data/limit"), static_cast<qlonglong>(spec.limit));
    m_job->stop();  // the job's destructor joins the thread; its checkpoint is written first
    event->accept();
}

}  // namespace ll::widgets
