#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <QStringList>
#include <QWidget>

#include "common/samplegrid.h"
#include "models/request.h"

class QCheckBox;
class QComboBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSlider;
class QSpinBox;

namespace ll {
class RunSampler;
}

namespace ll::widgets {

class RangeSlider;

/// The Steer mode's panel (design.md): the controls of a trained run's sampling, and the
/// worker that redraws the same seeds whenever one moves. Diffusion: classifier-free
/// guidance weight, classifier guidance (a noisy-classifier run and its scale), the guidance
/// interval, steps and sampler; GANs: truncation; the VAE family: temperature; conditional
/// models: one class per row, one class, or a mixture of classes. While a slider is dragged a
/// fast preview is drawn (diffusion at reduced steps); on release the full-quality grid
/// replaces it. At most one draw runs; a newer request replaces a waiting one, so stale
/// previews are dropped, never queued. The GUI thread never waits on sampling.
class SteerPanel : public QWidget {
    Q_OBJECT
public:
    explicit SteerPanel(std::filesystem::path workspace, QWidget* parent = nullptr);
    ~SteerPanel() override;

    void setRun(const QString& runDir);
    QString runDir() const { return m_runDir; }
    bool isBusy() const { return m_busy; }
    /// The request the controls say now (`preview`: the fast version).
    ll::SampleRequest request(bool preview) const;
    /// Grids delivered so far (tests and the status line).
    int drawCount() const { return m_draws; }
    /// Denoising steps shown so far (pixel-space diffusion draws step by step).
    int stepCount() const { return m_steps_shown; }

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
    int lockedTiles() const { return int(m_pins.size()); }
    /// Sends the clicked tile to the latent browser.
    void sendTile();

Q_SIGNALS:
    void gridReady(const ll::SampleGrid& grid, const QString& caption, bool preview);
    void message(const QString& text);
    /// A tile for the latent browser: sample `index` of `request`, of class `label` (-1: none).
    void tileSent(const QString& runDir, const ll::SampleRequest& request, qint64 index, int label);

private:
    struct Draw;
    struct Outcome;
    void start(Draw draw);
    void finish(Outcome outcome);
    bool dragging() const;
    void showControls();
    void fillClassifiers();
    int tileCount(const ll::SampleRequest& r) const;
    /// The running full-quality diffusion draw takes `wish`'s guidance from its current step
    /// on, when nothing else differs; false when it cannot.
    bool continueRunningDraw(const ll::SampleRequest& wish, const QString& classifierRun);
    void showLocks();

    std::filesystem::path m_workspace;
    QString m_runDir;
    std::shared_ptr<ll::RunSampler> m_sampler;
    QString m_samplerRun;
    std::string m_model;
    int m_numClasses = 0;
    bool m_conditional = false;
    std::string m_dataset;
    std::vector<std::string> m_classNames;
    bool m_busy = false;
    std::unique_ptr<Draw> m_pending;  // the newest request made while busy
    // Set when a newer request arrives: a diffusion draw stops at its next step.
    std::shared_ptr<std::atomic<bool>> m_superseded;
    int m_draws = 0;
    int m_steps_shown = 0;
    int m_drawId = 0;           // the draw running now: step grids of earlier ones are dropped
    ll::SampleRequest m_shown;  // the request of the grid on screen
    int m_shownCols = 8;
    ll::SampleGrid m_shownGrid;  // as drawn, before its locked tiles are framed
    QString m_shownCaption;
    bool m_shownPreview = false;
    std::vector<ll::PinnedLatent> m_pins;  // locked tiles
    int m_tileIndex = -1;                  // the clicked tile
    // The running full-quality diffusion draw: its request, its live guidance, the steps it
    // has done, and the guidance changes made while it ran.
    ll::SampleRequest m_running;
    QString m_runningClassifier;
    std::shared_ptr<ll::LiveGuidance> m_live;
    std::shared_ptr<std::atomic<int>> m_progress;
    QStringList m_liveChanges;

    QLabel* m_title;
    QSpinBox* m_seed;
    QPushButton* m_reseed;
    QComboBox* m_classMode;
    QGroupBox* m_mixBox;
    std::vector<QSlider*> m_mix;
    QGroupBox* m_diffusionBox;
    QSlider* m_guidance;
    QLabel* m_guidanceValue;
    RangeSlider* m_interval;
    QLabel* m_intervalValue;
    QComboBox* m_classifier;
    QSlider* m_classifierScale;
    QLabel* m_classifierScaleValue;
    QSpinBox* m_steps;
    QComboBox* m_samplerKind;
    QGroupBox* m_ganBox;
    QSlider* m_truncation;
    QLabel* m_truncationValue;
    QGroupBox* m_vaeBox;
    QSlider* m_temperature;
    QLabel* m_temperatureValue;
    QLabel* m_status;
    QLabel* m_tile;
    QPushButton* m_lockTile;
    QPushButton* m_unlockAll;
    QPushButton* m_toBrowser;
    QCheckBox* m_continue;
    QComboBox* m_sweepX;
    QComboBox* m_sweepY;
    QLineEdit* m_sweepXValues;
    QLineEdit* m_sweepYValues;
    QPushButton* m_sweepButton;
    QPushButton* m_sweepStop;
    std::shared_ptr<std::atomic<bool>> m_sweepStopFlag;
    ll::SampleGrid m_sweepGrid;
    bool m_sweepShown = false;                       // the grid on screen is a sweep's
    std::pair<QString, QStringList> m_sweepColumns;  // axis name, values
    QStringList m_sweepRows;                         // row labels
};

}  // namespace ll::widgets
