#include "cli/parallel.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace ll::cli {

Result<int> freeLoopbackPort() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return fail(std::string("cannot open a socket (") + std::strerror(errno) + ")");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int port = 0;
    if (::bind(s, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        ::getsockname(s, reinterpret_cast<sockaddr*>(&address), &length) == 0)
        port = ntohs(address.sin_port);
    ::close(s);
    if (port == 0) return fail("no free port on the loopback interface");
    return port;
}

Result<LocalRanks> LocalRanks::start(int nproc, const std::string& master, int timeoutSeconds) {
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return fail("cannot tell where latentlab-cli is to start its other processes");
    self[n] = '\0';
    LocalRanks ranks;
    const pid_t parent = ::getpid();
    for (int rank = 1; rank < nproc; ++rank) {
        std::vector<std::string> args{self,
                                      "train",
                                      "--world-size",
                                      std::to_string(nproc),
                                      "--rank",
                                      std::to_string(rank),
                                      "--master",
                                      master,
                                      "--parallel-timeout",
                                      std::to_string(timeoutSeconds)};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        const pid_t pid = ::fork();
        if (pid < 0)
            return fail("cannot start rank " + std::to_string(rank) + " (" + std::strerror(errno) +
                        ")");
        if (pid == 0) {
            // A rank that outlives its rank 0 has nobody to train with.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(1);
            // Its own quiet stdout: rank 0 speaks for the run.
            if (const int null = ::open("/dev/null", O_WRONLY); null >= 0) ::dup2(null, 1);
            ::execv(self, argv.data());
            ::_exit(127);
        }
        ranks.m_pids.push_back(pid);
    }
    return ranks;
}

LocalRanks::LocalRanks(LocalRanks&& other) noexcept : m_pids(std::move(other.m_pids)) {}

LocalRanks::~LocalRanks() {
    for (const pid_t pid : m_pids) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
}

std::vector<std::string> LocalRanks::wait(int timeoutSeconds) {
    std::vector<std::string> failed;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
    for (std::size_t i = 0; i < m_pids.size(); ++i) {
        int status = 0;
        pid_t done = 0;
        while ((done = ::waitpid(m_pids[i], &status, WNOHANG)) == 0 &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const std::string rank = "rank " + std::to_string(i + 1);
        if (done == 0) {
            ::kill(m_pids[i], SIGKILL);
            ::waitpid(m_pids[i], nullptr, 0);
            failed.push_back(rank + ": did not end, killed");
        } else if (WIFSIGNALED(status)) {
            failed.push_back(rank + ": ended by signal " + std::to_string(WTERMSIG(status)));
        } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 130) {
            failed.push_back(rank + ": exit code " + std::to_string(WEXITSTATUS(status)));
        }
    }
    m_pids.clear();
    return failed;
}

}  // namespace ll::cli
