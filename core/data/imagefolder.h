#pragma once

#include <filesystem>

#include "common/error.h"
#include "data/dataset.h"

namespace ll {

/// Reads a folder with one sub-folder per class (sorted by name) of PNG and JPEG images,
/// each resized to size x size, as grayscale or RGB. An unreadable image is reported by name.
/// Without OpenCV in the build this returns an error saying so.
Result<Dataset> readImageFolder(const std::filesystem::path& root, int size, bool grayscale);

}  // namespace ll
