#pragma once

#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include <QObject>
#include <QString>

namespace ll::widgets {

class JobBridge;

/// What a job sees of its bridge, on the worker thread: its stop token, and ways to hand
/// things to the GUI thread. Every call here is safe from the worker; nothing it posts runs
/// once the bridge is gone.
class JobContext {
public:
    std::stop_token stopToken() const { return m_stop; }
    bool stopRequested() const { return m_stop.stop_requested(); }
    /// Emits JobBridge::progress on the GUI thread (every call, in order: report at intervals).
    void progress(const QString& stage, double fraction);
    /// Runs `f` on the GUI thread, in order with every other post.
    void post(std::function<void()> f);
    /// Latest wins (style.md 6): `f` replaces what `slot` holds that has not been delivered
    /// yet, so a slow GUI thread sees only the newest frame, never a queue of stale ones.
    void postLatest(int slot, std::function<void()> f);

private:
    friend class JobBridge;
    JobContext(JobBridge* bridge, std::stop_token stop) : m_bridge(bridge), m_stop(stop) {}
    JobBridge* m_bridge;
    std::stop_token m_stop;
};

/// The one way widgets run long work off the GUI thread (style.md 5-8): a callable runs on
/// the bridge's own std::jthread with a stop token; what it posts arrives on the GUI thread;
/// every exception is caught at the thread boundary and becomes failed(message). Destroying
/// the bridge requests stop and joins. One job at a time; the GUI thread never waits on one.
class JobBridge : public QObject {
    Q_OBJECT
public:
    /// Runs on the GUI thread when the job has returned (before finished()).
    using Then = std::function<void()>;
    /// The job: runs on the worker; what it returns runs on the GUI thread afterwards.
    using Work = std::function<Then(JobContext& job)>;

    explicit JobBridge(QObject* parent = nullptr);
    ~JobBridge() override;

    /// Told why a job failed (after failed() is emitted).
    using Failure = std::function<void(const QString& message)>;

    /// Starts `work` on a new worker thread; false (and nothing happens) while a job runs.
    /// `onFailure` hears this job's failure, besides failed().
    bool start(Work work, Failure onFailure = {});
    /// Asks the running job to stop (its token says so); it still ends with finished().
    void requestStop();
    /// True from start() until the job's end is delivered on the GUI thread.
    bool isRunning() const { return m_running; }
    /// Delivers what the job posted to latest-wins slots and has not arrived yet (a job's
    /// last frame before its end).
    void deliverLatest();

    /// The message of an exception for the user: what() up to its first line (c10::Error
    /// appends a backtrace), "out of memory" for std::bad_alloc, a plain sentence for a throw
    /// that is no std::exception.
    static QString describe(std::exception_ptr error);

Q_SIGNALS:
    void progress(const QString& stage, double fraction);
    /// The job threw; `message` says what. finished() follows.
    void failed(const QString& message);
    /// The job has ended (returned, failed or stopped); isRunning() is false unless its
    /// continuation or failure callback has already started the next job.
    void finished();

private:
    friend class JobContext;
    void post(std::function<void()> f);
    void postLatest(int slot, std::function<void()> f);
    void end(Then then, const QString& error);

    std::jthread m_thread;
    bool m_running = false;
    Failure m_onFailure;
    std::mutex m_latestMutex;
    std::map<int, std::function<void()>> m_latest;  // slot -> newest undelivered post
};

/// A job that computes a value: `work` on the worker, `done` with its value on the GUI
/// thread; exceptions reach `failed` (and the bridge's failed()). False while a job runs.
template <class T>
bool runJob(JobBridge& bridge, std::function<T(JobContext&)> work, std::function<void(T)> done,
            JobBridge::Failure failed = {}) {
    return bridge.start(
        [work = std::move(work), done = std::move(done)](JobContext& job) -> JobBridge::Then {
            auto value = std::make_shared<T>(work(job));
            return [done, value] { done(std::move(*value)); };
        },
        std::move(failed));
}

}  // namespace ll::widgets
