#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/error.h"

namespace ll {

/// The process that trains a run, as its lock names it.
struct RunOwner {
    long pid = 0;       // 0 when the lock file does not name one
    std::string host;   // the machine it runs on, as it named itself
    bool here = false;  // on this machine (same host name), so a signal reaches it
    bool thisProcess = false;
    std::string text;  // "pid 4242 on studio"
};

/// Who trains a run folder: one process at a time. An advisory lock (flock) on the run's
/// train.lock, which names its owner; the kernel drops it when the owner exits, however it
/// exits, so a crashed trainer never leaves a run locked.
class RunLock {
public:
    /// Takes the run's lock, or says which process holds it.
    static Result<RunLock> acquire(const std::filesystem::path& run);
    /// Who holds the run's lock now; nullopt when nobody trains it (a crashed owner's lock
    /// is gone with it). Probes with a shared lock that it drops at once, so it never
    /// creates the lock file and never keeps a trainer out (acquire waits out a probe).
    static std::optional<RunOwner> owner(const std::filesystem::path& run);
    /// Asks the process that trains the run, on this machine, to stop as Ctrl-C would: it
    /// saves a checkpoint, releases the lock and exits. Fails when nobody trains the run,
    /// when this process does (stop its trainer instead) or when it runs elsewhere.
    static Result<RunOwner> askOwnerToStop(const std::filesystem::path& run);

    RunLock(RunLock&& other) noexcept;
    RunLock& operator=(RunLock&& other) noexcept;
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;
    ~RunLock();

private:
    explicit RunLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

}  // namespace ll
