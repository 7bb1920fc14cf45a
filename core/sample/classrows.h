#pragma once

// Torch-free: which class each sample of a grid with one row per class draws.

#include <cstdint>
#include <string>
#include <vector>

namespace ll {

/// A grid of `rows` x `cols` samples, row r drawing class r.
struct ClassRows {
    int rows = 0;
    std::vector<std::int64_t> labels;  ///< one per sample, row by row
    std::vector<std::string> names;    ///< one per row; empty for an unconditional model
};

/// Rows of at most `maxRows` classes (at least one row, at least one column). Rows name their
/// class only where the model draws one: an unconditional model's rows are just more samples.
ClassRows classRows(const std::string& modelName, const std::vector<std::string>& classNames,
                    int maxRows, int cols);

}  // namespace ll
