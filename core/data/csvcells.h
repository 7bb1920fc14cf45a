#pragma once

// The cells of a CSV file as readCsv reads them, and what it leaves out of a table with gaps.
// Internal to core/data: csv.cpp reads the file's layout (separator, header, label column);
// this reads its cells and settles its gaps.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <torch/types.h>

#include "common/error.h"
#include "common/table.h"
#include "data/csvsource.h"

namespace ll {
struct TableLayout;
}

namespace ll::csv {

enum class Cell { Number, Missing, Text, OutOfRange, Infinite };

/// What spreadsheets, R, pandas, SAS and UCI's files write for a value that is not there
/// ("", ?, NA, N/A, NaN, null, None, #N/A, ".", "-").
bool isMissing(std::string_view cell);

/// A finite number written in full (from_chars: the same in every locale), or what else the
/// cell is.
Cell parseCell(std::string_view cell, double& value);

/// The two ways a number is written: with a decimal point, commas between thousands
/// (1,234.5), or with a decimal comma, points between thousands (1.234,5), as spreadsheets in
/// much of Europe write.
enum class Decimal { Unknown, Point, Comma };

/// A cell read both ways: `point` and `comma` its value each way, NaN where it is no number
/// that way ("1.5" reads only with a point, "1,5" only with a comma, "1,234" and "1.234" both,
/// "12" the same both). A cell that is no number either way is Text; missing, infinite and
/// out-of-range cells are said as parseCell says them.
Cell readNumber(std::string_view cell, double& point, double& comma);

/// The most digits after the separator a column keeps as its precision (more are a float's
/// noise, 0.30000000000000004, not a measurement's).
inline constexpr int kMaxDecimals = 8;

/// The most values a text column may take to be read as categories (one feature each).
inline constexpr std::size_t kMaxCategories = 50;

// How a feature column's cells read: text and missing ones counted, the first text kept for
// a message, the way its numbers are written (one way a column). The first
// row read is kept apart too, to be taken back if it is the header. The text cells' values
// are kept while there are at most kMaxCategories of them: each row's (an index into
// `levels`, -1 where not text) from the first text cell on.
struct ColumnCells {
    std::int64_t text = 0;
    std::int64_t missing = 0;
    Cell first = Cell::Number;  // the first row's cell
    std::size_t firstLine = 0;  // the first row's cell, where it is text
    std::string firstCell;
    std::size_t textLine = 0;  // the first text cell of the rows after it
    std::string textCell;
    Decimal decimal = Decimal::Unknown;  // once a cell that reads one way only says so
    std::size_t decimalLine = 0;         // that cell
    std::string decimalCell;
    std::size_t commaLine = 0;  // the first number with a comma in it, and with a point
    std::string commaCell;
    std::size_t pointLine = 0;
    std::string pointCell;
    // The most digits any number cell has after its decimal separator, read with a decimal
    // point and with a decimal comma, and whether any is written with an exponent: how
    // precisely the column writes its numbers (decimals()).
    int pointDecimals = 0, commaDecimals = 0;
    bool exponent = false;
    // The first row's, apart: it may yet be the header.
    int firstPointDecimals = 0, firstCommaDecimals = 0;
    bool firstExponent = false;
    std::vector<std::string> levels;  // in the order first seen
    std::vector<std::int64_t> levelCounts;
    std::vector<std::int32_t> codes;  // per row, from row 0 to the last text cell
    bool manyLevels = false;          // more than kMaxCategories + 1: the values are not kept
    std::int64_t rowsRead = 0;

    void add(Cell cell, bool firstRow, std::size_t line, const std::string& value) {
        const std::int64_t row = rowsRead++;
        if (firstRow) first = cell;
        if (cell == Cell::Missing) ++missing;
        if (cell != Cell::Text) return;
        ++text;
        if (firstRow)
            firstLine = line, firstCell = shownCell(value);
        else if (textLine == 0)
            textLine = line, textCell = shownCell(value);
        if (!manyLevels) keepLevel(row, value);
    }
    void dropFirstRow() {
        if (first == Cell::Text) --text, firstLine = 0;
        if (first == Cell::Missing) --missing;
        if (!codes.empty()) {
            if (codes.front() >= 0) --levelCounts[static_cast<std::size_t>(codes.front())];
            codes.erase(codes.begin());
        }
        --rowsRead;
        first = Cell::Number;
        firstPointDecimals = firstCommaDecimals = 0;
        firstExponent = false;
    }
    // The value of number cell `cell` of row `row`, read both ways (`point`, `comma`), in the
    // way the column writes its numbers: the first cell that reads one way only settles it,
    // and the cells before it that read both ways are read again (`x`: the table, the column
    // `column`). Until then such a cell reads as written (1.234 is 1.234), but a comma where
    // commas do not separate the cells (`delimiter`) is a decimal comma and, where they do (a
    // quoted cell), one between thousands. A cell that reads only the other way is refused.
    Result<double> number(std::int64_t row, std::size_t line, const std::string& cell, double point,
                          double comma, char delimiter, torch::TensorAccessor<double, 2>& x,
                          std::int64_t column);
    // Settles the column's way as `way` (the way the file's other columns write theirs, where
    // no cell of this one said), reading again the cells read both ways.
    void settle(Decimal way, char delimiter, torch::TensorAccessor<double, 2>& x,
                std::int64_t column);
    // A cell that shows how the column's numbers were read, for the note: one with a decimal
    // comma, or one with separators between thousands ("'1,5' on line 3 as 1.5"); line 0 for
    // none such.
    struct Shown {
        std::size_t line = 0;
        std::string text;
    };
    Shown decimalComma(char delimiter) const;
    Shown thousands(char delimiter) const;
    // Why the column's numbers cannot be read, once every row is: "" where they can. Cells that
    // each read two ways and were read in two (1.234 as 1.234, 2,000 as 2 where commas separate
    // nothing) with no cell to say which: one of them is a thousand times off.
    std::string unsettled(char delimiter) const;

    // Counts the digits after the separator of number cell `cell`, each way it reads (`point`,
    // `comma`: NaN where it reads not that way); the first row's apart.
    void countDecimals(std::string_view cell, double point, double comma, bool firstRow);
    // The digits after the decimal separator the column's numbers are written with, once its
    // way is settled: the most of any cell, read its way. -1 where they are written with an
    // exponent or more than kMaxDecimals digits (no fixed precision to keep).
    int decimals(char delimiter) const;

    // The column's first text cell and its line.
    std::size_t line() const { return firstLine ? firstLine : textLine; }
    const std::string& cell() const { return firstLine ? firstCell : textCell; }

private:
    std::unordered_map<std::string, std::int32_t> m_index;
    // The rows of cells read both ways before the column's way was settled, to be read again
    // once it is: "1.234" (read as 1.234) and "1,234" (as 1.234 where commas separate nothing,
    // else as 1234). Their two readings are a factor of 1000 apart.
    std::vector<std::int64_t> m_unsettledPoints, m_unsettledCommas;

    void keepLevel(std::int64_t row, const std::string& value) {
        auto [it, added] = m_index.try_emplace(value, static_cast<std::int32_t>(levels.size()));
        if (added) {
            // One more than a category column may take: the first row's word may yet turn out
            // to be the header's.
            if (levels.size() == kMaxCategories + 1) {
                manyLevels = true;
                std::vector<std::int32_t>().swap(codes);
                m_index.clear();
                return;
            }
            levels.push_back(value);
            levelCounts.push_back(0);
        }
        ++levelCounts[static_cast<std::size_t>(it->second)];
        codes.resize(static_cast<std::size_t>(row), -1);
        codes.push_back(it->second);
    }
};

// Settles the gaps of a table read with NaN for text and missing cells. A column of text
// whose values repeat (at most kMaxCategories, each in two rows on average) is categorical:
// its cells become the index of their value (values sorted), and `categorical` lists it with
// `first` its column among those kept. A feature column missing in more than half its rows,
// of other text (names; one value; text among numbers) or of row numbers is left out; then a
// row missing a kept value or its label. A stray text cell in a column of numbers is a fault
// of the file, refused by line and column. `notes` say what was left out; `decimals` (one a
// column, as `names`) keep the kept columns'. Given `like`, the columns are read the run's way
// instead (see readCsv).
Result<void> leaveOutGaps(const std::string& file, const std::string& labelName,
                          const std::vector<ColumnCells>& cells, torch::Tensor& x,
                          std::vector<std::string>& labels, std::vector<std::size_t>& lines,
                          std::vector<std::string>& names, std::vector<int>& decimals,
                          std::vector<Categorical>& categorical, std::vector<std::string>& notes,
                          const TableLayout* like = nullptr);

}  // namespace ll::csv
