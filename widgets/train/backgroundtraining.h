#pragma once

#include <cstdint>

#include <QString>
#include <QStringList>

#include "common/error.h"

namespace ll::widgets {

/// Training that goes on after the window closes: latentlab-cli resumes the run in a process
/// of its own (detached, in a session of its own), printing to the run's background.log. The
/// window that closed has stopped its own trainer first, so the run's checkpoint is whole and
/// its lock free; the next window finds the run by its lock (RunLock::owner).
class BackgroundTraining {
public:
    /// The command line tool beside the app (LATENTLAB_CLI overrides it, for tests).
    static QString cliPath();

    /// Starts `latentlab-cli train --resume RUN --steps TOTAL` and waits until it holds the
    /// run's lock (it then trains) or has ended (its log's last line says why), at most
    /// `patienceMs`. Keeps the GUI responsive while it waits. Returns the process id.
    static ll::Result<std::int64_t> start(const QString& runDir, std::int64_t totalSteps,
                                          int patienceMs = 60000);

    /// Starts `latentlab-cli ARGUMENTS` detached, printing to runDir's background.log, and
    /// waits as start() does until it holds the run's lock. Returns the process id.
    static ll::Result<std::int64_t> launch(const QStringList& arguments, const QString& runDir,
                                           int patienceMs = 60000);
};

}  // namespace ll::widgets
