#include "run/runlock.h"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "run/runfolder.h"

namespace ll {

namespace {

std::string hostName() {
    char host[64] = {};
    ::gethostname(host, sizeof host - 1);
    return host;
}

// The owner line the lock file holds: "pid 4242 on studio".
RunOwner parseOwner(int fd) {
    char text[128] = {};
    const auto got = ::pread(fd, text, sizeof text - 1, 0);
    RunOwner owner;
    owner.text.assign(text, got > 0 ? static_cast<std::size_t>(got) : 0);
    while (!owner.text.empty() && (owner.text.back() == '\n' || owner.text.back() == ' '))
        owner.text.pop_back();
    if (owner.text.starts_with("pid ")) {
        // A process id, nothing else: strtol would take "4294967295" as a long that kill()
        // reads as -1, every process the user owns.
        const char* first = owner.text.c_str() + 4;
        const char* last = first + std::strcspn(first, " ");
        pid_t pid = 0;
        const auto [end, ec] = std::from_chars(first, last, pid);
        if (ec == std::errc() && end == last && pid > 0) owner.pid = pid;
        if (const auto on = owner.text.find(" on "); on != std::string::npos)
            owner.host = owner.text.substr(on + 4);
    }
    owner.here = owner.host.empty() || owner.host == hostName();
    owner.thisProcess = owner.here && owner.pid == ::getpid();
    return owner;
}

// Takes the lock without blocking, waiting out a brief holder: RunLock::owner's probe holds
// a shared lock for a moment, and a trainer that starts in that moment must not be refused.
bool lockWithin(int fd, int how, std::chrono::milliseconds patience) {
    const auto until = std::chrono::steady_clock::now() + patience;
    while (::flock(fd, how | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK || std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

}  // namespace

Result<RunLock> RunLock::acquire(const std::filesystem::path& run) {
    const std::filesystem::path file = run / runfiles::kLock;
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(file.string() + ": cannot open the run's lock (" + std::strerror(errno) + ")");
    if (!lockWithin(fd, LOCK_EX, std::chrono::milliseconds(200))) {
        const int error = errno;
        const std::string who = parseOwner(fd).text;
        ::close(fd);
        if (error != EWOULDBLOCK)
            return fail(file.string() + ": cannot lock the run (" + std::strerror(error) + ")");
        return fail(run.string() + ": this run is being trained" +
                    (who.empty() ? std::string() : " by " + who) +
                    "; stop that training or wait until it ends");
    }
    const std::string host = hostName();
    const std::string owner =
        "pid " + std::to_string(::getpid()) + (host.empty() ? "" : " on " + host) + "\n";
    // Who holds it, for the message of the next one to try; the lock works without it.
    if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, owner.data(), owner.size(), 0);
    return RunLock(fd);
}

std::optional<RunOwner> RunLock::owner(const std::filesystem::path& run) {
    const int fd = ::open((run / runfiles::kLock).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;  // never trained since locks came, or not a run
    std::optional<RunOwner> owner;
    if (lockWithin(fd, LOCK_SH, std::chrono::milliseconds(0)))
        ::flock(fd, LOCK_UN);
    else if (errno == EWOULDBLOCK)
        owner = parseOwner(fd);
    ::close(fd);
    return owner;
}

Result<RunOwner> RunLock::askOwnerToStop(const std::filesystem::path& run) {
    const auto who = RunLock::owner(run);
    if (!who) return fail(run.string() + ": nobody is training this run");
    if (who->thisProcess)
        return fail(run.string() + ": this window trains the run; stop it in the Train panel");
    if (!who->here)
        return fail(run.string() + ": trained by " + who->text +
                    ", not on this machine; stop it there");
    if (who->pid <= 0)
        return fail(run.string() + ": its lock names no process (" + who->text +
                    "); stop the training where it runs");
    // SIGTERM: the CLI's trainer saves a checkpoint and exits, as on Ctrl-C.
    if (::kill(static_cast<pid_t>(who->pid), SIGTERM) != 0)
        return fail(run.string() + ": cannot signal " + who->text + " (" + std::strerror(errno) +
                    ")");
    return *who;
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
