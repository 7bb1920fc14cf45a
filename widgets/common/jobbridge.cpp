#include "common/jobbridge.h"

#include <new>
#include <utility>

#include <QMetaObject>

namespace ll::widgets {

void JobContext::progress(const QString& stage, double fraction) {
    JobBridge* bridge = m_bridge;
    m_bridge->post([bridge, stage, fraction] { Q_EMIT bridge->progress(stage, fraction); });
}

void JobContext::post(std::function<void()> f) {
    m_bridge->post(std::move(f));
}

void JobContext::postLatest(int slot, std::function<void()> f) {
    m_bridge->postLatest(slot, std::move(f));
}

JobBridge::JobBridge(QObject* parent) : QObject(parent) {}

JobBridge::~JobBridge() {
    // Join here, not in the member's destructor: the worker may still post, and the slots
    // it posts into are members destroyed before m_thread would be.
    if (m_thread.joinable()) {
        m_thread.request_stop();
        m_thread.join();
    }
}

bool JobBridge::start(Work work, Failure onFailure) {
    if (m_running) return false;
    if (m_thread.joinable()) m_thread.join();  // the last job has posted its end; reap it
    m_running = true;
    m_onFailure = std::move(onFailure);
    m_thread = std::jthread([this, work = std::move(work)](std::stop_token stop) {
        // The thread boundary (style.md 7): nothing the work throws gets past here.
        Then then;
        QString error;
        try {
            JobContext context(this, stop);
            then = work(context);
        } catch (...) {
            error = describe(std::current_exception());
        }
        try {
            post([this, then = std::move(then), error]() mutable { end(std::move(then), error); });
        } catch (...) {
            // Not even the end could be posted (no memory left): the bridge stays running,
            // which leaves the window alive and the job visibly stuck rather than aborting.
        }
    });
    return true;
}

void JobBridge::requestStop() {
    m_thread.request_stop();
}

void JobBridge::post(std::function<void()> f) {
    QMetaObject::invokeMethod(this, std::move(f), Qt::QueuedConnection);
}

void JobBridge::postLatest(int slot, std::function<void()> f) {
    bool first = false;
    {
        std::lock_guard lock(m_latestMutex);
        auto& pending = m_latest[slot];
        first = !pending;
        pending = std::move(f);
    }
    // Only an empty slot schedules a delivery; a full one is overwritten and goes with it.
    if (first)
        QMetaObject::invokeMethod(
            this,
            [this, slot] {
                std::function<void()> newest;
                {
                    std::lock_guard lock(m_latestMutex);
                    auto at = m_latest.find(slot);
                    if (at == m_latest.end()) return;
                    newest = std::move(at->second);
                    m_latest.erase(at);
                }
                if (newest) newest();
            },
            Qt::QueuedConnection);
}

void JobBridge::deliverLatest() {
    std::map<int, std::function<void()>> pending;
    {
        std::lock_guard lock(m_latestMutex);
        pending.swap(m_latest);
    }
    for (auto& [slot, f] : pending)
        if (f) f();
}

void JobBridge::end(Then then, const QString& error) {
    m_running = false;  // before the continuation, so that it may start the next job
    deliverLatest();
    Failure onFailure = std::exchange(m_onFailure, {});
    if (!error.isNull()) {
        Q_EMIT failed(error);
        if (onFailure) onFailure(error);
    } else if (then) {
        then();
    }
    Q_EMIT finished();
}

QString JobBridge::describe(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::bad_alloc&) {
        return tr("Out of memory: the work needed more memory than this process may use.");
    } catch (const std::exception& e) {
        // c10::Error's what() goes on with "Exception raised from ..." and a backtrace.
        QString what = QString::fromLocal8Bit(e.what()).trimmed();
        if (const auto nl = what.indexOf(QLatin1Char('\n')); nl >= 0) what.truncate(nl);
        return what.isEmpty() ? tr("The work failed with an error that gives no message.") : what;
    } catch (...) {
        return tr("The work failed with an unknown error.");
    }
}

}  // namespace ll::widgets
