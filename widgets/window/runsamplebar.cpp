#include "window/runsamplebar.h"

#include <optional>
#include <string>

#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>

#include "common/runsamplerqueue.h"
#include "run/runsampler.h"

namespace ll::widgets {

namespace {
constexpr int kGridColumns = 8;
constexpr int kGridRows = 10;
constexpr std::int64_t kTableRows = 500;
}  // namespace

// What a draw found, read on the worker (the sampler is the worker's alone).
struct RunSampleBar::Outcome {
    QString runDir;
    std::uint64_t seed = 0;
    std::string model;
    std::int64_t step = 0;
    bool generates = true;
    std::optional<ll::SampleGrid> grid;
    std::optional<ll::TableSamples> table;
    QString error;
};

RunSampleBar::RunSampleBar(RunSamplerQueue* samplers, QWidget* parent)
    : QWidget(parent), m_samplers(samplers) {
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
    connect(m_seed, &QSpinBox::valueChanged, this, [this] { request(); });
    connect(m_reseed, &QPushButton::clicked, this,
            [this] { m_seed->setValue(m_seed->value() + 1); });
    connect(closeButton, &QPushButton::clicked, this, &RunSampleBar::close);
    hide();
}

RunSampleBar::~RunSampleBar() = default;

std::uint64_t RunSampleBar::seed() const {
    return static_cast<std::uint64_t>(m_seed->value());
}

bool RunSampleBar::isBusy() const {
    return m_samplers->isBusy(this);
}

void RunSampleBar::open(const QString& runDir) {
    m_runDir = runDir;
    m_label->setText(tr("Opening %1...").arg(QFileInfo(runDir).fileName()));
    show();
    request(/*reopen=*/true);
}

void RunSampleBar::close() {
    m_runDir.clear();
    m_samplers->dropWaiting(this);
    m_samplers->hold(this, {});  // its model closes unless a panel works on the run
    hide();
}

void RunSampleBar::request(bool reopen) {
    if (m_runDir.isEmpty()) return;
    const QString runDir = m_runDir;
    const std::uint64_t seed = this->seed();
    auto done = [this](const Outcome& out) {
        // A newer request waits: this draw is stale.
        if (!m_samplers->isWaiting(this) && out.runDir == m_runDir) finish(out);
    };
    m_samplers->submit(
        {.client = this,
         .run = runDir,
         .work = [runDir, seed, done](ll::RunSampler* sampler, JobContext&) -> JobBridge::Then {
             Outcome out{.runDir = runDir,
                         .seed = seed,
                         .model = sampler->modelName(),
                         .step = sampler->step(),
                         .generates = sampler->generates()};
             if (!out.generates) return [done, out] { done(out); };
             if (sampler->tabular()) {
                 auto table = sampler->table(ll::SampleRequest{.count = kTableRows, .seed = seed});
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
             return [done, out = std::move(out)] { done(out); };
         },
         .failed = [runDir,
                    done](const QString& why) { done(Outcome{.runDir = runDir, .error = why}); },
         // Opening the bar draws from the run's newest checkpoint, even when a panel holds an
         // older one of the same run; new seeds reuse it.
         .reopen = reopen});
}

void RunSampleBar::finish(const Outcome& out) {
    const QString name = QFileInfo(out.runDir).fileName();
    if (!out.error.isEmpty()) {
        m_label->setText(tr("%1: %2").arg(name, out.error));
        Q_EMIT failed(out.error);
        return;
    }
    const QString what =
        tr("%1: %2 at step %3").arg(name, QString::fromStdString(out.model)).arg(out.step);
    m_label->setText(what);
    m_seed->setEnabled(out.generates);
    m_reseed->setEnabled(out.generates);
    if (!out.generates) {
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
