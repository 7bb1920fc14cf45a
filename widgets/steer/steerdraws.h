#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <QObject>
#include <QStringList>

#include "common/samplegrid.h"
#include "models/request.h"

namespace ll::widgets {

class RunSamplerQueue;

/// One grid the Steer mode asks for.
struct SteerDraw {
    QString run;
    QString classifierRun;  // guides diffusion draws; empty: none
    ll::SampleRequest request;
    bool classRows = true;  // one row per class; else rows x cols of request's condition
    std::vector<std::string> rowLabels;
    bool preview = false;
    bool showSteps = false;  // slow draws: every denoising step is shown
    bool live = false;       // full diffusion draws: guidance may change while it runs
};

/// What became of a draw.
struct SteerDrawn {
    SteerDraw draw;  // its request with the guidance it ended with
    std::optional<ll::SampleGrid> grid;
    std::int64_t step = 0;  // the checkpoint it was drawn at
    QString error;
    QStringList changes;      // guidance changes it followed while it ran
    bool newerWaits = false;  // a newer draw waits: this one is stale unless a preview
};

/// The Steer mode's draw scheduling on the window's RunSamplerQueue: a newer draw replaces a
/// waiting one and stops a running diffusion draw at its next step; a running full diffusion
/// draw can instead follow guidance moved meanwhile (ll::LiveGuidance, read before every
/// step). Pixel-space diffusion shows every denoising step.
class SteerDraws : public QObject {
    Q_OBJECT
public:
    explicit SteerDraws(RunSamplerQueue* samplers, QObject* parent = nullptr);

    /// The run the draws are of: the queue keeps its model open while some client holds it
    /// (empty: let go, so that a run Steer has left closes).
    void setRun(const QString& run);
    void draw(SteerDraw draw);
    /// The running full diffusion draw takes `wish`'s guidance from its current step on, when
    /// nothing else differs (a waiting draw is then dropped); false when it cannot.
    bool follow(const ll::SampleRequest& wish, const QString& classifierRun);
    bool isBusy() const;
    /// Denoising steps shown so far.
    int stepCount() const { return m_stepsShown; }

Q_SIGNALS:
    void status(const QString& text);
    /// A denoising step of a slow draw, its locked tiles framed.
    void stepShown(const ll::SampleGrid& grid, const QString& caption);
    void drawn(const SteerDrawn& outcome);

private:
    void finish(SteerDrawn outcome, const std::shared_ptr<ll::LiveGuidance>& live);

    RunSamplerQueue* m_samplers;
    int m_lastId = 0;
    int m_drawId = 0;  // the draw running now: step grids of earlier ones are dropped
    int m_stepsShown = 0;
    // The running full-quality diffusion draw: its request, its live guidance, the steps it
    // has done, and the guidance changes made while it ran.
    ll::SampleRequest m_running;
    QString m_runningClassifier;
    std::shared_ptr<ll::LiveGuidance> m_live;
    std::shared_ptr<std::atomic<int>> m_progress;
    QStringList m_liveChanges;
};

}  // namespace ll::widgets
