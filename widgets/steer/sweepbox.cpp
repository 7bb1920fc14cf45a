#include "steer/sweepbox.h"

#include <algorithm>
#include <memory>
#include <utility>

#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QSignalBlocker>

#include "common/runsamplerqueue.h"
#include "run/runfolder.h"
#include "run/sweep.h"

namespace ll::widgets {

SweepBox::SweepBox(RunSamplerQueue* samplers, QWidget* parent)
    : QGroupBox(tr("Sweep"), parent), m_samplers(samplers) {
    setToolTip(
        tr("An X/Y grid over two settings, every other setting as above; "
           "saved as a PNG with a JSON sidecar in the run's sweeps folder"));
    m_sweepX = new QComboBox;
    m_sweepY = new QComboBox;
    m_sweepX->setObjectName(QStringLiteral("sweepX"));
    m_sweepY->setObjectName(QStringLiteral("sweepY"));
    for (auto* box : {m_sweepX, m_sweepY}) box->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_sweepXValues = new QLineEdit;
    m_sweepYValues = new QLineEdit;
    m_sweepXValues->setObjectName(QStringLiteral("sweepXValues"));
    m_sweepYValues->setObjectName(QStringLiteral("sweepYValues"));
    // A new axis brings values that suit it; the user's own values stay until then.
    connect(m_sweepX, &QComboBox::currentTextChanged, this,
            [this](const QString& axis) { m_sweepXValues->setText(defaultValues(axis)); });
    connect(m_sweepY, &QComboBox::currentTextChanged, this,
            [this](const QString& axis) { m_sweepYValues->setText(defaultValues(axis)); });
    setRun({});
    m_sweepButton = new QPushButton(tr("Run sweep"));
    m_sweepButton->setObjectName(QStringLiteral("sweepRunButton"));
    m_sweepStop = new QPushButton(tr("Stop"));
    m_sweepStop->setEnabled(false);
    auto* sweepForm = new QFormLayout(this);
    auto axisRow = [](QComboBox* axis, QLineEdit* values) {
        auto* row = new QWidget;
        auto* l = new QHBoxLayout(row);
        l->setContentsMargins(0, 0, 0, 0);
        l->addWidget(axis);
        l->addWidget(values, 1);
        return row;
    };
    sweepForm->addRow(tr("Columns"), axisRow(m_sweepX, m_sweepXValues));
    sweepForm->addRow(tr("Rows"), axisRow(m_sweepY, m_sweepYValues));
    auto* sweepButtons = new QHBoxLayout;
    sweepButtons->addWidget(m_sweepButton);
    sweepButtons->addWidget(m_sweepStop);
    sweepForm->addRow(sweepButtons);
    connect(m_sweepButton, &QPushButton::clicked, this, &SweepBox::runClicked);
    connect(m_sweepStop, &QPushButton::clicked, this, [this] { m_samplers->stopRunning(this); });
}

bool SweepBox::isBusy() const {
    return m_samplers->isBusy(this);
}

bool SweepBox::start(const SteerRun& run, ll::SampleRequest base, int defaultClass,
                     const QString& classifierRun) {
    if (run.dir.isEmpty() || isBusy()) return false;
    auto axis = [](QComboBox* name, QLineEdit* values) {
        QString text = values->text();
        text.remove(QLatin1Char(' '));
        return ll::parseSweepAxis((name->currentText() + QLatin1Char('=') + text).toStdString());
    };
    auto x = axis(m_sweepX, m_sweepXValues);
    auto y = axis(m_sweepY, m_sweepYValues);
    if (!x || !y) {
        const QString why = QString::fromStdString((!x ? x : y).error().message);
        Q_EMIT failed(why);
        return false;
    }
    const QString dir =
        QString::fromStdString(ll::runfiles::sweepsDir(run.dir.toStdString()).string());
    QDir().mkpath(dir);
    const QString out =
        dir + QStringLiteral("/sweep-%1.png")
                  .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-hhmmss")));
    ll::SweepRequest request{.run = run.dir.toStdString(),
                             .x = *x,
                             .y = *y,
                             .base = std::move(base),
                             .defaultClass = std::max(0, defaultClass),
                             .classifierRun = classifierRun.toStdString()};
    request.base.labels.clear();
    request.base.mixture.clear();
    request.base.pinned.clear();  // locks are the grid's: every cell has its own latent
    const int rows = int(y->values.size()), cols = int(x->values.size());
    QStringList columns;
    for (double v : x->values) columns << QString::number(v);
    std::vector<std::string> rowLabels;
    for (double v : y->values)
        rowLabels.push_back(y->axis == ll::SweepAxis::Class && v < run.classNames.size()
                                ? run.classNames[std::size_t(v)]
                                : m_sweepY->currentText().toStdString() + " " +
                                      QString::number(v).toStdString());
    const QString caption = tr("Sweep: columns %1 = %2; saved to %3")
                                .arg(m_sweepX->currentText(), columns.join(QStringLiteral(", ")),
                                     QFileInfo(out).fileName());
    m_grid = {};
    m_shown = true;
    m_columnAxis = m_sweepX->currentText();
    m_columns = columns;
    m_rows.clear();
    for (const auto& label : rowLabels) m_rows << QString::fromStdString(label);
    m_sweepButton->setEnabled(false);
    m_sweepStop->setEnabled(true);
    Q_EMIT status(tr("Sweeping: 0 of %1 cells").arg(rows * cols));
    QPointer<SweepBox> self(this);
    m_samplers->submit(
        {.client = this,
         .run = run.dir,
         .work = [self, request, out, caption](ll::RunSampler*,
                                               JobContext& job) -> JobBridge::Then {
             // runSweep opens the run at each checkpoint the sweep asks for: no shared sampler.
             auto file = ll::runSweep(request, out.toStdString(),
                                      [&](int r, int c, const ll::SampleGrid& tile) {
                                          job.post([self, r, c, tile, caption] {
                                              if (self) self->addCell(r, c, tile, caption);
                                          });
                                          return !job.stopRequested();
                                      });
             const QString error = file ? QString() : QString::fromStdString(file.error().message);
             return [self, error, out, caption] {
                 if (self) self->done(error, out, caption);
             };
         },
         .failed = [this, out, caption](const QString& why) { done(why, out, caption); },
         .replaceable = false,
         .needsSampler = false});
    return true;
}

QString SweepBox::defaultValues(const QString& axis) {
    if (axis == QLatin1String("guidance") || axis == QLatin1String("classifier-scale"))
        return QStringLiteral("0, 1, 2, 4");
    if (axis == QLatin1String("steps")) return QStringLiteral("10, 25, 50");
    if (axis == QLatin1String("truncation")) return QStringLiteral("0.5, 1, 2");
    if (axis == QLatin1String("temperature")) return QStringLiteral("0.5, 1, 1.5");
    if (axis == QLatin1String("seed")) return QStringLiteral("1, 2, 3");
    return QStringLiteral("0, 1, 2");  // class; checkpoint steps are the run's own
}

void SweepBox::setRun(const SteerRun& run) {
    // Only the axes the model takes (the catalogue's facts): guidance, steps for diffusion,
    // the knob of GANs and VAEs, classes for conditional models; seeds and checkpoints always.
    if (m_samplers) m_samplers->hold(this, run.dir);  // a run Steer has left lets its model go
    if (run.dir == m_axesRun && !run.dir.isEmpty()) return;  // the same run: keep the user's axes
    m_axesRun = run.dir;
    const ll::ModelInfo& info = run.info();
    QStringList axes;
    if (info.guidance) axes << QStringLiteral("guidance");
    if (info.classifierGuidance) axes << QStringLiteral("classifier-scale");
    if (info.family == ll::ModelFamily::Diffusion) axes << QStringLiteral("steps");
    if (info.knob == ll::SampleKnob::Truncation) axes << QStringLiteral("truncation");
    if (info.knob == ll::SampleKnob::Temperature) axes << QStringLiteral("temperature");
    if (run.conditional) axes << QStringLiteral("class");
    axes << QStringLiteral("seed") << QStringLiteral("checkpoint");
    for (auto* box : {m_sweepX, m_sweepY}) {
        QSignalBlocker block(box);
        box->clear();
        box->addItems(axes);
    }
    m_sweepX->setCurrentIndex(0);
    m_sweepY->setCurrentText(run.conditional ? QStringLiteral("class") : QStringLiteral("seed"));
    if (m_sweepY->currentIndex() == m_sweepX->currentIndex())
        m_sweepY->setCurrentIndex((m_sweepX->currentIndex() + 1) % int(axes.size()));
    m_sweepXValues->setText(defaultValues(m_sweepX->currentText()));
    m_sweepYValues->setText(defaultValues(m_sweepY->currentText()));
}

void SweepBox::addCell(int r, int c, const ll::SampleGrid& tile, const QString& caption) {
    const int rows = int(m_rows.size()), cols = int(m_columns.size());
    auto& g = m_grid;
    if (g.empty()) {  // the first cell fixes the tile size
        g.rows = rows;
        g.cols = cols;
        g.tileWidth = tile.tileWidth;
        g.tileHeight = tile.tileHeight;
        g.rgba.assign(std::size_t(g.atlasWidth()) * g.atlasHeight() * 4, 0);
        for (const QString& label : m_rows) g.rowLabels.push_back(label.toStdString());
    }
    if (tile.tileWidth != g.tileWidth || tile.tileHeight != g.tileHeight) return;
    for (int py = 0; py < g.tileHeight; ++py)
        std::copy_n(tile.rgba.begin() + std::ptrdiff_t(py) * g.tileWidth * 4, g.tileWidth * 4,
                    g.rgba.begin() + (std::ptrdiff_t(r * g.tileHeight + py) * g.atlasWidth() +
                                      std::ptrdiff_t(c) * g.tileWidth) *
                                         4);
    Q_EMIT status(tr("Sweeping: %1 of %2 cells").arg(r * cols + c + 1).arg(rows * cols));
    Q_EMIT gridReady(g, caption, true);
}

void SweepBox::done(const QString& error, const QString& out, const QString& caption) {
    m_sweepButton->setEnabled(true);
    m_sweepStop->setEnabled(false);
    if (!error.isEmpty()) {
        Q_EMIT failed(error);
        return;
    }
    Q_EMIT status(tr("Sweep saved: %1 (+ .json)").arg(out));
    if (!m_grid.empty()) Q_EMIT gridReady(m_grid, caption, false);
}

QString SweepBox::describeCell(int index) const {
    const int cols = int(m_columns.size());
    const int row = index / std::max(1, cols), col = index % std::max(1, cols);
    if (index < 0 || row >= m_rows.size()) return {};
    return tr("Sweep cell: %1, %2 %3 (other settings as the controls say; the "
              "sweep's JSON sidecar has them all).")
        .arg(m_rows[row], m_columnAxis, m_columns.value(col));
}

}  // namespace ll::widgets
