// The window as a user drives it: load data, press Train, watch the grid update, pause, stop.
#include <filesystem>

#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QVulkanInstance>

#include "datapanel.h"
#include "gridview/gridview.h"
#include "losschart.h"
#include "mainwindow.h"
#include "runsbrowser.h"
#include "trainingjob.h"
#include "trainpanel.h"

using ll::widgets::MainWindow;

class GuiTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void loadsFashionMnistIntoTheGrid();
    void badDatasetShowsAMessage();
    void trainingFromThePanelUpdatesTheGrid();
    void cleanupTestCase();

private:
    QPushButton* button(MainWindow& w, const char* name) {
        return w.findChild<QPushButton*>(QLatin1String(name));
    }
    std::unique_ptr<MainWindow> makeWindow();

    QVulkanInstance m_vulkan;
    QTemporaryDir m_workspace;
};

void GuiTest::initTestCase() {
    QCoreApplication::setOrganizationName(QStringLiteral("LatentLabTests"));
    QVERIFY(m_workspace.isValid());
    QVERIFY2(m_vulkan.create(), "no Vulkan instance: is mesa-vulkan-drivers installed?");
}

void GuiTest::cleanupTestCase() {}

std::unique_ptr<MainWindow> GuiTest::makeWindow() {
    auto w = std::make_unique<MainWindow>(&m_vulkan, m_workspace.path().toStdString());
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
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 30000);
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

void GuiTest::badDatasetShowsAMessage() {
    auto w = makeWindow();
    w->dataPanel()->setSpec({.source = LATENTLAB_TEST_DATA
                             "/data/fixtures/idx/broken/truncated-data-images-idx3-ubyte"});
    QSignalSpy failed(w->dataPanel(), &ll::widgets::DataPanel::loadFailed);
    w->dataPanel()->load();
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 10000);
    const QString message = failed.first().first().toString();
    QVERIFY2(message.contains(QStringLiteral("truncated")), qPrintable(message));
    QVERIFY(w->gridView()->grid().empty());
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
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 1, 30000);
    QVERIFY(!button(*w, "trainButton")->isEnabled());

    // The first grid is the untrained model; the grid view must follow later ones.
    QTRY_VERIFY_WITH_TIMEOUT(w->gridView()->grid().step >= 250, 120000);
    const auto firstGrid = w->gridView()->grid();
    QTRY_VERIFY_WITH_TIMEOUT(w->gridView()->grid().step >= 500, 120000);
    QVERIFY(w->gridView()->grid().rgba != firstGrid.rgba);
    QCOMPARE(w->gridView()->grid().rows, 10);
    QVERIFY(frames.count() > 0);
    QVERIFY(w->lossChart()->pointCount(QStringLiteral("loss")) > 10);

    // Pause holds the progress; the window stays responsive meanwhile.
    QTest::mouseClick(button(*w, "pauseButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(paused.count(), 1, 5000);
    QCOMPARE(button(*w, "pauseButton")->text(), QStringLiteral("Resume"));
    const auto heldPoints = w->lossChart()->pointCount(QStringLiteral("loss"));
    QTest::qWait(500);
    QCOMPARE(w->lossChart()->pointCount(QStringLiteral("loss")), heldPoints);

    QTest::mouseClick(button(*w, "stopButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    const auto result = finished.first().first().value<ll::TrainFinished>();
    QCOMPARE(result.outcome, ll::TrainFinished::Outcome::Cancelled);
    QVERIFY(button(*w, "trainButton")->isEnabled());
    QCOMPARE(w->runsBrowser()->runCount(), 1);
    QVERIFY(std::filesystem::exists(std::filesystem::path(result.runDir) / "checkpoints" /
                                    "latest.json"));
}

QTEST_MAIN(GuiTest)
#include "test_gui.moc"
