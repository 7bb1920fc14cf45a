#pragma once

#include <filesystem>
#include <string>

#include "common/error.h"
#include "data/dataset.h"

namespace ll {

/// Reads a CSV file into a tabular Dataset. The first row is a header of column names when a
/// feature cell of it is not a number over one that is (or, where that does not tell, when
/// its label cell is no label); otherwise columns are numbered from 0. The sklearn layout
/// (first row: sample count, feature count, class names) is recognised too.
/// `labelColumn` names the label column, or gives its 0-based number; empty means the last
/// column. Labels may be numbers or text. Features are numbers (with a decimal comma too in a
/// file separated by ';' or tabs). A feature column mostly of text (names, categories),
/// missing in more than half its rows ("", NA, ?, NaN, null ...) or of row numbers under an
/// index's name (id, index, pandas' unnamed one) is left out, then each row missing a kept
/// value or its label; the Dataset's note says what was left out. A stray text cell among
/// numbers, an infinite or out-of-range one is refused with its line and column.
/// Features are standardised; mean and std are kept.
Result<Dataset> readCsv(const std::filesystem::path& path, const std::string& labelColumn);

}  // namespace ll
