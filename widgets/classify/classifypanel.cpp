#include "classify/classifypanel.h"

#include <algorithm>

#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>

#include "classify/classifyjob.h"
#include "classify/classifyview.h"
#include "classify/curveform.h"
#include "classify/curveview.h"
#include "classify/diffusionform.h"
#include "classify/diffusionview.h"
#include "classify/oneclassform.h"
#include "classify/oneclassrecord.h"
#include "classify/oneclassview.h"
#include "classify/rebalanceform.h"
#include "classify/rebalanceview.h"
#include "classify/studypage.h"
#include "common/notelabel.h"
#include "run/runfolder.h"

namespace ll::widgets {

namespace {

QString timeLeft(double seconds) {
    if (seconds < 90) return ClassifyPanel::tr("about %1 s left").arg(std::max(1, int(seconds)));
    if (seconds < 5400) return ClassifyPanel::tr("about %1 min left").arg(int(seconds / 60 + 0.5));
    return ClassifyPanel::tr("about %1 h left").arg(seconds / 3600, 0, 'f', 1);
}

// Where a user goes with a run the diffusion classifier refuses.
QString otherStudies() {
    return ClassifyPanel::tr(
               "Or choose another study in the panel's menu: “%1”, “%2” "
               "and “%3” run on the dataset and need no diffusion run.")
        .arg(studyTitle(StudyKind::LearningCurve), studyTitle(StudyKind::OneClass),
             studyTitle(StudyKind::Rebalance));
}

}  // namespace

ClassifyPanel::ClassifyPanel(std::filesystem::path workspace, ClassifyView* view, QWidget* parent)
    : QWidget(parent),
      m_workspace(std::move(workspace)),
      m_view(view),
      m_job(new ClassifyJob(this)) {
    m_study = new QComboBox;
    m_study->setObjectName(QStringLiteral("classifyStudy"));
    m_study->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_study->setMinimumContentsLength(16);
    for (auto kind : kStudyKinds) m_study->addItem(studyTitle(kind), int(kind));
    m_diffusion = new DiffusionForm;
    m_curve = new CurveForm;
    m_oneClass = new OneClassForm;
    m_rebalance = new RebalanceForm;
    // The pages in a plain layout, one shown at a time: unlike a stacked widget, a layout
    // asks a page its height for the dock's width (their notes wrap).
    m_pages = new QWidget;
    auto* pages = new QVBoxLayout(m_pages);
    pages->setContentsMargins(0, 0, 0, 0);
    for (QWidget* page : pageForms()) pages->addWidget(page);

    m_folder = noteLabel();
    m_folder->setObjectName(QStringLiteral("classifyFolder"));
    m_folder->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_folder->setTextFormat(Qt::PlainText);
    m_reason = noteLabel();
    m_reason->setObjectName(QStringLiteral("classifyReason"));
    m_reason->setTextFormat(Qt::PlainText);
    m_start = new QPushButton(tr("Start"));
    m_start->setObjectName(QStringLiteral("classifyStart"));
    m_start->setDefault(true);
    m_resume = new QPushButton(tr("Resume"));
    m_resume->setObjectName(QStringLiteral("classifyResume"));
    m_resume->setToolTip(
        tr("Continues the interrupted study from its finished parts (with the "
           "same options; other options start it over)"));
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->setObjectName(QStringLiteral("classifyCancel"));
    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(m_resume);
    buttons->addWidget(m_start);
    buttons->addWidget(m_cancel);
    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("classifyProgress"));
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    m_stage = noteLabel();
    m_stage->setObjectName(QStringLiteral("classifyStage"));
    m_message = new QLabel;
    m_message->setObjectName(QStringLiteral("classifyMessage"));
    m_message->setWordWrap(true);
    m_message->setTextFormat(Qt::PlainText);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_study);
    layout->addWidget(m_pages);
    layout->addWidget(m_folder);
    layout->addWidget(m_reason);
    layout->addLayout(buttons);
    layout->addWidget(m_progress);
    layout->addWidget(m_stage);
    layout->addWidget(m_message);
    layout->addStretch(1);

    connect(m_study, &QComboBox::currentIndexChanged, this, [this] { showPage(); });
    connect(m_start, &QPushButton::clicked, this, &ClassifyPanel::start);
    connect(m_resume, &QPushButton::clicked, this, &ClassifyPanel::resume);
    connect(m_cancel, &QPushButton::clicked, this, &ClassifyPanel::cancel);
    connect(m_job, &ClassifyJob::progress, this, &ClassifyPanel::onProgress);
    connect(m_job, &ClassifyJob::finished, this, &ClassifyPanel::onFinished);
    connect(m_job, &ClassifyJob::runOpened, this, &ClassifyPanel::onRunOpened);
    connect(m_job, &ClassifyJob::classified, this, [this](const ll::DiffusionClassifyResult& r) {
        // The run and images it was started on, whatever the browser shows now.
        m_diffusionResultRun = m_runningRun;
        m_diffusionData = m_runningData;
        showDiffusionResult(r);
    });
    connect(m_job, &ClassifyJob::curveReady, this, [this](const ll::LearningCurveResult& r) {
        m_view->curveView()->setResult(r, QString::fromStdString(r.json.parent_path().string()));
    });
    connect(m_job, &ClassifyJob::oneClassReady, this,
            [this](const ll::OneClassResult& r) { m_view->oneClassView()->setResult(r); });
    connect(m_job, &ClassifyJob::rebalanceReady, this, [this](const ll::RebalanceResult& r) {
        m_view->rebalanceView()->setResult(r,
                                           QString::fromStdString(r.json.parent_path().string()));
    });
    auto* diffusionView = m_view->diffusionView();
    connect(diffusionView, &DiffusionView::imageClicked, this, &ClassifyPanel::explainImage);
    connect(m_job, &ClassifyJob::imagesReady, diffusionView, &DiffusionView::setImages);
    connect(m_job, &ClassifyJob::imagesFailed, this, [diffusionView](const QString& why) {
        diffusionView->setExplainMessage(tr("No pictures of the images: %1").arg(why));
    });
    connect(m_job, &ClassifyJob::explained, diffusionView, &DiffusionView::setExplanation);
    connect(m_job, &ClassifyJob::explainFailed, this, [diffusionView](const QString& why) {
        diffusionView->setExplainMessage(tr("Could not explain it: %1").arg(why));
    });
    connect(m_diffusion, &DiffusionForm::changed, this, &ClassifyPanel::updateButtons);

    restoreSettings();
    setRun({});
    setDataset({}, std::nullopt);
    showPage();
    showLatest();
}

void ClassifyPanel::showPage() {
    const auto forms = pageForms();
    for (std::size_t i = 0; i < forms.size(); ++i) forms[i]->setVisible(kStudyKinds[i] == study());
    if (!isBusy()) {  // the last study's end belongs to its page
        m_progress->setValue(0);
        m_stage->clear();
        m_message->clear();
    }
    m_view->showStudy(study());
    updateButtons();
}

std::vector<QWidget*> ClassifyPanel::pageForms() const {
    return {m_diffusion, m_curve, m_oneClass, m_rebalance};
}

ClassifyPanel::~ClassifyPanel() {
    saveSettings();
}

StudyKind ClassifyPanel::study() const {
    return StudyKind(std::max(0, m_study->currentData().toInt()));
}

void ClassifyPanel::setStudy(StudyKind kind) {
    m_study->setCurrentIndex(m_study->findData(int(kind)));
}

bool ClassifyPanel::isBusy() const {
    return m_job->isRunning();
}

void ClassifyPanel::setRun(const QString& runDir) {
    if (runDir == m_runDir && !runDir.isEmpty()) return updateButtons();
    m_runDir = runDir;
    auto* view = m_view->diffusionView();
    if (runDir.isEmpty()) {
        m_refusal.clear();
        m_diffusion->setRun({}, {});
        m_rebalance->setRun({}, {});
        m_diffusion->setRefusal({});
        if (m_diffusionResultRun.isEmpty())
            view->setMessage(tr("Select a ddpm or latent-ddpm run in the runs browser."));
        return updateButtons();
    }
    QString description = QStringLiteral("<b>%1</b>").arg(QFileInfo(runDir).fileName());
    QString model;
    if (auto info = ll::readRunInfo(runDir.toStdString())) {
        model = QString::fromStdString(info->model);
        description += tr("<br>%1 on %2, step %3")
                           .arg(model, QString::fromStdString(info->dataset))
                           .arg(info->step);
    }
    m_diffusion->setRun(runDir, description);
    m_rebalance->setRun(runDir, model);
    // Core says whether the run classifies: opening it is the question.
    m_refusal = tr("Opening %1…").arg(QFileInfo(runDir).fileName());
    m_diffusion->setRefusal(m_refusal);
    m_job->openRun(runDir);
    // The run's latest finished study comes back; another run's result gives way.
    const StudyFolder latest = studyAt(diffusionStudyFolder(runDir));
    auto result = latest.finished ? ll::readDiffusionClassifyResult(latest.path.toStdString())
                                  : ll::Result<ll::DiffusionClassifyResult>(ll::fail(""));
    if (result) {
        m_diffusionResultRun = runDir;
        m_diffusionData = diffusionData();
        showDiffusionResult(*result);
    } else {
        m_diffusionResultRun.clear();
        view->setMessage(result.error().message.empty()
                             ? tr("No diffusion classifier study of %1 yet: press Start.")
                                   .arg(QFileInfo(runDir).fileName())
                             : QString::fromStdString(result.error().message));
    }
    updateButtons();
}

void ClassifyPanel::onRunOpened(const QString& run, const QString& refusal) {
    if (run != m_runDir) return;
    m_refusal = refusal;
    m_diffusion->setRefusal(refusal);
    if (!refusal.isEmpty() && m_diffusionResultRun != run)
        m_view->diffusionView()->setMessage(refusal + QStringLiteral("\n\n") + otherStudies());
    updateButtons();
}

void ClassifyPanel::setDataset(const ll::DatasetSpec& spec,
                               const std::optional<ll::DatasetSummary>& summary) {
    m_spec = spec;
    m_summary = summary;
    QString description;
    if (summary) {
        const bool tabular = summary->modality == ll::Modality::Tabular;
        description = tr("Dataset: <b>%1</b>, %2 %3, %4 classes")
                          .arg(QString::fromStdString(summary->name).toHtmlEscaped())
                          .arg(summary->count)
                          .arg(tabular ? tr("rows") : tr("images"))
                          .arg(summary->classNames.size());
        m_curve->setDataset(description, tabular);
        m_oneClass->setDataset(description, summary->classNames);
        QStringList classes;
        for (const auto& c : summary->classNames) classes << QString::fromStdString(c);
        m_rebalance->setDataset(description, tabular, classes);
        const QString name = QString::fromStdString(summary->name);
        if (!m_view->curveView()->hasResult())
            m_view->curveView()->setMessage(
                tr("Choose the methods and press Start: the study runs on %1.").arg(name));
        if (!m_view->oneClassView()->hasResult())
            m_view->oneClassView()->setMessage(
                tr("Choose the normal class and press Start: the study runs on %1.").arg(name));
        if (!m_view->rebalanceView()->hasResult())
            m_view->rebalanceView()->setMessage(
                tr("Choose the imbalance and the methods and press Start: the lab runs on %1.")
                    .arg(name));
    } else {
        m_curve->setDataset({}, false);
        m_oneClass->setDataset({}, {});
        m_rebalance->setDataset({}, false, {});
    }
    updateButtons();
}

QString ClassifyPanel::whyNot() const {
    if (isBusy()) return tr("A study is running.");
    if (study() == StudyKind::Diffusion) {
        if (m_runDir.isEmpty()) return tr("Select a ddpm or latent-ddpm run in the runs browser.");
        return m_refusal;
    }
    if (!m_summary) return tr("Load a dataset in the Data mode first: the study runs on it.");
    return {};
}

QString ClassifyPanel::resumableFolder() const {
    const StudyFolder s = study() == StudyKind::Diffusion ? studyAt(diffusionStudyFolder(m_runDir))
                                                          : latestStudy(m_workspace, study());
    return s.interrupted ? s.path : QString();
}

void ClassifyPanel::updateButtons() {
    const QString why = whyNot();
    const bool busy = isBusy();
    m_start->setEnabled(why.isEmpty());
    const QString resumable = busy ? QString() : resumableFolder();
    m_resume->setVisible(!resumable.isEmpty());
    m_resume->setEnabled(why.isEmpty());
    m_cancel->setEnabled(busy);
    m_study->setEnabled(true);
    m_start->setToolTip(why);
    // The diffusion page shows core's refusal under the run already.
    const bool said = study() == StudyKind::Diffusion && why == m_refusal;
    m_reason->setText(busy || said ? QString() : why);
    m_reason->setVisible(!busy && !said && !why.isEmpty());
    if (!resumable.isEmpty())
        m_folder->setText(tr("An interrupted study in %1: Resume continues it from its "
                             "finished parts.")
                              .arg(wrappable(resumable)));
    else if (study() == StudyKind::Diffusion)
        m_folder->setText(m_runDir.isEmpty()
                              ? QString()
                              : tr("Results go to the run's folder, in %1.")
                                    .arg(QStringLiteral("studies/diffusion-classifier")));
    else
        m_folder->setText(tr("Results go to the workspace, in %1.")
                              .arg(QStringLiteral("studies/%1-<time>").arg(studyKey(study()))));
}

void ClassifyPanel::setBusy(bool busy) {
    m_diffusion->setEnabled(!busy);
    m_curve->setEnabled(!busy);
    m_rebalance->setEnabled(!busy);
    m_oneClass->setEnabled(!busy);
    updateButtons();
}

void ClassifyPanel::start() {
    startInto(newStudyFolder(m_workspace, study()));
}

void ClassifyPanel::resume() {
    const QString folder = resumableFolder();
    if (!folder.isEmpty()) startInto(folder);
}

void ClassifyPanel::startInto(const QString& out) {
    if (const QString why = whyNot(); !why.isEmpty()) return Q_EMIT message(why);
    const auto fail = [this](const ll::Error& e) {
        m_message->setText(wrappable(QString::fromStdString(e.message)));
        Q_EMIT message(tr("Classify: %1").arg(QString::fromStdString(e.message)));
    };
    const std::filesystem::path folder = out.toStdString();
    bool started = false;
    switch (study()) {
        case StudyKind::Diffusion: {
            auto r = m_diffusion->request(m_runDir, m_workspace);
            if (!r) return fail(r.error());
            m_runningData = r->data;
            m_runningRun = m_runDir;
            started = m_job->classify(*r);
            break;
        }
        case StudyKind::LearningCurve: {
            auto r = m_curve->request(m_spec, m_workspace, folder);
            if (!r) return fail(r.error());
            started = m_job->learningCurve(*r);
            break;
        }
        case StudyKind::OneClass: {
            auto r = m_oneClass->request(m_spec, m_workspace, folder);
            if (!r) return fail(r.error());
            started = m_job->oneClass(*r);
            break;
        }
        case StudyKind::Rebalance: {
            auto r = m_rebalance->request(m_spec, m_workspace, folder);
            if (!r) return fail(r.error());
            started = m_job->rebalance(*r);
            break;
        }
    }
    if (!started) return;
    // A page without a result says what runs; one with a result keeps it until the new one.
    const QString running =
        tr("%1 is running: its result shows here when it is done.").arg(studyTitle(study()));
    if (StudyPage* page = m_view->page(study()); !page->hasResult()) page->setMessage(running);
    saveSettings();
    m_running = study();
    m_clock.start();
    m_message->clear();
    m_progress->setValue(0);
    m_stage->setText(tr("Starting…"));
    setBusy(true);
}

void ClassifyPanel::cancel() {
    m_job->cancel();
    m_stage->setText(tr("Cancelling…"));
}

void ClassifyPanel::onProgress(const QString& stage, double fraction) {
    m_progress->setValue(int(fraction * 1000));
    QString text = QStringLiteral("%1: %2%").arg(stage).arg(int(fraction * 100));
    // Time left from the pace so far, once there is a pace to go by.
    const double elapsed = double(m_clock.elapsed()) / 1000.0;
    if (fraction >= 0.02 && elapsed >= 2)
        text += QStringLiteral(", ") + timeLeft(elapsed * (1 - fraction) / fraction);
    m_stage->setText(text);
}

void ClassifyPanel::onFinished(bool ok, const QString& why) {
    setBusy(false);
    m_progress->setValue(ok ? 1000 : 0);
    if (ok) {
        m_stage->setText(tr("Done in %1 s.").arg(double(m_clock.elapsed()) / 1000.0, 0, 'f', 1));
        Q_EMIT message(tr("%1: done").arg(studyTitle(m_running)));
        return;
    }
    m_stage->clear();
    const bool cancelled = why == QStringLiteral("cancelled");
    m_message->setText(cancelled ? tr("Cancelled. The finished parts are kept: Resume (or Start "
                                      "with the same options) continues.")
                                 : wrappable(why));
    Q_EMIT message(tr("%1: %2").arg(studyTitle(m_running), why));
}

void ClassifyPanel::showDiffusionResult(const ll::DiffusionClassifyResult& result) {
    auto* view = m_view->diffusionView();
    view->setResult(result);
    if (!result.labels.empty() && m_diffusionData)
        m_job->loadImages(*m_diffusionData, result.labels, DiffusionView::kStripImages);
}

std::optional<ll::DatasetSpec> ClassifyPanel::diffusionData() const {
    // result.json does not say which images it classified: the page's split and count on the
    // run's data are what Start would classify again.
    auto r = m_diffusion->request(m_runDir, m_workspace);
    if (!r) return std::nullopt;
    return r->data;
}

void ClassifyPanel::explainImage(int index) {
    auto* view = m_view->diffusionView();
    if (!m_diffusionData) return view->setExplainMessage(tr("Which images these were is unknown."));
    if (!m_job->isOpen() || m_job->openedRun() != m_diffusionResultRun)
        return view->setExplainMessage(
            m_refusal.isEmpty() ? tr("Opening the run to explain its choices…") : m_refusal);
    auto options = m_diffusion->options();
    ll::DiffusionClassifierOptions o = options ? *options : ll::DiffusionClassifierOptions{};
    o.stages.clear();  // an explanation sees every class at every pair
    o.keep.clear();
    view->setExplainMessage(tr("Explaining image %1: %2 classes at %3 timesteps…")
                                .arg(index)
                                .arg(view->result().classes.size())
                                .arg(o.timesteps));
    m_job->explain(*m_diffusionData, index, o);
}

void ClassifyPanel::showLatest() {
    auto* curveView = m_view->curveView();
    if (const StudyFolder s = latestStudy(m_workspace, StudyKind::LearningCurve, true);
        s.finished) {
        auto r =
            ll::readLearningCurve((std::filesystem::path(s.path.toStdString()) / "result.json"));
        if (r)
            curveView->setResult(*r, s.path);
        else
            curveView->setMessage(QString::fromStdString(r.error().message));
    }
    if (const StudyFolder s = latestStudy(m_workspace, StudyKind::OneClass, true); s.finished) {
        auto r = readOneClassResult(s.path);
        if (r)
            m_view->oneClassView()->setResult(*r);
        else
            m_view->oneClassView()->setMessage(QString::fromStdString(r.error().message));
    }
    if (const StudyFolder s = latestStudy(m_workspace, StudyKind::Rebalance, true); s.finished) {
        auto r = ll::readRebalance(std::filesystem::path(s.path.toStdString()) / "result.json");
        if (r)
            m_view->rebalanceView()->setResult(*r, s.path);
        else
            m_view->rebalanceView()->setMessage(QString::fromStdString(r.error().message));
    }
    updateButtons();
}

void ClassifyPanel::saveSettings() const {
    QSettings s;
    s.setValue(QStringLiteral("classify/study"), int(study()));
    m_diffusion->save(s);
    m_curve->save(s);
    m_oneClass->save(s);
    m_rebalance->save(s);
}

void ClassifyPanel::restoreSettings() {
    QSettings s;
    m_diffusion->restore(s);
    m_curve->restore(s);
    m_oneClass->restore(s);
    m_rebalance->restore(s);
    const int last = int(std::size(kStudyKinds)) - 1;
    setStudy(StudyKind(std::clamp(s.value(QStringLiteral("classify/study"), 0).toInt(), 0, last)));
}

}  // namespace ll::widgets
