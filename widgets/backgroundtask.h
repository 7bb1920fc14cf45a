#pragma once

#include <functional>
#include <utility>

#include <QCoreApplication>
#include <QPointer>
#include <QThreadPool>

namespace ll::widgets {

/// Runs `work` on Qt's thread pool and hands its result to `done` on the GUI thread, unless
/// `context` was destroyed meanwhile. For short jobs (loading a dataset preview); training
/// has its own thread in TrainingJob.
template <class Result>
void runInBackground(QObject* context, std::function<Result()> work,
                     std::function<void(Result)> done) {
    QPointer<QObject> guard(context);
    QThreadPool::globalInstance()->start(
        [guard, work = std::move(work), done = std::move(done)]() mutable {
            Result result = work();
            // Hop back to the GUI thread; the guard is read there, where the context lives.
            QMetaObject::invokeMethod(
                QCoreApplication::instance(),
                [guard, done = std::move(done), result = std::move(result)]() mutable {
                    if (guard) done(std::move(result));
                },
                Qt::QueuedConnection);
        });
}

}  // namespace ll::widgets
