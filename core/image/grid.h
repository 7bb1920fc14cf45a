#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/error.h"
#include "common/samplegrid.h"

namespace ll {

/// Tiles images (N x C x H x W, float in [0, 1], C = 1 or 3) into a SampleGrid of `cols`
/// columns, filled row by row; missing tiles stay black.
SampleGrid makeGrid(const torch::Tensor& images, int cols, std::vector<std::string> rowLabels = {});

/// Encodes the grid's atlas as a PNG (RGBA, 8 bit), through zlib alone.
std::string encodePng(const SampleGrid& grid);

/// Writes the grid as a PNG file, atomically.
Result<void> writePng(const SampleGrid& grid, const std::filesystem::path& path);

}  // namespace ll
