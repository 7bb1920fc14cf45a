#pragma once

// train --nproc N: the other N - 1 processes of a local data-parallel run, started and
// waited for by the one that is rank 0.

#include <string>
#include <vector>

#include <sys/types.h>

#include "common/error.h"

namespace ll::cli {

/// A free TCP port on the loopback interface, for a local run's rendezvous.
Result<int> freeLoopbackPort();

/// Ranks 1..nproc-1 of a run whose rank 0 (this process) serves at `master`: each is this
/// program's `train --world-size N --rank R --master M --parallel-timeout T`, taking the run's
/// config from rank 0. They die with this process (PR_SET_PDEATHSIG), and print only their
/// failure, prefixed with their rank.
class LocalRanks {
public:
    static Result<LocalRanks> start(int nproc, const std::string& master, int timeoutSeconds);
    LocalRanks(LocalRanks&&) noexcept;
    LocalRanks& operator=(LocalRanks&&) = delete;
    ~LocalRanks();  // ends those still running (SIGKILL): rank 0 failed before they finished
    /// Waits for each (up to the timeout once rank 0 is done, then kills it); the ranks that
    /// failed, as "rank R: exit code C".
    std::vector<std::string> wait(int timeoutSeconds);

private:
    LocalRanks() = default;
    std::vector<pid_t> m_pids;
};

}  // namespace ll::cli
