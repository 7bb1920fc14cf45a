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

FileOutput::FileOutput(const fs::path& path, std::string shownAs)
    : m_fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)),
      m_shownAs(std::move(shownAs)) {
    if (m_fd < 0) m_error = m_shownAs + ": cannot create it (" + std::strerror(errno) + ")";
}

FileOutput::~FileOutput() {
    if (m_fd >= 0) ::close(m_fd);
}

bool FileOutput::write(const void* data, std::size_t size) {
    if (!m_error.empty()) return false;
    const auto* bytes = static_cast<const char*>(data);
    for (std::size_t done = 0; done < size;) {
        const auto n = ::write(m_fd, bytes + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            m_error =
                m_shownAs + ": cannot write it (" + std::strerror(n < 0 ? errno : ENOSPC) + ")";
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

Result<void> FileOutput::close() {
    if (m_fd >= 0 && ::close(m_fd) != 0 && m_error.empty())
        m_error = m_shownAs + ": cannot write it (" + std::strerror(errno) + ")";
    m_fd = -1;
    if (!m_error.empty()) return fail(m_error);
    return {};
}

Result<void> writeFileAtomic(const fs::path& path, std::string_view bytes) {
    return writeAtomicWith(path, [&](const fs::path& tmp) -> Result<void> {
        FileOutput out(tmp, path.string());
        out.write(bytes.data(), bytes.size());
        return out.close();
    });
}

Result<std::string> readFile(const fs::path& path) {
    std::error_code folder;
    if (fs::is_directory(path, folder)) return fail(path.string() + ": is a folder, not a file");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(path.string() + ": cannot open file");
    // Straight into one string of the file's size: a checkpoint of gigabytes must not be held
    // twice (a stream's buffer, then its copy).
    std::error_code ec;
    const auto size = fs::is_regular_file(path, ec) ? fs::file_size(path, ec) : 0;
    std::string bytes;
    if (!ec && size > 0) {
        bytes.resize(size);
        in.read(bytes.data(), static_cast<std::streamsize>(size));
        bytes.resize(static_cast<std::size_t>(in.gcount()));
        if (in.bad()) return fail(path.string() + ": read error");
        if (in.gcount() < static_cast<std::streamsize>(size)) return bytes;  // shrank meanwhile
        in.clear();
    }
    // Whatever follows (a file that grew, or one with no size such as a pipe).
    std::ostringstream rest;
    rest << in.rdbuf();
    if (in.bad()) return fail(path.string() + ": read error");
    bytes += rest.str();
    return bytes;
}

}  // namespace ll
