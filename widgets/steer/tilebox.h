#pragma once

#include <vector>

#include <QWidget>

#include "common/samplegrid.h"
#include "models/request.h"
#include "steer/steerrun.h"

class QLabel;
class QPushButton;

namespace ll::widgets {

/// The clicked tile of the Steer grid: what made it (class, seed, settings, the CLI line that
/// reproduces it), its lock (a locked tile keeps its latent when the rest reseeds) and the
/// way to the latent browser.
class TileBox : public QWidget {
    Q_OBJECT
public:
    explicit TileBox(QWidget* parent = nullptr);

    /// A new run: no tile chosen, nothing locked.
    void setRun(const SteerRun& run);
    const std::vector<ll::PinnedLatent>& pins() const { return m_pins; }
    /// The grid on screen was drawn from `request`: the clicked tile is told as it is now.
    void setShown(const ll::SampleRequest& request);
    /// Tells what made tile `index` of the drawn grid.
    void describe(int index);
    /// Tells a cell of a sweep instead; no tile of a draw is chosen then.
    void describeCell(const QString& text);
    void toggleLock();
    void unlockAll();
    /// Sends the clicked tile to the latent browser (sent()).
    void send();

    /// Frames the locked tiles in yellow, two pixels inside their edge, so that the user sees
    /// which keep their latent. Only the picture: the samples themselves are unchanged.
    static void frame(ll::SampleGrid& grid, const std::vector<ll::PinnedLatent>& pins);

Q_SIGNALS:
    /// A tile was locked: the grid on screen shows its frame.
    void locked();
    /// A lock went: the grid redraws.
    void unlocked();
    void status(const QString& text);
    /// Sample `index` of `request`, of class `label` (-1: none), for the latent browser.
    void sent(const ll::SampleRequest& request, qint64 index, int label);

private:
    void showLocks();
    bool isLocked(int tile) const;

    SteerRun m_run;
    ll::SampleRequest m_shown;             // the request of the grid on screen
    std::vector<ll::PinnedLatent> m_pins;  // locked tiles
    int m_tileIndex = -1;                  // the clicked tile
    QLabel* m_tile;
    QPushButton* m_lockTile;
    QPushButton* m_unlockAll;
    QPushButton* m_toBrowser;
};

}  // namespace ll::widgets
