#include "window/mainwindow.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QLabel>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>

#include "classify/classifypanel.h"
#include "common/cpu.h"
#include "common/losschart.h"
#include "common/runsamplerqueue.h"
#include "common/wheelguard.h"
#include "data/datapanel.h"
#include "export/exportpanel.h"
#include "gridview/gridview.h"
#include "inspect/inspectpanel.h"
#include "inspect/inspectview.h"
#include "latent/latentpanel.h"
#include "run/runfolder.h"
#include "run/runlock.h"
#include "steer/steerpanel.h"
#include "train/backgroundtraining.h"
#include "train/trainingjob.h"
#include "train/trainpanel.h"
#include "window/centrestage.h"
#include "window/closeprompt.h"
#include "window/modebar.h"
#include "window/paneldock.h"
#include "window/paralleltraining.h"
#include "window/runsamplebar.h"
#include "window/runsbrowser.h"
#include "window/runwatcher.h"
#include "window/savedsamples.h"

namespace ll::widgets {

MainWindow::MainWindow(QVulkanInstance* vulkan, std::filesystem::path workspace, QWidget* parent)
    : QMainWindow(parent), m_workspace(std::move(workspace)) {
    setWindowTitle(tr("LatentLab"));
    setObjectName(QStringLiteral("mainWindow"));
    qApp->installEventFilter(new PanelWheelGuard(this));

    // Top: the modes.
    m_modeBar = new ModeBar(this);
    addToolBar(Qt::TopToolBarArea, m_modeBar);

    // One sampling worker: the sample bar and the Steer and Latent panels share each run's model.
    auto* samplers = new RunSamplerQueue(this);

    // Centre: the samples, always there.
    m_sampleBar = new RunSampleBar(samplers);
    m_centre = new CentreStage(vulkan, m_sampleBar);
    setCentralWidget(m_centre);

    // Right: the active mode's panel.
    m_dataPanel = new DataPanel;
    m_trainPanel = new TrainPanel;
    m_steerPanel = new SteerPanel(samplers, m_workspace);
    m_latentPanel = new LatentPanel(samplers, m_centre->latentView());
    m_inspectPanel = new InspectPanel(m_workspace);
    m_exportPanel = new ExportPanel(m_workspace, m_centre->exportView());
    m_classifyPanel = new ClassifyPanel(m_workspace, m_centre->classifyView());
    m_panels = new PanelDock(this);
    m_panels->addPanel(Mode::Data, m_dataPanel);  // scrolls once its class list shows
    m_panels->addPanel(Mode::Train, m_trainPanel);
    m_panels->addPanel(Mode::Steer, m_steerPanel);
    m_panels->addPanel(Mode::Latent, m_latentPanel);
    m_panels->addPanel(Mode::Inspect, m_inspectPanel);
    m_panels->addPanel(Mode::Classify, m_classifyPanel);
    m_panels->addPanel(Mode::Export, m_exportPanel);
    addDockWidget(Qt::RightDockWidgetArea, m_panels);

    // Left: the runs browser.
    m_runs = new RunsBrowser;
    auto* runsDock = new QDockWidget(tr("Runs"), this);
    runsDock->setObjectName(QStringLiteral("runsDock"));
    runsDock->setWidget(m_runs);
    runsDock->setMinimumWidth(300);
    addDockWidget(Qt::LeftDockWidgetArea, runsDock);

    // Bottom: charts; a data-parallel run's ranks beside its losses.
    m_lossChart = new LossChart;
    m_rankChart = new LossChart;
    m_rankChart->setObjectName(QStringLiteral("rankChart"));
    m_rankChart->setSubject(tr("Speed of each process"), tr("Speed of each process"));
    m_charts = new QTabWidget;
    m_charts->setObjectName(QStringLiteral("chartTabs"));
    m_charts->addTab(m_lossChart, tr("Losses"));
    m_charts->addTab(m_rankChart, tr("Ranks"));
    m_charts->setTabToolTip(1, tr("Each process's steps/s and milliseconds per step in "
                                  "all-reduces, for a run of several processes"));
    m_charts->setTabEnabled(1, false);
    auto* chartDock = new QDockWidget(tr("Charts"), this);
    chartDock->setObjectName(QStringLiteral("chartDock"));
    chartDock->setWidget(m_charts);
    addDockWidget(Qt::BottomDockWidgetArea, chartDock);

    auto* rendererLabel = new QLabel(gridView()->rendererName());
    rendererLabel->setObjectName(QStringLiteral("rendererLabel"));
    m_runLabel = new QLabel;
    m_deviceLabel = new QLabel;
    m_deviceLabel->setObjectName(QStringLiteral("deviceStatus"));
    m_deviceLabel->hide();  // until a run trains on something other than this machine's CPU
    statusBar()->addPermanentWidget(m_runLabel);
    statusBar()->addPermanentWidget(m_deviceLabel);
    statusBar()->addPermanentWidget(new QLabel(QString::fromStdString(ll::cpuSummary())));
    statusBar()->addPermanentWidget(rendererLabel);

    m_job = new TrainingJob(this);
    m_watcher = new RunWatcher(this);
    m_parallel = new ParallelTraining(this);
    // The allocator keeps freed pages for training's speed; a window open for hours gives
    // them back once a minute, so its memory follows what it holds, not its peak.
    auto* trim = new QTimer(this);
    connect(trim, &QTimer::timeout, this, [] { ll::releaseFreeMemory(); });
    trim->start(60000);

    connect(m_modeBar, &ModeBar::modeChosen, this, &MainWindow::setMode);
    wireData();
    wireTraining();
    wireBrowsing();
    wireStatus();
    wireWatcher();

    m_runs->setWorkspace(m_workspace);
    restoreSettings();
    setMode(Mode::Data);
    findBackgroundRun();
}

MainWindow::~MainWindow() = default;

void MainWindow::wireData() {
    connect(m_dataPanel, &DataPanel::previewReady, this, [this](const ll::DatasetPreview& preview) {
        const auto& s = preview.summary;
        const bool tabular = s.modality == ll::Modality::Tabular;
        m_trainPanel->setTabularData(tabular);
        m_trainPanel->setDatasetDescription(tr("Dataset: <b>%1</b>, %2 samples, %3 classes")
                                                .arg(QString::fromStdString(s.name).toHtmlEscaped())
                                                .arg(s.count)
                                                .arg(s.classNames.size()));
        m_centre->setRealData(
            preview.grid, preview.table, tabular,
            tabular
                ? tr("%1: %2 rows of %3 columns%4. Train a model to see generated rows "
                     "beside real ones.")
                      .arg(QString::fromStdString(s.name))
                      .arg(s.count)
                      .arg(preview.table.columns.size())
                      .arg(preview.table.rows < s.count
                               ? tr(" (%1 of them shown, spread over the file)")
                                     .arg(preview.table.rows)
                               : QString())
                : tr("Real samples of %1: one row per class").arg(QString::fromStdString(s.name)));
        statusBar()->showMessage(tr("Loaded %1").arg(QString::fromStdString(s.source)), 5000);
        // The dataset studies run on what the Data mode loaded.
        m_classifyPanel->setDataset(m_dataPanel->loadedSpec(), s);
    });
    connect(m_dataPanel, &DataPanel::loadFailed, this,
            [this](const QString& message) { statusBar()->showMessage(message, 15000); });
}

void MainWindow::wireTraining() {
    connect(m_trainPanel, &TrainPanel::trainRequested, this, &MainWindow::startTraining);
    connect(m_trainPanel, &TrainPanel::pauseRequested, m_job, &TrainingJob::pause);
    connect(m_trainPanel, &TrainPanel::resumeRequested, m_job, &TrainingJob::resume);
    connect(m_trainPanel, &TrainPanel::stopRequested, m_job, &TrainingJob::stop);
    connect(m_trainPanel, &TrainPanel::learningRateChanged, m_job, &TrainingJob::setLearningRate);
    connect(m_trainPanel, &TrainPanel::sampleEveryChanged, m_job, &TrainingJob::setSampleEvery);
    connect(m_trainPanel, &TrainPanel::checkpointEveryChanged, m_job,
            &TrainingJob::setCheckpointEvery);
    connect(m_trainPanel, &TrainPanel::stopRequested, m_parallel, &ParallelTraining::stop);
    connect(m_parallel, &ParallelTraining::started, m_trainPanel,
            [this](const ll::TrainStarted& s) {
                m_trainPanel->onStarted(s);
                m_trainPanel->setPausable(false);
            });
    connect(m_parallel, &ParallelTraining::progress, m_trainPanel, &TrainPanel::onProgress);
    connect(m_parallel, &ParallelTraining::finished, m_trainPanel, &TrainPanel::onFinished);
    connect(m_job, &TrainingJob::guardTripped, m_trainPanel, &TrainPanel::onGuardTripped);
    connect(m_job, &TrainingJob::started, m_trainPanel, &TrainPanel::onStarted);
    connect(m_job, &TrainingJob::progress, m_trainPanel, &TrainPanel::onProgress);
    connect(m_job, &TrainingJob::pausedChanged, m_trainPanel, &TrainPanel::onPausedChanged);
    connect(m_job, &TrainingJob::finished, m_trainPanel, &TrainPanel::onFinished);

    connect(m_job, &TrainingJob::started, this, [this](const ll::TrainStarted& info) {
        const QString run = QString::fromStdString(info.runDir);
        m_liveRun = run;
        m_liveStep = info.startStep;
        // A resumed run continues its curves; a new one starts a clean chart.
        m_lossChart->startLive(
            run, info.startStep == 0 ? LossChart::Log{} : ll::readLossLog(info.runDir));
        if (auto config = ll::readRunConfig(info.runDir)) m_trainPanel->showRunConfig(*config);
        if (m_inspectPanel->runDir().isEmpty()) m_inspectPanel->setRun(run);  // the one to inspect
        m_runLabel->setText(tr("Training: %1").arg(run));
        // On the CPU the machine's label beside it says so already ("CPU, 2 cores, ...").
        const bool cpu = info.device == "CPU";
        m_deviceLabel->setText(cpu ? QString()
                                   : tr("Device: %1").arg(QString::fromStdString(info.device)));
        m_deviceLabel->setVisible(!cpu);
        m_runs->refresh();
    });
    connect(m_job, &TrainingJob::progress, this, [this](const ll::TrainProgress& p) {
        m_lossChart->append(p.step, p.losses);
        m_liveStep = p.step;
        m_liveTotalSteps = p.totalSteps;
    });
    connect(m_job, &TrainingJob::samples, this, [this](std::shared_ptr<const ll::SampleGrid> grid) {
        const QString caption =
            tr("Model samples at step %1: one row per class, fixed seeds").arg(grid->step);
        m_centre->setTrainGrid(std::move(grid), caption);
    });
    connect(
        m_job, &TrainingJob::tables, this,
        [this](const ll::TableSamples& generated, const ll::TableSamples& real) {
            m_centre->setTrainTable(
                generated, real,
                tr("Generated rows at step %1 beside real rows, fixed seed").arg(generated.step));
        });
    connect(m_job, &TrainingJob::finished, this, [this](const ll::TrainFinished& result) {
        m_lossChart->stopLive();
        m_runLabel->setText(QString::fromStdString(result.message));
        statusBar()->showMessage(QString::fromStdString(result.message), 15000);
        m_runs->refresh();
    });
    connect(m_job, &TrainingJob::evaluated, this,
            [this](qint64 step, const QString& file, const QString& message) {
                if (!message.isEmpty()) return statusBar()->showMessage(message, 20000);
                statusBar()->showMessage(tr("Metrics of step %1 written").arg(step), 5000);
                const QString run = m_inspectPanel->runDir();
                const auto evalDir = ll::runfiles::evalDir(run.toStdString());
                if (!run.isEmpty() &&
                    QFileInfo(file).absoluteDir() == QDir(QString::fromStdString(evalDir.string())))
                    inspectView()->setRun(run, file);
            });
}

void MainWindow::wireBrowsing() {
    connect(m_runs, &RunsBrowser::runSelected, this, &MainWindow::showRun);
    connect(m_runs, &RunsBrowser::compareRequested, this, &MainWindow::compareRuns);
    connect(m_runs, &RunsBrowser::continueRequested, this, &MainWindow::continueRun);
    connect(m_runs, &RunsBrowser::sampleRequested, m_sampleBar, &RunSampleBar::open);

    // A browsed run's samples go to the Train centre; the live run owns it while it trains.
    connect(m_sampleBar, &RunSampleBar::gridReady, this,
            [this](const ll::SampleGrid& grid, const QString& caption) {
                if (m_job->isRunning()) return;
                m_centre->setTrainGrid(std::make_shared<const ll::SampleGrid>(grid), caption);
                if (!followsBrowser(m_mode)) setMode(Mode::Train);
            });
    connect(m_sampleBar, &RunSampleBar::tableReady, this,
            [this](const ll::TableSamples& table, const QString& caption) {
                if (m_job->isRunning()) return;
                m_centre->setTrainTable(table, {}, caption);
                if (!followsBrowser(m_mode)) setMode(Mode::Train);
            });
    connect(m_sampleBar, &RunSampleBar::noSamples, this, [this](const QString& message) {
        m_centre->clearTrain(message);
        if (!followsBrowser(m_mode)) setMode(Mode::Train);
    });

    connect(m_steerPanel, &SteerPanel::gridReady, this,
            [this](const ll::SampleGrid& grid, const QString& caption, bool) {
                m_centre->setSteerGrid(grid, caption);
            });
    connect(m_steerPanel, &SteerPanel::tileSent, this,
            [this](const QString& run, const ll::SampleRequest& request, qint64 index, int label) {
                setMode(Mode::Latent);
                m_latentPanel->showTile(run, request, index, label);
            });
    connect(gridView(), &GridView::tileClicked, this, [this](int index) {
        if (m_mode == Mode::Steer) m_steerPanel->describeTile(index);
    });
    connect(m_inspectPanel, &InspectPanel::recordsChanged, this,
            [this](const QString& runDir, const QString& file) {
                inspectView()->setRun(runDir, file);
                m_centre->setInspectRun(m_inspectPanel->runDir());
            });
}

void MainWindow::wireStatus() {
    const auto show = [this](const QString& text) { statusBar()->showMessage(text, 15000); };
    connect(m_sampleBar, &RunSampleBar::failed, this, show);
    connect(m_steerPanel, &SteerPanel::message, this, show);
    connect(m_latentPanel, &LatentPanel::message, this, show);
    connect(m_inspectPanel, &InspectPanel::message, this, show);
    connect(m_exportPanel, &ExportPanel::message, this, show);
    connect(m_classifyPanel, &ClassifyPanel::message, this, show);
    connect(m_job, &TrainingJob::guardTripped, this,
            [this](const QString& message) { statusBar()->showMessage(message, 30000); });
    connect(m_job, &TrainingJob::samplesNotSaved, this,
            [this](const QString& message) { statusBar()->showMessage(message, 30000); });
    connect(gridView(), &GridView::tileHovered, this, [this](int index) {
        const auto& g = gridView()->grid();
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
}

GridView* MainWindow::gridView() const {
    return m_centre->gridView();
}

TabularView* MainWindow::tabularView() const {
    return m_centre->tabularView();
}

InspectView* MainWindow::inspectView() const {
    return m_centre->inspectView();
}

LatentView* MainWindow::latentView() const {
    return m_centre->latentView();
}

ExportView* MainWindow::exportView() const {
    return m_centre->exportView();
}

ClassifyView* MainWindow::classifyView() const {
    return m_centre->classifyView();
}

bool MainWindow::showsTable() const {
    return m_centre->showsTable();
}

void MainWindow::setMode(Mode mode) {
    m_mode = mode;
    m_modeBar->setCurrent(mode);
    m_panels->showPanel(mode);
    // The modes that follow the runs browser take its choice as they open.
    if (mode == Mode::Steer) {
        if (m_steerPanel->runDir() != m_selectedRun || m_steerPanel->runDir().isEmpty())
            m_steerPanel->setRun(m_selectedRun);  // draws; the grid arrives by gridReady
        m_centre->setSteerRun(m_steerPanel->runDir());
    } else if (mode == Mode::Latent) {
        m_latentPanel->setRun(m_selectedRun);  // builds the map when the run is new
        m_centre->setLatentRun(m_latentPanel->runDir());
    } else if (mode == Mode::Inspect) {
        m_centre->setInspectRun(m_inspectPanel->runDir());
    } else if (mode == Mode::Classify) {
        m_classifyPanel->setRun(m_selectedRun);  // asks core whether the run classifies
        m_classifyPanel->showLatest();
        m_centre->setClassifyRun(m_classifyPanel->runDir());
    } else if (mode == Mode::Export) {
        m_exportPanel->setRun(m_selectedRun);
        m_centre->setExportRun(m_exportPanel->runDir());
    }
    m_centre->setMode(mode);
}

void MainWindow::startTraining() {
    if (m_job->isRunning() || m_parallel->isRunning()) return;
    ll::TrainConfig config = m_trainPanel->config();
    config.dataset = m_dataPanel->spec();
    config.workspace = m_workspace;
    if (config.worldSize > 1) return startParallelTraining(std::move(config));
    m_centre->clearTrain();
    m_sampleBar->close();
    setMode(Mode::Train);
    m_job->start(config);
}

void MainWindow::startParallelTraining(ll::TrainConfig config) {
    m_centre->clearTrain();
    m_sampleBar->close();
    setMode(Mode::Train);
    statusBar()->showMessage(tr("Starting %1 processes...").arg(config.worldSize));
    auto run = m_parallel->start(config, QString::fromStdString(m_dataPanel->summary().name));
    if (!run) {
        statusBar()->showMessage(QString::fromStdString(run.error().message), 20000);
        m_trainPanel->onFinished(ll::TrainFinished{.outcome = ll::TrainFinished::Outcome::Failed,
                                                   .message = run.error().message});
        return;
    }
    statusBar()->showMessage(tr("%1 processes train %2: shown live")
                                 .arg(config.worldSize)
                                 .arg(QFileInfo(*run).fileName()),
                             10000);
    m_runs->refresh();
    m_runs->selectRuns({*run});  // the watcher follows its curves and grids
}

void MainWindow::showRanks(const QString& runDir) {
    const auto log = ll::readRankLog(runDir.toStdString());
    m_charts->setTabEnabled(1, !log.empty());
    if (log.empty()) {
        m_rankChart->clear();
        if (m_charts->currentIndex() == 1) m_charts->setCurrentIndex(0);
        return;
    }
    m_rankChart->showRun(runDir, log);
}

void MainWindow::continueRun(const QString& runDir) {
    if (m_job->isRunning()) {
        statusBar()->showMessage(tr("A run is training: stop it before continuing another."),
                                 10000);
        return;
    }
    const std::filesystem::path run = runDir.toStdString();
    if (const auto owner = ll::RunLock::owner(run)) {
        statusBar()->showMessage(
            tr("%1 is training (%2): stop that first")
                .arg(QFileInfo(runDir).fileName(), QString::fromStdString(owner->text)),
            10000);
        return;
    }
    auto info = ll::readRunInfo(run);
    if (!info) {
        statusBar()->showMessage(QString::fromStdString(info.error().message), 15000);
        return;
    }
    // An unfinished run goes on to its own budget; a finished one gets the panel's steps more.
    const std::int64_t steps = info->step < info->totalSteps
                                   ? info->totalSteps
                                   : info->step + m_trainPanel->config().steps;
    m_centre->clearTrain();
    m_sampleBar->close();
    setMode(Mode::Train);
    m_job->start(
        ll::TrainConfig{.steps = steps, .runDir = run, .workspace = m_workspace, .resume = true});
}

void MainWindow::compareRuns(const QStringList& runDirs) {
    std::vector<std::pair<QString, LossChart::Log>> runs;
    for (const QString& dir : runDirs)
        runs.emplace_back(QFileInfo(dir).fileName(), ll::readLossLog(dir.toStdString()));
    m_lossChart->setComparison(runs);
    statusBar()->showMessage(tr("Comparing the loss curves of %1 runs").arg(runs.size()), 5000);
}

void MainWindow::showRun(const QString& runDir) {
    m_selectedRun = runDir;
    m_watcher->watch(runDir);  // another process trains it: followed live (else nothing)
    m_inspectPanel->setRun(runDir);
    if (followsBrowser(m_mode)) setMode(m_mode);  // the browsing mode takes the new run
    // The chart names and shows the chosen run; the live run's curves come back with it.
    if (m_job->isRunning() && QFileInfo(runDir) == QFileInfo(m_lossChart->liveRun()))
        m_lossChart->showLive();
    else
        m_lossChart->showRun(runDir, ll::readLossLog(runDir.toStdString()));
    showRanks(runDir);
    if (m_job->isRunning()) return;  // the live run owns the Train centre
    auto saved = readSavedSamples(runDir);
    if (!saved) return;
    if (saved->drawFresh) {
        m_sampleBar->open(runDir);
        return;
    }
    m_sampleBar->close();
    if (saved->grid.empty()) return;
    m_centre->setTrainGrid(std::make_shared<const ll::SampleGrid>(std::move(saved->grid)),
                           saved->caption);
    if (!followsBrowser(m_mode)) setMode(Mode::Train);
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
    CloseChoice choice = CloseChoice::Stop;
    if (m_job->isRunning()) {
        std::int64_t total = m_liveTotalSteps;
        if (total <= 0)
            if (auto info = ll::readRunInfo(m_liveRun.toStdString())) total = info->totalSteps;
        choice = askHowToClose(this, m_liveRun, m_liveStep, total);
        if (choice == CloseChoice::Cancel) return event->ignore();
        m_liveTotalSteps = total;
    }
    saveSettings();
    m_watcher->stop();
    if (!m_job->isRunning()) return event->accept();  // it may have ended while we asked
    const QString run = m_liveRun;
    statusBar()->showMessage(tr("Saving a checkpoint of %1…").arg(run));
    m_job->stopAndWait();  // the checkpoint is written and the run's lock released
    if (choice == CloseChoice::Background) {
        statusBar()->showMessage(tr("Starting %1 in the background…").arg(run));
        const auto started = BackgroundTraining::start(run, m_liveTotalSteps);
        if (!started)
            QMessageBox::warning(
                this, tr("Training stopped"),
                tr("%1\n\nThe run is saved at its last checkpoint: Continue training in the runs "
                   "browser resumes it.")
                    .arg(QString::fromStdString(started.error().message)));
    }
    event->accept();
}

void MainWindow::saveSettings() {
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    const ll::DatasetSpec spec = m_dataPanel->spec();
    settings.setValue(QStringLiteral("data/source"), QString::fromStdString(spec.source));
    settings.setValue(QStringLiteral("data/labelColumn"), QString::fromStdString(spec.labelColumn));
    settings.setValue(QStringLiteral("data/limit"), static_cast<qlonglong>(spec.limit));
}

void MainWindow::wireWatcher() {
    const auto selected = [this](const QString& run) {
        return run == m_selectedRun && m_runs->selectedRuns().size() == 1;
    };
    connect(m_watcher, &RunWatcher::progressed, this,
            [this](const QString& run, qint64 step, qint64 total, const QString& owner) {
                m_runLabel->setText(tr("Training in the background (%1): %2, step %3 of %4")
                                        .arg(owner, QFileInfo(run).fileName())
                                        .arg(step)
                                        .arg(total));
            });
    connect(m_watcher, &RunWatcher::logGrew, this, [this, selected](const QString& run) {
        if (!selected(run)) return;
        m_lossChart->showRun(run, ll::readLossLog(run.toStdString()));
        showRanks(run);
    });
    connect(m_watcher, &RunWatcher::samplesSaved, this, [this, selected](const QString& run) {
        if (m_job->isRunning() || !selected(run)) return;  // the live run owns the centre
        auto saved = readSavedSamples(run);
        if (saved && !saved->grid.empty())
            m_centre->setTrainGrid(std::make_shared<const ll::SampleGrid>(std::move(saved->grid)),
                                   tr("%1 (training in the background)").arg(saved->caption));
    });
    connect(m_watcher, &RunWatcher::ended, this,
            [this, selected](const QString& run, const QString& status, qint64 step) {
                const QString text = tr("%1: the background training ended (%2) at step %3")
                                         .arg(QFileInfo(run).fileName(), status)
                                         .arg(step);
                m_runLabel->setText(text);
                statusBar()->showMessage(text, 15000);
                m_runs->refresh();
                if (selected(run)) showRun(run);  // its last curves and samples
            });
    connect(m_runs, &RunsBrowser::stopRequested, this, [this](const QString& run) {
        const auto asked = ll::RunLock::askOwnerToStop(run.toStdString());
        statusBar()->showMessage(
            asked ? tr("Asked %1 to stop %2: it saves a checkpoint first")
                        .arg(QString::fromStdString(asked->text), QFileInfo(run).fileName())
                  : QString::fromStdString(asked.error().message),
            15000);
    });
}

void MainWindow::findBackgroundRun() {
    for (const QString& run : m_runs->runs()) {
        const auto owner = ll::RunLock::owner(run.toStdString());
        if (!owner || owner->thisProcess) continue;
        m_runs->selectRuns({run});  // shows it, and the watcher follows it
        statusBar()->showMessage(
            tr("%1 is training in the background (%2): shown live")
                .arg(QFileInfo(run).fileName(), QString::fromStdString(owner->text)),
            15000);
        return;
    }
}

}  // namespace ll::widgets
