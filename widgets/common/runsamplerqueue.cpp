#include "common/runsamplerqueue.h"

#include <algorithm>
#include <utility>

#include "run/runsampler.h"

namespace ll::widgets {

RunSamplerQueue::RunSamplerQueue(QObject* parent) : QObject(parent) {
    // The next job starts once the last one's continuation has run (finished() follows it).
    connect(&m_bridge, &JobBridge::finished, this, &RunSamplerQueue::startNext);
}

RunSamplerQueue::~RunSamplerQueue() {
    m_waiting.clear();
    m_bridge.requestStop();  // a diffusion draw stops at its next step; m_bridge joins it
}

bool RunSamplerQueue::matches(const Job& job, const QObject* client, std::optional<int> kind) {
    return job.client == client && (!kind || job.kind == *kind);
}

void RunSamplerQueue::watch(QObject* client) {
    if (m_holds.count(client)) return;
    m_holds[client];
    // A client that goes takes its waiting jobs and its hold with it; its running job ends
    // unseen (its continuation checks that the client lives).
    connect(client, &QObject::destroyed, this, [this, client] { forget(client); });
}

void RunSamplerQueue::forget(QObject* client) {
    std::erase_if(m_waiting, [client](const Queued& q) { return q.job.client == client; });
    m_holds.erase(client);
    if (m_running && m_running->client == client && m_running->stoppable) m_bridge.requestStop();
    closeUnheld();
}

void RunSamplerQueue::hold(QObject* client, const QString& run) {
    if (!client) return;
    watch(client);
    m_holds[client] = run;
    closeUnheld();
}

void RunSamplerQueue::submit(Job job) {
    if (!job.client || !job.work) return;
    hold(job.client, job.run);
    if (job.replaceable)  // the newer wish replaces a waiting one of its client and kind
        std::erase_if(m_waiting, [&](const Queued& q) {
            return q.job.replaceable && matches(q.job, job.client, job.kind);
        });
    if (m_running && m_running->stoppable && matches(*m_running, job.client, job.kind))
        m_bridge.requestStop();
    QPointer<QObject> client(job.client);
    m_waiting.push_back({std::move(job), client});
    startNext();
}

void RunSamplerQueue::dropWaiting(const QObject* client, std::optional<int> kind) {
    std::erase_if(m_waiting, [&](const Queued& q) { return matches(q.job, client, kind); });
}

void RunSamplerQueue::stopRunning(const QObject* client, std::optional<int> kind) {
    if (m_running && matches(*m_running, client, kind)) m_bridge.requestStop();
}

bool RunSamplerQueue::isRunning(const QObject* client, std::optional<int> kind) const {
    return m_running && matches(*m_running, client, kind);
}

bool RunSamplerQueue::isWaiting(const QObject* client, std::optional<int> kind) const {
    return std::any_of(m_waiting.begin(), m_waiting.end(),
                       [&](const Queued& q) { return matches(q.job, client, kind); });
}

bool RunSamplerQueue::isBusy(const QObject* client, std::optional<int> kind) const {
    return isRunning(client, kind) || isWaiting(client, kind);
}

bool RunSamplerQueue::held(const QString& run) const {
    return std::any_of(m_holds.begin(), m_holds.end(),
                       [&](const auto& hold) { return hold.second == run; });
}

void RunSamplerQueue::closeUnheld() {
    // A running job keeps its own reference: closing here never frees a model in use.
    std::erase_if(m_samplers, [this](const auto& entry) { return !held(entry.first); });
}

void RunSamplerQueue::startNext() {
    if (m_running || m_bridge.isRunning()) return;
    while (!m_waiting.empty() && !m_waiting.front().client) m_waiting.pop_front();
    if (m_waiting.empty()) return;
    Queued next = std::move(m_waiting.front());
    m_waiting.pop_front();
    Job& job = next.job;
    if (job.reopen) m_samplers.erase(job.run);
    std::shared_ptr<ll::RunSampler> sampler;
    if (auto at = m_samplers.find(job.run); at != m_samplers.end()) sampler = at->second;
    const QString run = job.run;
    const bool needsSampler = job.needsSampler;
    QPointer<QObject> client = next.client;
    auto failed = job.failed;
    auto work = std::move(job.work);
    m_running =
        Job{.client = job.client, .run = job.run, .kind = job.kind, .stoppable = job.stoppable};
    if (job.started) job.started();
    // Runs on the worker: it opens the run when no sampler is open, then does the job.
    auto onWorker = [this, run, needsSampler, sampler, client, failed,
                     work](JobContext& context) mutable -> Then {
        if (needsSampler && !sampler) {
            auto opened = ll::RunSampler::open(run.toStdString());
            if (!opened) {
                const QString why = QString::fromStdString(opened.error().message);
                return [this, client, failed, why] {
                    m_running.reset();
                    if (client && failed) failed(why);
                };
            }
            sampler = std::shared_ptr<ll::RunSampler>(std::move(*opened));
        }
        Then then = work(sampler.get(), context);
        return [this, run, sampler, client, then] {
            m_running.reset();
            finish(run, sampler);
            if (client && then) then();
        };
    };
    const bool started =
        m_bridge.start(std::move(onWorker), [this, client, failed](const QString& why) {
            m_running.reset();
            if (client && failed) failed(why);
        });
    if (!started) m_running.reset();
}

void RunSamplerQueue::finish(const QString& run, std::shared_ptr<ll::RunSampler> sampler) {
    // The sampler becomes the run's shared one while some client still works on the run.
    if (sampler && held(run)) m_samplers[run] = std::move(sampler);
}

}  // namespace ll::widgets
