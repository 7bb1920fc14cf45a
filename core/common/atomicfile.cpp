#include "common/atomicfile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace ll {
namespace fs = std::filesystem;

namespace {

fs::path temporaryBeside(const fs::path& path) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string name = ".";
    name.append(path.filename().string()).append(".").append(std::to_string(rng())).append(".tmp");
    return path.parent_path() / name;
}

// The data must reach the disk before the rename makes it visible, or a power cut could
// leave the new name pointing at an empty file.
void syncFile(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

}  // namespace

Result<void> writeAtomicWith(const fs::path& path,
                             const std::function<Result<void>(const fs::path&)>& writer) {
    std::error_code ec;
    if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
    const fs::path tmp = temporaryBeside(path);
    Result<void> written;
    try {
        written = writer(tmp);
    } catch (const std::exception& e) {
        written = fail(path.string() + ": " + e.what());
    }
    if (!written) {
        fs::remove(tmp, ec);
        return written;
    }
    syncFile(tmp);
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return fail(path.string() + ": cannot write (" + ec.message() + ")");
    }
    return {};
}

Result<void> writeFileAtomic(const fs::path& path, std::string_view bytes) {
    return writeAtomicWith(path, [&](const fs::path& tmp) -> Result<void> {
        // Plain system calls, so the error says what failed: a full disk, a quota, a file
        // size limit, a missing permission.
        auto cannot = [&](const char* what) {
            return fail(path.string() + ": cannot " + what + " (" + std::strerror(errno) + ")");
        };
        const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) return cannot("create it");
        for (std::size_t done = 0; done < bytes.size();) {
            const auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                auto error = cannot("write it");
                ::close(fd);
                return error;
            }
            done += static_cast<std::size_t>(n);
        }
        if (::close(fd) != 0) return cannot("write it");
        return {};
    });
}

Result<std::string> readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(path.string() + ": cannot open file");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) return fail(path.string() + ": read error");
    return buffer.str();
}

}  // namespace ll
