#include "steer/steerpanel.h"

#include <utility>

#include <QFileInfo>
#include <QLabel>
#include <QVBoxLayout>

#include "common/runsamplerqueue.h"
#include "models/catalog.h"
#include "run/runfolder.h"
#include "steer/steercontrols.h"
#include "steer/steerdraws.h"
#include "steer/sweepbox.h"
#include "steer/tilebox.h"

namespace ll::widgets {

SteerPanel::SteerPanel(RunSamplerQueue* samplers, std::filesystem::path workspace, QWidget* parent)
    : QWidget(parent) {
    m_title = new QLabel(tr("Select a generator run in the runs browser to steer its samples."));
    m_title->setWordWrap(true);
    m_title->setObjectName(QStringLiteral("steerRun"));
    m_controls = new SteerControls(std::move(workspace));
    m_sweep = new SweepBox(samplers);
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("steerStatus"));
    m_status->setWordWrap(true);
    m_tiles = new TileBox;
    m_drawer = new SteerDraws(samplers, this);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_title);
    layout->addWidget(m_controls);
    layout->addWidget(m_sweep);
    layout->addWidget(m_status);
    layout->addWidget(m_tiles);
    layout->addStretch(1);

    connect(m_controls, &SteerControls::changed, this, &SteerPanel::redraw);
    connect(m_sweep, &SweepBox::runClicked, this, &SteerPanel::runSweep);
    connect(m_sweep, &SweepBox::gridReady, this, &SteerPanel::gridReady);
    connect(m_sweep, &SweepBox::status, m_status, &QLabel::setText);
    connect(m_sweep, &SweepBox::failed, this, &SteerPanel::showError);
    connect(m_tiles, &TileBox::status, m_status, &QLabel::setText);
    connect(m_tiles, &TileBox::unlocked, this, &SteerPanel::redraw);
    connect(m_tiles, &TileBox::locked, this, [this] {
        if (m_shownGrid.empty()) return;
        auto framed = m_shownGrid;  // the same grid, its locked tiles framed
        TileBox::frame(framed, m_tiles->pins());
        Q_EMIT gridReady(framed, m_shownCaption, m_shownPreview);
    });
    connect(m_tiles, &TileBox::sent, this,
            [this](const ll::SampleRequest& request, qint64 index, int label) {
                Q_EMIT tileSent(m_run.dir, request, index, label);
            });
    connect(m_drawer, &SteerDraws::status, m_status, &QLabel::setText);
    connect(m_drawer, &SteerDraws::stepShown, this,
            [this](const ll::SampleGrid& grid, const QString& caption) {
                Q_EMIT gridReady(grid, caption, true);
            });
    connect(m_drawer, &SteerDraws::drawn, this, &SteerPanel::finish);
    setRun({});
}

SteerPanel::~SteerPanel() = default;

bool SteerPanel::isBusy() const {
    return m_drawer->isBusy() || m_sweep->isBusy();
}

int SteerPanel::stepCount() const {
    return m_drawer->stepCount();
}

int SteerPanel::lockedTiles() const {
    return int(m_tiles->pins().size());
}

void SteerPanel::setRun(const QString& runDir) {
    m_run = {};
    const std::filesystem::path run = runDir.toStdString();
    auto config =
        runDir.isEmpty() ? ll::Result<ll::TrainConfig>(ll::fail("no run")) : ll::readRunConfig(run);
    auto data =
        runDir.isEmpty() ? ll::Result<ll::RunData>(ll::fail("no run")) : ll::readRunData(run);
    const ll::ModelInfo* info = config ? ll::findModel(config->model) : nullptr;
    if (config && data && info && info->generates && !data->shape.tabular()) {
        m_run = {.dir = runDir,
                 .model = config->model,
                 .dataset = data->datasetName,
                 .classNames = data->classNames,
                 .conditional = info->conditional};
        m_title->setText(tr("<b>%1</b><br>%2 on %3: move a control and the same seeds redraw")
                             .arg(QFileInfo(runDir).fileName().toHtmlEscaped(),
                                  QString::fromStdString(m_run.model),
                                  QString::fromStdString(data->datasetName).toHtmlEscaped()));
    } else {
        m_title->setText(
            config && data && info && info->generates
                ? tr("%1 generates table rows: the Steer mode steers images. Sample its rows "
                     "from the runs browser.")
                      .arg(QFileInfo(runDir).fileName())
                : tr("Select a generator run in the runs browser to steer its samples."));
    }
    m_controls->setRun(m_run);
    m_tiles->setRun(m_run);
    m_sweep->setRun(m_run);
    m_drawer->setRun(m_run.dir);
    if (!m_run.dir.isEmpty()) redraw();
}

ll::SampleRequest SteerPanel::request(bool preview) const {
    ll::SampleRequest r = m_controls->request(preview);
    r.pinned = m_tiles->pins();
    return r;
}

void SteerPanel::showError(const QString& text) {
    m_status->setText(text);
    Q_EMIT message(text);
}

void SteerPanel::redraw() {
    if (m_run.dir.isEmpty()) return;
    const int mode = m_controls->classMode();
    const bool preview = m_controls->dragging();
    SteerDraw draw{.run = m_run.dir,
                   .classifierRun = m_controls->classifierRun(),
                   .request = request(preview),
                   .classRows = mode == -1 && m_run.conditional,
                   .preview = preview,
                   .showSteps = m_run.info().slowDraws,
                   .live = m_run.info().guidance && !preview};
    if (mode == -2 && draw.request.mixture.empty()) {
        m_status->setText(tr("Give at least one class of the mixture a weight."));
        return;
    }
    // A full diffusion draw under way takes a new guidance from its current step on.
    if (m_controls->followsGuidance() && m_drawer->follow(request(false), draw.classifierRun))
        return;
    if (!draw.classRows && m_run.conditional) {
        const QString what = mode >= 0 ? m_run.className(std::size_t(mode)) : tr("mixture");
        draw.rowLabels.assign(kSteerSingleRows, what.toStdString());
    }
    m_drawer->draw(std::move(draw));  // replaces a waiting one, stops a running one
}

void SteerPanel::reseed() {
    m_controls->reseed();
}

void SteerPanel::finish(const SteerDrawn& out) {
    const bool current = out.draw.run == m_run.dir;
    const bool stopped = out.newerWaits && out.error == QStringLiteral("sampling stopped");
    if (current && !out.error.isEmpty() && !stopped) {
        showError(out.error);
        return;
    }
    // A newer request waits: this grid is already stale. A preview that finished after its
    // release still shows, the full grid follows at once.
    if (!current || !out.grid || (out.newerWaits && !out.draw.preview)) return;
    ++m_draws;
    m_sweep->setShown(false);
    const QString changes = out.changes.join(QStringLiteral("; "));
    const QString caption =
        tr("%1 at step %2, seed %3%4")
            .arg(QFileInfo(out.draw.run).fileName())
            .arg(out.step)
            .arg(out.draw.request.seed)
            .arg(out.draw.preview ? tr(" (preview: %1 steps; release for full quality)")
                                        .arg(out.draw.request.steps)
                                  : QString()) +
        (changes.isEmpty() ? QString() : tr("; guidance changed mid-run, %1").arg(changes));
    m_status->setText(out.draw.preview    ? tr("Preview")
                      : changes.isEmpty() ? tr("Done.")
                                          : tr("Done; continued %1").arg(changes));
    ll::SampleGrid grid = *out.grid;
    grid.step = out.step;
    m_shownGrid = grid;
    m_shownCaption = caption;
    m_shownPreview = out.draw.preview;
    TileBox::frame(grid, out.draw.request.pinned);
    Q_EMIT gridReady(grid, caption, out.draw.preview);
    m_tiles->setShown(out.draw.request);  // the clicked tile, as it is now
}

void SteerPanel::runSweep() {
    if (m_run.dir.isEmpty() || isBusy()) return;
    ll::SampleRequest base = request(false);
    base.labels.clear();
    base.mixture.clear();
    base.pinned.clear();  // locks are the grid's: every cell has its own latent
    m_sweep->start(m_run, std::move(base), m_controls->classMode(), m_controls->classifierRun());
}

void SteerPanel::describeTile(int index) {
    if (m_run.dir.isEmpty() || index < 0) return;
    if (m_sweep->isShown()) {  // a cell of the sweep on screen: its settings are the axes'
        if (const QString cell = m_sweep->describeCell(index); !cell.isEmpty())
            m_tiles->describeCell(cell);
        return;
    }
    m_tiles->describe(index);
}

void SteerPanel::toggleTileLock() {
    m_tiles->toggleLock();
}

void SteerPanel::unlockAll() {
    m_tiles->unlockAll();
}

void SteerPanel::sendTile() {
    m_tiles->send();
}

}  // namespace ll::widgets
