#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"

namespace ll {

/// A text column of a table read as categories: one feature per value (one-hot), the data's
/// features [first, first + values.size()), named "column=value". Values sort as text.
struct Categorical {
    std::string column;
    std::size_t first = 0;
    std::vector<std::string> values;

    std::size_t end() const { return first + values.size(); }
    /// The feature's name for value `v`.
    std::string featureName(std::size_t v) const { return column + "=" + values[v]; }
    /// The index of `value`, or -1.
    int valueIndex(const std::string& value) const;
};

/// The categorical column whose values feature `feature` is one of, or null.
const Categorical* categoryOf(const std::vector<Categorical>& categorical, std::size_t feature);

/// Why `categorical` cannot describe a row of `features` features (a column out of range,
/// without values, overlapping the one before: they come in order), or "" if it can.
std::string categoricalFault(const std::vector<Categorical>& categorical, std::size_t features);

/// Rows of a tabular dataset or of a tabular model's samples, in the data's original units,
/// for tables, scatter plots and histograms. Plain data: torch-free, cheap to copy to the GUI.
/// A categorical column holds the index of its value in `levels`.
struct TableSamples {
    std::vector<std::string> columns;              // feature names, or a categorical column's name
    std::vector<std::vector<std::string>> levels;  // per column: its values, or empty (numbers)
    std::vector<std::string> classNames;
    /// Per column: the digits after the point its numbers are written with, -1 (or none) for
    /// `digits` significant ones (Dataset::decimals: the precision of the data's file).
    std::vector<int> decimals;
    std::int64_t rows = 0;
    std::vector<double> values;  // rows x columns, row-major
    std::vector<int> labels;     // class of each row
    std::int64_t step = -1;      // training step the rows come from; -1 for real data

    double at(std::int64_t row, std::size_t column) const {
        return values[static_cast<std::size_t>(row) * columns.size() + column];
    }
    bool categorical(std::size_t column) const {
        return column < levels.size() && !levels[column].empty();
    }
    /// The cell as text: a category's value, or the number with its column's decimals, or
    /// else to `digits` significant digits.
    std::string text(std::int64_t row, std::size_t column, int digits = 6) const;
    bool empty() const { return rows == 0; }
};

/// The header and one row of a table as CSV lines (with '\n'): the columns, then "class";
/// categories and class names as text, quoted where they need it. What the CSV reader reads
/// back as the same table.
std::string tableCsvHeader(const TableSamples& table);
std::string tableCsvRow(const TableSamples& table, std::int64_t row, int digits = 6);

/// Writes the table as CSV (tableCsvHeader, then every row), atomically.
Result<void> writeTableCsv(const TableSamples& table, const std::filesystem::path& path);

}  // namespace ll
