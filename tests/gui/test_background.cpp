// Closing the window while a run trains: it asks; Cancel keeps the window, Stop saves a
// checkpoint and stops, Keep training hands the run to latentlab-cli in a process of its own,
// which the next window finds, shows live and can stop, and the run resumes from there.
#include <unistd.h>

#include <filesystem>

#include <QAbstractButton>
#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QTreeWidget>
#include <QVulkanInstance>

#include "common/losschart.h"
#include "data/datapanel.h"
#include "run/runfolder.h"
#include "run/runlock.h"
#include "train/trainingjob.h"
#include "train/trainpanel.h"
#include "vulkaninstance.h"
#include "waits.h"
#include "window/mainwindow.h"
#include "window/paralleltraining.h"
#include "window/runsbrowser.h"
#include "window/runwatcher.h"

using ll::testing::waitMs;
using ll::widgets::MainWindow;
using ll::widgets::TrainingJob;

namespace {

const char* const kBreastCancer =
    "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv";

// Clicks the named button of the next message box the window opens (close() waits in it).
void clickWhenAsked(const char* name) {
    auto* poll = new QTimer;
    poll->setInterval(50);
    QObject::connect(poll, &QTimer::timeout, poll, [poll, name] {
        auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
        if (!box) return;
        if (auto* b = box->findChild<QAbstractButton*>(QLatin1String(name))) {
            poll->stop();
            poll->deleteLater();
            b->click();
        }
    });
    poll->start();
}

// The Status column of the run's row in the runs browser.
QString statusOf(MainWindow& w, const QString& run) {
    auto* tree = w.runsBrowser()->findChild<QTreeWidget*>(QStringLiteral("runsTree"));
    for (int i = 0; i < tree->topLevelItemCount(); ++i)
        if (tree->topLevelItem(i)->data(0, Qt::UserRole).toString() == run)
            return tree->topLevelItem(i)->text(4);
    return {};
}

}  // namespace

class BackgroundTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void closingAsksAndStopSavesACheckpoint();
    void keepTrainingHandsTheRunToTheNextWindow();
    void severalProcessesTrainOutsideTheWindowWhichFollowsThem();

private:
    std::unique_ptr<MainWindow> makeWindow(const QString& workspace);
    // breast_cancer.csv, a small CVAE, `steps` steps; Train pressed; waits for step 20. The run.
    QString startTraining(MainWindow& w, int steps, int checkpointEvery);
    QPushButton* button(MainWindow& w, const char* name) {
        return w.findChild<QPushButton*>(QLatin1String(name));
    }

    QVulkanInstance& m_vulkan = ll::testing::vulkanInstance();
};

void BackgroundTest::initTestCase() {
    QCoreApplication::setOrganizationName(QStringLiteral("LatentLabTests"));
    QVERIFY2(m_vulkan.create(), "no Vulkan instance: is mesa-vulkan-drivers installed?");
    // The app finds latentlab-cli beside itself; this test is elsewhere.
    qputenv("LATENTLAB_CLI", LATENTLAB_CLI);
}

std::unique_ptr<MainWindow> BackgroundTest::makeWindow(const QString& workspace) {
    auto w = std::make_unique<MainWindow>(&m_vulkan, workspace.toStdString());
    w->resize(1200, 800);
    w->show();
    return w;
}

QString BackgroundTest::startTraining(MainWindow& w, int steps, int checkpointEvery) {
    QSignalSpy ready(w.dataPanel(), &ll::widgets::DataPanel::previewReady);
    w.dataPanel()->setSpec({.source = kBreastCancer});
    w.dataPanel()->load();
    if (!ready.wait(waitMs(20000))) return {};
    auto* panel = w.trainPanel();
    auto* model = panel->findChild<QComboBox*>(QStringLiteral("modelCombo"));
    model->setCurrentIndex(model->findData(QStringLiteral("cvae")));
    panel->findChild<QLineEdit*>(QStringLiteral("setting_hidden"))->setText(QStringLiteral("32"));
    panel->findChild<QLineEdit*>(QStringLiteral("setting_latent"))->setText(QStringLiteral("4"));
    panel->findChild<QSpinBox*>(QStringLiteral("stepsSpin"))->setValue(steps);
    panel->findChild<QSpinBox*>(QStringLiteral("batchSpin"))->setValue(64);
    panel->findChild<QSpinBox*>(QStringLiteral("sampleEverySpin"))->setValue(1000);
    panel->findChild<QSpinBox*>(QStringLiteral("checkpointEverySpin"))->setValue(checkpointEvery);
    QSignalSpy started(w.trainingJob(), &TrainingJob::started);
    QSignalSpy progress(w.trainingJob(), &TrainingJob::progress);
    QTest::mouseClick(button(w, "trainButton"), Qt::LeftButton);
    const bool going = QTest::qWaitFor(
        [&] {
            return !started.isEmpty() && !progress.isEmpty() &&
                   progress.last().first().value<ll::TrainProgress>().step >= 20;
        },
        waitMs(30000));
    return going ? QString::fromStdString(started.first().first().value<ll::TrainStarted>().runDir)
                 : QString();
}

void BackgroundTest::closingAsksAndStopSavesACheckpoint() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    const QString run = startTraining(*w, 1'000'000, 100000);
    QVERIFY(!run.isEmpty());
    QSignalSpy finished(w->trainingJob(), &TrainingJob::finished);
    // The panel says what the model costs, as the CLI does.
    const QString device =
        w->trainPanel()->findChild<QLabel*>(QStringLiteral("deviceLabel"))->text();
    QVERIFY2(device.contains(QStringLiteral("million parameters, training holds about")),
             qPrintable(device));

    clickWhenAsked("closeCancelButton");
    QVERIFY(!w->close());
    QVERIFY(w->isVisible());
    QVERIFY(w->trainingJob()->isRunning());

    clickWhenAsked("closeStopButton");
    QVERIFY(w->close());
    QVERIFY(!w->trainingJob()->isRunning());
    QCOMPARE(finished.count(), 1);
    const auto result = finished.first().first().value<ll::TrainFinished>();
    QCOMPARE(result.outcome, ll::TrainFinished::Outcome::Cancelled);
    QVERIFY(result.step >= 20);
    // The step it stopped at is saved, though the interval was far off, and nobody holds it.
    const auto latest = ll::latestCheckpoint(run.toStdString());
    QVERIFY(latest);
    QCOMPARE(latest->first, result.step);
    QVERIFY(!ll::RunLock::owner(run.toStdString()));
}

void BackgroundTest::keepTrainingHandsTheRunToTheNextWindow() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    const QString run = startTraining(*w, 1'000'000, 200);
    QVERIFY(!run.isEmpty());
    const std::filesystem::path path = run.toStdString();

    // close() returns once latentlab-cli holds the run's lock, that is, trains it.
    clickWhenAsked("closeBackgroundButton");
    QVERIFY(w->close());
    QVERIFY(!w->trainingJob()->isRunning());
    const auto closedAt = ll::latestCheckpoint(path);
    QVERIFY(closedAt);
    auto owner = ll::RunLock::owner(path);
    QVERIFY2(owner, "nobody trains the run after Keep training");
    QVERIFY(!owner->thisProcess && owner->here);
    QVERIFY(owner->pid != ::getpid());
    QVERIFY(std::filesystem::exists(path / ll::runfiles::kBackgroundLog));
    w.reset();

    // The next window finds it, selects it and follows it live.
    auto next = makeWindow(ws.path());
    QCOMPARE(next->runsBrowser()->selectedRuns(), QStringList{run});
    QVERIFY(next->runWatcher()->isWatching());
    QVERIFY2(statusOf(*next, run).contains(QStringLiteral("training (pid %1").arg(owner->pid)),
             qPrintable(statusOf(*next, run)));
    next->runWatcher()->setInterval(200);
    const int points = next->lossChart()->pointCount(QStringLiteral("loss"));
    QVERIFY(points >= 2);
    QTRY_VERIFY_WITH_TIMEOUT(next->lossChart()->pointCount(QStringLiteral("loss")) > points + 2,
                             waitMs(60000));

    // Continue is refused while it trains; Stop asks the process to stop.
    QSignalSpy started(next->trainingJob(), &TrainingJob::started);
    QTest::mouseClick(button(*next, "continueButton"), Qt::LeftButton);
    QTest::qWait(200);
    QCOMPARE(started.count(), 0);
    QVERIFY(!next->trainingJob()->isRunning());
    QSignalSpy ended(next->runWatcher(), &ll::widgets::RunWatcher::ended);
    auto* stop = button(*next, "stopElsewhereButton");
    QVERIFY(stop && stop->isVisible());
    QTest::mouseClick(stop, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(ended.count(), 1, waitMs(60000));
    QVERIFY(!ll::RunLock::owner(path));
    QCOMPARE(ended.first().at(1).toString(), QStringLiteral("cancelled"));
    const auto info = ll::readRunInfo(path);
    QVERIFY(info);
    QVERIFY2(info->step > closedAt->first, "the background process did not train");
    const auto stoppedAt = ll::latestCheckpoint(path);
    QVERIFY(stoppedAt);
    QCOMPARE(stoppedAt->first, info->step);
    QVERIFY(!stop->isVisible());

    // And it resumes in the window from there.
    QTest::mouseClick(button(*next, "continueButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 1, waitMs(30000));
    QCOMPARE(started.first().first().value<ll::TrainStarted>().startStep, stoppedAt->first);
    clickWhenAsked("closeStopButton");
    QVERIFY(next->close());
}

// Processes = 2 in the Train panel: latentlab-cli trains the run with two processes outside the
// window; the panel shows their progress, the Ranks tab each one's speed, Pause stays off, and
// Stop ends both at a checkpoint.
void BackgroundTest::severalProcessesTrainOutsideTheWindowWhichFollowsThem() {
    QTemporaryDir ws;
    auto w = makeWindow(ws.path());
    QSignalSpy ready(w->dataPanel(), &ll::widgets::DataPanel::previewReady);
    w->dataPanel()->setSpec({.source = kBreastCancer});
    w->dataPanel()->load();
    QVERIFY(ready.wait(waitMs(20000)));
    auto* panel = w->trainPanel();
    auto* model = panel->findChild<QComboBox*>(QStringLiteral("modelCombo"));
    model->setCurrentIndex(model->findData(QStringLiteral("cvae")));
    panel->findChild<QLineEdit*>(QStringLiteral("setting_hidden"))->setText(QStringLiteral("32"));
    panel->findChild<QLineEdit*>(QStringLiteral("setting_latent"))->setText(QStringLiteral("4"));
    panel->findChild<QSpinBox*>(QStringLiteral("stepsSpin"))->setValue(1'000'000);
    panel->findChild<QSpinBox*>(QStringLiteral("batchSpin"))->setValue(32);
    panel->findChild<QSpinBox*>(QStringLiteral("sampleEverySpin"))->setValue(1000);
    panel->findChild<QSpinBox*>(QStringLiteral("checkpointEverySpin"))->setValue(100000);
    panel->findChild<QSpinBox*>(QStringLiteral("processesSpin"))->setValue(2);
    auto* parallel = w->parallelTraining();
    QSignalSpy progress(parallel, &ll::widgets::ParallelTraining::progress);
    QSignalSpy finished(parallel, &ll::widgets::ParallelTraining::finished);
    QTest::mouseClick(button(*w, "trainButton"), Qt::LeftButton);
    QVERIFY(parallel->isRunning());
    // A check that fails below must not leave a million steps training on two cores.
    const auto stopWhatever = qScopeGuard([&] { parallel->stop(); });
    QVERIFY(!w->trainingJob()->isRunning());
    const QString run = parallel->run();
    const auto owner = ll::RunLock::owner(run.toStdString());
    QVERIFY(owner && !owner->thisProcess);
    // The trainer writes config.json just after it takes the lock: on a busy machine, later.
    auto config = ll::readRunConfig(run.toStdString());
    QVERIFY(QTest::qWaitFor([&] { return bool(config = ll::readRunConfig(run.toStdString())); },
                            waitMs(20000)));
    QCOMPARE(config->worldSize, 2);
    QCOMPARE(config->batchSize, 32);
    QCOMPARE(config->model, std::string("cvae"));
    QVERIFY(QTest::qWaitFor(
        [&] {
            return !progress.isEmpty() &&
                   progress.last().first().value<ll::TrainProgress>().step >= 50;
        },
        waitMs(60000)));
    QVERIFY(!button(*w, "pauseButton")->isEnabled());
    QVERIFY(button(*w, "stopButton")->isEnabled());
    // Each rank's speed, charted.
    auto* tabs = w->findChild<QTabWidget*>(QStringLiteral("chartTabs"));
    auto* ranks = w->findChild<ll::widgets::LossChart*>(QStringLiteral("rankChart"));
    QVERIFY(QTest::qWaitFor([&] { return tabs->isTabEnabled(1); }, waitMs(10000)));
    QVERIFY2(ranks->seriesNames().contains(QStringLiteral("rank 1 steps/s")),
             qPrintable(ranks->seriesNames().join(QStringLiteral(", "))));
    QVERIFY(ranks->seriesNames().contains(QStringLiteral("rank 0 all-reduce ms")));

    QTest::mouseClick(button(*w, "stopButton"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return !finished.isEmpty(); }, waitMs(30000)));
    const auto result = finished.first().first().value<ll::TrainFinished>();
    QCOMPARE(result.outcome, ll::TrainFinished::Outcome::Cancelled);
    QVERIFY(!parallel->isRunning());
    QVERIFY(button(*w, "trainButton")->isEnabled());
    const auto latest = ll::latestCheckpoint(run.toStdString());
    QVERIFY(latest);
    QCOMPARE(latest->first, result.step);
    QVERIFY(result.step >= 50);
    QVERIFY(!ll::RunLock::owner(run.toStdString()));
}

QTEST_MAIN(BackgroundTest)
#include "test_background.moc"
