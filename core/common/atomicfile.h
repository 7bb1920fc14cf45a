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

/// Reads a whole file; the error names the file.
Result<std::string> readFile(const std::filesystem::path& path);

}  // namespace ll
