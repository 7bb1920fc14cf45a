#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string_view>

#include "common/error.h"

namespace ll {

/// A whole file mapped read-only: its bytes are the page cache's, not a copy on the heap, so a
/// checkpoint of gigabytes can be checked and read without holding it twice. Pages read are
/// handed back with release(); reading them again faults them in from the cache.
///
/// Files LatentLab writes are replaced by a rename, never rewritten in place, so a mapping
/// keeps the bytes it opened. Another program that truncates the file while it is mapped
/// would make a later read fault (SIGBUS), as for any reader that maps files.
class MappedFile {
public:
    /// The error names the file and the cause. An empty file maps to no bytes.
    static Result<MappedFile> open(const std::filesystem::path& path);

    MappedFile(MappedFile&&) noexcept;
    MappedFile& operator=(MappedFile&&) noexcept;
    ~MappedFile();

    std::string_view bytes() const { return {m_data, m_size}; }

    /// Copies up to `size` bytes from `offset` into `out` and hands the whole pages it read
    /// back to the kernel; the number copied (0 past the end).
    std::size_t readAndRelease(std::size_t offset, void* out, std::size_t size);
    /// Hands every page back: the process's memory no longer counts them.
    void releaseAll();

private:
    MappedFile(const char* data, std::size_t size) : m_data(data), m_size(size) {}
    void release(std::size_t offset, std::size_t size);

    const char* m_data = nullptr;
    std::size_t m_size = 0;
};

}  // namespace ll
