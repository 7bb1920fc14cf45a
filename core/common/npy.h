#pragma once

#include <filesystem>

#include <torch/torch.h>

#include "common/error.h"

namespace ll {

/// Reads a NumPy .npy file (format 1.0, 2.0 or 3.0) holding float32 ('<f4') or float64 ('<f8')
/// values in C order, as a CPU tensor of that type and shape. Other types, byte orders and
/// Fortran order are refused with a message that names the file and the fault.
Result<torch::Tensor> readNpy(const std::filesystem::path& path);

/// Writes a float32 or float64 tensor as a .npy file (format 1.0, little-endian, C order) that
/// numpy.load reads, atomically.
Result<void> writeNpy(const std::filesystem::path& path, const torch::Tensor& array);

}  // namespace ll
