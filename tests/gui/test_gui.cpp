// The window as a user drives it: load data, press Train, watch the grid update, pause, stop;
// tabular data in the table view, live interval changes, the runs browser's compare, continue
// and sample.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <new>
#include <stdexcept>
#include <string_view>
#include <thread>

#include <QApplication>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QListWidget>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <QTreeWidget>
#include <QValueAxis>
#include <QVulkanInstance>
#include <QWheelEvent>

#include "common/jobbridge.h"
#include "common/losschart.h"
#include "common/runsamplerqueue.h"
#include "common/tabularview.h"
#include "data/datapanel.h"
#include "gridview/gridview.h"
#include "gridview/rowlabelstrip.h"
#include "inspect/evaluationjob.h"
#include "inspect/inspectpanel.h"
#include "inspect/inspectview.h"
#include "labelfit.h"
#include "latent/latentpanel.h"
#include "latent/latentview.h"
#include "models/catalog.h"
#include "run/runfolder.h"
#include "steer/steerpanel.h"
#include "tiles.h"
#include "train/trainingjob.h"
#include "train/trainpanel.h"
#include "vulkaninstance.h"
#include "waits.h"
#include "window/mainwindow.h"
#include "window/runsamplebar.h"
#include "window/runsbrowser.h"

using ll::testing::waitMs;
using ll::widgets::MainWindow;
using ll::widgets::TrainingJob;

namespace {
const char* const kBreastCancer =
    "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv";

// True once log.jsonl of the run holds an event line with this name and value.
bool logHasEvent(const QString& runDir, const QString& event, int value) {
    QFile log(runDir + QStringLiteral("/log.jsonl"));
    if (!log.open(QIODevice::ReadOnly)) return false;
    const QByteArray text = log.readAll();
    return text.contains(QStringLiteral("\"event\":\"%1\"").arg(event).toUtf8()) &&
           text.contains(QStringLiteral("\"value\":%1").arg(value).toUtf8());
}
}  // namespace

class GuiTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void loadsFashionMnistIntoTheGrid();
    void badDatasetShowsAMessage();
    void theDataPanelNarrowsTheClassesAndMakesALongTail();
    void aClassToggleKeepsTheDataReadAndLoadReadsAfresh();
    void anEmptyRunsBrowserSaysWhereRunsGo();
    void imageFolderFollowsItsSizeAndColour();
    void jobBridgeReportsWhatAJobThrows_data();
    void jobBridgeReportsWhatAJobThrows();
    void dataPanelSurvivesALoadThatRunsOutOfMemory();
    void samplerQueueReplacesWaitingJobsOfOneClientAndKind();
    void trainingFromThePanelUpdatesTheGrid();
    void fastRunPacesItsGridsAndChart();
    void modelChooserListsOnlyModelsThatFitTheData();
    void tabularTrainingFillsTheTableAndScatter();
    void aCategoricalColumnShowsItsValues();
    void intervalsChangeWhileTraining();
    void nanGuardShowsABanner();
    void continueResumesACancelledRunFromItsCheckpoint();
    void compareAndSampleRunsFromTheBrowser();
    void inspectEvaluatesARunOnAWorkerThread();
    void inspectTrainsAnExtractorForOtherData();
    void steerSliderRedrawsTheSameSeeds();
    void latentBrowserTakesPointsTilesAndPaths();
    void steerContinuesARunningDrawWithNewGuidance();
    void lossChartNamesAndFollowsTheSelectedRun();
    void centreKeepsWhatEachModeShowed();
    void trainNotesShowWholeAfterAModelChange();
    void cleanupTestCase();

private:
    QPushButton* button(MainWindow& w, const char* name) {
        return w.findChild<QPushButton*>(QLatin1String(name));
    }
    std::unique_ptr<MainWindow> makeWindow(const QString& workspace = {});
    // Loads breast_cancer.csv in the Data panel and waits for it.
    void loadTabular(MainWindow& w);
    // A small CVAE (fast on 2 cores) for `steps` steps, chosen through the panel's editors.
    void chooseSmallModel(MainWindow& w, int steps, int sampleEvery = 20,
                          int checkpointEvery = 1000);
    // Loads 2,000 Fashion-MNIST images and trains the small CVAE on them to the end.
    void trainOnFashion(MainWindow& w, int steps, int sampleEvery, int checkpointEvery = 1000);
    // trainOnFashion for 200 steps, then the run chosen in the runs browser; its folder.
    QString trainAndSelectRun(MainWindow& w);

    QVulkanInstance& m_vulkan = ll::testing::vulkanInstance();
    QTemporaryDir m_workspace;
};

// No run yet: the browser says where runs go and how to make one; run folders right in the
// workspace (its runs/ folder opened as the workspace) are pointed out.
void GuiTest::anEmptyRunsBrowserSaysWhereRunsGo() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    auto* runs = w->runsBrowser();
    auto* empty = runs->findChild<QLabel*>(QStringLiteral("runsEmpty"));
    QVERIFY(empty && empty->isVisibleTo(runs));
    QVERIFY(!runs->findChild<QTreeWidget*>(QStringLiteral("runsTree"))->isVisibleTo(runs));
    const QString folder = QDir(ws.path()).filePath(QStringLiteral("runs"));
    QVERIFY2(empty->text().startsWith(QStringLiteral("No runs in %1 yet.").arg(folder)),
             qPrintable(empty->text()));
    QVERIFY(QDir(ws.path()).mkpath(QStringLiteral("20260101-000000-cvae")));
    QFile config(ws.filePath(QStringLiteral("20260101-000000-cvae/config.json")));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.close();
    runs->refresh();
    QVERIFY2(empty->text().contains(
                 QStringLiteral("%1 holds run folders itself: open its parent as the workspace")
                     .arg(ws.path())),
             qPrintable(empty->text()));
}

void GuiTest::initTestCase() {
    QCoreApplication::setOrganizationName(QStringLiteral("LatentLabTests"));
    QVERIFY(m_workspace.isValid());
    QVERIFY2(m_vulkan.create(), "no Vulkan instance: is mesa-vulkan-drivers installed?");
}

void GuiTest::cleanupTestCase() {}

std::unique_ptr<MainWindow> GuiTest::makeWindow(const QString& workspace) {
    auto w = std::make_unique<MainWindow>(
        &m_vulkan, (workspace.isEmpty() ? m_workspace.path() : workspace).toStdString());
    w->resize(1200, 800);
    w->show();
    return w;
}

void GuiTest::loadsFashionMnistIntoTheGrid() {
    auto w = makeWindow();
    QVERIFY(QTest::qWaitForWindowExposed(w.get()));
    QCOMPARE(w->gridView()->renderer(), ll::widgets::GridView::Renderer::Vulkan);
    QSignalSpy ready(w->dataPanel(), &ll::widgets::DataPanel::previewReady);
    w->dataPanel()->findChild<QSpinBox*>(QStringLiteral("datasetLimit"))->setValue(2000);
    QTest::mouseClick(button(*w, "loadButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, waitMs(30000));
    const auto& grid = w->gridView()->grid();
    QCOMPARE(grid.rows, 10);
    QCOMPARE(grid.cols, 8);
    QCOMPARE(grid.tileWidth, 28);
    QCOMPARE(grid.rowLabels.front(), std::string("T-shirt/top"));
    QCOMPARE(w->dataPanel()->summary().count, 2000);
    std::int64_t total = 0;
    for (auto c : w->dataPanel()->summary().classCounts) total += c;
    QCOMPARE(total, 2000);
}

// Classes unchecked in the Data panel leave the data (as --classes does), a long tail thins
// them (as --long-tail), and spec() carries both to the runs trained; the last class stays.
void GuiTest::theDataPanelNarrowsTheClassesAndMakesALongTail() {
    auto w = makeWindow();
    auto* data = w->dataPanel();
    QSignalSpy ready(data, &ll::widgets::DataPanel::previewReady);
    data->findChild<QSpinBox*>(QStringLiteral("datasetLimit"))->setValue(3000);
    QTest::mouseClick(button(*w, "loadButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, waitMs(30000));
    auto* classes = data->findChild<QListWidget*>(QStringLiteral("datasetClasses"));
    QVERIFY(classes && classes->isVisibleTo(data));
    QCOMPARE(classes->count(), 10);
    QVERIFY(data->spec().keepClasses.empty());
    for (int i = 0; i < classes->count(); ++i)
        if (i != 0 && i != 7 && i != 9) classes->item(i)->setCheckState(Qt::Unchecked);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 2, waitMs(30000));
    QCOMPARE(data->spec().keepClasses, (std::vector<int>{0, 7, 9}));
    QCOMPARE(data->loadedSpec().keepClasses, (std::vector<int>{0, 7, 9}));
    QCOMPARE(data->summary().classNames,
             (std::vector<std::string>{"T-shirt/top", "Sneaker", "Ankle boot"}));
    QCOMPARE(w->gridView()->grid().rows, 3);
    QCOMPARE(classes->count(), 10);  // the list keeps every class of the data
    const auto even = data->summary().classCounts;

    data->findChild<QDoubleSpinBox*>(QStringLiteral("datasetLongTail"))->setValue(10.0);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 3, waitMs(30000));
    const auto tail = data->summary().classCounts;
    QCOMPARE(tail.size(), std::size_t(3));
    QVERIFY2(tail[0] > 3 * tail[2] && tail[2] > 0,
             qPrintable(QStringLiteral("%1 %2 %3").arg(tail[0]).arg(tail[1]).arg(tail[2])));
    QVERIFY(tail[2] < even[2]);  // the same "use at most", thinner at the tail
    QCOMPARE(data->spec().longTailRatio, 10.0);

    // Unchecking the last class keeps it, and says so.
    for (int i : {7, 9}) classes->item(i)->setCheckState(Qt::Unchecked);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 4, waitMs(30000));
    classes->item(0)->setCheckState(Qt::Unchecked);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 5, waitMs(30000));
    QCOMPARE(classes->item(0)->checkState(), Qt::Checked);
    QCOMPARE(data->spec().keepClasses, (std::vector<int>{0}));
    QVERIFY(data->findChild<QLabel*>(QStringLiteral("dataStatus"))
                ->text()
                .contains(QStringLiteral("Keep at least one class")));
    // All: every class again, and the spec keeps them all.
    QTest::mouseClick(data->findChild<QPushButton*>(QStringLiteral("datasetAllClasses")),
                      Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 6, waitMs(30000));
    QVERIFY(data->spec().keepClasses.empty());
    QCOMPARE(data->summary().classNames.size(), std::size_t(10));
    // Another source has other classes: the list hides until it loads, and says nothing of it.
    auto* kind = data->findChild<QComboBox*>(QStringLiteral("datasetKind"));
    classes->item(3)->setCheckState(Qt::Unchecked);
    kind->setCurrentIndex(1);  // a CSV file
    QVERIFY(!classes->isVisibleTo(data));
    QVERIFY(data->spec().keepClasses.empty());
    QCOMPARE(data->spec().longTailRatio, 1.0);  // nor its long tail
    kind->setCurrentIndex(0);
    QVERIFY(classes->isVisibleTo(data));
    QCOMPARE(data->spec().keepClasses, (std::vector<int>{0, 1, 2, 4, 5, 6, 7, 8, 9}));
}

// A class toggled in the list shows from the data already read (a large file is not read
// again for every click); Load reads the file afresh, as it is now.
void GuiTest::aClassToggleKeepsTheDataReadAndLoadReadsAfresh() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString file = dir.filePath(QStringLiteral("kinds.csv"));
    const auto write = [&](int perClass) {
        QFile out(file);
        QVERIFY(out.open(QIODevice::WriteOnly | QIODevice::Truncate));
        out.write("x,y,kind\n");
        for (int i = 0; i < 3 * perClass; ++i)
            out.write(QStringLiteral("%1,%2,%3\n")
                          .arg(i)
                          .arg(i % 5)
                          .arg(QLatin1Char("abc"[i % 3]))
                          .toUtf8());
    };
    write(10);
    ll::widgets::DataPanel panel;
    panel.setSpec({.source = file.toStdString()});
    QSignalSpy ready(&panel, &ll::widgets::DataPanel::previewReady);
    panel.load();
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, waitMs(10000));
    QCOMPARE(panel.summary().count, 30);
    write(2);  // the file changes on disk
    auto* classes = panel.findChild<QListWidget*>(QStringLiteral("datasetClasses"));
    QCOMPARE(classes->count(), 3);
    classes->item(1)->setCheckState(Qt::Unchecked);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 2, waitMs(10000));
    QCOMPARE(panel.summary().count, 20);  // two classes of the rows read
    QCOMPARE(panel.summary().classNames, (std::vector<std::string>{"a", "c"}));
    QTest::mouseClick(panel.findChild<QPushButton*>(QStringLiteral("loadButton")), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 3, waitMs(10000));
    QCOMPARE(panel.summary().count, 4);  // two classes of the file as it is now
}

void GuiTest::badDatasetShowsAMessage() {
    auto w = makeWindow();
    w->dataPanel()->setSpec({.source = LATENTLAB_TEST_DATA
                             "/data/fixtures/idx/broken/truncated-data-images-idx3-ubyte"});
    QSignalSpy failed(w->dataPanel(), &ll::widgets::DataPanel::loadFailed);
    w->dataPanel()->load();
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, waitMs(10000));
    const QString message = failed.first().first().toString();
    QVERIFY2(message.contains(QStringLiteral("truncated")), qPrintable(message));
    QVERIFY(w->gridView()->grid().empty());
}

// A folder of 32x32 colour images loads at its own size and in colour unless the panel is
// told otherwise, and the panel says what it did.
void GuiTest::imageFolderFollowsItsSizeAndColour() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    for (const char* cls : {"red", "blue"}) {
        QVERIFY(QDir(dir.path()).mkpath(QString::fromLatin1(cls)));
        for (int i = 0; i < 6; ++i) {
            QImage image(32, 32, QImage::Format_RGB888);
            image.fill(std::string_view(cls) == "red" ? QColor(200, 30 + 10 * i, 20)
                                                      : QColor(20, 40, 180 + 10 * i));
            QVERIFY(image.save(dir.path() +
                               QStringLiteral("/%1/%2.png").arg(QString::fromLatin1(cls)).arg(i)));
        }
    }
    ll::widgets::DataPanel panel;
    panel.setSpec({.source = dir.path().toStdString()});
    QCOMPARE(panel.spec().imageSize, 0);
    QCOMPARE(panel.spec().colour, ll::ImageColour::FollowData);
    QSignalSpy ready(&panel, &ll::widgets::DataPanel::previewReady);
    panel.load();
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, waitMs(10000));
    QCOMPARE(panel.summary().channels, 3);
    QCOMPARE(panel.summary().height, 32);
    QCOMPARE(panel.summary().width, 32);
    const QString status = panel.findChild<QLabel*>(QStringLiteral("dataStatus"))->text();
    QVERIFY2(status.contains(QStringLiteral("32x32 RGB")), qPrintable(status));

    // The overrides still hold: grayscale at 16 px.
    panel.findChild<QSpinBox*>(QStringLiteral("imageSizeSpin"))->setValue(16);
    auto* colour = panel.findChild<QComboBox*>(QStringLiteral("imageColourCombo"));
    colour->setCurrentIndex(colour->findData(int(ll::ImageColour::Gray)));
    panel.load();
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 2, waitMs(10000));
    QCOMPARE(panel.summary().channels, 1);
    QCOMPARE(panel.summary().height, 16);
}

namespace {

// Thrown like LibTorch's c10::Error: a std::exception whose what() goes on with a backtrace.
struct TorchLikeError : std::exception {
    const char* what() const noexcept override {
        return "DefaultCPUAllocator: can't allocate memory: you tried to allocate 9663676416 "
               "bytes. Error code 12 (Cannot allocate memory)\nException raised from "
               "alloc_cpu at ../c10/core/impl/alloc_cpu.cpp:72 (most recent call first):\n"
               "frame #0: c10::Error::Error(...)";
    }
};

// The process's address space now, in bytes (VmSize of /proc/self/status).
rlim_t addressSpace() {
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly)) return 0;
    for (const QByteArray& line : status.readAll().split('\n'))
        if (line.startsWith("VmSize:"))
            return rlim_t(line.mid(7).trimmed().split(' ').front().toULongLong()) * 1024;
    return 0;
}

}  // namespace

// Whatever a job throws (std::bad_alloc, LibTorch's c10::Error, a throw of no std::exception)
// is caught at the thread boundary and told as a failure with a readable message; the bridge
// then runs the next job.
void GuiTest::jobBridgeReportsWhatAJobThrows_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("expected");
    QTest::newRow("bad_alloc") << 0 << QStringLiteral("Out of memory");
    QTest::newRow("c10::Error") << 1
                                << QStringLiteral(
                                       "DefaultCPUAllocator: can't allocate memory: you tried "
                                       "to allocate 9663676416 bytes. Error code 12 (Cannot "
                                       "allocate memory)");
    QTest::newRow("not a std::exception") << 2 << QStringLiteral("unknown error");
}

void GuiTest::jobBridgeReportsWhatAJobThrows() {
    QFETCH(int, kind);
    QFETCH(QString, expected);
    ll::widgets::JobBridge bridge;
    QSignalSpy failed(&bridge, &ll::widgets::JobBridge::failed);
    QSignalSpy finished(&bridge, &ll::widgets::JobBridge::finished);
    bool continued = false;
    QString told;
    QVERIFY(bridge.start(
        [kind](ll::widgets::JobContext&) -> ll::widgets::JobBridge::Then {
            if (kind == 0) throw std::bad_alloc();
            if (kind == 1) throw TorchLikeError();
            throw 42;
        },
        [&](const QString& why) { told = why; }));
    QVERIFY(bridge.isRunning());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, waitMs(10000));
    QCOMPARE(failed.count(), 1);
    const QString message = failed.first().first().toString();
    QVERIFY2(kind == 1 ? message == expected : message.contains(expected), qPrintable(message));
    QCOMPARE(told, message);
    QVERIFY(!bridge.isRunning());

    // The bridge lives on: the next job runs and its result arrives on this thread.
    int value = 0;
    QVERIFY(ll::widgets::runJob<int>(
        bridge, [](ll::widgets::JobContext&) { return 7; },
        [&](int v) {
            value = v;
            continued = QThread::currentThread() == qApp->thread();
        }));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, waitMs(10000));
    QCOMPARE(value, 7);
    QVERIFY(continued);
    QCOMPARE(failed.count(), 1);
}

// With the process's memory limited (as with `ulimit -v`), an IDX file whose data outgrows it,
// as a gzip bomb's does, makes the Data panel's load throw on its worker: the panel shows the
// message and the application lives on.
void GuiTest::dataPanelSurvivesALoadThatRunsOutOfMemory() {
#if defined(__SANITIZE_ADDRESS__)
    // ASan reserves terabytes of address space for its shadow, and its operator new ends the
    // process when memory runs out instead of throwing std::bad_alloc: nothing to observe.
    QSKIP("address-space limits do not apply under AddressSanitizer");
#endif
    QTemporaryDir dir;
    const QString bomb = dir.filePath(QStringLiteral("bomb-images-idx3-ubyte"));
    {
        QFile file(bomb);
        QVERIFY(file.open(QIODevice::WriteOnly));
        const unsigned char header[16] = {0, 0, 8, 3, 0, 0x20, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28};
        file.write(reinterpret_cast<const char*>(header), sizeof header);
        QVERIFY(file.resize(16 + qint64(0x200000) * 28 * 28));  // 1.6 GB of zeros, sparse
    }
    {
        // Its labels beside it: what can be checked before the images are read passes, so
        // reading them is what runs out of memory.
        QFile file(dir.filePath(QStringLiteral("bomb-labels-idx1-ubyte")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        const unsigned char header[8] = {0, 0, 8, 1, 0, 0x20, 0, 0};
        file.write(reinterpret_cast<const char*>(header), sizeof header);
        QVERIFY(file.resize(8 + qint64(0x200000)));  // 2 MB of label 0
    }
    ll::widgets::DataPanel panel;
    panel.setSpec({.source = bomb.toStdString()});
    QSignalSpy failed(&panel, &ll::widgets::DataPanel::loadFailed);
    QSignalSpy ready(&panel, &ll::widgets::DataPanel::previewReady);

    rlimit before{};
    QCOMPARE(getrlimit(RLIMIT_AS, &before), 0);
    const rlim_t used = addressSpace();
    QVERIFY(used > 0);
    rlimit limited = before;
    limited.rlim_cur = std::min<rlim_t>(before.rlim_cur, used + (rlim_t(512) << 20));
    QCOMPARE(setrlimit(RLIMIT_AS, &limited), 0);
    panel.load();
    const bool told =
        QTest::qWaitFor([&] { return failed.count() + ready.count() > 0; }, waitMs(60000));
    QCOMPARE(setrlimit(RLIMIT_AS, &before), 0);

    QVERIFY(told);
    QCOMPARE(ready.count(), 0);
    const QString message = failed.first().first().toString();
    QVERIFY2(message.contains(QStringLiteral("bomb-images-idx3-ubyte")) &&
                 message.contains(QStringLiteral("memory")),
             qPrintable(message));
    bool shown = false;
    for (const QLabel* label : panel.findChildren<QLabel*>())
        shown = shown || label->text().contains(QStringLiteral("not enough memory"));
    QVERIFY(shown);
    QVERIFY(panel.findChild<QPushButton*>(QStringLiteral("loadButton"))->isEnabled());
}

// The window's sampling queue runs one job at a time: a newer job replaces a waiting one of
// the same client and kind only (Steer's draws never drop the Latent panel's map), asks a
// running stoppable one of them to stop, tells a job's exception as its failure, and forgets
// the jobs of a client that is gone.
void GuiTest::samplerQueueReplacesWaitingJobsOfOneClientAndKind() {
    using ll::widgets::RunSamplerQueue;
    RunSamplerQueue queue;
    QObject steer, latent;
    auto* gone = new QObject;
    QStringList ran, failures;
    std::atomic<bool> open{false};
    auto job = [&](QObject* client, int kind, const QString& name, bool replaceable = true,
                   bool stoppable = false) {
        return RunSamplerQueue::Job{
            .client = client,
            .run = QStringLiteral("run"),
            .kind = kind,
            .work = [&ran, &open, name](ll::RunSampler* sampler,
                                        ll::widgets::JobContext& job) -> RunSamplerQueue::Then {
                if (sampler) throw std::logic_error("a job that opens nothing got a sampler");
                if (name == QStringLiteral("T")) throw std::runtime_error("boom\nbacktrace");
                while (name == QStringLiteral("A") && !open && !job.stopRequested())
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                const bool stopped = job.stopRequested();
                return [&ran, name, stopped] {
                    ran << name + (stopped ? QStringLiteral(" stopped") : QString());
                };
            },
            .failed = [&failures,
                       name](const QString& why) { failures << name + QStringLiteral(": ") + why; },
            .replaceable = replaceable,
            .stoppable = stoppable,
            .needsSampler = false};
    };
    queue.submit(job(&steer, 0, QStringLiteral("A"), true, true));  // runs until stopped
    QVERIFY(queue.isRunning(&steer, 0));
    queue.submit(job(&latent, 0, QStringLiteral("M"), false));  // the map: never replaced
    queue.submit(job(&steer, 0, QStringLiteral("P1")));         // stops A
    queue.submit(job(&steer, 0, QStringLiteral("P2")));         // replaces P1
    queue.submit(job(&latent, 1, QStringLiteral("D1")));
    queue.submit(job(&latent, 1, QStringLiteral("D2")));  // replaces D1, not M
    queue.submit(job(gone, 0, QStringLiteral("G")));
    queue.submit(job(&latent, 2, QStringLiteral("T")));
    delete gone;  // its waiting job goes with it
    QVERIFY(queue.isWaiting(&latent, 0) && queue.isWaiting(&latent, 1));
    QTRY_VERIFY_WITH_TIMEOUT(!queue.isBusy(&steer) && !queue.isBusy(&latent), waitMs(10000));
    QCOMPARE(ran, (QStringList{QStringLiteral("A stopped"), QStringLiteral("M"),
                               QStringLiteral("P2"), QStringLiteral("D2")}));
    QCOMPARE(failures, QStringList{QStringLiteral("T: boom")});
    QCOMPARE(queue.openRuns(), 0);
}

void GuiTest::trainingFromThePanelUpdatesTheGrid() {
    auto w = makeWindow();
    QVERIFY(QTest::qWaitForWindowExposed(w.get()));
    w->dataPanel()->findChild<QSpinBox*>(QStringLiteral("datasetLimit"))->setValue(3000);
    auto* panel = w->trainPanel();
    panel->findChild<QSpinBox*>(QStringLiteral("stepsSpin"))->setValue(100000);
    QSignalSpy started(w->trainingJob(), &ll::widgets::TrainingJob::started);
    QSignalSpy samples(w->trainingJob(), &ll::widgets::TrainingJob::samples);
    QSignalSpy paused(w->trainingJob(), &ll::widgets::TrainingJob::pausedChanged);
    QSignalSpy finished(w->trainingJob(), &ll::widgets::TrainingJob::finished);
    QSignalSpy frames(w->gridView(), &ll::widgets::GridView::frameRendered);

    w->setMode(MainWindow::Mode::Train);
    QTest::mouseClick(button(*w, "trainButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 1, waitMs(30000));
    QVERIFY(!button(*w, "trainButton")->isEnabled());

    // The first grid is the untrained model; the grid view must follow later ones.
    QTRY_VERIFY_WITH_TIMEOUT(w->gridView()->grid().step >= 250, waitMs(120000));
    const auto firstGrid = w->gridView()->grid();
    QTRY_VERIFY_WITH_TIMEOUT(w->gridView()->grid().step >= 500, waitMs(120000));
    QVERIFY(w->gridView()->grid().rgba != firstGrid.rgba);
    QCOMPARE(w->gridView()->grid().rows, 10);
    QVERIFY(frames.count() > 0);
    QVERIFY(w->lossChart()->pointCount(QStringLiteral("loss")) > 10);

    // Pause holds the progress; the window stays responsive meanwhile.
    QTest::mouseClick(button(*w, "pauseButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(paused.count(), 1, waitMs(5000));
    QCOMPARE(button(*w, "pauseButton")->text(), QStringLiteral("Resume"));
    const auto heldPoints = w->lossChart()->pointCount(QStringLiteral("loss"));
    QTest::qWait(500);
    QCOMPARE(w->lossChart()->pointCount(QStringLiteral("loss")), heldPoints);

    QTest::mouseClick(button(*w, "stopButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, waitMs(10000));
    const auto result = finished.first().first().value<ll::TrainFinished>();
    QCOMPARE(result.outcome, ll::TrainFinished::Outcome::Cancelled);
    QVERIFY(button(*w, "trainButton")->isEnabled());
    QCOMPARE(w->runsBrowser()->runCount(), 1);
    QVERIFY(std::filesystem::exists(std::filesystem::path(result.runDir) / "checkpoints" /
                                    "latest.json"));
}

// A run that samples every step: the window gets at most two grids a second (the job's 500 ms
// pace), never every one, yet the run's last grid before finished(); the chart draws every
// logged point by the end.
void GuiTest::fastRunPacesItsGridsAndChart() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    QSignalSpy samples(w->trainingJob(), &TrainingJob::samples);
    std::int64_t lastGridAtEnd = -1;
    connect(w->trainingJob(), &TrainingJob::finished, this, [&] {
        if (!samples.isEmpty())
            lastGridAtEnd =
                samples.last().first().value<std::shared_ptr<const ll::SampleGrid>>()->step;
    });
    QElapsedTimer clock;
    clock.start();
    trainOnFashion(*w, 300, 1);
    const qint64 ms = clock.elapsed();
    QCOMPARE(lastGridAtEnd, 300);
    // One grid per 500 ms, the first at once and the last flushed at the end. A plain build
    // trains the 300 steps in a few seconds, so most grids are dropped; a sanitized one is
    // slow enough that few need to be.
    QVERIFY2(samples.count() <= ms / 500 + 3,
             qPrintable(QStringLiteral("%1 grids in %2 ms").arg(samples.count()).arg(ms)));
    int drawn = -1;
    for (auto* series : w->lossChart()->chart()->series())
        if (series->name() == QStringLiteral("loss"))
            drawn = static_cast<int>(static_cast<QLineSeries*>(series)->count());
    QCOMPARE(drawn, 30);  // a point every 10 steps
}

void GuiTest::loadTabular(MainWindow& w) {
    QSignalSpy ready(w.dataPanel(), &ll::widgets::DataPanel::previewReady);
    w.dataPanel()->setSpec({.source = kBreastCancer});
    w.dataPanel()->load();
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, waitMs(20000));
    QCOMPARE(w.dataPanel()->summary().modality, ll::Modality::Tabular);
}

void GuiTest::chooseSmallModel(MainWindow& w, int steps, int sampleEvery, int checkpointEvery) {
    auto* panel = w.trainPanel();
    auto* model = panel->findChild<QComboBox*>(QStringLiteral("modelCombo"));
    model->setCurrentIndex(model->findData(QStringLiteral("cvae")));
    QCOMPARE(panel->modelName(), QStringLiteral("cvae"));
    panel->findChild<QLineEdit*>(QStringLiteral("setting_hidden"))->setText(QStringLiteral("32"));
    panel->findChild<QLineEdit*>(QStringLiteral("setting_latent"))->setText(QStringLiteral("4"));
    // The preset's conv net with a learned variance and fitted prior, narrow to train fast.
    QCOMPARE(panel->findChild<QLineEdit*>(QStringLiteral("setting_net"))->text(),
             QStringLiteral("auto"));
    panel->findChild<QLineEdit*>(QStringLiteral("setting_width"))->setText(QStringLiteral("8"));
    panel->findChild<QSpinBox*>(QStringLiteral("stepsSpin"))->setValue(steps);
    panel->findChild<QSpinBox*>(QStringLiteral("batchSpin"))->setValue(64);
    panel->findChild<QSpinBox*>(QStringLiteral("sampleEverySpin"))->setValue(sampleEvery);
    panel->findChild<QSpinBox*>(QStringLiteral("checkpointEverySpin"))->setValue(checkpointEvery);
}

void GuiTest::modelChooserListsOnlyModelsThatFitTheData() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    auto* combo = w->trainPanel()->findChild<QComboBox*>(QStringLiteral("modelCombo"));
    QVERIFY(combo);
    // Before any tabular data the chooser offers image models, diffusion among them.
    QVERIFY(combo->findData(QStringLiteral("ddpm")) >= 0);
    loadTabular(*w);
    int tabularModels = 0;
    for (const auto& m : ll::modelCatalog()) tabularModels += m.tabular ? 1 : 0;
    QCOMPARE(combo->count(), tabularModels);
    for (int i = 0; i < combo->count(); ++i) {
        const auto* info = ll::findModel(combo->itemData(i).toString().toStdString());
        QVERIFY(info);
        QVERIFY2(info->tabular, qPrintable(combo->itemText(i)));
    }
    QVERIFY(combo->findData(QStringLiteral("ddpm")) < 0);
    QVERIFY(combo->findData(QStringLiteral("cvae")) >= 0);
    // Presets are timed on Fashion-MNIST: on a table the panel says so.
    QVERIFY(w->trainPanel()
                ->findChild<QLabel*>(QStringLiteral("presetNote"))
                ->text()
                .contains(QStringLiteral("On a table: the figures above are Fashion-MNIST's")));

    // One editor per setting, prefilled, with its help; edited values reach the config.
    combo->setCurrentIndex(combo->findData(QStringLiteral("cvae")));
    const ll::ModelInfo* cvae = ll::findModel("cvae");
    for (const auto& [key, value] : cvae->defaults) {
        auto* edit = w->trainPanel()->findChild<QLineEdit*>(QStringLiteral("setting_") +
                                                            QString::fromStdString(key));
        QVERIFY2(edit, key.c_str());
        QVERIFY(!edit->toolTip().isEmpty());
    }
    w->trainPanel()
        ->findChild<QLineEdit*>(QStringLiteral("setting_latent"))
        ->setText(QStringLiteral("5"));
    const ll::TrainConfig config = w->trainPanel()->config();
    QCOMPARE(config.model, std::string("cvae"));
    QCOMPARE(config.settings.at("latent"), std::string("5"));
}

void GuiTest::tabularTrainingFillsTheTableAndScatter() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    loadTabular(*w);
    QVERIFY(w->showsTable());
    QCOMPARE(w->tabularView()->generated().rows, 0);
    // The Data mode shows the loaded rows at once, in their own units, over the whole height.
    {
        const auto* view = w->tabularView();
        QCOMPARE(view->real().rows, std::int64_t(569));
        QCOMPARE(view->real().columns.size(), std::size_t(30));
        QVERIFY(std::abs(view->real().at(0, 0) - 17.99) < 1e-4);  // the file's first cell
        QCOMPARE(view->findChild<QTableView*>(QStringLiteral("realTable"))->model()->rowCount(),
                 569);
        QCOMPARE(view->scatterPointCount(false), 569);
        QVERIFY(!view->findChild<QTableView*>(QStringLiteral("generatedTable"))->isVisibleTo(view));
    }
    chooseSmallModel(*w, 60, 20);
    QSignalSpy tables(w->trainingJob(), &TrainingJob::tables);
    QSignalSpy finished(w->trainingJob(), &TrainingJob::finished);
    w->setMode(MainWindow::Mode::Train);
    QTest::mouseClick(button(*w, "trainButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, waitMs(60000));
    QCOMPARE(finished.first().first().value<ll::TrainFinished>().outcome,
             ll::TrainFinished::Outcome::Completed);
    QVERIFY(tables.count() >= 1);

    QVERIFY(w->showsTable());
    const auto* view = w->tabularView();
    QCOMPARE(view->generated().step, 60);
    QVERIFY(view->generated().rows > 100);
    QVERIFY(view->real().rows > 100);
    QCOMPARE(view->generated().columns.size(), std::size_t(30));
    QCOMPARE(view->findChild<QTableView*>(QStringLiteral("generatedTable"))->model()->rowCount(),
             static_cast<int>(view->generated().rows));
    QCOMPARE(view->findChild<QTableView*>(QStringLiteral("realTable"))->model()->rowCount(),
             static_cast<int>(view->real().rows));
    QVERIFY(view->scatterPointCount(true) > 100);
    QVERIFY(view->scatterPointCount(false) > 100);
    QVERIFY(view->findChild<QTableView*>(QStringLiteral("generatedTable"))->isVisibleTo(view));
    QVERIFY(view->histogramBinCount() > 0);
    // The device the trainer chose is shown.
    QVERIFY(w->trainPanel()
                ->findChild<QLabel*>(QStringLiteral("deviceLabel"))
                ->text()
                .contains(QStringLiteral("CPU")));
}

// A categorical column's cells read as its values, its histogram has a bin per value and its
// axes say which number is which value.
void GuiTest::aCategoricalColumnShowsItsValues() {
    ll::TableSamples real;
    real.columns = {"size", "fabric"};
    real.levels = {{}, {"cotton", "silk", "wool"}};
    real.classNames = {"coat", "dress"};
    real.rows = 4;
    real.values = {12.5, 2, 30.25, 1, 11, 2, 29, 0};
    real.labels = {0, 1, 0, 1};
    ll::TableSamples generated = real;
    generated.step = 10;
    ll::widgets::TabularView view;
    view.resize(1000, 700);
    view.setTables(generated, real);
    const auto* model = view.findChild<QTableView*>(QStringLiteral("realTable"))->model();
    QCOMPARE(model->data(model->index(0, 1)).toString(), QStringLiteral("wool"));
    QCOMPARE(model->data(model->index(3, 1)).toString(), QStringLiteral("cotton"));
    QCOMPARE(model->data(model->index(1, 0)).toString(), QStringLiteral("30.25"));
    QCOMPARE(model->data(model->index(1, 2)).toString(), QStringLiteral("dress"));
    view.findChild<QComboBox*>(QStringLiteral("histogramColumn"))->setCurrentIndex(1);
    QCOMPARE(view.histogramBinCount(), 3);
    const auto* histogram = view.findChild<QChartView*>(QStringLiteral("histogramChart"));
    QCOMPARE(histogram->chart()->axes(Qt::Horizontal).first()->titleText(),
             QStringLiteral("fabric: 0 cotton, 1 silk, 2 wool"));
    view.findChild<QComboBox*>(QStringLiteral("histogramColumn"))->setCurrentIndex(0);
    QVERIFY(view.histogramBinCount() > 3);
    QCOMPARE(histogram->chart()->axes(Qt::Horizontal).first()->titleText(), QStringLiteral("size"));
    QCOMPARE(view.scatterPointCount(false), 4);
}

void GuiTest::intervalsChangeWhileTraining() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    loadTabular(*w);
    chooseSmallModel(*w, 1'000'000, 250, 100000);
    QSignalSpy started(w->trainingJob(), &TrainingJob::started);
    QSignalSpy progress(w->trainingJob(), &TrainingJob::progress);
    QSignalSpy tables(w->trainingJob(), &TrainingJob::tables);
    QSignalSpy finished(w->trainingJob(), &TrainingJob::finished);
    QTest::mouseClick(button(*w, "trainButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 1, waitMs(30000));
    QTRY_VERIFY_WITH_TIMEOUT(progress.count() >= 1, waitMs(30000));
    const QString run =
        QString::fromStdString(started.first().first().value<ll::TrainStarted>().runDir);

    auto* panel = w->trainPanel();
    panel->findChild<QSpinBox*>(QStringLiteral("sampleEverySpin"))->setValue(7);
    panel->findChild<QSpinBox*>(QStringLiteral("checkpointEverySpin"))->setValue(13);
    QTRY_VERIFY_WITH_TIMEOUT(logHasEvent(run, QStringLiteral("sample_every"), 7), waitMs(20000));
    QTRY_VERIFY_WITH_TIMEOUT(logHasEvent(run, QStringLiteral("checkpoint_every"), 13),
                             waitMs(20000));
    // Samples now come every 7 steps (250 would take seconds at this speed).
    QTRY_VERIFY_WITH_TIMEOUT(tables.count() >= 3, waitMs(20000));
    const auto last = tables.last().first().value<ll::TableSamples>();
    QCOMPARE(last.step % 7, 0);

    QTest::mouseClick(button(*w, "stopButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, waitMs(20000));
}

void GuiTest::nanGuardShowsABanner() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    loadTabular(*w);
    chooseSmallModel(*w, 1'000'000, 1000, 10);
    auto* banner = w->trainPanel()->findChild<QLabel*>(QStringLiteral("guardBanner"));
    QVERIFY(banner && !banner->isVisible());
    ll::TrainConfig config = w->trainPanel()->config();
    config.dataset = w->dataPanel()->spec();
    config.workspace = ws.path().toStdString();
    config.injectNanAtStep = 25;
    QSignalSpy guard(w->trainingJob(), &TrainingJob::guardTripped);
    QSignalSpy finished(w->trainingJob(), &TrainingJob::finished);
    w->setMode(MainWindow::Mode::Train);
    QVERIFY(w->trainingJob()->start(config));
    QTRY_COMPARE_WITH_TIMEOUT(guard.count(), 1, waitMs(30000));
    QVERIFY(banner->isVisible());
    QVERIFY2(banner->text().contains(QStringLiteral("step 20")), qPrintable(banner->text()));
    QCOMPARE(button(*w, "pauseButton")->text(), QStringLiteral("Resume"));
    // A lower rate, then Resume: the banner goes. (The hook trips again at the same step, so
    // look at the banner the moment the run resumes.)
    int resumes = 0;
    bool bannerAtResume = true;
    connect(w->trainingJob(), &TrainingJob::pausedChanged, this, [&](bool paused) {
        if (paused) return;
        ++resumes;
        bannerAtResume = banner->isVisible();
    });
    w->trainPanel()->findChild<QDoubleSpinBox*>(QStringLiteral("learningRateSpin"))->setValue(3e-4);
    QTest::mouseClick(button(*w, "pauseButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(resumes >= 1, waitMs(10000));
    QVERIFY(!bannerAtResume);
    QTest::mouseClick(button(*w, "stopButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, waitMs(20000));
}

void GuiTest::continueResumesACancelledRunFromItsCheckpoint() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    loadTabular(*w);
    chooseSmallModel(*w, 1'000'000, 1000, 100000);
    QSignalSpy started(w->trainingJob(), &TrainingJob::started);
    QSignalSpy progress(w->trainingJob(), &TrainingJob::progress);
    QSignalSpy finished(w->trainingJob(), &TrainingJob::finished);
    QTest::mouseClick(button(*w, "trainButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(
        !progress.isEmpty() && progress.last().first().value<ll::TrainProgress>().step >= 30,
        waitMs(30000));
    QTest::mouseClick(button(*w, "stopButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, waitMs(20000));
    const auto cancelled = finished.first().first().value<ll::TrainFinished>();
    QCOMPARE(cancelled.outcome, ll::TrainFinished::Outcome::Cancelled);
    auto latest = ll::latestCheckpoint(cancelled.runDir);
    QVERIFY(latest);
    QVERIFY(latest->first >= 30);

    auto* runs = w->runsBrowser();
    runs->refresh();
    QCOMPARE(runs->runCount(), 1);
    runs->selectRuns({QString::fromStdString(cancelled.runDir)});
    QVERIFY(button(*w, "continueButton")->isEnabled());
    QTest::mouseClick(button(*w, "continueButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 2, waitMs(30000));
    const auto resumed = started.last().first().value<ll::TrainStarted>();
    QCOMPARE(resumed.runDir, cancelled.runDir);
    QCOMPARE(resumed.startStep, latest->first);
    QCOMPARE(resumed.totalSteps, 1'000'000);
    // The chart carries the run's earlier curve on.
    QVERIFY(w->lossChart()->pointCount(QStringLiteral("loss")) >= 3);
    QTRY_VERIFY_WITH_TIMEOUT(
        progress.last().first().value<ll::TrainProgress>().step > latest->first, waitMs(20000));
    QTest::mouseClick(button(*w, "stopButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, waitMs(20000));
    const auto stopped = finished.last().first().value<ll::TrainFinished>();
    QVERIFY(stopped.step > latest->first);

    // Its newest checkpoint cut short (a crash, a full disk): Continue falls back to the one
    // before and the Train panel says so.
    auto newest = ll::latestCheckpoint(cancelled.runDir);
    QVERIFY(newest && newest->first == stopped.step);
    std::filesystem::resize_file(newest->second, std::filesystem::file_size(newest->second) / 2);
    auto* banner = w->trainPanel()->findChild<QLabel*>(QStringLiteral("guardBanner"));
    QVERIFY(banner && !banner->isVisible());
    runs->refresh();
    runs->selectRuns({QString::fromStdString(cancelled.runDir)});
    QTest::mouseClick(button(*w, "continueButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 3, waitMs(30000));
    QCOMPARE(started.last().first().value<ll::TrainStarted>().startStep, latest->first);
    QVERIFY(banner->isVisible());
    QVERIFY2(banner->text().contains(
                 QStringLiteral("Fell back to the checkpoint of step %1").arg(latest->first)),
             qPrintable(banner->text()));
    QTest::mouseClick(button(*w, "stopButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, waitMs(20000));
}

void GuiTest::compareAndSampleRunsFromTheBrowser() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    loadTabular(*w);
    QSignalSpy finished(w->trainingJob(), &TrainingJob::finished);
    for (int i = 0; i < 2; ++i) {
        chooseSmallModel(*w, 30 + 10 * i, 10);
        QTest::mouseClick(button(*w, "trainButton"), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), i + 1, waitMs(60000));
    }
    auto* runs = w->runsBrowser();
    runs->refresh();
    QCOMPARE(runs->runCount(), 2);

    // Two runs selected: one curve per run, named after the run.
    runs->selectRuns(runs->runs());
    QStringList expected;
    for (const QString& dir : runs->runs()) expected << QFileInfo(dir).fileName();
    QStringList names = w->lossChart()->seriesNames();
    names.sort();
    expected.sort();
    QCOMPARE(names, expected);
    QVERIFY(w->lossChart()->pointCount(expected.front()) >= 3);

    // One run: Sample draws rows from its checkpoint; Reseed draws others.
    runs->selectRuns({runs->runs().front()});
    QVERIFY(w->lossChart()->seriesNames().contains(QStringLiteral("loss")));
    QSignalSpy drawn(w->sampleBar(), &ll::widgets::RunSampleBar::tableReady);
    QTest::mouseClick(button(*w, "sampleButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(drawn.count() >= 1, waitMs(20000));
    QTRY_VERIFY_WITH_TIMEOUT(!w->sampleBar()->isBusy(), waitMs(20000));
    QVERIFY(w->showsTable());
    const auto first = w->tabularView()->generated();
    QVERIFY(first.rows > 100);
    const int before = static_cast<int>(drawn.count());
    QTest::mouseClick(button(*w, "reseedButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(drawn.count() > before, waitMs(20000));
    QVERIFY(w->tabularView()->generated().values != first.values);
    QCOMPARE(w->tabularView()->generated().rows, first.rows);
}

void GuiTest::trainOnFashion(MainWindow& w, int steps, int sampleEvery, int checkpointEvery) {
    QSignalSpy ready(w.dataPanel(), &ll::widgets::DataPanel::previewReady);
    w.dataPanel()->findChild<QSpinBox*>(QStringLiteral("datasetLimit"))->setValue(2000);
    QTest::mouseClick(button(w, "loadButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, waitMs(30000));
    QSignalSpy trained(w.trainingJob(), &TrainingJob::finished);
    chooseSmallModel(w, steps, sampleEvery, checkpointEvery);
    QTest::mouseClick(button(w, "trainButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(trained.count(), 1, waitMs(60000));
}

QString GuiTest::trainAndSelectRun(MainWindow& w) {
    trainOnFashion(w, 200, 100);
    auto* runs = w.runsBrowser();
    runs->refresh();
    runs->selectRuns({runs->runs().front()});
    return runs->runs().front();
}

// Inspect: evaluate a run from the panel while the event loop keeps running, read the scores,
// the nearest neighbours and a data-copying cell, metrics over every checkpoint, and cancel.
void GuiTest::inspectEvaluatesARunOnAWorkerThread() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    trainOnFashion(*w, 60, 20, 30);

    auto* runs = w->runsBrowser();
    runs->refresh();
    QCOMPARE(runs->runCount(), 1);
    w->setMode(MainWindow::Mode::Inspect);
    runs->selectRuns({runs->runs().front()});
    auto* panel = w->inspectPanel();
    QCOMPARE(panel->runDir(), runs->runs().front());
    QVERIFY(!button(*w, "trainExtractorButton")->isVisible());  // Fashion-MNIST's is shipped
    QVERIFY(w->findChild<QLabel*>(QStringLiteral("extractorStatus"))
                ->text()
                .contains(QStringLiteral("shipped")));
    w->findChild<QSpinBox*>(QStringLiteral("evalCountSpin"))->setValue(300);

    // The GUI thread keeps turning while the worker evaluates: a timer ticks meanwhile.
    int ticks = 0;
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, [&] { ++ticks; });
    ticker.start(20);
    QSignalSpy done(panel->job(), &ll::widgets::EvaluationJob::finished);
    QSignalSpy progress(panel->job(), &ll::widgets::EvaluationJob::progress);
    QTest::mouseClick(button(*w, "evaluateButton"), Qt::LeftButton);
    QVERIFY(panel->isBusy());
    QVERIFY(!button(*w, "evaluateButton")->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, waitMs(120000));
    QVERIFY2(done.front().at(0).toBool(), qPrintable(done.front().at(1).toString()));
    QVERIFY(progress.count() > 3);
    QVERIFY(ticks > 5);

    auto* view = w->inspectView();
    QCOMPARE(int(view->records().size()), 1);
    QCOMPARE(view->current()->step, 60);
    QVERIFY(view->scoreTable()->rowCount() >= 9);
    QCOMPARE(view->scoreTable()->item(0, 0)->text(), QStringLiteral("FID"));
    QVERIFY(!view->scoreTable()->item(0, 2)->text().isEmpty());  // the floor beside it
    QCOMPARE(view->neighbourTable()->rowCount(), 48);
    const QPixmap first =
        view->neighbourTable()->item(0, 0)->data(Qt::DecorationRole).value<QPixmap>();
    QCOMPARE(first.width(), 28 * 3);
    view->tabs()->setCurrentIndex(3);
    auto* map = view->cellMap();
    QTRY_VERIFY_WITH_TIMEOUT(map->isVisible(), waitMs(5000));
    const auto* record = view->current();
    QVERIFY(!record->cells.empty());
    int cell = -1;
    for (const auto& c : record->cells)
        if (!c.samples.empty()) cell = c.id;
    QVERIFY(cell >= 0);
    QTest::mouseClick(map, Qt::LeftButton, {}, map->cellPosition(cell).toPoint());
    QCOMPARE(map->selectedCell(), cell);
    QVERIFY(w->findChild<QTableWidget*>(QStringLiteral("cellPairs"))->rowCount() > 0);

    // Every checkpoint: one record per step, a point per step in the chart.
    QTest::mouseClick(button(*w, "evaluateAllButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 2, waitMs(180000));
    QVERIFY(done.back().at(0).toBool());
    QCOMPARE(int(view->records().size()), 3);
    QCOMPARE(view->overStepsPointCount(), 3);

    // Cancel stops the job and says so.
    QTest::mouseClick(button(*w, "evaluateAllButton"), Qt::LeftButton);
    QTest::mouseClick(button(*w, "evalCancelButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 3, waitMs(60000));
    QVERIFY(!done.back().at(0).toBool());
    QCOMPARE(done.back().at(1).toString(), QStringLiteral("cancelled"));
    QVERIFY(button(*w, "evaluateButton")->isEnabled());
}

// Data without a shipped extractor: the panel offers to train one, shows its progress, and
// then scores in its feature space; the data-copying test says why it cannot run (no
// held-out split) while the other scores are there.
void GuiTest::inspectTrainsAnExtractorForOtherData() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    loadTabular(*w);
    QSignalSpy trained(w->trainingJob(), &TrainingJob::finished);
    chooseSmallModel(*w, 40, 20);
    QTest::mouseClick(button(*w, "trainButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(trained.count(), 1, waitMs(60000));
    auto* runs = w->runsBrowser();
    runs->refresh();
    w->setMode(MainWindow::Mode::Inspect);
    runs->selectRuns({runs->runs().front()});
    auto* train = button(*w, "trainExtractorButton");
    QVERIFY(train->isVisible());
    QVERIFY(train->isEnabled());
    auto* status = w->findChild<QLabel*>(QStringLiteral("extractorStatus"));
    QVERIFY(status->text().contains(QStringLiteral("No feature extractor")));
    auto* panel = w->inspectPanel();
    QSignalSpy done(panel->job(), &ll::widgets::EvaluationJob::finished);

    // Before there is one, raw pixels with the default boxes: those that read a classifier are
    // off (not refused at Evaluate), the others scored.
    auto* agreement = w->findChild<QCheckBox*>(QStringLiteral("metric_agreement"));
    auto* fid = w->findChild<QCheckBox*>(QStringLiteral("metric_fid"));
    QVERIFY(agreement && fid);
    QVERIFY(agreement->isChecked() && !agreement->isEnabled());
    QVERIFY(agreement->toolTip().contains(QStringLiteral("Needs a feature extractor")));
    QVERIFY(fid->isChecked() && fid->isEnabled());
    w->findChild<QSpinBox*>(QStringLiteral("evalCountSpin"))->setValue(250);
    QTest::mouseClick(button(*w, "evaluateButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, waitMs(120000));
    QVERIFY2(done.back().at(0).toBool(), qPrintable(done.back().at(1).toString()));
    const auto* pixels = w->inspectView()->current();
    QVERIFY(pixels);
    QCOMPARE(QString::fromStdString(pixels->featureSpace), QStringLiteral("pixels"));
    QVERIFY(pixels->score("fid") && !pixels->score("agreement") && !pixels->score("is"));

    QSignalSpy progress(panel->job(), &ll::widgets::EvaluationJob::progress);
    QTest::mouseClick(train, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 2, waitMs(180000));
    QVERIFY2(done.back().at(0).toBool(), qPrintable(done.back().at(1).toString()));
    QVERIFY(progress.count() > 5);
    QVERIFY(progress.back().at(0).toString().contains(QStringLiteral("feature extractor")));
    QVERIFY(!train->isVisible());
    QVERIFY(status->text().contains(QStringLiteral("your extractor")));
    QVERIFY(
        QFileInfo::exists(ws.path() + QStringLiteral("/extractors/breast_cancer/extractor.json")));
    QVERIFY(agreement->isEnabled());
    QVERIFY(!agreement->toolTip().contains(QStringLiteral("Needs a feature extractor")));

    auto* space = w->findChild<QComboBox*>(QStringLiteral("featureSpaceCombo"));
    space->setCurrentIndex(0);  // classifier features
    QTest::mouseClick(button(*w, "evaluateButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 3, waitMs(120000));
    QVERIFY2(done.back().at(0).toBool(), qPrintable(done.back().at(1).toString()));
    const auto* record = w->inspectView()->current();
    QVERIFY(record);
    QCOMPARE(QString::fromStdString(record->featureSpace), QStringLiteral("classifier"));
    QVERIFY(record->score("fid") && record->score("precision"));
    bool ctExplained = false;
    for (const auto& [name, why] : record->errors)
        ctExplained = ctExplained || (name == "ct" && why.find("held-out") != std::string::npos);
    QVERIFY(ctExplained);

    // Held-out rows of the user's: the data-copying test runs against them, and the record
    // names where they came from.
    auto* heldOut = w->findChild<QLineEdit*>(QStringLiteral("heldOutEdit"));
    QVERIFY(heldOut);
    heldOut->setText(QString::fromStdString(kBreastCancer));
    QTest::mouseClick(button(*w, "evaluateButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 4, waitMs(120000));
    QVERIFY2(done.back().at(0).toBool(), qPrintable(done.back().at(1).toString()));
    const auto* against = w->inspectView()->current();
    QVERIFY(against);
    QCOMPARE(QString::fromStdString(against->reference), QStringLiteral("held-out"));
    QVERIFY2(against->protocol.find(kBreastCancer) != std::string::npos, against->protocol.c_str());
    QVERIFY(against->score("ct"));
}

// Steer: moving a slider redraws the same seeds (a preview while held, the full grid on
// release) while the event loop runs; moving it back gives the first pixels again.
void GuiTest::steerSliderRedrawsTheSameSeeds() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    const QString run = trainAndSelectRun(*w);
    auto* steer = w->steerPanel();
    QSignalSpy drawn(steer, &ll::widgets::SteerPanel::gridReady);
    w->setMode(MainWindow::Mode::Steer);
    QTRY_VERIFY_WITH_TIMEOUT(drawn.count() >= 1 && !steer->isBusy(), waitMs(30000));
    const auto first = w->gridView()->grid().rgba;
    QCOMPARE(w->gridView()->grid().rows, 10);  // one row per class

    int ticks = 0;
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, [&] { ++ticks; });
    ticker.start(10);
    auto* temperature = steer->findChild<QSlider*>(QStringLiteral("temperatureSlider"));
    QVERIFY(temperature && temperature->isVisible());
    temperature->setSliderDown(true);
    temperature->setValue(160);
    temperature->setValue(200);         // while one draws, this one waits and the 160 is dropped
    temperature->setSliderDown(false);  // released: the full-quality grid
    QTRY_VERIFY_WITH_TIMEOUT(!steer->isBusy() && drawn.count() >= 2, waitMs(30000));
    QVERIFY(drawn.back().at(2).toBool() == false);  // the last grid is not a preview
    QCOMPARE(steer->request(false).temperature, 2.0);
    QVERIFY(w->gridView()->grid().rgba != first);
    QVERIFY(ticks > 0);

    const int before = steer->drawCount();
    temperature->setValue(100);
    QTRY_VERIFY_WITH_TIMEOUT(steer->drawCount() > before && !steer->isBusy(), waitMs(30000));
    QVERIFY(w->gridView()->grid().rgba == first);  // same seed, same settings, same pixels

    steer->describeTile(9);
    QVERIFY(steer->findChild<QLabel*>(QStringLiteral("steerTile"))
                ->text()
                .contains(QStringLiteral("seed 1")));

    // A sweep streams its cells into the grid and saves the picture and its sidecar.
    steer->findChild<QComboBox*>(QStringLiteral("sweepX"))
        ->setCurrentText(QStringLiteral("temperature"));
    steer->findChild<QLineEdit*>(QStringLiteral("sweepXValues"))
        ->setText(QStringLiteral("0.5, 1.5, 2"));
    steer->findChild<QComboBox*>(QStringLiteral("sweepY"))->setCurrentText(QStringLiteral("class"));
    steer->findChild<QLineEdit*>(QStringLiteral("sweepYValues"))->setText(QStringLiteral("0, 9"));
    const int cellsBefore = int(drawn.count());
    QTest::mouseClick(steer->findChild<QPushButton*>(QStringLiteral("sweepRunButton")),
                      Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!steer->isBusy() && drawn.count() >= cellsBefore + 7, waitMs(60000));
    QCOMPARE(w->gridView()->grid().rows, 2);
    QCOMPARE(w->gridView()->grid().cols, 3);
    QCOMPARE(w->gridView()->grid().rowLabels.front(), std::string("T-shirt/top"));
    const QStringList sweeps =
        QDir(run + QStringLiteral("/sweeps")).entryList({QStringLiteral("*.png*")});
    QCOMPARE(sweeps.size(), 2);  // the PNG and its JSON sidecar
    steer->describeTile(4);      // row 1 (class 9), column 1 (temperature 1.5)
    const QString cell = steer->findChild<QLabel*>(QStringLiteral("steerTile"))->text();
    QVERIFY2(cell.contains(QStringLiteral("Sweep cell: Ankle boot, temperature 1.5")),
             qPrintable(cell));
}

namespace {

std::vector<int> tileOf(const ll::SampleGrid& g, int i) {
    return ll::testing::tilePixels(g, i);
}

// Tile `i` without its two-pixel edge (where the Steer grid frames locked tiles).
std::vector<int> interiorOf(const ll::SampleGrid& g, int i) {
    return ll::testing::tilePixels(g, i, 2);
}

using ll::testing::largestDifference;

}  // namespace

// Steer: a locked tile keeps its sample through a reseed, and a tile sent to the latent
// browser decodes to the same image there. The browser: a click on the map decodes a point,
// a principal-direction slider changes it, A and B give an interpolation strip (saved as a
// PNG and a video) and A - B + C a new latent.
void GuiTest::latentBrowserTakesPointsTilesAndPaths() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    const QString run = trainAndSelectRun(*w);
    auto* steer = w->steerPanel();
    QSignalSpy drawn(steer, &ll::widgets::SteerPanel::gridReady);
    w->setMode(MainWindow::Mode::Steer);
    QTRY_VERIFY_WITH_TIMEOUT(drawn.count() >= 1 && !steer->isBusy(), waitMs(30000));
    const ll::SampleGrid first = w->gridView()->grid();

    steer->describeTile(12);
    QTest::mouseClick(steer->findChild<QPushButton*>(QStringLiteral("steerLockTile")),
                      Qt::LeftButton);
    QCOMPARE(steer->lockedTiles(), 1);
    // The locked tile is framed in yellow on screen at once.
    QTRY_VERIFY_WITH_TIMEOUT(tileOf(w->gridView()->grid(), 12) != tileOf(first, 12), waitMs(5000));
    QCOMPARE(interiorOf(w->gridView()->grid(), 12), interiorOf(first, 12));
    QCOMPARE(tileOf(w->gridView()->grid(), 12)[0], 255);  // top-left pixel: red 255
    QCOMPARE(tileOf(w->gridView()->grid(), 12)[2], 0);    // blue 0
    const int draws = steer->drawCount();
    QTest::mouseClick(steer->findChild<QPushButton*>(QStringLiteral("steerReseed")),
                      Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(steer->drawCount() > draws && !steer->isBusy(), waitMs(30000));
    const ll::SampleGrid reseeded = w->gridView()->grid();
    QCOMPARE(interiorOf(reseeded, 12), interiorOf(first, 12));  // locked
    QVERIFY(tileOf(reseeded, 13) != tileOf(first, 13));         // reseeded

    auto* browser = w->latentPanel();
    auto* view = w->latentView();
    steer->describeTile(12);
    QTest::mouseClick(steer->findChild<QPushButton*>(QStringLiteral("steerToBrowser")),
                      Qt::LeftButton);
    QCOMPARE(w->mode(), MainWindow::Mode::Latent);
    QTRY_VERIFY_WITH_TIMEOUT(
        view->hasMap() && !browser->isBusy() && browser->currentImage().rows == 1, waitMs(60000));
    QVERIFY(browser->findChild<QLabel*>(QStringLiteral("latentDescription"))
                ->text()
                .contains(QStringLiteral("Steer tile 12")));
    QVERIFY(largestDifference(interiorOf(browser->currentImage(), 0), interiorOf(reseeded, 12)) <=
            1);
    QCOMPARE(view->map().x.size(), std::size_t(4000));  // 2,000 drawn and 2,000 encoded

    // A click on a point decodes it.
    const auto& map = view->map();
    const std::size_t far = std::size_t(std::max_element(map.x.begin(), map.x.end()) -
                                        map.x.begin());  // alone at the edge
    int decodes = browser->decodeCount();
    QTest::mouseClick(view, Qt::LeftButton, {}, view->toWidget(map.x[far], map.y[far]).toPoint());
    QTRY_VERIFY_WITH_TIMEOUT(browser->decodeCount() > decodes && !browser->isBusy(), waitMs(30000));
    const auto clicked = browser->currentImage();
    QCOMPARE(browser->currentLatent().size(), std::size_t(map.dims));
    QTest::mouseClick(browser->findChild<QPushButton*>(QStringLiteral("latentPickA")),
                      Qt::LeftButton);

    // The first principal direction moves it.
    decodes = browser->decodeCount();
    browser->findChild<QSlider*>(QStringLiteral("direction_0"))->setValue(-300);
    QTRY_VERIFY_WITH_TIMEOUT(browser->decodeCount() > decodes && !browser->isBusy(), waitMs(30000));
    QVERIFY(browser->currentImage().rgba != clicked.rgba);
    QTest::mouseClick(browser->findChild<QPushButton*>(QStringLiteral("latentPickB")),
                      Qt::LeftButton);
    QVERIFY(browser->end(0) != browser->end(1));

    // A to B: the strip, then saved as a PNG strip and a video.
    QTest::mouseClick(browser->findChild<QPushButton*>(QStringLiteral("latentInterpolate")),
                      Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(view->hasStrip() && !browser->isBusy(), waitMs(30000));
    QTest::mouseClick(browser->findChild<QPushButton*>(QStringLiteral("latentExport")),
                      Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!browser->lastExport().isEmpty() && !browser->isBusy(), waitMs(30000));
    QVERIFY(QFileInfo(browser->lastExport() + QStringLiteral(".png")).size() > 100);
    QVERIFY(QFileInfo(browser->lastExport() + QStringLiteral(".mp4")).size() > 1000);
    QVERIFY(browser->lastExport().startsWith(run + QStringLiteral("/latent/")));

    // A - B + C, with C = B here: the sum is A again, computed and decoded.
    decodes = browser->decodeCount();
    QTest::mouseClick(browser->findChild<QPushButton*>(QStringLiteral("latentPickC")),
                      Qt::LeftButton);
    QTest::mouseClick(browser->findChild<QPushButton*>(QStringLiteral("latentArithmetic")),
                      Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(browser->decodeCount() > decodes && !browser->isBusy(), waitMs(30000));
    const auto a = browser->end(0), b = browser->end(1), c = browser->end(2);
    const auto sum = browser->currentLatent();
    for (std::size_t i = 0; i < sum.size(); ++i)
        QVERIFY(std::abs(sum[i] - (a[i] - b[i] + c[i])) < 1e-5f);

    // The wheel over a slider the panel scrolls past scrolls the panel; the value stays.
    auto* pc2 = browser->findChild<QSlider*>(QStringLiteral("direction_1"));
    auto* scroll = qobject_cast<QScrollArea*>(browser->parentWidget()->parentWidget());
    QVERIFY(scroll && pc2 && !pc2->hasFocus());
    scroll->verticalScrollBar()->setValue(0);
    const QPointF at(pc2->width() / 2.0, pc2->height() / 2.0);
    QWheelEvent wheel(at, pc2->mapToGlobal(at), {}, {0, -120}, Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QApplication::sendEvent(pc2, &wheel);
    QCOMPARE(pc2->value(), 0);
    QVERIFY(scroll->verticalScrollBar()->value() > 0);
}

// A guidance weight moved while a full diffusion draw denoises continues that draw from its
// current step (no new draw starts), and the grid says so.
void GuiTest::steerContinuesARunningDrawWithNewGuidance() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    QSignalSpy trained(w->trainingJob(), &TrainingJob::finished);
    QVERIFY(w->trainingJob()->start(
        {.dataset = {.source = "fashion-mnist", .limit = 200},
         .model = "ddpm",
         .settings = {{"width", "16"}, {"timesteps", "200"}, {"sample_steps", "10"}},
         .steps = 2,
         .batchSize = 8,
         .sampleEvery = 100,
         .workspace = ws.path().toStdString()}));
    QTRY_COMPARE_WITH_TIMEOUT(trained.count(), 1, waitMs(60000));
    auto* runs = w->runsBrowser();
    runs->refresh();
    runs->selectRuns({runs->runs().front()});
    auto* steer = w->steerPanel();
    w->setMode(MainWindow::Mode::Steer);
    QTRY_VERIFY_WITH_TIMEOUT(steer->drawCount() >= 1 && !steer->isBusy(), waitMs(60000));

    // A long draw: 200 steps.
    const int draws = steer->drawCount();
    const int steps = steer->stepCount();
    steer->findChild<QSpinBox*>(QStringLiteral("steerSteps"))->setValue(200);
    QTRY_VERIFY_WITH_TIMEOUT(steer->isBusy() && steer->stepCount() >= steps + 3, waitMs(60000));
    auto* guidance = steer->findChild<QSlider*>(QStringLiteral("guidanceSlider"));
    guidance->setValue(30);
    QVERIFY(steer->findChild<QLabel*>(QStringLiteral("steerStatus"))
                ->text()
                .contains(QStringLiteral("continues")));
    QTRY_VERIFY_WITH_TIMEOUT(!steer->isBusy(), waitMs(120000));
    QCOMPARE(steer->drawCount(), draws + 1);    // one draw, not restarted
    QCOMPARE(steer->stepCount(), steps + 200);  // every step of it shown once
    QCOMPARE(steer->request(false).guidance, 3.0);
    QVERIFY(w->findChild<QLabel*>(QStringLiteral("gridCaption"))
                ->text()
                .contains(QStringLiteral("guidance changed mid-run")));
}

// The loss chart says whose curves it shows: the selected run's, and the live run's again
// when that is selected. A VAE's KL (near 5) has an axis of its own beside the reconstruction,
// which the learned pixel variance takes below zero: its axis follows it there, while the
// KL's, never negative, starts at zero. The grid's label strip shows "Ankle boot" whole.
void GuiTest::lossChartNamesAndFollowsTheSelectedRun() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    const QString first = trainAndSelectRun(*w);
    const QString firstName = QFileInfo(first).fileName();
    auto* chart = w->lossChart();
    QVERIFY2(chart->title().contains(firstName), qPrintable(chart->title()));
    QVERIFY2(chart->seriesOn(Qt::AlignRight).contains(QStringLiteral("kl")),
             qPrintable(chart->seriesOn(Qt::AlignRight).join(QLatin1Char(','))));
    QVERIFY(chart->seriesOn(Qt::AlignLeft).contains(QStringLiteral("reconstruction")));
    QVERIFY(chart->valueAxis(Qt::AlignRight)->isVisible());
    QVERIFY2(chart->valueAxis(Qt::AlignRight)->min() >= 0,
             qPrintable(QString::number(chart->valueAxis(Qt::AlignRight)->min())));
    QVERIFY2(chart->valueAxis(Qt::AlignLeft)->min() < 0,
             qPrintable(QString::number(chart->valueAxis(Qt::AlignLeft)->min())));

    w->setMode(MainWindow::Mode::Data);
    QCOMPARE(w->gridView()->grid().rowLabels.back(), std::string("Ankle boot"));
    QCOMPARE(w->gridView()->labelStrip()->shownText(9), QStringLiteral("Ankle boot"));

    // A second run trains: the chart shows it, live.
    QSignalSpy started(w->trainingJob(), &TrainingJob::started);
    QSignalSpy progress(w->trainingJob(), &TrainingJob::progress);
    QSignalSpy finished(w->trainingJob(), &TrainingJob::finished);
    chooseSmallModel(*w, 1'000'000, 1000, 100000);
    QTest::mouseClick(button(*w, "trainButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 1, waitMs(30000));
    const QString live =
        QString::fromStdString(started.first().first().value<ll::TrainStarted>().runDir);
    const QString liveName = QFileInfo(live).fileName();
    QTRY_VERIFY_WITH_TIMEOUT(chart->pointCount(QStringLiteral("loss")) >= 3, waitMs(30000));
    QVERIFY2(chart->title().contains(liveName), qPrintable(chart->title()));

    // The first run chosen: its curves under its name, untouched by the live run's points.
    auto* runs = w->runsBrowser();
    runs->refresh();
    runs->selectRuns({first});
    QVERIFY2(chart->title().contains(firstName), qPrintable(chart->title()));
    QVERIFY(!chart->showsLive());
    const int firstPoints = chart->pointCount(QStringLiteral("loss"));
    const auto seen = progress.count();
    QTRY_VERIFY_WITH_TIMEOUT(progress.count() > seen + 2, waitMs(30000));
    QCOMPARE(chart->pointCount(QStringLiteral("loss")), firstPoints);

    // The live run chosen again: its curves come back whole and keep growing.
    runs->selectRuns({live});
    QVERIFY2(chart->title().contains(liveName), qPrintable(chart->title()));
    QVERIFY(chart->showsLive());
    const int livePoints = chart->pointCount(QStringLiteral("loss"));
    QVERIFY(livePoints >= 3);
    QTRY_VERIFY_WITH_TIMEOUT(chart->pointCount(QStringLiteral("loss")) > livePoints, waitMs(30000));
    QTest::mouseClick(button(*w, "stopButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, waitMs(20000));
}

// The centre shows each mode's own content and gets it back on return: the real grid in Data,
// the real grid marked as such in Train before any model, the latent map in Latent.
void GuiTest::centreKeepsWhatEachModeShowed() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    auto* caption = w->findChild<QLabel*>(QStringLiteral("gridCaption"));
    QSignalSpy ready(w->dataPanel(), &ll::widgets::DataPanel::previewReady);
    w->dataPanel()->findChild<QSpinBox*>(QStringLiteral("datasetLimit"))->setValue(500);
    QTest::mouseClick(button(*w, "loadButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, waitMs(30000));
    const auto real = w->gridView()->grid();
    QCOMPARE(real.rows, 10);

    w->setMode(MainWindow::Mode::Train);
    QVERIFY(w->gridView()->isVisible());
    QCOMPARE(w->gridView()->grid().rgba, real.rgba);
    QVERIFY2(caption->text().contains(QStringLiteral("no model samples yet")),
             qPrintable(caption->text()));

    w->setMode(MainWindow::Mode::Latent);
    QVERIFY(w->latentView()->isVisible());
    QVERIFY(!w->gridView()->isVisible());
    QVERIFY2(caption->text().startsWith(QStringLiteral("Latent space")),
             qPrintable(caption->text()));

    w->setMode(MainWindow::Mode::Data);
    QVERIFY(w->gridView()->isVisible());
    QCOMPARE(w->gridView()->grid().rgba, real.rgba);
    QVERIFY2(caption->text().startsWith(QStringLiteral("Real samples")),
             qPrintable(caption->text()));
    QCOMPARE(w->findChild<QDockWidget*>(QStringLiteral("panelDock"))->windowTitle(),
             QStringLiteral("Data"));
}

// The notes under the model and preset choosers wrap to as many lines as their text needs in
// the panel's width, and keep doing so when a model with a longer note and more settings (a
// vertical scroll bar in the dock) replaces the first: no line drawn cut off.
void GuiTest::trainNotesShowWholeAfterAModelChange() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    QVERIFY(QTest::qWaitForWindowExposed(w.get()));
    w->setMode(MainWindow::Mode::Train);
    auto* panel = w->trainPanel();
    auto* model = panel->findChild<QComboBox*>(QStringLiteral("modelCombo"));
    const auto whole = [](const QLabel* note) {
        return note->isVisible() && !note->text().isEmpty() && ll::testing::cutOff(*note).isEmpty();
    };
    for (const char* name : {"cvae", "wgan-gp", "dcgan", "ddpm", "cvae"}) {
        model->setCurrentIndex(model->findData(QString::fromLatin1(name)));
        QCOMPARE(panel->modelName(), QString::fromLatin1(name));
        for (const char* noteName : {"modelNote", "presetNote"}) {
            auto* note = panel->findChild<QLabel*>(QString::fromLatin1(noteName));
            QVERIFY(note);
            QTRY_VERIFY2_WITH_TIMEOUT(whole(note),
                                      qPrintable(QString::fromLatin1(name) + QStringLiteral(": ") +
                                                 ll::testing::cutOff(*note)),
                                      waitMs(2000));
        }
    }
}

QTEST_MAIN(GuiTest)
#include "test_gui.moc"
