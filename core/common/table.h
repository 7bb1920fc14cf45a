#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"

namespace ll {

/// Rows of a tabular dataset or of a tabular model's samples, in the data's original units,
/// for tables, scatter plots and histograms. Plain data: torch-free, cheap to copy to the GUI.
struct TableSamples {
    std::vector<std::string> columns;     // feature names
    std::vector<std::string> classNames;
    std::int64_t rows = 0;
    std::vector<double> values;  // rows x columns, row-major
    std::vector<int> labels;     // class of each row
    std::int64_t step = -1;      // training step the rows come from; -1 for real data

    double at(std::int64_t row, std::size_t column) const {
        return values[static_cast<std::size_t>(row) * columns.size() + column];
    }
    bool empty() const { return rows == 0; }
};

/// Writes the table as CSV (header: the columns, then "class"; class names as labels),
/// atomically. Cells that need it are quoted.
Result<void> writeTableCsv(const TableSamples& table, const std::filesystem::path& path);

}  // namespace ll
