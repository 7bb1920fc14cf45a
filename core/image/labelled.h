#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/error.h"

namespace ll {

/// A grid of tiles (rows * cols images, N x C x H x W in [0, 1], row by row) with a label
/// over each column, one beside each row and a title, as a PNG: the picture of a sweep or
/// an interpolation. Small tiles are scaled up (nearest neighbour) to at least 64 pixels.
/// Without OpenCV (the GPU-server build) the labels are left out.
Result<void> writeLabelledGrid(const torch::Tensor& images, int rows, int cols,
                               const std::vector<std::string>& columnLabels,
                               const std::vector<std::string>& rowLabels, const std::string& title,
                               const std::filesystem::path& path);

}  // namespace ll
