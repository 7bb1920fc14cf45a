#pragma once

// What every command of latentlab-cli shares on the terminal: one-line failures, progress on
// stderr, Ctrl-C.

#include <exception>
#include <functional>
#include <stop_token>
#include <string>

#include "common/error.h"
#include "train/events.h"

namespace ll::cli {

/// Prints "latentlab-cli: MESSAGE" on stderr; returns the exit code of a failure (1).
int failure(const std::string& message);

using ll::firstLine;  // a failure is one line (common/error.h)

/// From now on SIGINT and SIGTERM set interrupted() instead of killing the process, so that
/// long work can stop cleanly (a trainer saves a checkpoint first).
void catchInterrupts();
bool interrupted();

/// Runs `work` on a worker thread until it returns; Ctrl-C, or `alsoStop` returning true,
/// requests it to stop. What the work throws is caught on the worker and thrown again here.
void runStoppable(const std::function<void(std::stop_token)>& work,
                  const std::function<bool()>& alsoStop = {});

/// A training bar: one line, redrawn in place on a terminal; on a pipe a line every 10% so
/// logs stay short.
class ProgressBar {
public:
    ProgressBar();
    void update(const ll::TrainProgress& p);
    void endLine();

private:
    bool m_tty;
    bool m_drawn = false;
    int m_lastDecile = -1;
};

/// Stage progress of an evaluation: redrawn in place on a terminal, a line per stage on a
/// pipe. Returns false (cancel) once interrupted.
class StageProgress {
public:
    StageProgress();
    bool operator()(const std::string& stage, double fraction);
    void endLine();

private:
    bool m_tty;
    std::string m_stage;
};

}  // namespace ll::cli
