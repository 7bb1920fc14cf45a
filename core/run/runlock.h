#pragma once

#include <filesystem>

#include "common/error.h"

namespace ll {

/// Who trains a run folder: one process at a time. An advisory lock (flock) on the run's
/// train.lock, which names its owner; the kernel drops it when the owner exits, however it
/// exits, so a crashed trainer never leaves a run locked.
class RunLock {
public:
    /// Takes the run's lock, or says which process holds it.
    static Result<RunLock> acquire(const std::filesystem::path& run);

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
