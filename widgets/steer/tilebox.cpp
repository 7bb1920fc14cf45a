#include "steer/tilebox.h"

#include <algorithm>

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace ll::widgets {

TileBox::TileBox(QWidget* parent) : QWidget(parent) {
    m_tile = new QLabel(tr("Click a tile to see how it was made."));
    m_tile->setObjectName(QStringLiteral("steerTile"));
    m_tile->setWordWrap(true);
    m_tile->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_lockTile = new QPushButton(tr("Lock tile"));
    m_lockTile->setObjectName(QStringLiteral("steerLockTile"));
    m_lockTile->setToolTip(tr("A locked tile keeps its latent when the grid reseeds"));
    m_unlockAll = new QPushButton(tr("Unlock all"));
    m_unlockAll->setObjectName(QStringLiteral("steerUnlockAll"));
    m_toBrowser = new QPushButton(tr("Open in latent browser"));
    m_toBrowser->setObjectName(QStringLiteral("steerToBrowser"));
    m_toBrowser->setToolTip(
        tr("The tile's latent in the Latent mode: its sliders, "
           "interpolation and arithmetic"));
    auto* tileButtons = new QHBoxLayout;
    tileButtons->addWidget(m_lockTile);
    tileButtons->addWidget(m_unlockAll);
    tileButtons->addWidget(m_toBrowser);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tile);
    layout->addLayout(tileButtons);
    connect(m_lockTile, &QPushButton::clicked, this, &TileBox::toggleLock);
    connect(m_unlockAll, &QPushButton::clicked, this, &TileBox::unlockAll);
    connect(m_toBrowser, &QPushButton::clicked, this, &TileBox::send);
    showLocks();
}

void TileBox::frame(ll::SampleGrid& grid, const std::vector<ll::PinnedLatent>& pins) {
    const int w = grid.tileWidth, h = grid.tileHeight, stride = grid.atlasWidth() * 4;
    for (const auto& pin : pins) {
        if (pin.tile < 0 || pin.tile >= std::int64_t(grid.rows) * grid.cols) continue;
        const int x0 = int(pin.tile % grid.cols) * w, y0 = int(pin.tile / grid.cols) * h;
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                if (x >= 2 && x < w - 2 && y >= 2 && y < h - 2) continue;
                auto* px = grid.rgba.data() + std::ptrdiff_t(y0 + y) * stride + (x0 + x) * 4;
                px[0] = 255, px[1] = 200, px[2] = 0, px[3] = 255;
            }
    }
}

void TileBox::setRun(const SteerRun& run) {
    m_run = run;
    m_pins.clear();
    m_tileIndex = -1;
    showLocks();
}

void TileBox::setShown(const ll::SampleRequest& request) {
    m_shown = request;
    if (m_tileIndex >= 0) describe(m_tileIndex);  // the clicked tile, as it is now
}

bool TileBox::isLocked(int tile) const {
    return std::any_of(m_pins.begin(), m_pins.end(),
                       [&](const ll::PinnedLatent& p) { return p.tile == tile; });
}

void TileBox::describeCell(const QString& text) {
    m_tileIndex = -1;
    m_tile->setText(text);
    showLocks();
}

void TileBox::describe(int index) {
    if (m_run.dir.isEmpty() || index < 0) return;
    if (index >= m_run.tileCount(m_shown)) return;
    m_tileIndex = index;
    const int row = index / kSteerCols, col = index % kSteerCols;
    const auto& r = m_shown;
    QString cls;
    if (!r.mixture.empty()) {
        QStringList parts;
        for (const auto& [k, w] : r.mixture)
            parts << QStringLiteral("%1 %2")
                         .arg(QString::fromStdString(m_run.classNames[std::size_t(k)]))
                         .arg(w);
        cls = tr("mixture of %1").arg(parts.join(QStringLiteral(", ")));
    } else if (!r.labels.empty()) {
        cls = QString::fromStdString(m_run.classNames[std::size_t(r.labels.front())]);
    } else if (row < m_run.numClasses()) {
        cls = QString::fromStdString(m_run.classNames[std::size_t(row)]);
    }
    QString settings;
    if (m_run.info().guidance)
        settings = tr("guidance %1 between noise levels %2 and %3, classifier scale %4, %5 %6 "
                      "steps")
                       .arg(r.guidance)
                       .arg(r.guidanceFrom)
                       .arg(r.guidanceTo)
                       .arg(r.classifierScale)
                       .arg(r.sampler == ll::Sampler::Ddim ? QStringLiteral("DDIM")
                                                           : QStringLiteral("DDPM"))
                       .arg(r.steps > 0 ? QString::number(r.steps) : tr("default"));
    else if (m_run.info().knob == ll::SampleKnob::Truncation)
        settings = r.truncation > 0 ? tr("truncation %1").arg(r.truncation) : tr("no truncation");
    else
        settings = tr("temperature %1").arg(r.temperature);
    // A locked tile's latent is that of its own draw, not of the grid's seed.
    const auto pin = std::find_if(m_shown.pinned.begin(), m_shown.pinned.end(),
                                  [&](const ll::PinnedLatent& p) { return p.tile == index; });
    const bool locked = isLocked(index);
    const std::uint64_t seed = pin != m_shown.pinned.end() ? pin->seed : r.seed;
    const std::int64_t sample = pin != m_shown.pinned.end() ? pin->index : index;
    m_tile->setText(tr("Tile row %1, column %2: %3; seed %4, sample %5 of its batch; %6. "
                       "latentlab-cli sample --seed %4 reproduces it.")
                        .arg(row)
                        .arg(col)
                        .arg(cls.isEmpty() ? tr("no class") : cls)
                        .arg(seed)
                        .arg(sample)
                        .arg(settings) +
                    (locked ? tr(" Locked: its latent stays when the grid reseeds.") : QString()));
    showLocks();
}

void TileBox::showLocks() {
    const bool tile = !m_run.dir.isEmpty() && m_tileIndex >= 0;
    const bool locked = tile && isLocked(m_tileIndex);
    m_lockTile->setEnabled(tile);
    m_lockTile->setText(locked ? tr("Unlock tile") : tr("Lock tile"));
    m_unlockAll->setEnabled(!m_pins.empty());
    m_unlockAll->setText(m_pins.empty() ? tr("Unlock all")
                                        : tr("Unlock all (%1)").arg(m_pins.size()));
    m_toBrowser->setEnabled(tile);
}

void TileBox::toggleLock() {
    if (m_run.dir.isEmpty() || m_tileIndex < 0) return;
    const auto at = std::find_if(m_pins.begin(), m_pins.end(),
                                 [&](const ll::PinnedLatent& p) { return p.tile == m_tileIndex; });
    if (at != m_pins.end()) {
        m_pins.erase(at);  // it follows the grid's seed again
        Q_EMIT status(tr("Tile %1 unlocked.").arg(m_tileIndex));
        describe(m_tileIndex);
        Q_EMIT unlocked();
        return;
    }
    // The latent the tile shows now: its own draw's, or the one it was locked to before.
    m_pins.push_back({.tile = m_tileIndex,
                      .seed = m_shown.seed,
                      .count = m_run.tileCount(m_shown),
                      .index = m_tileIndex});
    Q_EMIT status(tr("Tile %1 locked: it keeps its latent when you reseed (%2 locked).")
                      .arg(m_tileIndex)
                      .arg(m_pins.size()));
    describe(m_tileIndex);
    Q_EMIT locked();
}

void TileBox::unlockAll() {
    if (m_pins.empty()) return;
    m_pins.clear();
    showLocks();
    Q_EMIT unlocked();
}

void TileBox::send() {
    if (m_run.dir.isEmpty() || m_tileIndex < 0) return;
    ll::SampleRequest r = m_shown;
    r.count = m_run.tileCount(m_shown);
    r.onStep = {};
    r.live.reset();
    // A grid of class rows was drawn with a class per tile (RunSampler::classGrid): ask for
    // the tile's latent with the same classes, since a fitted prior draws it from its class.
    if (r.labels.empty() && r.mixture.empty() && m_run.conditional)
        for (std::int64_t i = 0; i < r.count; ++i) r.labels.push_back(i / kSteerCols);
    int label = -1;
    if (!r.mixture.empty())
        label =
            std::max_element(r.mixture.begin(), r.mixture.end(), [](const auto& a, const auto& b) {
                return a.second < b.second;
            })->first;
    else if (!r.labels.empty())
        label = int(r.labels[std::size_t(m_tileIndex) % r.labels.size()]);
    Q_EMIT sent(r, m_tileIndex, label);
}

}  // namespace ll::widgets
