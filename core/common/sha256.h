#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/error.h"

namespace ll {

/// SHA-256 (FIPS 180-4) of bytes, as 64 lowercase hex digits, the form sha256sum prints.
std::string sha256Hex(std::string_view bytes);

/// SHA-256 of a file's contents; the error names the file.
Result<std::string> sha256File(const std::filesystem::path& path);

}  // namespace ll
