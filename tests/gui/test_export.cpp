// The Export mode as a user drives it: a run chosen in the runs browser, a preview that
// crosses out what the filters drop, a dataset exported to a folder (manifest and PNGs), the
// question before a folder that is not empty is replaced, cancel, weights, and the settings
// remembered for the next session.
#include <filesystem>
#include <fstream>

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDirIterator>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QVulkanInstance>

#include "data/datapanel.h"
#include "export/exportjob.h"
#include "export/exportpanel.h"
#include "export/exportview.h"
#include "export/previewtiles.h"
#include "labelfit.h"
#include "namedchild.h"
#include "train/trainer.h"
#include "train/trainingjob.h"
#include "train/trainpanel.h"
#include "vulkaninstance.h"
#include "waits.h"
#include "window/mainwindow.h"
#include "window/modebar.h"
#include "window/runsbrowser.h"

using ll::testing::waitMs;
using ll::widgets::ExportJob;
using ll::widgets::ExportPanel;
using ll::widgets::MainWindow;

using ll::testing::child;

namespace {

int countFiles(const QString& dir, const QString& pattern) {
    int n = 0;
    QDirIterator it(dir, {pattern}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        ++n;
    }
    return n;
}

}  // namespace

class ExportGuiTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void reportTakesTheWorkspacesLatestStudies();
    void exportsADatasetFromTheExportMode();
    void unconditionalPreviewSaysTheClassifierSorts();
    void aTablesPreviewShowsItsRows();

private:
    // Trains a small CVAE on 2,000 Fashion-MNIST images through the window and selects it in
    // the runs browser; its folder.
    QString trainAndSelectRun(MainWindow& w);
    // Clicks Export and waits for the job's end; its (ok, message).
    std::pair<bool, QString> runExport(MainWindow& w);

    QVulkanInstance& m_vulkan = ll::testing::vulkanInstance();
};

void ExportGuiTest::initTestCase() {
    QCoreApplication::setOrganizationName(QStringLiteral("LatentLabTests"));
    QCoreApplication::setApplicationName(QStringLiteral("ExportGuiTest"));
    QSettings().remove(QStringLiteral("export"));  // every run starts from the defaults
    QVERIFY2(m_vulkan.create(), "no Vulkan instance: is mesa-vulkan-drivers installed?");
}

// The report's studies box: on by default, it adds the latest finished study of each kind in
// the panel's workspace (one that never finished is passed over); off, none.
void ExportGuiTest::reportTakesTheWorkspacesLatestStudies() {
    QTemporaryDir ws;
    const std::filesystem::path studies =
        std::filesystem::path(ws.path().toStdString()) / "studies";
    for (const char* name : {"rebalance-20260101-000000", "rebalance-20260301-000000",
                             "learning-curve-20260101-000000"}) {
        std::filesystem::create_directories(studies / name);
        std::ofstream(studies / name / "result.json") << "{}";
    }
    std::filesystem::create_directories(studies / "rebalance-20260401-000000" / "parts");
    ll::widgets::ExportView view;
    ExportPanel panel(ws.path().toStdString(), &view);
    auto* box = child<QCheckBox>(panel, "exportReportStudies");
    QVERIFY(box->isChecked());
    const QString html = ws.filePath(QStringLiteral("report.html"));
    const auto request = panel.reportRequest(html);
    QCOMPARE(request.studies.size(), std::size_t(2));
    QVERIFY(request.studies[0] == studies / "rebalance-20260301-000000");
    QVERIFY(request.studies[1] == studies / "learning-curve-20260101-000000");
    box->setChecked(false);
    QVERIFY(panel.reportRequest(html).studies.empty());
}

// A table's run previews rows, not tiles: its columns (a category as its value), the class and
// what the filters would do, the dropped rows greyed.
void ExportGuiTest::aTablesPreviewShowsItsRows() {
    ll::ExportPreview preview;
    auto& t = preview.table;
    t.columns = {"size", "fabric"};
    t.levels = {{}, {"cotton", "silk", "wool"}};
    t.classNames = {"coat", "dress"};
    t.rows = 3;
    t.values = {12.5, 2, 30.25, 1, 11, 0};
    t.labels = {0, 1, 0};
    preview.dropped = {"", "confidence", ""};
    ll::widgets::ExportView view;
    view.setPreview(preview, 0.9);
    const QTableWidget* rows = view.rows();
    QVERIFY(rows->isVisibleTo(&view));
    QCOMPARE(rows->rowCount(), 3);
    QCOMPARE(rows->columnCount(), 4);
    QCOMPARE(rows->horizontalHeaderItem(1)->text(), QStringLiteral("fabric"));
    QCOMPARE(rows->item(0, 1)->text(), QStringLiteral("wool"));
    QCOMPARE(rows->item(1, 0)->text(), QStringLiteral("30.25"));
    QCOMPARE(rows->item(1, 2)->text(), QStringLiteral("dress"));
    QCOMPARE(rows->item(0, 3)->text(), QStringLiteral("kept"));
    QCOMPARE(rows->item(1, 3)->text(), QStringLiteral("dropped: confidence"));
    QVERIFY(rows->item(1, 0)->foreground() != rows->item(0, 0)->foreground());
    QVERIFY2(view.previewSummary().contains(QStringLiteral("The first 3 rows")) &&
                 view.previewSummary().contains(QStringLiteral("1 below the confidence")),
             qPrintable(view.previewSummary()));
    // A run of images after it shows tiles again.
    preview = {};
    preview.grid.rows = 1;
    preview.grid.cols = 1;
    preview.grid.tileWidth = preview.grid.tileHeight = 2;
    preview.grid.rgba.assign(16, 128);
    preview.dropped = {""};
    view.setPreview(preview, 0);
    QVERIFY(!rows->isVisibleTo(&view));
}

QString ExportGuiTest::trainAndSelectRun(MainWindow& w) {
    QSignalSpy ready(w.dataPanel(), &ll::widgets::DataPanel::previewReady);
    child<QSpinBox>(w, "datasetLimit")->setValue(2000);
    QTest::mouseClick(child<QPushButton>(w, "loadButton"), Qt::LeftButton);
    [&] { QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, waitMs(30000)); }();
    auto* panel = w.trainPanel();
    auto* model = child<QComboBox>(*panel, "modelCombo");
    model->setCurrentIndex(model->findData(QStringLiteral("cvae")));
    child<QLineEdit>(*panel, "setting_hidden")->setText(QStringLiteral("32"));
    child<QLineEdit>(*panel, "setting_latent")->setText(QStringLiteral("4"));
    child<QLineEdit>(*panel, "setting_width")->setText(QStringLiteral("8"));
    child<QSpinBox>(*panel, "stepsSpin")->setValue(150);
    child<QSpinBox>(*panel, "batchSpin")->setValue(64);
    QSignalSpy trained(w.trainingJob(), &ll::widgets::TrainingJob::finished);
    QTest::mouseClick(child<QPushButton>(w, "trainButton"), Qt::LeftButton);
    [&] { QTRY_COMPARE_WITH_TIMEOUT(trained.count(), 1, waitMs(90000)); }();
    auto* runs = w.runsBrowser();
    runs->refresh();
    runs->selectRuns({runs->runs().front()});
    return runs->runs().front();
}

std::pair<bool, QString> ExportGuiTest::runExport(MainWindow& w) {
    auto* panel = w.exportPanel();
    QSignalSpy done(panel->job(), &ExportJob::finished);
    QTest::mouseClick(child<QPushButton>(w, "exportButton"), Qt::LeftButton);
    if (!panel->isBusy()) return {false, QStringLiteral("the export did not start")};
    [&] { QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, waitMs(120000)); }();
    if (done.isEmpty()) return {false, QStringLiteral("the export did not end")};
    return {done.front().at(0).toBool(), done.front().at(1).toString()};
}

void ExportGuiTest::exportsADatasetFromTheExportMode() {
    QTemporaryDir ws, outDir;
    auto w = std::make_unique<MainWindow>(&m_vulkan, ws.path().toStdString());
    w->resize(1300, 900);
    w->show();
    const QString run = trainAndSelectRun(*w);

    // The mode bar's Export is on; the mode takes the browser's run.
    QAction* mode = child<QAction>(*w, "modeExport");
    QVERIFY(mode && mode->isEnabled());
    mode->trigger();
    QCOMPARE(w->mode(), MainWindow::Mode::Export);
    auto* panel = w->exportPanel();
    QCOMPARE(panel->runDir(), run);
    auto* runLabel = child<QLabel>(*panel, "exportRun");
    QVERIFY(runLabel->text().contains(QFileInfo(run).fileName()));
    // Wrapped in the panel's width and drawn whole (a form once cut a changed note off).
    QTRY_VERIFY2(ll::testing::cutOff(*runLabel).isEmpty(),
                 qPrintable(ll::testing::cutOff(*runLabel)));
    QVERIFY(child<QComboBox>(*panel, "exportCheckpoint")->count() >= 2);  // latest + step 150
    // A CVAE takes a temperature, not guidance or truncation.
    QVERIFY(child<QDoubleSpinBox>(*panel, "exportTemperature")->isVisible());
    QVERIFY(!child<QDoubleSpinBox>(*panel, "exportGuidance")->isVisible());
    QVERIFY(!child<QDoubleSpinBox>(*panel, "exportTruncation")->isVisible());

    // The preview: the first samples, one row per class; a strict confidence filter crosses
    // some out and says why.
    auto* view = w->exportView();
    auto* tiles = view->tiles();
    QTRY_VERIFY_WITH_TIMEOUT(!tiles->preview().grid.empty(), waitMs(60000));
    QCOMPARE(tiles->preview().grid.rows, 10);
    QCOMPARE(tiles->preview().grid.cols, 8);
    QCOMPARE(tiles->droppedCount(), 0);
    QVERIFY2(view->previewSummary().contains(QStringLiteral("one row per class")),
             qPrintable(view->previewSummary()));
    child<QDoubleSpinBox>(*panel, "exportMinConfidence")->setValue(0.999);
    QTRY_VERIFY_WITH_TIMEOUT(tiles->droppedCount() > 0, waitMs(90000));
    int dropped = 0;
    while (tiles->preview().dropped[std::size_t(dropped)].empty()) ++dropped;
    QVERIFY(tiles->describe(dropped).contains(QStringLiteral("confidence")));
    QVERIFY(view->previewSummary().contains(QStringLiteral("confidence")));
    child<QDoubleSpinBox>(*panel, "exportMinConfidence")->setValue(0);
    QTRY_VERIFY_WITH_TIMEOUT(tiles->droppedCount() == 0, waitMs(60000));

    // Two classes, 3 of each, as PNGs without a card.
    auto* classes = child<QTableWidget>(*panel, "exportClasses");
    QCOMPARE(classes->rowCount(), 10);
    for (int row = 0; row < classes->rowCount(); ++row)
        classes->item(row, 0)->setCheckState(row == 0 || row == 3 ? Qt::Checked : Qt::Unchecked);
    child<QSpinBox>(*panel, "exportPerClass")->setValue(3);
    auto* format = child<QComboBox>(*panel, "exportFormat");
    format->setCurrentIndex(format->findData(QStringLiteral("png")));
    child<QCheckBox>(*panel, "exportCard")->setChecked(false);
    const QString out = outDir.filePath(QStringLiteral("fashion-synthetic"));
    auto* path = child<QLineEdit>(*panel, "exportPath");
    path->clear();
    QTest::keyClicks(path, out);
    QCOMPARE(panel->request().classes, (std::vector<int>{0, 3}));

    auto [ok, why] = runExport(*w);
    QVERIFY2(ok, qPrintable(why));
    QVERIFY(QFileInfo::exists(out + QStringLiteral("/manifest.csv")));
    QCOMPARE(countFiles(out, QStringLiteral("*.png")), 6);
    QFile manifest(out + QStringLiteral("/manifest.csv"));
    QVERIFY(manifest.open(QIODevice::ReadOnly));
    QCOMPARE(manifest.readAll().count('\n'), 7);  // a header and a row per image
    QVERIFY(!QFileInfo::exists(out + QStringLiteral("/card.md")));
    // The panel says what it wrote; the centre shows it with the folder to open.
    const QString result = child<QLabel>(*panel, "exportResultLabel")->text();
    QVERIFY2(result.contains(QStringLiteral("Exported 6 samples")), qPrintable(result));
    QCOMPARE(view->tabs()->currentIndex(), 1);
    QCOMPARE(view->resultFolder(), out);
    QVERIFY(view->resultText()->toPlainText().contains(QStringLiteral("Dress")));
    QVERIFY(child<QPushButton>(*w, "openExportFolder")->isEnabled());

    // Exporting into the folder again asks first: no keeps it, yes replaces it.
    QStringList asked;
    bool answer = false;
    panel->setReplaceQuestion([&](const QString& p) {
        asked << p;
        return answer;
    });
    QTest::mouseClick(child<QPushButton>(*w, "exportButton"), Qt::LeftButton);
    QCOMPARE(asked, QStringList{out});
    QVERIFY(!panel->isBusy());
    QVERIFY(child<QLabel>(*panel, "exportStage")->text().contains(QStringLiteral("Not exported")));
    answer = true;
    child<QSpinBox>(*panel, "exportPerClass")->setValue(2);
    std::tie(ok, why) = runExport(*w);
    QVERIFY2(ok, qPrintable(why));
    QCOMPARE(asked.size(), 2);
    QCOMPARE(countFiles(out, QStringLiteral("*.png")), 4);

    // Cancel: a long export stops and leaves nothing behind.
    const QString big = outDir.filePath(QStringLiteral("big"));
    path->setText(big);
    child<QSpinBox>(*panel, "exportPerClass")->setValue(200000);
    QSignalSpy done(panel->job(), &ExportJob::finished);
    QTest::mouseClick(child<QPushButton>(*w, "exportButton"), Qt::LeftButton);
    QVERIFY(panel->isBusy());
    QTRY_VERIFY_WITH_TIMEOUT(child<QProgressBar>(*panel, "exportProgress")->value() > 0,
                             waitMs(60000));
    QTest::mouseClick(child<QPushButton>(*w, "exportCancelButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, waitMs(60000));
    QVERIFY(!done.front().at(0).toBool());
    QCOMPARE(done.front().at(1).toString(), QStringLiteral("cancelled"));
    QVERIFY(!QFileInfo::exists(big));
    QCOMPARE(QDir(outDir.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
             QStringList{QStringLiteral("fashion-synthetic")});
    child<QSpinBox>(*panel, "exportPerClass")->setValue(3);

    // With a card of two scores: card.md beside the data, and shown in the centre.
    const QString carded = outDir.filePath(QStringLiteral("carded"));
    path->setText(carded);
    child<QCheckBox>(*panel, "exportCard")->setChecked(true);
    for (auto* metric :
         panel->findChildren<QCheckBox*>(QRegularExpression(QStringLiteral("^exportMetric_"))))
        metric->setChecked(metric->objectName() == QStringLiteral("exportMetric_fid") ||
                           metric->objectName() == QStringLiteral("exportMetric_agreement"));
    QCOMPARE(panel->request().metrics, (std::vector<std::string>{"agreement", "fid"}));
    std::tie(ok, why) = runExport(*w);
    QVERIFY2(ok, qPrintable(why));
    QVERIFY(QFileInfo::exists(carded + QStringLiteral("/card.md")));
    QVERIFY(QFileInfo::exists(carded + QStringLiteral("/card.json")));
    QFile card(carded + QStringLiteral("/card.md"));
    QVERIFY(card.open(QIODevice::ReadOnly));
    // Six samples are too few for FID: the card says so; agreement has its floor beside it.
    QVERIFY(QString::fromUtf8(card.readAll()).contains(QStringLiteral("classifier agreement")));
    QVERIFY(view->resultText()->toPlainText().contains(QStringLiteral("classifier agreement")));
    QCOMPARE(view->resultFolder(), carded);

    // Weights: the checkpoint as a safetensors file.
    child<QRadioButton>(*panel, "exportWhatWeights")->click();
    QVERIFY(!child<QWidget>(*panel, "exportFormat")->isVisible());
    QVERIFY(path->text().endsWith(QStringLiteral(".safetensors")));
    const QString weights = outDir.filePath(QStringLiteral("weights.safetensors"));
    path->setText(weights);
    std::tie(ok, why) = runExport(*w);
    QVERIFY2(ok, qPrintable(why));
    QVERIFY(QFileInfo(weights).size() > 1000);
    QVERIFY(view->resultText()->toPlainText().contains(QStringLiteral("step 150")));

    // A report of the run: HTML and PDF.
    child<QRadioButton>(*panel, "exportWhatReport")->click();
    QVERIFY(path->text().endsWith(QStringLiteral(".html")));
    const QString html = outDir.filePath(QStringLiteral("report.html"));
    path->setText(html);
    std::tie(ok, why) = runExport(*w);
    QVERIFY2(ok, qPrintable(why));
    QVERIFY(QFileInfo(html).size() > 1000);
    QVERIFY(QFileInfo(outDir.filePath(QStringLiteral("report.pdf"))).size() > 1000);
    QVERIFY(view->resultText()->toPlainText().contains(QStringLiteral("pages")));
    child<QRadioButton>(*panel, "exportWhatDataset")->click();

    // The settings come back in the next session (the classes belong to a run: all again).
    w.reset();
    ll::widgets::ExportView otherView;
    ExportPanel again(ws.path().toStdString(), &otherView);
    QCOMPARE(child<QSpinBox>(again, "exportPerClass")->value(), 3);
    QVERIFY(child<QCheckBox>(again, "exportCard")->isChecked());
    QVERIFY(child<QCheckBox>(again, "exportMetric_agreement")->isChecked());
    QVERIFY(!child<QCheckBox>(again, "exportMetric_tstr")->isChecked());
    QCOMPARE(child<QComboBox>(again, "exportFormat")->currentData().toString(),
             QStringLiteral("png"));
    QCOMPARE(again.what(), ExportPanel::What::Dataset);
    QVERIFY(QSettings().value(QStringLiteral("export/folder")).toString() == outDir.path());
}

// An unconditional model draws in no class order: the preview says its classifier sorts the
// draws, not that they come a row per class.
void ExportGuiTest::unconditionalPreviewSaysTheClassifierSorts() {
    QTemporaryDir ws;
    const auto run = std::filesystem::path(ws.path().toStdString()) / "runs" / "dcgan";
    const ll::TrainConfig config{.dataset = {.source = "fashion-mnist", .limit = 500, .seed = 3},
                                 .model = "dcgan",
                                 .steps = 10,
                                 .learningRate = 2e-4,
                                 .batchSize = 32,
                                 .seed = 5,
                                 .logEvery = 5,
                                 .sampleEvery = 10,
                                 .checkpointEvery = 10,
                                 .samplesPerClass = 2,
                                 .runDir = run};
    const auto trained = ll::Trainer(config, {}).run(std::stop_token{});
    QVERIFY2(trained.outcome == ll::TrainFinished::Outcome::Completed, trained.message.c_str());
    auto w = std::make_unique<MainWindow>(&m_vulkan, ws.path().toStdString());
    w->resize(1300, 900);
    w->show();
    auto* runs = w->runsBrowser();
    runs->refresh();
    QCOMPARE(runs->runs().size(), 1);
    runs->selectRuns({runs->runs().front()});
    child<QAction>(*w, "modeExport")->trigger();
    auto* view = w->exportView();
    QTRY_VERIFY_WITH_TIMEOUT(!view->tiles()->preview().grid.empty(), waitMs(60000));
    QVERIFY(view->tiles()->preview().grid.rowLabels.empty());
    QVERIFY2(
        view->previewSummary().contains(QStringLiteral("the classifier sorts them into classes")),
        qPrintable(view->previewSummary()));
}

QTEST_MAIN(ExportGuiTest)
#include "test_export.moc"
