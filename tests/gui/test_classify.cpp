// The Classify mode as a user drives it: the diffusion classifier on a (briefly) trained ddpm
// run, with its accuracy, confusion matrix, budget chart and an image explained; the refusal
// of a run that is not a diffusion model; the learning curve and one-class detection on a
// CSV; an interrupted study offered for a resume; the latest studies shown again when the
// window opens anew; and the imbalance lab on a table and on images, with a refused class.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include <QAbstractBarSeries>
#include <QAction>
#include <QApplication>
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLogValueAxis>
#include <QPushButton>
#include <QSet>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QVulkanInstance>

#include "classify/classifyjob.h"
#include "classify/classifypanel.h"
#include "classify/classifyview.h"
#include "classify/confusiongrid.h"
#include "classify/curveform.h"
#include "classify/curveview.h"
#include "classify/diffusionform.h"
#include "classify/diffusionview.h"
#include "classify/oneclassform.h"
#include "classify/oneclassview.h"
#include "classify/rebalanceform.h"
#include "classify/rebalanceview.h"
#include "data/datapanel.h"
#include "namedchild.h"
#include "train/trainingjob.h"
#include "vulkaninstance.h"
#include "waits.h"
#include "window/mainwindow.h"
#include "window/runsbrowser.h"

using ll::testing::waitMs;
using ll::widgets::ClassifyJob;
using ll::widgets::ClassifyPanel;
using ll::widgets::MainWindow;
using ll::widgets::StudyKind;

using ll::testing::child;

namespace {

const char* const kIris = "/usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv";
const QString kCancer = QStringLiteral(LATENTLAB_TEST_DATA "/study/fixtures/breast_cancer.csv");

QStringList seriesNames(QChartView* view) {
    QStringList names;
    for (auto* s : view->chart()->series()) names << s->name();
    return names;
}

}  // namespace

class ClassifyGuiTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void runsEachStudyFromTheClassifyMode();
    void runsTheImbalanceLab();
    void theLabMakesItsOwnImbalance();

private:
    // Trains `model` for two steps on 200 Fashion-MNIST images; the run's folder.
    QString train(MainWindow& w, const QString& ws, const std::string& model,
                  ll::Settings settings);
    // Selects `run` in the runs browser.
    void select(MainWindow& w, const QString& run);
    // Loads `spec` in the Data mode; false when it did not load.
    bool load(MainWindow& w, const ll::DatasetSpec& spec);
    // Clicks Start and waits for the study's end; its (ok, message).
    std::pair<bool, QString> runStudy(MainWindow& w, int timeoutMs);

    QVulkanInstance& m_vulkan = ll::testing::vulkanInstance();
};

void ClassifyGuiTest::initTestCase() {
    QCoreApplication::setOrganizationName(QStringLiteral("LatentLabTests"));
    QCoreApplication::setApplicationName(QStringLiteral("ClassifyGuiTest"));
    QSettings().remove(QStringLiteral("classify"));  // every run starts from the defaults
    QVERIFY2(m_vulkan.create(), "no Vulkan instance: is mesa-vulkan-drivers installed?");
}

QString ClassifyGuiTest::train(MainWindow& w, const QString& ws, const std::string& model,
                               ll::Settings settings) {
    QSignalSpy trained(w.trainingJob(), &ll::widgets::TrainingJob::finished);
    const bool started =
        w.trainingJob()->start({.dataset = {.source = "fashion-mnist", .limit = 200},
                                .model = model,
                                .settings = std::move(settings),
                                .steps = 2,
                                .batchSize = 8,
                                .sampleEvery = 100,
                                .workspace = ws.toStdString()});
    if (!started) return {};
    if (!trained.wait(waitMs(90000)) && trained.isEmpty()) return {};
    auto* runs = w.runsBrowser();
    runs->refresh();
    for (const QString& run : runs->runs())
        if (QFileInfo(run).fileName().contains(
                QStringLiteral("-%1-").arg(QString::fromStdString(model))))
            return run;
    return {};
}

void ClassifyGuiTest::select(MainWindow& w, const QString& run) {
    w.runsBrowser()->refresh();
    w.runsBrowser()->selectRuns({run});
}

bool ClassifyGuiTest::load(MainWindow& w, const ll::DatasetSpec& spec) {
    QSignalSpy loaded(w.dataPanel(), &ll::widgets::DataPanel::previewReady);
    w.dataPanel()->setSpec(spec);
    w.dataPanel()->load();
    return loaded.wait(waitMs(60000)) || !loaded.isEmpty();
}

std::pair<bool, QString> ClassifyGuiTest::runStudy(MainWindow& w, int timeoutMs) {
    auto* panel = w.classifyPanel();
    QSignalSpy done(panel->job(), &ClassifyJob::finished);
    QTest::mouseClick(child<QPushButton>(w, "classifyStart"), Qt::LeftButton);
    if (!panel->isBusy())
        return {false, QStringLiteral("the study did not start: ") +
                           child<QLabel>(w, "classifyMessage")->text()};
    if (!child<QPushButton>(w, "classifyCancel")->isEnabled())
        return {false, QStringLiteral("Cancel is off while the study runs")};
    [&] { QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, waitMs(timeoutMs)); }();
    if (done.isEmpty()) return {false, QStringLiteral("the study did not end")};
    return {done.front().at(0).toBool(), done.front().at(1).toString()};
}

void ClassifyGuiTest::runsEachStudyFromTheClassifyMode() {
    QTemporaryDir ws;
    auto w = std::make_unique<MainWindow>(&m_vulkan, ws.path().toStdString());
    w->resize(1400, 950);
    w->show();
    const QString ddpm = train(*w, ws.path(), "ddpm",
                               {{"width", "16"}, {"timesteps", "200"}, {"sample_steps", "10"}});
    QVERIFY2(!ddpm.isEmpty(), "the ddpm run did not train");
    const QString vae = train(*w, ws.path(), "vae", {{"hidden", "32"}, {"latent", "4"}});
    QVERIFY2(!vae.isEmpty(), "the vae run did not train");

    // The mode bar's Classify sits between Inspect and Export.
    QAction* mode = child<QAction>(*w, "modeClassify");
    QVERIFY(mode && mode->isEnabled());
    auto* bar = qobject_cast<QWidget*>(mode->parent());
    const auto actions = bar ? bar->actions() : QList<QAction*>();
    const auto at = actions.indexOf(mode);
    QVERIFY(at > 0 && at + 1 < actions.size());
    QCOMPARE(actions[at - 1]->objectName(), QStringLiteral("modeInspect"));
    QCOMPARE(actions[at + 1]->objectName(), QStringLiteral("modeExport"));
    mode->trigger();
    QCOMPARE(w->mode(), MainWindow::Mode::Classify);
    auto* panel = w->classifyPanel();
    QCOMPARE(panel->study(), StudyKind::Diffusion);
    auto* start = child<QPushButton>(*w, "classifyStart");
    QVERIFY(!start->isEnabled());  // no run yet

    // A run that is not a diffusion model: core's refusal, Start off with the reason.
    select(*w, vae);
    QCOMPARE(panel->runDir(), vae);
    auto* refusal = child<QLabel>(*panel, "classifyRefusal");
    QTRY_VERIFY_WITH_TIMEOUT(refusal->text().contains(QStringLiteral("ddpm")) &&
                                 !refusal->text().startsWith(QStringLiteral("Opening")),
                             waitMs(30000));
    QVERIFY2(refusal->text().contains(QStringLiteral("vae")), qPrintable(refusal->text()));
    QVERIFY(!start->isEnabled());
    QCOMPARE(start->toolTip(), panel->diffusionForm()->refusal());
    // The centre says it too, and where the user can go with this run instead.
    const QString message =
        child<QLabel>(*w->classifyView()->diffusionView(), "studyMessage")->text();
    QVERIFY2(message.startsWith(panel->diffusionForm()->refusal()), qPrintable(message));
    QVERIFY2(message.contains(studyTitle(StudyKind::Rebalance)), qPrintable(message));

    // The ddpm run classifies 20 test images at 4 timesteps, pruned to 3 classes after 2.
    select(*w, ddpm);
    QTRY_VERIFY_WITH_TIMEOUT(panel->whyNot().isEmpty(), waitMs(30000));
    QVERIFY(start->isEnabled());
    child<QSpinBox>(*panel, "classifyLimit")->setValue(20);
    child<QSpinBox>(*panel, "classifyTimesteps")->setValue(4);
    child<QLineEdit>(*panel, "classifyStages")->setText(QStringLiteral("2"));
    child<QLineEdit>(*panel, "classifyKeep")->setText(QStringLiteral("3"));
    auto [ok, why] = runStudy(*w, 90000);
    QVERIFY2(ok, qPrintable(why));
    auto* dv = w->classifyView()->diffusionView();
    QVERIFY(dv->hasResult());
    QVERIFY2(dv->summaryText().contains(QStringLiteral("Accuracy")), qPrintable(dv->summaryText()));
    QVERIFY(dv->summaryText().contains(QStringLiteral("evaluations per image")));
    std::int64_t classified = 0;
    for (const auto& row : dv->confusion()->counts())
        for (auto n : row) classified += n;
    QCOMPARE(classified, 20);
    QCOMPARE(dv->confusion()->counts().size(), std::size_t(10));
    QVERIFY(seriesNames(dv->budgetView()).contains(QStringLiteral("budget")));
    QVERIFY(seriesNames(dv->budgetView()).contains(QStringLiteral("pruned")));
    QVERIFY(QFileInfo::exists(ddpm + QStringLiteral("/studies/diffusion-classifier/result.json")));
    // The strip of the classified images; a click explains one.
    auto* strip = child<QListWidget>(*dv, "classifiedStrip");
    QCOMPARE(strip->count(), 20);
    QTRY_VERIFY_WITH_TIMEOUT(!strip->item(0)->icon().isNull(), waitMs(30000));
    const QRect first = strip->visualItemRect(strip->item(1));
    QTest::mouseClick(strip->viewport(), Qt::LeftButton, {}, first.center());
    QTRY_COMPARE_WITH_TIMEOUT(dv->explainedIndex(), std::int64_t(1), waitMs(60000));
    QCOMPARE(dv->curvesView()->chart()->series().size(), 10);  // a line per class
    QVERIFY(!dv->errorsView()->chart()->series().isEmpty());
    QVERIFY(child<QLabel>(*dv, "explainCaption")->text().contains(QStringLiteral("went to")));

    // The learning curve on iris's columns: three methods, three sizes, two seeds.
    QVERIFY(load(*w, {.source = kIris}));
    panel->setStudy(StudyKind::LearningCurve);
    QCOMPARE(w->classifyView()->study(), StudyKind::LearningCurve);
    QCOMPARE(child<QComboBox>(*panel, "curveFeatures")->currentData().toString(),
             QStringLiteral("columns"));
    panel->curveForm()->chooseMethods({"nb", "gda", "logistic"});
    child<QLineEdit>(*panel, "curveSizes")->setText(QStringLiteral("5, 10, 30"));
    child<QSpinBox>(*panel, "curveSeeds")->setValue(2);
    std::tie(ok, why) = runStudy(*w, 60000);
    QVERIFY2(ok, qPrintable(why));
    auto* cv = w->classifyView()->curveView();
    QVERIFY(cv->hasResult());
    const QStringList curves = seriesNames(cv->chartView());
    for (const char* m : {"nb", "gda", "logistic"})
        QVERIFY2(curves.contains(QLatin1String(m)), qPrintable(curves.join(QLatin1Char(','))));
    QVERIFY(curves.contains(QStringLiteral("nb ± sd")));  // the band
    QVERIFY(qobject_cast<QLogValueAxis*>(cv->chartView()->chart()->axes(Qt::Horizontal).value(0)));
    QCOMPARE(cv->table()->rowCount(), 3);
    QCOMPARE(cv->table()->columnCount(), 3);
    QVERIFY(cv->table()->item(0, 0)->text().contains(QStringLiteral("±")));
    QVERIFY(!cv->crossingsText().isEmpty());
    QCOMPARE(QDir(ws.filePath(QStringLiteral("studies")))
                 .entryList({QStringLiteral("learning-curve-*")}, QDir::Dirs)
                 .size(),
             1);

    // One-class detection: setosa is normal; three detectors over two seeds.
    panel->setStudy(StudyKind::OneClass);
    QVERIFY(panel->oneClassForm()->chooseNormal(QStringLiteral("setosa")));
    child<QSpinBox>(*panel, "oneClassSeeds")->setValue(2);
    child<QSpinBox>(*panel, "oneClassSteps")->setValue(60);
    std::tie(ok, why) = runStudy(*w, 90000);
    QVERIFY2(ok, qPrintable(why));
    auto* ov = w->classifyView()->oneClassView();
    QVERIFY(ov->hasResult());
    const QStringList roc = seriesNames(ov->rocView());
    QCOMPARE(roc.size(), 4);  // three models and the chance diagonal
    QVERIFY(roc.contains(QStringLiteral("chance")));
    QVERIFY(roc.filter(QStringLiteral("chaotic-vae")).size() == 1);
    QCOMPARE(ov->prView()->chart()->series().size(), 3);
    QCOMPARE(ov->table()->rowCount(), 3);
    QVERIFY(ov->table()->item(0, 1)->text().contains(QStringLiteral("±")));
    QVERIFY2(ov->ttestText().contains(QStringLiteral("df = 2")), qPrintable(ov->ttestText()));
    QVERIFY(!ov->showsAnomalyPicture());  // a table: its rows
    QVERIFY(ov->anomalyRows() > 0);

    // A study core refuses ends with core's message in the panel, not a crash: more
    // training rows per class than iris has.
    panel->setStudy(StudyKind::LearningCurve);
    child<QLineEdit>(*panel, "curveSizes")->setText(QStringLiteral("500"));
    std::tie(ok, why) = runStudy(*w, 30000);
    QVERIFY(!ok);
    QVERIFY2(!child<QLabel>(*panel, "classifyMessage")->text().isEmpty(), qPrintable(why));
    QVERIFY(!panel->isBusy());
    child<QLineEdit>(*panel, "curveSizes")->setText(QStringLiteral("5, 10, 30"));
    panel->setStudy(StudyKind::OneClass);

    // An interrupted study (parts, no result) is offered for a resume.
    const QString interrupted =
        ws.filePath(QStringLiteral("studies/oneclass-29991231-235959/parts"));
    QVERIFY(QDir().mkpath(interrupted));
    QFile part(interrupted + QStringLiteral("/mahalanobis-seed1.json"));
    QVERIFY(part.open(QIODevice::WriteOnly));
    part.write("{}");
    part.close();
    panel->setStudy(StudyKind::LearningCurve);
    panel->setStudy(StudyKind::OneClass);
    QCOMPARE(panel->resumableFolder(), QFileInfo(interrupted).absolutePath());
    QVERIFY(child<QPushButton>(*panel, "classifyResume")->isVisible());
    QVERIFY(QDir(QFileInfo(interrupted).absolutePath()).removeRecursively());

    // A new window shows the latest finished study of each kind again.
    w.reset();
    w = std::make_unique<MainWindow>(&m_vulkan, ws.path().toStdString());
    w->show();
    w->setMode(MainWindow::Mode::Classify);
    QVERIFY(w->classifyView()->curveView()->hasResult());
    QVERIFY(w->classifyView()->oneClassView()->hasResult());
    QCOMPARE(w->classifyView()->oneClassView()->table()->rowCount(), 3);
    QCOMPARE(w->classifyPanel()->study(), StudyKind::OneClass);  // remembered
    select(*w, ddpm);
    QVERIFY(w->classifyView()->diffusionView()->hasResult());
    QVERIFY(w->classifyView()->diffusionView()->summaryText().contains(QStringLiteral("Accuracy")));
}

// The Data mode's classes reach the lab; its long tail does not (the lab makes its own, and
// core refuses a second one).
void ClassifyGuiTest::theLabMakesItsOwnImbalance() {
    ll::widgets::RebalanceForm form;
    const ll::DatasetSpec data{
        .source = "fashion-mnist", .keepClasses = {1, 4}, .longTailRatio = 5.0, .limit = 300};
    const auto r = form.request(data, "/tmp/ws", "/tmp/ws/out");
    QVERIFY2(r, r ? "" : r.error().message.c_str());
    QCOMPARE(r->data.longTailRatio, 1.0);
    QCOMPARE(r->data.keepClasses, (std::vector<int>{1, 4}));
    QCOMPARE(r->data.limit, std::int64_t(300));
}

void ClassifyGuiTest::runsTheImbalanceLab() {
    QTemporaryDir ws;
    auto w = std::make_unique<MainWindow>(&m_vulkan, ws.path().toStdString());
    w->resize(1400, 950);
    w->show();
    w->setMode(MainWindow::Mode::Classify);
    auto* panel = w->classifyPanel();
    panel->setStudy(StudyKind::Rebalance);
    QCOMPARE(w->classifyView()->study(), StudyKind::Rebalance);
    auto* start = child<QPushButton>(*w, "classifyStart");
    QVERIFY(!start->isEnabled());  // no dataset yet
    QVERIFY(panel->whyNot().contains(QStringLiteral("Data mode")));

    // Breast cancer's malignant rows as a 5% minority; a class that does not exist first.
    QVERIFY(load(*w, {.source = kCancer.toStdString()}));
    QVERIFY(start->isEnabled());
    auto* imbalance = child<QComboBox>(*panel, "rebalanceImbalance");
    imbalance->setCurrentIndex(imbalance->findData(int(ll::ImbalanceMode::Minority)));
    QVERIFY(child<QLineEdit>(*panel, "rebalanceMinority")->isEnabled());
    QVERIFY(!child<QDoubleSpinBox>(*panel, "rebalanceRatio")->isEnabled());
    child<QLineEdit>(*panel, "rebalanceMinority")->setText(QStringLiteral("dragon:0.05"));
    panel->rebalanceForm()->chooseMethods({"none", "under", "smote"});
    child<QSpinBox>(*panel, "rebalanceSeeds")->setValue(2);
    auto [ok, why] = runStudy(*w, 60000);
    QVERIFY(!ok);
    const QString refused = child<QLabel>(*panel, "classifyMessage")->text();
    QVERIFY2(refused.contains(QStringLiteral("dragon")), qPrintable(refused));
    QVERIFY(!panel->isBusy());

    child<QLineEdit>(*panel, "rebalanceMinority")->setText(QStringLiteral("malignant:0.05"));
    std::tie(ok, why) = runStudy(*w, 120000);
    QVERIFY2(ok, qPrintable(why));
    auto* view = w->classifyView()->rebalanceView();
    QVERIFY(view->hasResult());
    QVERIFY2(view->captionText().contains(QStringLiteral("malignant")),
             qPrintable(view->captionText()));
    const QStringList folders = QDir(ws.filePath(QStringLiteral("studies")))
                                    .entryList({QStringLiteral("rebalance-*")}, QDir::Dirs);
    QCOMPARE(folders.size(), 1);
    std::ifstream in(
        ws.filePath(QStringLiteral("studies/") + folders.front() + QStringLiteral("/result.json"))
            .toStdString());
    const auto result = nlohmann::json::parse(in, nullptr, false);
    QVERIFY(result.is_object());
    QVERIFY(result["classifier"] == "logistic");  // a table's default
    // The table: a row per method, the numbers result.json holds.
    auto* table = view->table();
    QCOMPARE(table->rowCount(), 3);
    QCOMPARE(table->verticalHeaderItem(2)->text(), QStringLiteral("smote"));
    const double smoteRecall = result["methods"]["smote"]["minority_recall_mean"].get<double>();
    QVERIFY2(table->item(2, 0)->text().startsWith(QString::number(smoteRecall, 'f', 3)),
             qPrintable(table->item(2, 0)->text()));
    QCOMPARE(table->item(2, table->columnCount() - 1)->text(),
             QString::number(result["methods"]["smote"]["synthetic"].get<std::int64_t>()));
    // The charts: a bar per method on each of five metrics and on each class's recall.
    auto* metrics =
        qobject_cast<QAbstractBarSeries*>(view->metricsView()->chart()->series().value(0));
    QVERIFY(metrics);
    QCOMPARE(metrics->count(), 3);
    QCOMPARE(metrics->barSets().front()->count(), 5);
    QStringList legend;
    for (auto* set : metrics->barSets()) legend << set->label();
    QCOMPARE(
        QSet<QString>(legend.begin(), legend.end()),
        (QSet<QString>{QStringLiteral("none"), QStringLiteral("under"), QStringLiteral("smote")}));
    auto* recall =
        qobject_cast<QAbstractBarSeries*>(view->recallView()->chart()->series().value(0));
    QVERIFY(recall);
    QCOMPARE(recall->count(), 3);
    auto* classes =
        qobject_cast<QBarCategoryAxis*>(view->recallView()->chart()->axes(Qt::Vertical).value(0));
    QVERIFY(classes);
    QStringList names = classes->categories();
    names.sort();
    QCOMPARE(names, (QStringList{QStringLiteral("benign"), QStringLiteral("malignant")}));
    QVERIFY(view->sampleMethods().isEmpty());  // a table's rows have no picture
    QVERIFY(!view->showsSamples());

    // Images: 600 Fashion-MNIST images, Pullover the minority; SMOTE's samples shown between
    // their parents.
    QVERIFY(load(*w, {.source = "fashion-mnist", .limit = 600}));
    child<QLineEdit>(*panel, "rebalanceMinority")->setText(QStringLiteral("Pullover:0.05"));
    panel->rebalanceForm()->chooseMethods({"none", "smote"});
    child<QSpinBox>(*panel, "rebalanceSeeds")->setValue(1);
    child<QSpinBox>(*panel, "rebalanceSteps")->setValue(30);
    child<QSpinBox>(*panel, "rebalanceHeldOut")->setValue(300);
    std::tie(ok, why) = runStudy(*w, 180000);
    QVERIFY2(ok, qPrintable(why));
    QCOMPARE(view->table()->rowCount(), 2);
    QCOMPARE(
        qobject_cast<QAbstractBarSeries*>(view->recallView()->chart()->series().value(0))->count(),
        2);
    QVERIFY2(view->captionText().contains(QStringLiteral("cnn")), qPrintable(view->captionText()));
    QCOMPARE(view->sampleMethods(), QStringList{QStringLiteral("smote")});
    QVERIFY(view->showsSamples());

    // A new window shows the latest finished lab again.
    w.reset();
    w = std::make_unique<MainWindow>(&m_vulkan, ws.path().toStdString());
    w->show();
    w->setMode(MainWindow::Mode::Classify);
    QCOMPARE(w->classifyPanel()->study(), StudyKind::Rebalance);  // remembered
    QVERIFY(w->classifyView()->rebalanceView()->hasResult());
    QCOMPARE(w->classifyView()->rebalanceView()->table()->rowCount(), 2);
}

QTEST_MAIN(ClassifyGuiTest)
#include "test_classify.moc"
