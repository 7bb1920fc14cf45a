#pragma once

#include <filesystem>
#include <string>

#include "common/error.h"
#include "data/dataset.h"

namespace ll {

/// Reads a CSV file into a tabular Dataset. The first row is a header of column names when
/// any of its cells is not a number; otherwise columns are numbered from 0. The sklearn
/// layout (first row: sample count, feature count, class names) is recognised too.
/// `labelColumn` names the label column, or gives its 0-based number; empty means the last
/// column. Labels may be numbers or text. Every other column must be numeric: a bad cell is
/// reported with its line and column. Features are standardised; mean and std are kept.
Result<Dataset> readCsv(const std::filesystem::path& path, const std::string& labelColumn);

}  // namespace ll
