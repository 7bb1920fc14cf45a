#include "inspect/inspectpanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "common/notelabel.h"
#include "eval/extractor.h"
#include "inspect/evaluationjob.h"
#include "models/catalog.h"
#include "run/runfolder.h"
#include "train/extractortraining.h"

namespace ll::widgets {

namespace {

QString metricHelp(const std::string& name) {
    if (name == "classes")
        return InspectPanel::tr("Histogram of the classes the classifier sees in the samples");
    return QString::fromStdString(ll::scoreHelp(name == "neighbours" ? "nn_distance" : name));
}

}  // namespace

InspectPanel::InspectPanel(std::filesystem::path workspace, QWidget* parent)
    : QWidget(parent), m_workspace(std::move(workspace)), m_job(new EvaluationJob(this)) {
    m_run = new QLabel(tr("Select a generator run in the runs browser to inspect it."));
    m_run->setWordWrap(true);
    m_run->setObjectName(QStringLiteral("inspectRun"));

    auto* extractorBox = new QGroupBox(tr("Feature space"));
    m_extractor = new QLabel;
    m_extractor->setWordWrap(true);
    m_extractor->setObjectName(QStringLiteral("extractorStatus"));
    m_extractor->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_trainExtractor = new QPushButton(tr("Train feature extractor"));
    m_trainExtractor->setObjectName(QStringLiteral("trainExtractorButton"));
    m_trainExtractor->setToolTip(
        tr("Trains a clean classifier on this run's data (3,000 steps, seed 1, 2 threads: "
           "reproducible bit for bit) and keeps it in the workspace's extractors folder"));
    m_space = new QComboBox;
    m_space->setObjectName(QStringLiteral("featureSpaceCombo"));
    m_space->addItem(tr("Classifier features"), false);
    m_space->addItem(tr("Raw pixels"), true);
    auto* extractorLayout = new QVBoxLayout(extractorBox);
    extractorLayout->addWidget(m_extractor);
    extractorLayout->addWidget(m_trainExtractor);
    extractorLayout->addWidget(m_space);

    auto* protocolBox = new QGroupBox(tr("Protocol"));
    m_count = new QSpinBox;
    m_count->setObjectName(QStringLiteral("evalCountSpin"));
    m_count->setRange(50, 100'000);
    m_count->setSingleStep(500);
    m_count->setValue(2000);
    m_count->setToolTip(tr("Generated samples; as many real held-out images are compared"));
    m_seed = new QSpinBox;
    m_seed->setRange(0, 2'000'000'000);
    m_checkpoint = new QComboBox;
    m_checkpoint->setObjectName(QStringLiteral("checkpointCombo"));
    m_heldOut = new QLineEdit;
    m_heldOut->setObjectName(QStringLiteral("heldOutEdit"));
    m_heldOut->setPlaceholderText(tr("own test split, if any"));
    m_heldOut->setClearButtonEnabled(true);
    m_heldOut->setToolTip(
        tr("Real data training did not see, to score against (the reference, ct and tstr): a "
           "test file or folder like the run's data, read as it was. Empty: the data's own test "
           "split, else half of the training data (and no ct)"));
    m_browseHeldOut = new QPushButton(tr("…"));
    m_browseHeldOut->setObjectName(QStringLiteral("heldOutBrowse"));
    m_browseHeldOut->setToolTip(tr("Choose held-out data"));
    m_browseHeldOut->setMaximumWidth(
        m_browseHeldOut->fontMetrics().horizontalAdvance(m_browseHeldOut->text()) + 24);
    auto* heldOutRow = new QHBoxLayout;
    heldOutRow->addWidget(m_heldOut, 1);
    heldOutRow->addWidget(m_browseHeldOut);
    auto* form = new QFormLayout(protocolBox);
    form->addRow(tr("Samples"), m_count);
    form->addRow(tr("Seed"), m_seed);
    form->addRow(tr("Checkpoint"), m_checkpoint);
    form->addRow(tr("Held out"), heldOutRow);
    auto* metricGrid = new QGridLayout;
    const auto defaults = ll::defaultEvalMetrics();
    int i = 0;
    for (const auto& name : ll::evalMetricNames()) {
        auto* box = new QCheckBox(QString::fromStdString(name));
        box->setObjectName(QStringLiteral("metric_") + QString::fromStdString(name));
        box->setChecked(std::find(defaults.begin(), defaults.end(), name) != defaults.end());
        box->setToolTip(metricHelp(name));
        metricGrid->addWidget(box, i / 3, i % 3);
        m_metrics[name] = box;
        ++i;
    }
    form->addRow(metricGrid);

    m_evaluate = new QPushButton(tr("Evaluate"));
    m_evaluate->setObjectName(QStringLiteral("evaluateButton"));
    m_evaluateAll = new QPushButton(tr("Every checkpoint"));
    m_evaluateAll->setObjectName(QStringLiteral("evaluateAllButton"));
    m_evaluateAll->setToolTip(tr("Evaluate each saved checkpoint: metrics over training steps"));
    m_sweep = new QLineEdit(QStringLiteral("0, 0.5, 1, 2, 3, 5"));
    m_sweep->setObjectName(QStringLiteral("sweepEdit"));
    m_sweep->setToolTip(tr("Classifier-free guidance weights to evaluate"));
    m_sweepButton = new QPushButton(tr("Guidance sweep"));
    m_sweepButton->setObjectName(QStringLiteral("sweepButton"));
    m_sweepButton->setToolTip(
        tr("FID, precision, recall and agreement at each weight: the fidelity-diversity curve"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_evaluate);
    buttons->addWidget(m_evaluateAll);
    auto* sweepRow = new QHBoxLayout;
    sweepRow->addWidget(m_sweep, 1);
    sweepRow->addWidget(m_sweepButton);

    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("evalProgress"));
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    m_stage = noteLabel();
    m_stage->setObjectName(QStringLiteral("evalStage"));
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->setObjectName(QStringLiteral("evalCancelButton"));
    auto* progressRow = new QHBoxLayout;
    progressRow->addWidget(m_progress, 1);
    progressRow->addWidget(m_cancel);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_run);
    layout->addWidget(extractorBox);
    layout->addWidget(protocolBox);
    layout->addLayout(buttons);
    layout->addLayout(sweepRow);
    layout->addLayout(progressRow);
    layout->addWidget(m_stage);
    layout->addStretch(1);

    connect(m_evaluate, &QPushButton::clicked, this, &InspectPanel::evaluate);
    connect(m_evaluateAll, &QPushButton::clicked, this, &InspectPanel::evaluateAllCheckpoints);
    connect(m_sweepButton, &QPushButton::clicked, this, &InspectPanel::sweepGuidance);
    connect(m_trainExtractor, &QPushButton::clicked, this, &InspectPanel::trainExtractor);
    connect(m_browseHeldOut, &QPushButton::clicked, this, &InspectPanel::browseHeldOut);
    connect(m_cancel, &QPushButton::clicked, this, &InspectPanel::cancel);
    connect(m_space, &QComboBox::currentIndexChanged, this, [this] { setBusy(isBusy()); });
    connect(m_job, &EvaluationJob::progress, this, [this](const QString& stage, double f) {
        m_progress->setValue(static_cast<int>(f * 1000));
        m_stage->setText(stage);
    });
    connect(m_job, &EvaluationJob::recordWritten, this,
            [this](const QString& file) { Q_EMIT recordsChanged(m_runDir, file); });
    connect(m_job, &EvaluationJob::extractorReady, this, [this](const QString& dir) {
        refreshExtractor();
        Q_EMIT message(tr("Feature extractor ready: %1").arg(dir));
    });
    connect(m_job, &EvaluationJob::finished, this, [this](bool ok, const QString& why) {
        setBusy(false);
        m_progress->setValue(ok ? 1000 : 0);
        m_stage->setText(ok ? tr("Done.") : why);
        if (!ok) Q_EMIT message(why);
    });
    setRun({});
}

bool InspectPanel::isBusy() const {
    return m_job->isRunning();
}

void InspectPanel::setRun(const QString& runDir) {
    if (runDir != m_runDir) m_heldOut->clear();  // another run's data
    m_runDir = runDir;
    m_checkpoint->clear();
    m_dataset.clear();
    m_diffusion = false;
    m_tabular = false;
    const std::filesystem::path run = runDir.toStdString();
    auto config =
        runDir.isEmpty() ? ll::Result<ll::TrainConfig>(ll::fail("no run")) : ll::readRunConfig(run);
    auto data =
        runDir.isEmpty() ? ll::Result<ll::RunData>(ll::fail("no run")) : ll::readRunData(run);
    const ll::ModelInfo* model = config ? ll::findModel(config->model) : nullptr;
    if (!config || !data || !model || !model->generates) {
        m_runDir.clear();
        m_run->setText(
            config && model && !model->generates
                ? tr("%1 is a %2 run: it has no samples to inspect. Select a "
                     "generator run.")
                      .arg(QFileInfo(runDir).fileName(), QString::fromStdString(config->model))
                : tr("Select a generator run in the runs browser to inspect it."));
    } else {
        m_dataset = data->datasetName;
        m_diffusion = ll::modelInfo(config->model).guidance;
        m_tabular = data->shape.tabular();
        m_run->setText(tr("<b>%1</b><br>%2 on %3")
                           .arg(QFileInfo(runDir).fileName().toHtmlEscaped(),
                                QString::fromStdString(config->model),
                                QString::fromStdString(m_dataset).toHtmlEscaped()));
        m_checkpoint->addItem(tr("latest"), QVariant());
        const auto steps = ll::listCheckpoints(run);
        for (auto it = steps.rbegin(); it != steps.rend(); ++it)
            m_checkpoint->addItem(tr("step %1").arg(*it), QVariant::fromValue<qlonglong>(*it));
    }
    refreshExtractor();
    setBusy(isBusy());
    Q_EMIT recordsChanged(m_runDir, {});
}

void InspectPanel::refreshExtractor() {
    m_haveExtractor = false;
    if (m_dataset.empty()) {
        m_extractor->setText({});
        m_trainExtractor->setVisible(false);
        showClassifierMetrics();
        return;
    }
    auto found = ll::findExtractor(m_dataset, m_workspace);
    m_haveExtractor = found.has_value();
    if (found) {
        m_extractor->setText(
            tr("Classifier features of %1 (%2): %3 accuracy %4%, %5 steps, seed %6, SHA-256 "
               "%7…")
                .arg(found->shipped ? tr("the shipped extractor") : tr("your extractor"),
                     QString::fromStdString(found->dataset),
                     QString::fromStdString(found->accuracySplit))
                .arg(found->accuracy * 100, 0, 'f', 1)
                .arg(found->steps)
                .arg(found->seed)
                .arg(QString::fromStdString(found->sha256.substr(0, 12))));
        m_extractor->setToolTip(
            QString::fromStdString(found->dir.string() + "\nRetrain: " + found->command));
    } else {
        m_extractor->setText(tr("No feature extractor for %1 yet: train one (a few minutes on a "
                                "CPU), or score in raw pixels.")
                                 .arg(QString::fromStdString(m_dataset)));
        m_extractor->setToolTip(QString::fromStdString(found.error().message));
        m_space->setCurrentIndex(1);
    }
    m_trainExtractor->setVisible(!found);
    showClassifierMetrics();
}

// Without an extractor there is no classifier to read: its metrics are off, not refused.
void InspectPanel::showClassifierMetrics() {
    for (const auto& [name, box] : m_metrics)
        if (ll::metricNeedsClassifier(name)) {
            box->setEnabled(m_haveExtractor);
            box->setToolTip(m_haveExtractor
                                ? metricHelp(name)
                                : metricHelp(name) + tr("\nNeeds a feature extractor of this "
                                                        "data (a classifier): train one above"));
        }
}

void InspectPanel::setBusy(bool busy) {
    const bool run = !m_runDir.isEmpty();
    const bool space = m_haveExtractor || m_space->currentData().toBool();
    m_evaluate->setEnabled(!busy && run && space);
    m_evaluateAll->setEnabled(!busy && run && space);
    m_sweepButton->setEnabled(!busy && run && space && m_diffusion);
    m_sweep->setEnabled(m_diffusion);  // guidance weights mean nothing to other models
    m_sweepButton->setToolTip(!m_diffusion ? tr("Guidance weights apply to diffusion runs")
                              : m_haveExtractor
                                  ? tr("FID, precision, recall and agreement at each weight: "
                                       "the fidelity-diversity curve")
                                  : tr("FID, precision and recall at each weight (agreement "
                                       "needs a feature extractor): the fidelity-diversity "
                                       "curve"));
    m_trainExtractor->setEnabled(!busy && run);
    m_cancel->setEnabled(busy);
}

ll::EvalOptions InspectPanel::options() const {
    ll::EvalOptions o;
    for (const auto& [name, box] : m_metrics)
        if (box->isChecked() && (m_haveExtractor || !ll::metricNeedsClassifier(name)))
            o.metrics.push_back(name);
    // Keep evalMetricNames' order, whatever the map's.
    std::vector<std::string> ordered;
    for (const auto& name : ll::evalMetricNames())
        if (std::find(o.metrics.begin(), o.metrics.end(), name) != o.metrics.end())
            ordered.push_back(name);
    o.metrics = ordered;
    o.count = m_count->value();
    o.request.seed = static_cast<std::uint64_t>(m_seed->value());
    o.pixels = m_space->currentData().toBool();
    o.workspace = m_workspace;
    if (const QString held = m_heldOut->text().trimmed(); !held.isEmpty())
        o.heldOut = {.source = ll::absoluteSource(held.toStdString())};
    return o;
}

void InspectPanel::browseHeldOut() {
    const QString chosen =
        m_tabular ? QFileDialog::getOpenFileName(
                        this, tr("Held-out rows"), m_heldOut->text(),
                        tr("Tables (*.csv *.tsv *.txt *.data *.dat);;All files (*)"))
                  : QFileDialog::getExistingDirectory(
                        this, tr("Held-out images (one sub-folder per class, or IDX files)"),
                        m_heldOut->text());
    if (!chosen.isEmpty()) m_heldOut->setText(chosen);
}

void InspectPanel::evaluate() {
    if (m_runDir.isEmpty() || isBusy()) return;
    auto o = options();
    if (o.metrics.empty()) {
        Q_EMIT message(tr("Tick at least one metric."));
        return;
    }
    std::optional<std::int64_t> step;
    if (const QVariant v = m_checkpoint->currentData(); v.isValid()) step = v.toLongLong();
    if (m_job->evaluate(m_runDir, {step}, {o.request.guidance}, o)) setBusy(true);
}

void InspectPanel::evaluateAllCheckpoints() {
    if (m_runDir.isEmpty() || isBusy()) return;
    std::vector<std::optional<std::int64_t>> steps;
    for (auto s : ll::listCheckpoints(m_runDir.toStdString())) steps.emplace_back(s);
    if (steps.empty()) {
        Q_EMIT message(tr("The run has no checkpoints."));
        return;
    }
    const auto o = options();
    if (o.metrics.empty()) {
        Q_EMIT message(tr("Tick at least one metric."));
        return;
    }
    if (m_job->evaluate(m_runDir, steps, {0.0}, o)) setBusy(true);
}

std::vector<double> InspectPanel::sweepWeights() const {
    std::vector<double> weights;
    for (const QString& part : m_sweep->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const double w = part.trimmed().toDouble(&ok);
        if (!ok || w < 0 || w > 100) return {};
        weights.push_back(w);
    }
    return weights;
}

void InspectPanel::sweepGuidance() {
    if (m_runDir.isEmpty() || isBusy()) return;
    const auto weights = sweepWeights();
    if (weights.empty()) {
        Q_EMIT message(tr("Guidance weights: a comma list of numbers in 0..100, e.g. 0, 1, 3"));
        return;
    }
    auto o = options();
    o.metrics = {"fid", "precision", "recall"};
    if (m_haveExtractor) o.metrics.push_back("agreement");
    std::optional<std::int64_t> step;
    if (const QVariant v = m_checkpoint->currentData(); v.isValid()) step = v.toLongLong();
    if (m_job->evaluate(m_runDir, {step}, weights, o)) setBusy(true);
}

void InspectPanel::trainExtractor() {
    if (m_runDir.isEmpty() || isBusy()) return;
    auto config = ll::readRunConfig(m_runDir.toStdString());
    if (!config) {
        Q_EMIT message(QString::fromStdString(config.error().message));
        return;
    }
    ll::ExtractorTraining t{.dataset = config->dataset,
                            .out = ll::workspaceExtractorDir(m_workspace, m_dataset)};
    t.dataset.limit = 0;  // the whole data, not the run's subset
    t.dataset.longTailRatio = 1.0;
    if (m_job->trainExtractor(t)) setBusy(true);
}

void InspectPanel::cancel() {
    m_job->cancel();
    m_stage->setText(tr("Cancelling…"));
}

}  // namespace ll::widgets
