#pragma once

#include <filesystem>

#include <QWidget>

#include "common/samplegrid.h"
#include "models/request.h"
#include "steer/steerrun.h"

class QLabel;

namespace ll::widgets {

class RunSamplerQueue;
class SteerControls;
class SteerDraws;
struct SteerDrawn;
class SweepBox;
class TileBox;

/// The Steer mode's panel (design.md): a trained run's sampling controls (SteerControls), and
/// the same seeds redrawn whenever one moves (SteerDraws, on the window's RunSamplerQueue).
/// While a slider is dragged a fast preview is drawn (diffusion at reduced steps); on release
/// the full-quality grid replaces it. A newer request replaces a waiting one, so stale
/// previews are dropped, never queued; the GUI thread never waits on sampling. Beside them:
/// the clicked tile and its lock (TileBox) and the X/Y sweep (SweepBox).
class SteerPanel : public QWidget {
    Q_OBJECT
public:
    SteerPanel(RunSamplerQueue* samplers, std::filesystem::path workspace,
               QWidget* parent = nullptr);
    ~SteerPanel() override;

    void setRun(const QString& runDir);
    QString runDir() const { return m_run.dir; }
    /// A draw or a sweep runs or waits.
    bool isBusy() const;
    /// The request the controls say now (`preview`: the fast version), locked tiles included.
    ll::SampleRequest request(bool preview) const;
    /// Grids delivered so far (tests and the status line).
    int drawCount() const { return m_draws; }
    /// Denoising steps shown so far (pixel-space diffusion draws step by step).
    int stepCount() const;

public Q_SLOTS:
    /// Redraws with the controls' settings: a preview while a control is held down.
    void redraw();
    void reseed();
    /// Tells what made a tile: its class, seed and the settings.
    void describeTile(int index);
    /// Draws the X/Y sweep the Sweep box asks for, cell by cell, into <run>/sweeps/.
    void runSweep();
    /// Locks the clicked tile's latent (it keeps its sample when the rest reseeds), or
    /// unlocks it (it follows the grid's seed again).
    void toggleTileLock();
    void unlockAll();
    int lockedTiles() const;
    /// Sends the clicked tile to the latent browser.
    void sendTile();

Q_SIGNALS:
    void gridReady(const ll::SampleGrid& grid, const QString& caption, bool preview);
    void message(const QString& text);
    /// A tile for the latent browser: sample `index` of `request`, of class `label` (-1: none).
    void tileSent(const QString& runDir, const ll::SampleRequest& request, qint64 index, int label);

private:
    void finish(const SteerDrawn& outcome);
    void showError(const QString& text);

    SteerRun m_run;
    int m_draws = 0;
    ll::SampleGrid m_shownGrid;  // as drawn, before its locked tiles are framed
    QString m_shownCaption;
    bool m_shownPreview = false;

    QLabel* m_title;
    SteerControls* m_controls;
    SweepBox* m_sweep;
    QLabel* m_status;
    TileBox* m_tiles;
    SteerDraws* m_drawer;
};

}  // namespace ll::widgets
