#include "common/mappedfile.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ll {

Result<MappedFile> MappedFile::open(const std::filesystem::path& path) {
    const auto failure = [&](const char* what) {
        return fail(path.string() + ": " + what + " (" + std::strerror(errno) + ")");
    };
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return failure("cannot open it");
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const auto error = failure("cannot read it");
        ::close(fd);
        return error;
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return fail(path.string() + ": not a regular file");
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size == 0) {
        ::close(fd);
        return MappedFile(nullptr, 0);
    }
    void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);  // the mapping keeps the file open
    if (data == MAP_FAILED) return failure("cannot map it");
    return MappedFile(static_cast<const char*>(data), size);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        if (m_data) ::munmap(const_cast<char*>(m_data), m_size);
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
    }
    return *this;
}

MappedFile::~MappedFile() {
    if (m_data) ::munmap(const_cast<char*>(m_data), m_size);
}

void MappedFile::release(std::size_t offset, std::size_t size) {
    // Only the pages wholly inside the range: a neighbour's bytes may be read next.
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const auto first = (offset + page - 1) / page * page;
    const auto last = std::min(offset + size, m_size) / page * page;
    // MADV_DONTNEED on an unwritten private file mapping drops the pages from this process
    // only; the file and the page cache keep them. A failure only leaves memory counted.
    if (last > first) ::madvise(const_cast<char*>(m_data) + first, last - first, MADV_DONTNEED);
}

std::size_t MappedFile::readAndRelease(std::size_t offset, void* out, std::size_t size) {
    if (offset >= m_size) return 0;
    const auto n = std::min(size, m_size - offset);
    // In pieces, each released once copied: a single record (a wide layer's weights) can be
    // tens of megabytes, which would otherwise be resident twice until the copy ends.
    constexpr std::size_t kPiece = std::size_t{1} << 20;
    for (std::size_t done = 0; done < n; done += kPiece) {
        const auto piece = std::min(kPiece, n - done);
        std::memcpy(static_cast<char*>(out) + done, m_data + offset + done, piece);
        release(offset + done, piece);
    }
    return n;
}

void MappedFile::releaseAll() {
    if (m_data) release(0, m_size);
}

}  // namespace ll
