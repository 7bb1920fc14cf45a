#include "runsamplebar.h"

#include <optional>

#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>

#include "backgroundtask.h"
#include "run/runsampler.h"

namespace ll::widgets {

namespace {
constexpr int kGridColumns = 8;
constexpr int kGridRows = 10;
constexpr std::int64_t kTableRows = 500;
}  // namespace

struct RunSampleBar::Outcome {
    QString runDir;
    std::shared_ptr<ll::RunSampler> sampler;
    std::uint64_t seed = 0;
    std::optional<ll::SampleGrid> grid;
    std::optional<ll::TableSamples> table;
    QString error;
};

RunSampleBar::RunSampleBar(QWidget* parent) : QWidget(parent) {
    m_label = new QLabel;
    m_label->setObjectName(QStringLiteral("sampleBarLabel"));
    m_seed = new QSpinBox;
    m_seed->setObjectName(QStringLiteral("sampleSeed"));
    m_seed->setRange(0, 2'000'000'000);
    m_seed->setValue(1);
    m_seed->setKeyboardTracking(false);
    m_seed->setToolTip(tr("The same seed draws the same samples"));
    m_reseed = new QPushButton(tr("Reseed"));
    m_reseed->setObjectName(QStringLiteral("reseedButton"));
    m_reseed->setToolTip(tr("Draw new samples with the next seed"));
    auto* closeButton = new QPushButton(tr("Close"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 2, 8, 2);
    layout->addWidget(m_label, 1);
    layout->addWidget(new QLabel(tr("Seed")));
    layout->addWidget(m_seed);
    layout->addWidget(m_reseed);
    layout->addWidget(closeButton);
    connect(m_seed, &QSpinBox::valueChanged, this, &RunSampleBar::request);
    connect(m_reseed, &QPushButton::clicked, this,
            [this] { m_seed->setValue(m_seed->value() + 1); });
    connect(closeButton, &QPushButton::clicked, this, &RunSampleBar::close);
    hide();
}

RunSampleBar::~RunSampleBar() = default;

std::uint64_t RunSampleBar::seed() const {
    return static_cast<std::uint64_t>(m_seed->value());
}

void RunSampleBar::open(const QString& runDir) {
    m_wantedRun = runDir;
    m_label->setText(tr("Opening %1...").arg(QFileInfo(runDir).fileName()));
    show();
    request();
}

void RunSampleBar::close() {
    m_wantedRun.clear();
    m_runDir.clear();
    m_sampler.reset();
    hide();
}

void RunSampleBar::request() {
    if (m_wantedRun.isEmpty()) return;
    if (m_busy) {
        m_pending = true;  // runs when the current draw is done; only the newest request counts
        return;
    }
    start();
}

void RunSampleBar::start() {
    m_busy = true;
    m_pending = false;
    // The worker gets its own reference: closing the bar meanwhile does not free the model
    // under it.
    std::shared_ptr<ll::RunSampler> sampler = m_runDir == m_wantedRun ? m_sampler : nullptr;
    const QString runDir = m_wantedRun;
    const std::uint64_t seed = this->seed();
    runInBackground<Outcome>(
        this,
        [sampler, runDir, seed]() mutable {
            Outcome out{.runDir = runDir, .seed = seed};
            try {
                if (!sampler) {
                    auto opened = ll::RunSampler::open(runDir.toStdString());
                    if (!opened) {
                        out.error = QString::fromStdString(opened.error().message);
                        return out;
                    }
                    sampler = std::shared_ptr<ll::RunSampler>(std::move(*opened));
                }
                out.sampler = sampler;
                if (!sampler->generates()) return out;
                if (sampler->tabular()) {
                    auto table =
                        sampler->table(ll::SampleRequest{.count = kTableRows, .seed = seed});
                    if (table)
                        out.table = std::move(*table);
                    else
                        out.error = QString::fromStdString(table.error().message);
                } else {
                    auto grid = sampler->classGrid(seed, kGridColumns, kGridRows);
                    if (grid)
                        out.grid = std::move(*grid);
                    else
                        out.error = QString::fromStdString(grid.error().message);
                }
            } catch (const std::exception& e) {
                // Nothing escapes the worker (style.md 7).
                out.error = QString::fromUtf8(e.what());
            }
            return out;
        },
        [this](Outcome out) { finish(out); });
}

void RunSampleBar::finish(const Outcome& out) {
    m_busy = false;
    if (out.runDir == m_wantedRun && out.sampler) {
        m_sampler = out.sampler;
        m_runDir = out.runDir;
    }
    if (m_pending || out.runDir != m_wantedRun) {
        if (!m_wantedRun.isEmpty()) start();  // a newer request is waiting: this draw is stale
        return;
    }
    const QString name = QFileInfo(out.runDir).fileName();
    if (!out.error.isEmpty()) {
        m_label->setText(tr("%1: %2").arg(name, out.error));
        Q_EMIT failed(out.error);
        return;
    }
    const QString what = tr("%1: %2 at step %3")
                             .arg(name, QString::fromStdString(out.sampler->modelName()))
                             .arg(out.sampler->step());
    m_label->setText(what);
    m_seed->setEnabled(out.sampler->generates());
    m_reseed->setEnabled(out.sampler->generates());
    if (!out.sampler->generates()) {
        Q_EMIT noSamples(tr("%1 is a classifier: it has nothing to sample. Its loss and accuracy "
                            "are on the chart below.")
                             .arg(name));
    } else if (out.table) {
        Q_EMIT tableReady(*out.table, tr("%1, seed %2: generated rows").arg(what).arg(out.seed));
    } else if (out.grid) {
        Q_EMIT gridReady(*out.grid, tr("%1, seed %2: one row per class").arg(what).arg(out.seed));
    }
}

}  // namespace ll::widgets
