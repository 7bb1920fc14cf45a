#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include <QObject>
#include <QPointer>
#include <QString>

#include "common/jobbridge.h"

namespace ll {
class RunSampler;
}

namespace ll::widgets {

/// The window's sampling worker: one ll::RunSampler (one model in memory) per run that a
/// client holds, shared by the Steer and Latent panels and the sample bar, and one job at a
/// time on its JobBridge's thread. Clients are QObjects: a client's jobs reach it only while
/// it lives, and a newer job of the same client and kind replaces one that waits (Steer's
/// previews replace each other but never the Latent panel's map). The queue lives on the GUI
/// thread; its jobs run on the worker and their continuations back on the GUI thread.
class RunSamplerQueue : public QObject {
    Q_OBJECT
public:
    using Then = JobBridge::Then;
    /// A job's work on the worker: the run's sampler (null when the job opens nothing) and
    /// its context (stop token, posts); what it returns runs on the GUI thread.
    using Work = std::function<Then(ll::RunSampler* sampler, JobContext& job)>;

    struct Job {
        QObject* client = nullptr;
        QString run;
        /// The client's own kinds of work: replacement and stopping go by client and kind.
        int kind = 0;
        Work work;
        /// On the GUI thread: the run could not be opened or the work threw; the message.
        std::function<void(const QString& message)> failed;
        /// On the GUI thread, as the job starts (a client tracks what runs now).
        std::function<void()> started;
        /// A newer job of the same client and kind replaces this one while it waits.
        bool replaceable = true;
        /// A newer job of the same client and kind asks this one to stop while it runs.
        bool stoppable = false;
        /// Opens the run afresh at its latest checkpoint first (it may have trained on); the
        /// new sampler replaces the shared one.
        bool reopen = false;
        /// False: the job opens what it needs itself and gets no sampler.
        bool needsSampler = true;
    };

    explicit RunSamplerQueue(QObject* parent = nullptr);
    ~RunSamplerQueue() override;

    /// Queues a job (its client then holds its run) and starts it when the worker is free.
    void submit(Job job);
    /// The run a client works on: samplers of runs that no client holds are closed. An empty
    /// run lets go.
    void hold(QObject* client, const QString& run);
    /// Drops the client's waiting jobs (of `kind`, or all).
    void dropWaiting(const QObject* client, std::optional<int> kind = {});
    /// Asks the client's running job (of `kind`, or any) to stop.
    void stopRunning(const QObject* client, std::optional<int> kind = {});

    /// A job of the client (of `kind`, or any) runs or waits.
    bool isBusy(const QObject* client, std::optional<int> kind = {}) const;
    bool isRunning(const QObject* client, std::optional<int> kind = {}) const;
    bool isWaiting(const QObject* client, std::optional<int> kind = {}) const;
    /// Runs with a sampler open now.
    int openRuns() const { return int(m_samplers.size()); }

private:
    struct Queued {
        Job job;
        QPointer<QObject> client;
    };
    void watch(QObject* client);
    void forget(QObject* client);
    void startNext();
    void finish(const QString& run, std::shared_ptr<ll::RunSampler> sampler);
    bool held(const QString& run) const;
    void closeUnheld();
    static bool matches(const Job& job, const QObject* client, std::optional<int> kind);

    JobBridge m_bridge;
    std::deque<Queued> m_waiting;
    std::optional<Job> m_running;  // its work and callbacks moved out; what it is for
    std::map<QString, std::shared_ptr<ll::RunSampler>> m_samplers;
    std::map<const QObject*, QString> m_holds;
};

}  // namespace ll::widgets
