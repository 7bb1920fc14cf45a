#include "run/runlock.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "run/runfolder.h"

namespace ll {

Result<RunLock> RunLock::acquire(const std::filesystem::path& run) {
    const std::filesystem::path file = run / runfiles::kLock;
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(file.string() + ": cannot open the run's lock (" + std::strerror(errno) + ")");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        char owner[128] = {};
        const auto got = ::pread(fd, owner, sizeof owner - 1, 0);
        ::close(fd);
        if (error != EWOULDBLOCK)
            return fail(file.string() + ": cannot lock the run (" + std::strerror(error) + ")");
        std::string who(owner, got > 0 ? static_cast<std::size_t>(got) : 0);
        while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
        return fail(run.string() + ": this run is being trained" +
                    (who.empty() ? std::string() : " by " + who) +
                    "; stop that training or wait until it ends");
    }
    char host[64] = {};
    ::gethostname(host, sizeof host - 1);
    const std::string owner =
        "pid " + std::to_string(::getpid()) + (host[0] ? std::string(" on ") + host : "") + "\n";
    // Who holds it, for the message of the next one to try; the lock works without it.
    if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, owner.data(), owner.size(), 0);
    return RunLock(fd);
}

RunLock::RunLock(RunLock&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
}

RunLock::~RunLock() {
    if (m_fd >= 0) ::close(m_fd);  // closing the last descriptor releases the flock
}

}  // namespace ll
