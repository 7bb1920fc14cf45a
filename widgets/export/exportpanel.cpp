#include "export/exportpanel.h"

#include <algorithm>

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QTimer>
#include <QVBoxLayout>

#include "common/notelabel.h"
#include "export/exportjob.h"
#include "export/exportsettings.h"
#include "export/exportview.h"
#include "models/catalog.h"
#include "run/runfolder.h"

namespace ll::widgets {

namespace {

constexpr int kPreviewColumns = 8;
constexpr int kPreviewRows = 10;  // previewExport shows at most 10 classes

bool nonEmptyFolder(const QString& path) {
    const QFileInfo info(path);
    return info.isDir() && !QDir(path).isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot |
                                               QDir::Hidden | QDir::System);
}

QString defaultFolder(const std::filesystem::path& workspace) {
    return QDir(QString::fromStdString(workspace.string())).filePath(QStringLiteral("exports"));
}

}  // namespace

ExportPanel::ExportPanel(std::filesystem::path workspace, ExportView* view, QWidget* parent)
    : QWidget(parent), m_workspace(std::move(workspace)), m_view(view), m_job(new ExportJob(this)) {
    m_askReplace = [this](const QString& path) {
        return QMessageBox::question(
                   this, tr("Replace %1?").arg(QFileInfo(path).fileName()),
                   tr("%1 is not empty. Replace what it holds with this export?").arg(path),
                   QMessageBox::Yes | QMessageBox::No, QMessageBox::No) == QMessageBox::Yes;
    };
    m_settings = new ExportSettings(m_workspace);
    m_reportBox = new QGroupBox(tr("Report"));
    m_reportPdf = new QCheckBox(tr("A PDF beside the HTML"));
    m_reportPdf->setObjectName(QStringLiteral("exportReportPdf"));
    m_reportPdf->setChecked(true);
    m_reportStudies = new QCheckBox(
        tr("The workspace's latest studies (imbalance lab, learning curve, one-class)"));
    m_reportStudies->setObjectName(QStringLiteral("exportReportStudies"));
    m_reportStudies->setToolTip(
        tr("The newest finished study of each kind in the workspace's studies folder, a section "
           "each after the run"));
    m_reportStudies->setChecked(true);
    auto* reportLayout = new QVBoxLayout(m_reportBox);
    auto* reportNote = noteLabel();
    reportNote->setText(
        tr("One self-contained HTML file (no script, opens offline) with the "
           "run's settings, loss curves, samples and metrics."));
    reportLayout->addWidget(reportNote);
    reportLayout->addWidget(m_reportPdf);
    reportLayout->addWidget(m_reportStudies);

    m_preview = new QPushButton(tr("Preview"));
    m_preview->setObjectName(QStringLiteral("exportPreviewButton"));
    m_preview->setToolTip(tr("Draws the first samples again in the centre"));
    m_export = new QPushButton(tr("Export"));
    m_export->setObjectName(QStringLiteral("exportButton"));
    m_export->setDefault(true);
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->setObjectName(QStringLiteral("exportCancelButton"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_preview);
    buttons->addStretch(1);
    buttons->addWidget(m_export);
    buttons->addWidget(m_cancel);
    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("exportProgress"));
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    m_stage = noteLabel();
    m_stage->setObjectName(QStringLiteral("exportStage"));
    m_result = new QLabel;
    m_result->setObjectName(QStringLiteral("exportResultLabel"));
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(runBox());
    layout->addWidget(m_settings);
    layout->addWidget(m_reportBox);
    layout->addWidget(outputBox());
    layout->addLayout(buttons);
    layout->addWidget(m_progress);
    layout->addWidget(m_stage);
    layout->addWidget(m_result);
    layout->addStretch(1);

    m_previewTimer = new QTimer(this);
    m_previewTimer->setSingleShot(true);
    m_previewTimer->setInterval(400);  // settle: a spin box held down asks once
    connect(m_previewTimer, &QTimer::timeout, this, &ExportPanel::refreshPreview);
    connect(m_settings, &ExportSettings::changed, this, &ExportPanel::schedulePreview);
    connect(m_checkpoint, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_pathEdited) m_path->setText(defaultPath());
        schedulePreview();
    });
    connect(m_what, &QButtonGroup::idClicked, this, [this] {
        m_pathEdited = false;
        m_path->setText(defaultPath());
        showControls();
        schedulePreview();
    });
    connect(m_reportPdf, &QCheckBox::toggled, this, &ExportPanel::schedulePreview);
    connect(m_reportStudies, &QCheckBox::toggled, this, &ExportPanel::schedulePreview);
    connect(m_preview, &QPushButton::clicked, this, &ExportPanel::refreshPreview);
    connect(m_export, &QPushButton::clicked, this, &ExportPanel::startExport);
    connect(m_cancel, &QPushButton::clicked, this, &ExportPanel::cancel);

    connect(m_job, &ExportJob::progress, this, [this](const QString& stage, double f) {
        m_progress->setValue(static_cast<int>(f * 1000));
        m_stage->setText(stage);
    });
    connect(m_job, &ExportJob::exported, this, &ExportPanel::onExported);
    connect(
        m_job, &ExportJob::weightsExported, this,
        [this](const QString& file, const ll::WeightsExported& info) {
            m_result->setText(
                tr("Wrote %1 tensors of step %2 to %3").arg(info.tensors).arg(info.step).arg(file));
            m_view->showResult(
                tr("# Weights\n\n- File: `%1`\n- Checkpoint: step %2 (SHA-256 `%3`)\n- "
                   "Tensors: %4\n\nsafetensors: any reader loads them; `latentlab-cli "
                   "import-weights` makes a run of them again.")
                    .arg(file)
                    .arg(info.step)
                    .arg(QString::fromStdString(info.checkpointSha256))
                    .arg(info.tensors),
                QFileInfo(file).absolutePath());
        });
    connect(m_job, &ExportJob::reportWritten, this, [this](const ll::report::ReportFiles& files) {
        const QString html = QString::fromStdString(files.html.string());
        QString text = tr("# Report\n\n- HTML: `%1` (%2 kB)\n")
                           .arg(html)
                           .arg(double(files.htmlBytes) / 1024.0, 0, 'f', 0);
        if (!files.pdf.empty())
            text += tr("- PDF: `%1` (%2 pages)\n")
                        .arg(QString::fromStdString(files.pdf.string()))
                        .arg(files.pdfPages);
        m_result->setText(tr("Wrote the report %1").arg(html));
        m_view->showResult(text, QFileInfo(html).absolutePath());
    });
    connect(m_job, &ExportJob::finished, this, [this](bool ok, const QString& why) {
        setBusy(false);
        m_progress->setValue(ok ? 1000 : 0);
        m_stage->setText(ok ? tr("Done.") : why);
        if (!ok) Q_EMIT message(tr("Export: %1").arg(why));
    });
    connect(m_job, &ExportJob::previewReady, this, [this](const ll::ExportPreview& p) {
        ll::ExportRequest r;
        m_settings->fill(r);
        m_view->setPreview(p, r.minConfidence);
    });
    connect(m_job, &ExportJob::previewFailed, this,
            [this](const QString& why) { m_view->setMessage(tr("No preview: %1").arg(why)); });

    restoreSettings();
    setRun({});
}

ExportPanel::~ExportPanel() {
    saveSettings();
}

QGroupBox* ExportPanel::runBox() {
    auto* box = new QGroupBox(tr("From"));
    m_run = new QLabel;
    m_run->setObjectName(QStringLiteral("exportRun"));
    m_run->setWordWrap(true);
    m_checkpoint = new QComboBox;
    m_checkpoint->setObjectName(QStringLiteral("exportCheckpoint"));
    m_checkpoint->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_what = new QButtonGroup(this);
    auto* whatRow = new QHBoxLayout;
    const std::pair<const char*, QString> kinds[] = {{"exportWhatDataset", tr("Dataset")},
                                                     {"exportWhatWeights", tr("Weights")},
                                                     {"exportWhatReport", tr("Report")}};
    int id = 0;
    for (const auto& [name, text] : kinds) {
        auto* radio = new QRadioButton(text);
        radio->setObjectName(QLatin1String(name));
        m_what->addButton(radio, id++);
        whatRow->addWidget(radio);
    }
    m_what->button(0)->setToolTip(
        tr("Synthetic samples with labels, a manifest of their "
           "provenance and a dataset card"));
    m_what->button(1)->setToolTip(tr("The checkpoint's weights as a safetensors file"));
    m_what->button(2)->setToolTip(tr("The run as a report: HTML and PDF"));
    m_what->button(0)->setChecked(true);
    auto* form = new QFormLayout(box);
    form->addRow(m_run);
    form->addRow(tr("Checkpoint"), m_checkpoint);
    form->addRow(whatRow);
    return box;
}

QGroupBox* ExportPanel::outputBox() {
    auto* box = new QGroupBox(tr("Where"));
    m_pathLabel = new QLabel;
    m_path = new QLineEdit;
    m_path->setObjectName(QStringLiteral("exportPath"));
    m_browse = new QPushButton(tr("Browse…"));
    m_browse->setObjectName(QStringLiteral("exportBrowse"));
    auto* row = new QHBoxLayout;
    row->addWidget(m_path, 1);
    row->addWidget(m_browse);
    auto* form = new QFormLayout(box);
    form->addRow(m_pathLabel, row);
    connect(m_path, &QLineEdit::textEdited, this, [this] { m_pathEdited = true; });
    connect(m_browse, &QPushButton::clicked, this, [this] {
        const QString current = m_path->text();
        QString chosen;
        if (what() == What::Dataset) {
            chosen = QFileDialog::getExistingDirectory(
                this, tr("Folder to export the dataset into"), QFileInfo(current).absolutePath());
            // An empty folder takes the export; another gets a new folder inside it.
            if (!chosen.isEmpty() && nonEmptyFolder(chosen))
                chosen = QDir(chosen).filePath(QFileInfo(current).fileName());
        } else {
            chosen = QFileDialog::getSaveFileName(
                this, tr("Export to"), current,
                what() == What::Weights ? tr("safetensors (*.safetensors)") : tr("HTML (*.html)"));
        }
        if (chosen.isEmpty()) return;
        m_path->setText(chosen);
        m_pathEdited = true;
    });
    return box;
}

ExportPanel::What ExportPanel::what() const {
    return What(std::max(0, m_what->checkedId()));
}

void ExportPanel::setWhat(What what) {
    m_what->button(int(what))->setChecked(true);
    m_pathEdited = false;
    m_path->setText(defaultPath());
    showControls();
    schedulePreview();
}

QString ExportPanel::outputPath() const {
    return m_path->text();
}

void ExportPanel::setOutputPath(const QString& path) {
    m_path->setText(path);
    m_pathEdited = true;
}

bool ExportPanel::isBusy() const {
    return m_job->isRunning();
}

void ExportPanel::setRun(const QString& runDir) {
    if (runDir == m_runDir && !runDir.isEmpty()) {
        // The same run again (the mode reopens): checkpoints saved since join the list.
        const QVariant chosen = m_checkpoint->currentData();
        QSignalBlocker block(m_checkpoint);
        const auto steps = ll::listCheckpoints(runDir.toStdString());
        while (m_checkpoint->count() > 1) m_checkpoint->removeItem(1);
        for (auto it = steps.rbegin(); it != steps.rend(); ++it)
            m_checkpoint->addItem(tr("step %1").arg(*it), QVariant::fromValue<qlonglong>(*it));
        m_checkpoint->setCurrentIndex(std::max(0, m_checkpoint->findData(chosen)));
        return;
    }
    m_runDir = runDir;
    m_generates = false;
    const std::filesystem::path run = runDir.toStdString();
    auto config =
        runDir.isEmpty() ? ll::Result<ll::TrainConfig>(ll::fail("no run")) : ll::readRunConfig(run);
    auto data =
        runDir.isEmpty() ? ll::Result<ll::RunData>(ll::fail("no run")) : ll::readRunData(run);
    {
        QSignalBlocker block(m_checkpoint);
        m_checkpoint->clear();
        if (config && data) {
            m_checkpoint->addItem(tr("latest"), QVariant());
            const auto steps = ll::listCheckpoints(run);
            for (auto it = steps.rbegin(); it != steps.rend(); ++it)
                m_checkpoint->addItem(tr("step %1").arg(*it), QVariant::fromValue<qlonglong>(*it));
        }
    }
    if (!config || !data) {
        m_runDir.clear();
        m_run->setText(tr("Select a run in the runs browser to export from it."));
        m_settings->setRun({}, {}, {}, false);
    } else {
        const ll::ModelInfo& model = ll::modelInfo(config->model);
        m_generates = model.generates;
        m_run->setText(tr("<b>%1</b><br>%2 on %3")
                           .arg(QFileInfo(runDir).fileName().toHtmlEscaped(),
                                QString::fromStdString(config->model),
                                QString::fromStdString(data->datasetName).toHtmlEscaped()));
        m_settings->setRun(config->model, data->datasetName, data->classNames,
                           data->shape.tabular());
    }
    // A classifier has weights and a report, but no samples to export.
    m_what->button(0)->setEnabled(m_generates || m_runDir.isEmpty());
    if (!m_generates && !m_runDir.isEmpty() && what() == What::Dataset)
        m_what->button(int(What::Weights))->setChecked(true);
    if (!m_pathEdited) m_path->setText(defaultPath());
    showControls();
    if (m_runDir.isEmpty())
        m_view->setMessage(tr("Select a generator run in the runs browser to export from it."));
    else if (!m_generates)
        m_view->setMessage(tr("%1 is a classifier: export its weights or a report.")
                               .arg(QFileInfo(m_runDir).fileName()));
    else
        m_view->setMessage(tr("Drawing the preview…"));
    schedulePreview();
}

std::optional<std::int64_t> ExportPanel::step() const {
    const QVariant v = m_checkpoint->currentData();
    if (!v.isValid()) return std::nullopt;
    return v.toLongLong();
}

QString ExportPanel::defaultPath() const {
    const QString folder =
        QSettings().value(QStringLiteral("export/folder"), defaultFolder(m_workspace)).toString();
    const QString run = m_runDir.isEmpty() ? tr("run") : QFileInfo(m_runDir).fileName();
    const auto s = step();
    const QString at = s ? QStringLiteral("-step-%1").arg(*s) : QString();
    switch (what()) {
        case What::Dataset:
            return QDir(folder).filePath(run + at + QStringLiteral("-dataset"));
        case What::Weights:
            return QDir(folder).filePath(run + at + QStringLiteral(".safetensors"));
        case What::Report:
            return QDir(folder).filePath(run + QStringLiteral("-report.html"));
    }
    return folder;
}

void ExportPanel::showControls() {
    const What w = what();
    m_settings->setVisible(w == What::Dataset);
    m_reportBox->setVisible(w == What::Report);
    m_preview->setVisible(w == What::Dataset);
    m_pathLabel->setText(w == What::Dataset ? tr("Folder") : tr("File"));
    m_path->setToolTip(w == What::Dataset
                           ? tr("The folder to create; one that is not empty is replaced only "
                                "once you say so")
                           : tr("The file to write"));
    setBusy(isBusy());
}

void ExportPanel::setBusy(bool busy) {
    const bool run = !m_runDir.isEmpty();
    m_export->setEnabled(!busy && run);
    m_preview->setEnabled(run && m_generates);
    m_cancel->setEnabled(busy);
    m_checkpoint->setEnabled(!busy && run);
    for (auto* b : m_what->buttons())
        b->setEnabled(!busy && (b != m_what->button(0) || m_generates || !run));
    m_path->setEnabled(!busy);
    m_browse->setEnabled(!busy);
}

ll::ExportRequest ExportPanel::request() const {
    ll::ExportRequest r;
    r.run = m_runDir.toStdString();
    r.step = step();
    m_settings->fill(r);
    r.out = m_path->text().toStdString();
    r.workspace = m_workspace;
    return r;
}

ll::report::ReportRequest ExportPanel::reportRequest(const QString& html) const {
    ll::report::ReportRequest r{.html = html.toStdString()};
    if (!m_runDir.isEmpty()) r.runs = {m_runDir.toStdString()};
    if (m_reportStudies->isChecked()) r.studies = ll::report::latestStudies(m_workspace);
    if (m_reportPdf->isChecked())
        r.pdf = (QFileInfo(html).absolutePath() + QLatin1Char('/') +
                 QFileInfo(html).completeBaseName() + QStringLiteral(".pdf"))
                    .toStdString();
    return r;
}

void ExportPanel::schedulePreview() {
    m_previewDirty = true;
    if (!m_runDir.isEmpty() && what() != What::Dataset) {
        // Weights and reports have no samples to preview: the centre says what will be written.
        const QString run = QFileInfo(m_runDir).fileName();
        m_view->setMessage(what() == What::Weights
                               ? tr("The weights of %1 at the %2 checkpoint, as a safetensors "
                                    "file: press Export.")
                                     .arg(run, m_checkpoint->currentText())
                               : tr("A report of %1%2 in HTML%3: press Export.")
                                     .arg(run,
                                          m_reportStudies->isChecked()
                                              ? tr(" and the workspace's latest studies")
                                              : QString(),
                                          m_reportPdf->isChecked() ? tr(" and PDF") : QString()));
        return;
    }
    // Only the mode on screen draws: a hidden panel waits until it shows.
    if (isVisible() && what() == What::Dataset && m_generates) m_previewTimer->start();
}

void ExportPanel::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_previewDirty) schedulePreview();
}

void ExportPanel::refreshPreview() {
    m_previewTimer->stop();
    if (m_runDir.isEmpty() || !m_generates) return;
    m_previewDirty = false;
    if (const QString problem = m_settings->problem(); !problem.isEmpty())
        return m_view->setMessage(problem);
    ll::ExportRequest r = request();
    r.card = false;
    r.force = false;
    const std::int64_t classes = !r.proportions.empty() ? std::int64_t(r.proportions.size())
                                 : !r.classes.empty()   ? std::int64_t(r.classes.size())
                                                        : kPreviewRows;
    m_job->preview(r, kPreviewColumns * std::min<std::int64_t>(classes, kPreviewRows));
}

void ExportPanel::startExport() {
    if (isBusy()) return;
    if (m_runDir.isEmpty()) return Q_EMIT message(tr("Export: select a run first."));
    const QString out = QDir::cleanPath(m_path->text().trimmed());
    if (m_path->text().trimmed().isEmpty())
        return Q_EMIT message(tr("Export: say where to write it."));
    const What w = what();
    if (w == What::Dataset) {
        if (const QString problem = m_settings->problem(); !problem.isEmpty())
            return Q_EMIT message(tr("Export: %1").arg(problem));
    }
    // A folder that holds something, or a file that exists, is replaced only when asked.
    const bool replaces = w == What::Dataset ? nonEmptyFolder(out) : QFileInfo::exists(out);
    if (replaces && !m_askReplace(out)) {
        m_stage->setText(tr("Not exported: %1 is kept as it is.").arg(out));
        return;
    }
    saveSettings();
    QSettings().setValue(QStringLiteral("export/folder"), QFileInfo(out).absolutePath());
    m_result->clear();
    m_progress->setValue(0);
    m_stage->setText(tr("Starting…"));
    bool started = false;
    if (w == What::Dataset) {
        ll::ExportRequest r = request();
        r.out = out.toStdString();
        r.force = replaces;
        started = m_job->exportDataset(r);
    } else {
        QDir().mkpath(QFileInfo(out).absolutePath());
        if (w == What::Weights) {
            started = m_job->exportWeights(m_runDir, step(), out);
        } else {
            started = m_job->writeReport(reportRequest(out));
        }
    }
    setBusy(started);
}

void ExportPanel::cancel() {
    m_job->cancel();
    m_stage->setText(tr("Cancelling…"));
}

void ExportPanel::onExported(const ll::ExportSummary& s) {
    std::int64_t kept = 0;
    for (const auto& [name, n] : s.counts) kept += n;
    const QString out = QString::fromStdString(s.out.string());
    m_result->setText(tr("Exported %1 samples (%2 drawn) of step %3 to %4")
                          .arg(kept)
                          .arg(s.drawn)
                          .arg(s.step)
                          .arg(out));
    QString text = QString::fromStdString(s.cardText);
    if (text.isEmpty()) {
        // No card: what was written, in the card's words.
        text = tr("# %1\n\n%2 samples from step %3, %4 drawn.\n\n| Class | Samples |\n|---|---|\n")
                   .arg(QFileInfo(out).fileName())
                   .arg(kept)
                   .arg(s.step)
                   .arg(s.drawn);
        for (const auto& [name, n] : s.counts)
            text += QStringLiteral("| %1 | %2 |\n").arg(QString::fromStdString(name)).arg(n);
        for (const auto& [filter, n] : s.dropped)
            text += tr("\nDropped by %1: %2").arg(QString::fromStdString(filter)).arg(n);
        for (const auto& line : s.shortfalls)
            text += tr("\n\nShort: %1").arg(QString::fromStdString(line));
        text += tr("\n\nFiles: manifest.csv");
        for (const auto& f : s.files)
            text += QStringLiteral(", ") + QString::fromStdString(f.filename().string());
        text += tr("\n\nNo dataset card was asked for.");
    }
    m_view->showResult(text, out);
    Q_EMIT message(m_result->text());
}

void ExportPanel::saveSettings() const {
    QSettings s;
    m_settings->save(s);
    s.setValue(QStringLiteral("export/what"), m_what->checkedId());
    s.setValue(QStringLiteral("export/reportPdf"), m_reportPdf->isChecked());
    s.setValue(QStringLiteral("export/reportStudies"), m_reportStudies->isChecked());
}

void ExportPanel::restoreSettings() {
    QSettings s;
    m_settings->restore(s);
    const int what = std::clamp(s.value(QStringLiteral("export/what"), 0).toInt(), 0, 2);
    m_what->button(what)->setChecked(true);
    m_reportPdf->setChecked(s.value(QStringLiteral("export/reportPdf"), true).toBool());
    m_reportStudies->setChecked(s.value(QStringLiteral("export/reportStudies"), true).toBool());
}

}  // namespace ll::widgets
