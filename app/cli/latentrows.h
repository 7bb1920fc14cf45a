#pragma once

// Rows of saved latents (.npy files that `latents --latents-out` and `--directions-out`
// write), for interpolate and decode.

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/error.h"

namespace ll::cli {

/// Latents from a .npy file (N x dims, as `latents --latents-out` writes them), checked.
Result<torch::Tensor> readLatents(const std::string& path, std::int64_t dims);

/// Row `i` of `z` as numbers.
std::vector<float> rowOf(const torch::Tensor& z, std::int64_t i);

}  // namespace ll::cli
