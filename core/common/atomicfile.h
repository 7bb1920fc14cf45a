#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

#include "common/error.h"

namespace ll {

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a
/// crash leaves either the old file or the new one, never half of one.
Result<void> writeFileAtomic(const std::filesystem::path& path, std::string_view bytes);

/// Lets `writer` produce the file at a temporary path (for libraries that write files
/// themselves), then renames it into place. A writer that throws or fails leaves nothing.
Result<void> writeAtomicWith(
    const std::filesystem::path& path,
    const std::function<Result<void>(const std::filesystem::path&)>& writer);

/// A new file written with plain system calls, so a failure says what failed: a full disk, a
/// quota, a file size limit, a missing permission. Errors name `shownAs` (the file the user
/// asked for, not the temporary one written).
class FileOutput {
public:
    FileOutput(const std::filesystem::path& path, std::string shownAs);
    ~FileOutput();
    FileOutput(const FileOutput&) = delete;
    FileOutput& operator=(const FileOutput&) = delete;

    /// Appends all of `size` bytes; false once anything has failed.
    bool write(const void* data, std::size_t size);
    /// Closes the file; the first failure, if any.
    Result<void> close();

private:
    int m_fd = -1;
    std::string m_shownAs;
    std::string m_error;
};

/// Reads a whole file; the error names the file.
Result<std::string> readFile(const std::filesystem::path& path);

}  // namespace ll
