#include "data/csvcells.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "common/text.h"
#include "data/csv.h"

namespace ll::csv {

bool isMissing(std::string_view cell) {
    static constexpr std::string_view kMissing[] = {
        "", "?", "NA", "N/A", "n/a", "NaN", "nan", "NAN", "null", "NULL", "None", "#N/A", ".", "-"};
    return std::find(std::begin(kMissing), std::end(kMissing), cell) != std::end(kMissing);
}

Cell parseCell(std::string_view cell, double& value) {
    if (isMissing(cell)) return Cell::Missing;
    const char* begin = cell.data();
    const char* end = cell.data() + cell.size();
    if (*begin == '+') ++begin;
    auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ptr != end || ec == std::errc::invalid_argument) return Cell::Text;
    if (ec == std::errc::result_out_of_range) {
        // Too small for a double is zero; too large is out of range.
        const auto e = cell.find_first_of("eE");
        if (e == std::string_view::npos || e + 1 >= cell.size() || cell[e + 1] != '-')
            return Cell::OutOfRange;
        value = 0;
        return Cell::Number;
    }
    if (ec != std::errc()) return Cell::Text;
    if (std::isnan(value)) return Cell::Missing;  // nan(...), -nan
    return std::isinf(value) ? Cell::Infinite : Cell::Number;
}

namespace {

// The cell as a number written with `decimal` before its fraction and `group` between its
// thousands, or none: "1,234.5" with '.' and ','. Grouped digits are strict, as spreadsheets
// write them: 1 to 3 digits (no leading zero), groups of 3, then the fraction's digits.
Cell readAs(std::string_view cell, char decimal, char group, double& value) {
    if (cell.find(group) == std::string_view::npos) {
        const auto at = cell.find(decimal);
        if (decimal == '.' || at == std::string_view::npos) return parseCell(cell, value);
        if (cell.find(decimal, at + 1) != std::string_view::npos) return Cell::Text;
        std::string dotted(cell);
        dotted[at] = '.';
        return parseCell(dotted, value);
    }
    const auto digit = [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) != 0; };
    std::size_t i = cell[0] == '-' || cell[0] == '+' ? 1 : 0;
    const std::size_t start = i;
    std::string plain(cell.substr(0, i));
    std::size_t run = 0;  // digits since the last separator
    bool first = true;    // still in the first group
    for (; i < cell.size() && cell[i] != decimal; ++i) {
        if (cell[i] == group) {
            if (first ? run == 0 || run > 3 || cell[start] == '0' : run != 3) return Cell::Text;
            first = false;
            run = 0;
            continue;
        }
        if (!digit(cell[i])) return Cell::Text;
        plain += cell[i];
        ++run;
    }
    if (first || run != 3) return Cell::Text;
    if (i < cell.size()) {
        const auto fraction = cell.substr(i + 1);
        if (fraction.empty() || !std::all_of(fraction.begin(), fraction.end(), digit))
            return Cell::Text;
        plain += '.';
        plain += fraction;
    }
    return parseCell(plain, value);
}

// How a cell that reads one way only writes its number, in words.
std::string writtenWith(Decimal way, const std::string& cell) {
    if (way == Decimal::Point)
        return cell.find(',') != std::string::npos ? "commas between thousands" : "a decimal point";
    return cell.find('.') != std::string::npos ? "points between thousands" : "a decimal comma";
}

std::string shownNumber(double v) {
    char out[40];
    std::snprintf(out, sizeof out, "%.15g", v);
    return out;
}

}  // namespace

Cell readNumber(std::string_view cell, double& point, double& comma) {
    if (cell.find_first_of(",.") == std::string_view::npos) {  // the same both ways
        const Cell kind = parseCell(cell, point);
        comma = point;
        return kind;
    }
    if (isMissing(cell)) return Cell::Missing;
    constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
    const Cell p = readAs(cell, '.', ',', point);
    const Cell c = readAs(cell, ',', '.', comma);
    if (p == Cell::Number || c == Cell::Number) {
        if (p != Cell::Number) point = kNone;
        if (c != Cell::Number) comma = kNone;
        return Cell::Number;
    }
    for (const Cell kind : {Cell::Missing, Cell::Infinite, Cell::OutOfRange})
        if (p == kind || c == kind) return kind;
    return Cell::Text;
}

Result<double> ColumnCells::number(std::int64_t row, std::size_t line, const std::string& cell,
                                   double point, double comma, char delimiter,
                                   torch::TensorAccessor<double, 2>& x, std::int64_t column) {
    const bool hasComma = cell.find(',') != std::string::npos;
    if (hasComma && !commaLine) commaLine = line, commaCell = cell.substr(0, 40);
    if (cell.find('.') != std::string::npos && !pointLine)
        pointLine = line, pointCell = cell.substr(0, 40);
    const bool byPoint = !std::isnan(point), byComma = !std::isnan(comma);
    if (byPoint && byComma) {
        if (point == comma || decimal == Decimal::Point) return point;
        if (decimal == Decimal::Comma) return comma;
        (hasComma ? m_unsettledCommas : m_unsettledPoints).push_back(row);
        return hasComma && delimiter != ',' ? comma : point;
    }
    const Decimal way = byPoint ? Decimal::Point : Decimal::Comma;
    if (decimal != Decimal::Unknown && decimal != way)
        return fail("'" + cell.substr(0, 40) + "' has " + writtenWith(way, cell) + " where line " +
                    std::to_string(decimalLine) + " ('" + decimalCell + "') has " +
                    writtenWith(decimal, decimalCell) + ": write the column's numbers one way");
    if (decimal == Decimal::Unknown) {
        settle(way, delimiter, x, column);
        decimalLine = line;
        decimalCell = cell.substr(0, 40);
    }
    return way == Decimal::Point ? point : comma;
}

void ColumnCells::settle(Decimal way, char delimiter, torch::TensorAccessor<double, 2>& x,
                         std::int64_t column) {
    decimal = way;
    // A grouped reading is a whole number: rounded, not a product's last bit off.
    const auto group = [&](std::int64_t r) { x[r][column] = std::round(x[r][column] * 1000); };
    const auto ungroup = [&](std::int64_t r) { x[r][column] /= 1000; };
    if (way == Decimal::Comma)
        std::for_each(m_unsettledPoints.begin(), m_unsettledPoints.end(), group);
    if (way == Decimal::Point && delimiter != ',')
        std::for_each(m_unsettledCommas.begin(), m_unsettledCommas.end(), group);
    if (way == Decimal::Comma && delimiter == ',')
        std::for_each(m_unsettledCommas.begin(), m_unsettledCommas.end(), ungroup);
    std::vector<std::int64_t>().swap(m_unsettledPoints);
    std::vector<std::int64_t>().swap(m_unsettledCommas);
}

void ColumnCells::countDecimals(std::string_view cell, double point, double comma, bool firstRow) {
    int& pointDecimals = firstRow ? firstPointDecimals : this->pointDecimals;
    int& commaDecimals = firstRow ? firstCommaDecimals : this->commaDecimals;
    if (cell.find_first_of("eE") != std::string_view::npos)
        (firstRow ? firstExponent : exponent) = true;
    const auto digitsAfter = [&](char separator) {
        const auto at = cell.rfind(separator);
        if (at == std::string_view::npos) return 0;
        int digits = 0;
        for (auto i = at + 1; i < cell.size() && cell[i] >= '0' && cell[i] <= '9'; ++i) ++digits;
        return digits;
    };
    if (!std::isnan(point)) pointDecimals = std::max(pointDecimals, digitsAfter('.'));
    if (!std::isnan(comma)) commaDecimals = std::max(commaDecimals, digitsAfter(','));
}

int ColumnCells::decimals(char delimiter) const {
    // A column not settled reads its cells as written (number()): a point is a decimal point,
    // a comma a decimal one where commas do not separate the cells.
    const int point = std::max(pointDecimals, firstPointDecimals);
    const int comma = std::max(commaDecimals, firstCommaDecimals);
    const int places = decimal == Decimal::Point   ? point
                       : decimal == Decimal::Comma ? comma
                       : delimiter == ','          ? point
                                                   : std::max(point, comma);
    return exponent || firstExponent || places > kMaxDecimals ? -1 : places;
}

ColumnCells::Shown ColumnCells::decimalComma(char delimiter) const {
    // Commas read as decimals: the column's way, or a cell read both ways where commas do not
    // separate the cells.
    const bool comma =
        decimal == Decimal::Comma || (decimal == Decimal::Unknown && delimiter != ',');
    if (!comma || !commaLine) return {};
    double v = 0;
    if (readAs(commaCell, ',', '.', v) != Cell::Number) return {};
    std::string dotted = commaCell;  // as written, where no point groups its thousands
    std::replace(dotted.begin(), dotted.end(), ',', '.');
    return {commaLine, "'" + commaCell + "' on line " + std::to_string(commaLine) + " as " +
                           (commaCell.find('.') == std::string::npos ? dotted : shownNumber(v))};
}

std::string ColumnCells::unsettled(char delimiter) const {
    if (decimal != Decimal::Unknown || delimiter == ',' || m_unsettledPoints.empty() ||
        m_unsettledCommas.empty())
        return {};
    return "'" + pointCell + "' on line " + std::to_string(pointLine) + " and '" + commaCell +
           "' on line " + std::to_string(commaLine) +
           " each read with a decimal point or a decimal comma, a thousand times apart, and no "
           "cell of the column says which: write one number of it as 1234.5 or 1234,5";
}

ColumnCells::Shown ColumnCells::thousands(char delimiter) const {
    const bool byPoint =
        decimal == Decimal::Point || (decimal == Decimal::Unknown && delimiter == ',');
    const std::string& cell = byPoint ? commaCell : pointCell;
    const std::size_t line = byPoint ? commaLine : decimal == Decimal::Comma ? pointLine : 0;
    if (!line) return {};
    double v = 0;
    if (readAs(cell, byPoint ? '.' : ',', byPoint ? ',' : '.', v) != Cell::Number) return {};
    return {line, "'" + cell + "' on line " + std::to_string(line) + " as " + shownNumber(v)};
}

namespace {

std::string lowered(const std::string& s) {
    std::string out;
    for (const char ch : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

// A column named as an index that numbers the rows: "id", "index", "row" or "#" from 0 or 1
// in order; pandas' unnamed index ("" or "Unnamed: 0") as any order of 0..n-1 (a shuffled
// frame keeps its old index). It says where a row stood, nothing about the row.
bool rowNumbers(const std::string& name, const torch::Tensor& column) {
    const std::string lower = lowered(name);
    const auto n = column.size(0);
    if (lower.empty() || lower == "unnamed: 0")
        return torch::equal(std::get<0>(column.sort()), torch::arange(n, torch::kFloat64));
    static constexpr std::string_view kIndexNames[] = {"id", "index", "row", "#"};
    if (std::find(std::begin(kIndexNames), std::end(kIndexNames), lower) == std::end(kIndexNames))
        return false;
    const double start = column[0].item<double>();
    return (start == 0 || start == 1) &&
           torch::equal(column, torch::arange(n, torch::kFloat64).add_(start));
}

// Moves the rows (or columns) `kept` of x to its front, in order, and narrows x to them: no
// second copy of a table that may fill most of memory.
void keepInPlace(torch::Tensor& x, const std::vector<std::int64_t>& kept, int dim) {
    auto a = x.accessor<double, 2>();
    const std::int64_t other = x.size(1 - dim);
    for (std::size_t k = 0; k < kept.size(); ++k) {
        const auto from = kept[k], to = static_cast<std::int64_t>(k);
        if (from == to) continue;
        for (std::int64_t o = 0; o < other; ++o) {
            if (dim == 0)
                a[to][o] = a[from][o];
            else
                a[o][to] = a[o][from];
        }
    }
    x = x.narrow(dim, 0, static_cast<std::int64_t>(kept.size()));
}

}  // namespace

// Settles the gaps of a table read with NaN for text and missing cells. A feature column
// missing in more than half its rows, mostly of text (names, categories) or of row numbers is
// left out; then a row missing a kept value or its label is left out. A stray text cell in a
// column of numbers is a fault of the file, refused by line and column. `notes` say what was
// left out.
Result<void> leaveOutGaps(const std::string& file, const std::string& labelName,
                          const std::vector<ColumnCells>& cells, torch::Tensor& x,
                          std::vector<std::string>& labels, std::vector<std::size_t>& lines,
                          std::vector<std::string>& names, std::vector<int>& decimals,
                          std::vector<Categorical>& categorical, std::vector<std::string>& notes,
                          const TableLayout* like) {
    const std::int64_t n = x.size(0);
    std::vector<std::int64_t> kept;
    std::vector<std::string> text, sparse, numbering, encoded, foreign;
    // The column's cells become the index of their value among `values` (sorted): a column
    // like the others from here.
    const auto encode = [&](std::size_t j, std::vector<std::string> values) {
        const ColumnCells& c = cells[j];
        std::vector<double> sortedIndex(c.levels.size());
        for (std::size_t v = 0; v < c.levels.size(); ++v)
            sortedIndex[v] = static_cast<double>(
                std::find(values.begin(), values.end(), c.levels[v]) - values.begin());
        auto a = x.accessor<double, 2>();
        const auto column = static_cast<std::int64_t>(j);
        for (std::int64_t i = 0; i < n; ++i) {
            const auto code = static_cast<std::size_t>(i) < c.codes.size()
                                  ? c.codes[static_cast<std::size_t>(i)]
                                  : -1;
            a[i][column] = code < 0 ? std::numeric_limits<double>::quiet_NaN()
                                    : sortedIndex[static_cast<std::size_t>(code)];
        }
        encoded.push_back("'" + names[j] + "' (" + joinedNames(values, 120) + ")");
        categorical.push_back({names[j], kept.size(), std::move(values)});
        kept.push_back(column);
    };
    for (std::size_t j = 0; j < cells.size(); ++j) {
        const ColumnCells& c = cells[j];
        const std::int64_t numbers = n - c.text - c.missing;
        if (like) {
            // The run's way: its categories with its values, its numbers kept, nothing else.
            const auto known =
                std::find_if(like->categorical.begin(), like->categorical.end(),
                             [&](const Categorical& k) { return k.column == names[j]; });
            const std::string column = "column '" + names[j] + "'";
            if (known != like->categorical.end()) {
                const std::string its = " (its values: " + joinedNames(known->values, 200) + ")";
                if (numbers > 0)
                    return fail(file + ": " + column + " holds numbers (" +
                                std::to_string(numbers) + " of its cells); the run read it as " +
                                "categories" + its);
                if (c.manyLevels)
                    return fail(file + ": " + column + " takes over " +
                                std::to_string(kMaxCategories) + " values; the run's takes " +
                                std::to_string(known->values.size()) + its);
                for (std::size_t v = 0; v < c.levels.size(); ++v)
                    if (c.levelCounts[v] > 0 && known->valueIndex(c.levels[v]) < 0)
                        return fail(file + ": " + column + " takes '" + c.levels[v] +
                                    "', a value the run never saw" + its);
                encode(j, known->values);  // sorted when the run's file was read
            } else if (std::find(like->featureNames.begin(), like->featureNames.end(), names[j]) !=
                       like->featureNames.end()) {
                if (c.text > 0)
                    return fail(file + ": line " + std::to_string(c.line()) + ", " + column +
                                ": '" + c.cell() + "' is not a number (the run's column is of " +
                                "numbers)");
                kept.push_back(static_cast<std::int64_t>(j));
            } else {
                foreign.push_back("'" + names[j] + "'");
            }
            continue;
        }
        if (2 * c.missing > n) {
            sparse.push_back("'" + names[j] + "' (missing in " + std::to_string(c.missing) +
                             " of " + std::to_string(n) + " rows)");
        } else if (c.text > 0 && c.text < numbers) {
            return fail(file + ": line " + std::to_string(c.line()) + ", column '" + names[j] +
                        "': '" + c.cell() + "' is not a number (" + std::to_string(numbers) +
                        " of the column's cells are)");
        } else if (c.text > 0) {
            const std::string at =
                "'" + names[j] + "' ('" + c.cell() + "' on line " + std::to_string(c.line());
            std::vector<std::string> values;  // those the rows take, sorted
            for (std::size_t v = 0; v < c.levels.size(); ++v)
                if (c.levelCounts[v] > 0) values.push_back(c.levels[v]);
            std::sort(values.begin(), values.end());
            const auto distinct = static_cast<std::int64_t>(values.size());
            if (numbers > 0) {
                text.push_back(at + ", beside " + std::to_string(numbers) + " numbers)");
            } else if (const bool many = c.manyLevels || distinct > std::int64_t(kMaxCategories);
                       many || 2 * distinct > c.text) {
                text.push_back(
                    at + ", " +
                    (many ? "over " + std::to_string(kMaxCategories) : std::to_string(distinct)) +
                    " values in " + std::to_string(c.text) + " rows)");
            } else if (distinct == 1) {
                text.push_back(at + ", in every row)");
            } else {
                encode(j, std::move(values));
            }
        } else if (c.missing == 0 && rowNumbers(names[j], x.select(1, std::int64_t(j)))) {
            numbering.push_back("'" + names[j] + "'");
        } else {
            kept.push_back(static_cast<std::int64_t>(j));
        }
    }
    const std::string textNote =
        text.empty() ? "" : "text columns that are no categories: " + joinedNames(text, 300);
    const std::string sparseNote =
        sparse.empty() ? "" : "columns missing in most rows: " + joinedNames(sparse, 300);
    const std::string numberingNote =
        numbering.empty() ? "" : "the row numbers: " + joinedNames(numbering, 100);
    const std::string foreignNote =
        foreign.empty() ? "" : "columns the run has no feature for: " + joinedNames(foreign, 300);
    std::vector<std::string> leftOut;
    for (const auto* note : {&textNote, &sparseNote, &numberingNote, &foreignNote})
        if (!note->empty()) leftOut.push_back(*note);
    if (kept.empty())
        return fail(file + ": no feature column of " +
                    (like ? std::string("the run's") : "numbers or categories") +
                    " beside the label (" + joinedNames(leftOut, 1000) + ")");
    for (const auto& note : leftOut) notes.push_back("left out " + note);
    if (!encoded.empty())
        notes.push_back("read as categories, a feature each: " + joinedNames(encoded, 300));
    if (kept.size() < cells.size()) {
        keepInPlace(x, kept, 1);
        std::vector<std::string> keptNames;
        std::vector<int> keptDecimals;
        for (const auto j : kept) {
            keptNames.push_back(names[static_cast<std::size_t>(j)]);
            keptDecimals.push_back(decimals[static_cast<std::size_t>(j)]);
        }
        names = std::move(keptNames);
        decimals = std::move(keptDecimals);
    }

    // Rows: every kept value and the label there.
    const auto a = x.accessor<double, 2>();
    const std::int64_t d = x.size(1);
    std::vector<std::int64_t> rows;
    std::int64_t first = -1, firstColumn = -1;
    for (std::int64_t i = 0; i < n; ++i) {
        std::int64_t gap = -1;
        for (std::int64_t j = 0; j < d && gap < 0; ++j)
            if (std::isnan(a[i][j])) gap = j;
        if (gap >= 0 || isMissing(labels[static_cast<std::size_t>(i)])) {
            if (first < 0) first = i, firstColumn = gap;
        } else {
            rows.push_back(i);
        }
    }
    if (first < 0) return {};
    const std::string& label = labels[static_cast<std::size_t>(first)];
    const std::string what =
        firstColumn >= 0 ? "column '" + names[static_cast<std::size_t>(firstColumn)] + "'"
        : label.empty()  ? "no label in column '" + labelName + "'"
                         : "label '" + label + "' in column '" + labelName + "'";
    const std::string example =
        "line " + std::to_string(lines[static_cast<std::size_t>(first)]) + ", " + what;
    if (rows.empty())
        return fail(file + ": every row misses a value or its label (the first: " + example + ")");
    notes.push_back("left out " + std::to_string(n - std::int64_t(rows.size())) + " of " +
                    std::to_string(n) +
                    " rows missing a value or their label (the first: " + example + ")");
    keepInPlace(x, rows, 0);
    std::vector<std::string> keptLabels;
    std::vector<std::size_t> keptLines;
    for (const auto i : rows) {
        keptLabels.push_back(std::move(labels[static_cast<std::size_t>(i)]));
        keptLines.push_back(lines[static_cast<std::size_t>(i)]);
    }
    labels = std::move(keptLabels);
    lines = std::move(keptLines);
    return {};
}

}  // namespace ll::csv
