#include "steer/steerdraws.h"

#include <utility>

#include <QPointer>

#include "common/runsamplerqueue.h"
#include "run/runsampler.h"
#include "steer/steerrun.h"
#include "steer/tilebox.h"

namespace ll::widgets {

SteerDraws::SteerDraws(RunSamplerQueue* samplers, QObject* parent)
    : QObject(parent), m_samplers(samplers) {}

bool SteerDraws::isBusy() const {
    return m_samplers->isBusy(this);
}

void SteerDraws::setRun(const QString& run) {
    if (m_samplers) m_samplers->hold(this, run);
}

void SteerDraws::draw(SteerDraw draw) {
    std::shared_ptr<ll::LiveGuidance> live;
    if (draw.live) {  // guidance sliders may steer it midway
        live = std::make_shared<ll::LiveGuidance>();
        live->guidance = draw.request.guidance;
        live->classifierScale = draw.request.classifierScale;
        live->guidanceFrom = draw.request.guidanceFrom;
        live->guidanceTo = draw.request.guidanceTo;
        draw.request.live = live;
    }
    auto progress = std::make_shared<std::atomic<int>>(0);
    const int id = ++m_lastId;
    QPointer<SteerDraws> self(this);
    auto work = [self, draw, progress, id, live](ll::RunSampler* sampler,
                                                 JobContext& job) -> JobBridge::Then {
        SteerDrawn out{.draw = draw, .step = sampler->step()};
        // Pixel-space diffusion takes seconds on a CPU: the grid after every denoising step.
        ll::RunSampler::StepFn onStep = [&job, self, progress, id, draw](
                                            const ll::SampleGrid& shown, int done, int total) {
            if (job.stopRequested()) return false;  // a newer draw waits
            progress->store(done);
            if (draw.showSteps)
                job.post([self, grid = shown, done, total, id, pins = draw.request.pinned] {
                    if (!self || self->m_drawId != id) return;
                    auto framed = grid;
                    TileBox::frame(framed, pins);
                    ++self->m_stepsShown;
                    const QString caption = tr("Denoising: step %1 of %2").arg(done).arg(total);
                    Q_EMIT self->status(caption);
                    Q_EMIT self->stepShown(framed, caption);
                });
            return true;
        };
        if (auto ok = sampler->setGuidingClassifier(draw.classifierRun.toStdString()); !ok) {
            out.error = QString::fromStdString(ok.error().message);
        } else {
            auto request = draw.request;
            ll::Result<ll::SampleGrid> grid =
                draw.classRows
                    ? sampler->classGrid(request.seed, kSteerCols, kSteerRows, request, onStep)
                    : (request.count = std::int64_t(kSteerSingleRows) * kSteerCols,
                       sampler->grid(request, kSteerCols, draw.rowLabels, onStep));
            if (grid)
                out.grid = std::move(*grid);
            else
                out.error = QString::fromStdString(grid.error().message);
        }
        return [self, out = std::move(out), live]() mutable {
            if (self) self->finish(std::move(out), live);
        };
    };
    m_samplers->submit(
        {.client = this,
         .run = draw.run,
         .work = std::move(work),
         .failed = [this, draw,
                    live](const QString& why) { finish({.draw = draw, .error = why}, live); },
         .started =
             [this, draw, live, progress, id] {
                 m_drawId = id;
                 m_progress = progress;
                 m_live = live;
                 m_liveChanges.clear();
                 m_running = draw.request;
                 m_runningClassifier = draw.classifierRun;
                 Q_EMIT status(draw.preview ? tr("Drawing a preview…") : tr("Drawing…"));
             },
         .stoppable = true});
}

void SteerDraws::finish(SteerDrawn out, const std::shared_ptr<ll::LiveGuidance>& live) {
    if (live) {  // the grid shows the guidance the draw ended with
        out.draw.request.guidance = live->guidance;
        out.draw.request.classifierScale = live->classifierScale;
        out.draw.request.guidanceFrom = live->guidanceFrom;
        out.draw.request.guidanceTo = live->guidanceTo;
    }
    out.draw.request.live.reset();
    m_live.reset();
    out.changes = std::exchange(m_liveChanges, {});
    out.newerWaits = m_samplers->isWaiting(this);
    Q_EMIT drawn(out);
}

bool SteerDraws::follow(const ll::SampleRequest& wish, const QString& classifierRun) {
    if (!m_live || !m_samplers->isRunning(this) || classifierRun != m_runningClassifier)
        return false;
    const auto& r = m_running;
    const bool same = wish.seed == r.seed && wish.labels == r.labels && wish.mixture == r.mixture &&
                      wish.steps == r.steps && wish.sampler == r.sampler &&
                      wish.temperature == r.temperature && wish.truncation == r.truncation &&
                      wish.pinned.size() == r.pinned.size();
    if (!same) return false;
    m_samplers->dropWaiting(this);  // the running draw is what the controls say now
    auto& live = *m_live;
    if (live.guidance == wish.guidance && live.classifierScale == wish.classifierScale &&
        live.guidanceFrom == wish.guidanceFrom && live.guidanceTo == wish.guidanceTo)
        return true;  // nothing new
    live.guidance = wish.guidance;
    live.classifierScale = wish.classifierScale;
    live.guidanceFrom = wish.guidanceFrom;
    live.guidanceTo = wish.guidanceTo;
    const int done = m_progress ? m_progress->load() : 0;
    const QString change = tr("from step %1: guidance %2, scale %3, interval %4–%5")
                               .arg(done + 1)
                               .arg(wish.guidance)
                               .arg(wish.classifierScale)
                               .arg(wish.guidanceFrom, 0, 'f', 2)
                               .arg(wish.guidanceTo, 0, 'f', 2);
    // Changes before the next step replace each other.
    if (!m_liveChanges.isEmpty() &&
        m_liveChanges.back().startsWith(tr("from step %1:").arg(done + 1)))
        m_liveChanges.back() = change;
    else
        m_liveChanges << change;
    Q_EMIT status(tr("The running draw continues %1").arg(change));
    return true;
}

}  // namespace ll::widgets
