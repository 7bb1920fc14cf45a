#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/dataset.h"

namespace ll {

/// Reads a CSV file into a tabular Dataset. The first row is a header of column names when a
/// feature cell of it is not a number over one that is (or, where that does not tell, when
/// its label cell is no label); otherwise columns are numbered from 0. The sklearn layout
/// (first row: sample count, feature count, class names) is recognised too.
/// Files as spreadsheets save them read too: UTF-8, UTF-16 (Excel's "Unicode text") or, where
/// the bytes are not UTF-8, Windows-1252; quoted cells over several lines; Excel's "sep=;"
/// first line; a separator ending every line (an empty last column, left out); lines ending in
/// '\n', "\r\n" or, as old Mac files, '\r'; ',', ';', tab or '|' between cells. The note says
/// how the text was decoded where it was not UTF-8.
/// `labelColumn` names the label column, or gives its 0-based number; empty means the last
/// column. Labels may be numbers or text. Features are numbers (written as spreadsheets write
/// them too: 1,234.5 or 1.234,5, one way a column; see csv::ColumnCells::number) or
/// categories (a text column of a few values that repeat). A feature column of other text,
/// missing in more than half its rows ("", NA, ?, NaN, null ...) or of row numbers under an
/// index's name (id, index, pandas' unnamed one) is left out, then each row missing a kept
/// value or its label; the Dataset's note says what was left out. A stray text cell among
/// numbers, an infinite or out-of-range one is refused with its line and column.
/// Features are standardised; mean and std are kept.
///
/// Given `like` (a run's table), the file is read the run's way, whatever its own rows alone
/// would say: a held-out file of a few rows keeps a column of one value or of values that do
/// not repeat. A column the run read as categories is read with the run's values (one the run
/// never saw, or a number, is refused by name); a column the run kept as numbers is kept
/// (missing cells leave their rows out; text is refused); a column the run has no feature
/// for is left out. Classes are the run's, matched by name (or by value where both are
/// numbers); rows of a class the run does not have are left out. The note says what was left
/// out, and the features keep the file's order (restandardise matches them by name).
struct TableLayout {
    std::vector<std::string> featureNames;  // the run's features, a category's one-hot named
    std::vector<Categorical> categorical;
    std::vector<std::string> classNames;
    /// How the run's file wrote its numbers (Dataset::decimal): the way of a column no cell
    /// of which says, where the file's other columns do not either.
    std::string decimal;
};
Result<Dataset> readCsv(const std::filesystem::path& path, const std::string& labelColumn,
                        const TableLayout* like = nullptr);

}  // namespace ll
