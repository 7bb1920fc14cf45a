#include "data/csv.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include <torch/torch.h>

#include "common/cpu.h"
#include "common/mappedfile.h"
#include "common/text.h"
#include "data/csvcells.h"
#include "data/csvlayout.h"
#include "data/csvsource.h"

namespace ll {
namespace fs = std::filesystem;
using csv::asRunsClasses;
using csv::Cell;
using csv::ColumnCells;
using csv::foreignNote;
using csv::isMissing;
using csv::parseCell;
using csv::readNumber;
using csv::runClassOf;
using csv::runColumns;

namespace {

constexpr std::size_t kMaxCells = 400u << 20;  // refuse files that would need > 1.6 GB of floats

bool parseNumber(const std::string& cell, double& value) {
    return parseCell(cell, value) == Cell::Number;
}

bool isNumber(const std::string& cell) {
    double v;
    return parseNumber(cell, v);
}

// The table with each categorical column (its cells the index of their value) replaced by a
// column per value, 1 where the row takes it, else 0. `names`, `decimals` (-1 for a value's
// feature) and each column's `first` follow.
torch::Tensor oneHot(const torch::Tensor& x, std::vector<std::string>& names,
                     std::vector<int>& decimals, std::vector<Categorical>& categorical) {
    std::vector<torch::Tensor> parts;
    std::vector<std::string> wide;
    std::vector<int> wideDecimals;
    std::size_t from = 0;
    const auto plain = [&](std::size_t end) {
        if (end == from) return;
        parts.push_back(
            x.narrow(1, static_cast<std::int64_t>(from), static_cast<std::int64_t>(end - from)));
        wide.insert(wide.end(), names.begin() + static_cast<std::ptrdiff_t>(from),
                    names.begin() + static_cast<std::ptrdiff_t>(end));
        wideDecimals.insert(wideDecimals.end(),
                            decimals.begin() + static_cast<std::ptrdiff_t>(from),
                            decimals.begin() + static_cast<std::ptrdiff_t>(end));
    };
    for (auto& c : categorical) {
        plain(c.first);
        const auto values = static_cast<std::int64_t>(c.values.size());
        parts.push_back(
            torch::one_hot(x.select(1, static_cast<std::int64_t>(c.first)).to(torch::kInt64),
                           values)
                .to(torch::kFloat64));
        from = c.first + 1;
        c.first = wide.size();
        for (std::size_t v = 0; v < c.values.size(); ++v) wide.push_back(c.featureName(v));
        wideDecimals.resize(wide.size(), -1);
    }
    plain(names.size());
    names = std::move(wide);
    decimals = std::move(wideDecimals);
    return torch::cat(parts, 1);
}

// Whether the first line is a header, where its cells alone cannot tell.
enum class Header { Yes, No, ByLabels };

}  // namespace

Result<Dataset> readCsv(const fs::path& path, const std::string& labelColumn,
                        const TableLayout* like) {
    const std::string file = path.string();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return fail(file + ": no such file");
    auto mapped = MappedFile::open(path);
    if (!mapped) return fail(file + ": cannot open file (" + mapped.error().message + ")");
    // The text in UTF-8 whatever the file's encoding; what it was read as opens the note.
    std::string decoded;
    auto source = csv::decodeText(mapped->bytes(), decoded);
    if (!source) return fail(file + ": " + source.error().message);
    std::string_view text = source->text;
    std::vector<std::string> readNotes;
    if (!source->note.empty()) readNotes.push_back(source->note);
    if (text.data() == decoded.data()) mapped->releaseAll();  // read from the copy only

    // Excel's first line "sep=;" names the separator; else the first two records tell it.
    std::size_t firstLine = 1;
    char delimiter = csv::excelSeparator(text, firstLine);
    const bool namedDelimiter = delimiter != 0;
    const bool crLines = csv::crLineEnds(text);
    if (!delimiter) {
        std::vector<std::string_view> firsts;
        csv::forEachRecord(text, firstLine, crLines, 0, [&](const csv::Record& record) {
            firsts.push_back(record.text);
            return firsts.size() < 2;
        });
        delimiter = csv::detectDelimiter(firsts.empty() ? std::string_view() : firsts[0],
                                         firsts.size() < 2 ? std::string_view() : firsts[1]);
    }
    const auto unbalanced = [&](const csv::Record& record) {
        return Error{file + ": line " + std::to_string(record.line) + " has an unbalanced quote" +
                     (record.lastLine > record.line
                          ? " (the quoted cell it opens runs to the end of the file)"
                          : "")};
    };

    // First pass: the rows are counted and the first two kept, split; nothing else is held.
    // The cells are parsed straight into the table on the second pass.
    struct Row {
        std::size_t line = 0;
        std::vector<std::string> fields;
    };
    std::vector<Row> firstRows;
    std::size_t rows = 0;
    // Whether every line ends in a separator (spreadsheets that write one after each cell).
    bool emptyLast = true;
    std::optional<Error> error;
    csv::forEachRecord(text, firstLine, crLines, delimiter, [&](const csv::Record& record) {
        if (record.text.find('\0') != std::string_view::npos) {
            error = Error{file + ": line " + std::to_string(record.line) +
                          " holds binary data (not a CSV file?)"};
            return false;
        }
        if (firstRows.size() < 2) {
            Row row{record.line, {}};
            if (!record.balanced || !csv::splitRecord(record.text, delimiter, row.fields)) {
                error = unbalanced(record);
                return false;
            }
            firstRows.push_back(std::move(row));
        }
        emptyLast = emptyLast && csv::lastCellEmpty(record.text, delimiter);
        ++rows;
        return true;
    });
    if (error) return tl::unexpected(*error);
    if (rows == 0) return fail(file + ": the file is empty");
    // An unnamed last column empty on every line is no column: each line ended in a separator.
    const bool dropLast = emptyLast;
    if (dropLast) {
        for (auto& row : firstRows) row.fields.pop_back();
        readNotes.push_back(
            "left out the empty last column (every line ends in " +
            (delimiter == '\t' ? std::string("a tab") : "'" + std::string(1, delimiter) + "'") +
            ")");
    }

    const auto& head = firstRows[0].fields;
    const auto* second = rows > 1 ? &firstRows[1].fields : nullptr;
    const auto numericRow = [](const std::vector<std::string>& r) {
        return std::all_of(r.begin(), r.end(), isNumber);
    };
    std::vector<std::string> sklearnClasses;
    Header header = Header::No;
    double n0 = 0, n1 = 0;
    // The first line may have as many cells as a data row (iris: "150,4,setosa,versicolor,
    // virginica" over rows of 4 features and a target); then its count must match the rows.
    if (second && head.size() >= 2 && parseNumber(head[0], n0) && parseNumber(head[1], n1) &&
        n1 + 1 == static_cast<double>(second->size()) &&
        (head.size() != second->size() || n0 == static_cast<double>(rows - 1))) {
        // sklearn's bundled files: "569,30,malignant,benign", then features and an int target.
        sklearnClasses.assign(head.begin() + 2, head.end());
    } else if (const bool named = !labelColumn.empty() &&
                                  std::find(head.begin(), head.end(), labelColumn) != head.end();
               !second || head.size() != second->size() || (named && !numericRow(head))) {
        // One row, a first row of its own width, or a label named by a word of it: its cells
        // decide. (A label named by number may name a column of pandas' 0, 1, 2 header.)
        header = numericRow(head) ? Header::No : Header::Yes;
    } else {
        header = Header::ByLabels;  // decided below, once the label column is known
    }
    const bool skipHead = !sklearnClasses.empty() || header == Header::Yes;
    const std::size_t columns = skipHead && second ? second->size() : head.size();
    if (skipHead && !second) return fail(file + ": has a header but no data rows");
    if (header == Header::Yes && head.size() != columns)
        return fail(file + ": the header has " + std::to_string(head.size()) +
                    " columns but line " + std::to_string(firstRows[1].line) + " has " +
                    std::to_string(columns));
    if (columns < 2)
        return fail(file + ": needs at least one feature column and a label column" +
                    (namedDelimiter || head.size() > 1
                         ? std::string()
                         : std::string(" (no ',', ';', tab or '|' separates the cells of line ") +
                               std::to_string(firstRows[0].line) + ")"));

    // The label column: a name of the header first, then a number.
    std::size_t label = columns - 1;
    if (!labelColumn.empty()) {
        auto it = std::find(head.begin(), head.end(), labelColumn);
        double number = 0;
        if (header == Header::Yes && it != head.end()) {
            label = static_cast<std::size_t>(it - head.begin());
            if (const auto again = std::find(it + 1, head.end(), labelColumn); again != head.end())
                return fail(file + ": columns " + std::to_string(label) + " and " +
                            std::to_string(again - head.begin()) + " are both named '" +
                            clipped(labelColumn, 60) +
                            "': name the label by its number (--label-column " +
                            std::to_string(label) + ")");
        } else if (parseNumber(labelColumn, number) && number >= 0 && number < columns &&
                   number == std::floor(number)) {
            label = static_cast<std::size_t>(number);
        } else {
            // The first row's cells where they may be names (sklearn's count line is not).
            const bool named =
                sklearnClasses.empty() && head.size() == columns && !numericRow(head);
            std::vector<std::string> shown;
            for (std::size_t c = 0; c < columns; ++c)
                shown.push_back(named ? head[c] : std::to_string(c));
            return fail(file + ": no label column '" + labelColumn +
                        "' (columns: " + joinedNames(shown, 200) + ")");
        }
    }
    // A feature cell that is not a number, over a number in the row below, can only be a
    // name: the first line is a header. Where that does not tell (iris.data has no header,
    // pandas writes 0, 1, 2 ...; a column of text has text below), the label decides below:
    // a header's label cell is not among the labels.
    const auto numberHere = [](const std::string& cell) {
        double point, comma;
        return readNumber(cell, point, comma) == Cell::Number;
    };
    if (header == Header::ByLabels)
        for (std::size_t c = 0; c < columns; ++c)
            if (c != label && !numberHere(head[c]) && !isMissing(head[c]) &&
                numberHere((*second)[c]))
                header = Header::Yes;
    std::vector<std::string> names;
    for (std::size_t c = 0; c < columns; ++c)
        names.push_back(header == Header::Yes ? head[c] : std::to_string(c));

    // Second pass: the rows after a header (or sklearn's count line), every cell read. Text and
    // missing cells are NaN here and counted per column; what to leave out is settled after.
    const std::size_t skip = skipHead || header == Header::Yes ? 1 : 0;
    auto n = static_cast<std::int64_t>(rows - skip);
    const auto d = static_cast<std::int64_t>(columns - 1);
    if (static_cast<double>(n) * static_cast<double>(columns) > static_cast<double>(kMaxCells))
        return fail(file + ": too large (more than 400 million cells)");
    // Read as doubles, then standardised to floats: 12 bytes a cell at the peak, and what is
    // kept of each column's cells.
    if (const auto why = beyondMemory(
            (12.0 * static_cast<double>(n) + static_cast<double>(sizeof(ColumnCells))) *
            static_cast<double>(d));
        !why.empty())
        return fail(file + ": " + std::to_string(n) + " rows of " + std::to_string(d) +
                    " features" + why);
    torch::Tensor x = torch::empty({n, d}, torch::kFloat64);
    auto xa = x.accessor<double, 2>();
    std::vector<std::string> labelCells;
    labelCells.reserve(static_cast<std::size_t>(n));
    std::vector<std::size_t> lines;  // each row's line in the file
    lines.reserve(static_cast<std::size_t>(n));
    std::vector<ColumnCells> cells(static_cast<std::size_t>(d));
    std::vector<std::string> fields;
    std::int64_t foreignRows = 0;  // rows of classes the run does not have (given `like`)
    std::set<std::string> foreignClasses;
    bool firstLabelPassed = false;  // a row of the first row's label was passed over
    // Each label cell's class among the run's (-1: none), its sklearn name first.
    std::unordered_map<std::string, std::int64_t> runClass;
    const auto runClassOfCell = [&](const std::string& cell) {
        if (const auto it = runClass.find(cell); it != runClass.end()) return it->second;
        std::string name = cell;
        double v = 0;
        if (!sklearnClasses.empty() && parseNumber(cell, v) && v >= 0 && v == std::floor(v) &&
            v < static_cast<double>(sklearnClasses.size()))
            name = sklearnClasses[static_cast<std::size_t>(v)];
        const auto k = runClassOf(name, *like);
        if (runClass.size() < 10000) runClass.emplace(cell, k);
        return k;
    };
    std::int64_t r = -static_cast<std::int64_t>(skip);
    csv::forEachRecord(text, firstLine, crLines, delimiter, [&](const csv::Record& record) {
        if (r < 0) return ++r, true;
        const std::size_t no = record.line;
        const std::string at = file + ": line " + std::to_string(no);
        if (!record.balanced || !csv::splitRecord(record.text, delimiter, fields)) {
            error = unbalanced(record);
            return false;
        }
        if (dropLast) fields.pop_back();
        if (fields.size() != columns) {
            error = Error{at + " has " + std::to_string(fields.size()) + " columns, expected " +
                          std::to_string(columns) +
                          (record.lastLine > no ? " (quotes run it on to line " +
                                                      std::to_string(record.lastLine) + ")"
                                                : "")};
            return false;
        }
        // A row of a class the run does not have is not read: its cells say nothing of the
        // run's columns (a value of its own). The first row may yet be a header; whether it
        // is decides below, and a row of its label passed over says it is not.
        if (like && !(r == 0 && header == Header::ByLabels) && !isMissing(fields[label]) &&
            runClassOfCell(fields[label]) < 0) {
            ++foreignRows;
            if (foreignClasses.size() < 20) foreignClasses.insert(csv::shownCell(fields[label]));
            firstLabelPassed =
                firstLabelPassed || (!labelCells.empty() && header == Header::ByLabels &&
                                     fields[label] == labelCells.front());
            return true;
        }
        std::size_t j = 0;
        for (std::size_t c = 0; c < columns; ++c) {
            if (c == label) {
                labelCells.push_back(std::move(fields[c]));  // "": missing, settled below
                continue;
            }
            double point = 0, comma = 0, v = std::numeric_limits<double>::quiet_NaN();
            Cell cell = readNumber(fields[c], point, comma);
            if (cell == Cell::Number) {
                // A column writes its numbers one way: "1,5" beside "1.25" is no number to
                // guess, "1,234" is 1.234 or 1234 as the column's other cells say.
                auto read = cells[j].number(r, no, fields[c], point, comma, delimiter, xa,
                                            static_cast<std::int64_t>(j));
                if (!read) {
                    error = Error{at + ", column '" + names[c] + "': " + read.error().message};
                    return false;
                }
                v = *read;
                if (std::fabs(v) > FLT_MAX) cell = Cell::OutOfRange;
                cells[j].countDecimals(fields[c], point, comma, r == 0);
            }
            if (cell == Cell::OutOfRange || cell == Cell::Infinite) {
                error = Error{at + ", column '" + names[c] + "': '" + csv::shownCell(fields[c]) +
                              (cell == Cell::OutOfRange
                                   ? "' is out of range (a feature must lie within +-3.4e38)"
                                   : "' is not a finite number")};
                return false;
            }
            cells[j].add(cell, r == 0, no, fields[c]);
            xa[r][static_cast<std::int64_t>(j++)] = v;
        }
        lines.push_back(no);
        ++r;
        return true;
    });
    if (error) return tl::unexpected(*error);
    if (r < n) {
        n = r;
        x = x.narrow(0, 0, n);
        xa = x.accessor<double, 2>();  // of the narrowed tensor, not one it may outlive
    }
    // A file writes its numbers one way: a column no cell of which said how ("25,065" in a
    // tab file of amounts) takes the way the file's other columns do, where they agree.
    csv::Decimal fileWay = csv::Decimal::Unknown;
    bool waysDiffer = false;
    for (const auto& k : cells)
        if (k.decimal != csv::Decimal::Unknown) {
            waysDiffer = waysDiffer || (fileWay != csv::Decimal::Unknown && fileWay != k.decimal);
            fileWay = k.decimal;
        }
    // Where no column of the file said, the run's file may have (a few rows of "52,000").
    if (fileWay == csv::Decimal::Unknown && like && !like->decimal.empty())
        fileWay = like->decimal == "comma" ? csv::Decimal::Comma : csv::Decimal::Point;
    const std::string decimal = fileWay == csv::Decimal::Unknown || waysDiffer ? ""
                                : fileWay == csv::Decimal::Comma               ? "comma"
                                                                               : "point";
    if (fileWay != csv::Decimal::Unknown && !waysDiffer)
        for (std::size_t j = 0; j < cells.size(); ++j)
            if (cells[j].decimal == csv::Decimal::Unknown)
                cells[j].settle(fileWay, delimiter, xa, static_cast<std::int64_t>(j));
    // A column whose cells all read two ways, as written in two ways, cannot be told.
    for (std::size_t c = 0, j = 0; c < columns; ++c)
        if (c != label)
            if (const auto why = cells[j++].unsettled(delimiter); !why.empty())
                return fail(file + ": column '" + names[c] + "': " + why);
    if (like && n == 0) return fail(file + ": every row is " + foreignNote(foreignClasses, *like));
    if (header == Header::ByLabels) {
        // The first row was read as data. It is a header if a feature cell of it is text over a
        // column of numbers (gaps allowed), or if its label cell is no label: a word over
        // numeric labels; a value the labels never take, where they repeat (a class column) or
        // the row has text (a name over a column of names) and, over numeric labels, the row
        // numbers its columns 0, 1, 2 as pandas does.
        bool textOverNumbers = false, textHead = false;
        for (const auto& k : cells) {
            if (k.first != Cell::Text) continue;
            textHead = true;
            textOverNumbers = textOverNumbers || (k.text == 1 && n - k.text - k.missing > 0);
        }
        std::vector<std::string> rest;
        for (auto it = labelCells.begin() + 1; it != labelCells.end(); ++it)
            if (!isMissing(*it)) rest.push_back(*it);
        const bool numeric = std::all_of(rest.begin(), rest.end(), isNumber);
        const bool unseen =
            std::find(rest.begin(), rest.end(), labelCells[0]) == rest.end() && !firstLabelPassed;
        const bool repeat = std::set<std::string>(rest.begin(), rest.end()).size() < rest.size();
        const bool isLabel =
            !textOverNumbers &&
            (numeric ? isNumber(labelCells[0]) && !(unseen && repeat && numberedNames(head))
                     : !(unseen && (repeat || textHead)));
        if (!isLabel) {
            header = Header::Yes;
            x = x.narrow(0, 1, n - 1);
            labelCells.erase(labelCells.begin());
            lines.erase(lines.begin());
            for (auto& column : cells) column.dropFirstRow();
            names = head;
        } else if (like && !isMissing(labelCells[0]) && runClassOfCell(labelCells[0]) < 0) {
            // Data of a class the run does not have, read before that was known: passed over
            // as the others were.
            ++foreignRows;
            foreignClasses.insert(csv::shownCell(labelCells[0]));
            x = x.narrow(0, 1, n - 1);
            labelCells.erase(labelCells.begin());
            lines.erase(lines.begin());
            for (auto& column : cells) column.dropFirstRow();
        }
        n = x.size(0);
        if (like && n == 0)
            return fail(file + ": every row is " + foreignNote(foreignClasses, *like));
    }
    if (like) {
        // Named one side only, the columns are matched by place: a file without a header is
        // the run's columns in order; a file with one, read by a run whose file had none, is
        // numbered as that file was.
        const auto theirs = runColumns(*like);
        const bool mineNumbered = header != Header::Yes, theirsNumbered = numberedNames(theirs);
        if (mineNumbered && !theirsNumbered) {
            if (columns - 1 != theirs.size())
                return fail(file + ": has no header and " + std::to_string(columns - 1) +
                            " feature columns, where the run's data had " +
                            std::to_string(theirs.size()) + " (" + joinedNames(theirs, 200) +
                            "): give it the run's header");
            std::size_t k = 0;
            for (std::size_t c = 0; c < columns; ++c)
                if (c != label) names[c] = theirs[k++];
        } else if (!mineNumbered && theirsNumbered) {
            for (std::size_t c = 0; c < columns; ++c) names[c] = std::to_string(c);
        }
    }
    std::vector<std::string> featureNames;
    for (std::size_t c = 0; c < columns; ++c)
        if (c != label) featureNames.push_back(names[c]);
    // How precisely each column writes its numbers, for the rows a model writes back.
    std::vector<int> decimals;
    for (const auto& k : cells) decimals.push_back(k.decimals(delimiter));
    std::vector<std::string> notes = std::move(readNotes);
    std::vector<Categorical> categorical;
    if (auto settled = leaveOutGaps(file, names[label], cells, x, labelCells, lines, featureNames,
                                    decimals, categorical, notes, like);
        !settled)
        return tl::unexpected(settled.error());
    // A float keeps about 7 significant digits: a column of 123456.78901 keeps one decimal of
    // its five, where the rest would be the float's noise.
    if (x.size(0) > 0) {
        const auto largest = x.abs().amax(0).contiguous();
        const auto* m = largest.data_ptr<double>();
        for (std::size_t j = 0; j < decimals.size(); ++j)
            if (decimals[j] > 0 && m[j] >= 1)
                decimals[j] =
                    std::min(decimals[j],
                             std::max(0, 7 - static_cast<int>(std::floor(std::log10(m[j]))) - 1));
    }
    if (!categorical.empty()) {
        // A feature per value: the table widens, and is copied once while the narrow one is
        // still held.
        double wide = static_cast<double>(x.size(1));
        for (const auto& c : categorical) wide += static_cast<double>(c.values.size()) - 1;
        const double cells = static_cast<double>(x.size(0)) * wide;
        if (cells > static_cast<double>(kMaxCells))
            return fail(file + ": too large once its categories are a feature each (" +
                        std::to_string(static_cast<long long>(wide)) + " features of " +
                        std::to_string(x.size(0)) + " rows, more than 400 million cells)");
        if (const auto why = beyondMemory(8.0 * (cells + static_cast<double>(x.numel())));
            !why.empty())
            return fail(file + ": " + std::to_string(x.size(0)) + " rows of " +
                        std::to_string(static_cast<long long>(wide)) +
                        " features (a feature per category)" + why);
        x = oneHot(x, featureNames, decimals, categorical);
    }
    // How numbers were read, where it is not plain: the first cell in the file that shows it.
    ColumnCells::Shown comma, thousands;
    for (const auto& k : cells) {
        const auto c = k.decimalComma(delimiter), t = k.thousands(delimiter);
        if (c.line && (!comma.line || c.line < comma.line)) comma = c;
        if (t.line && (!thousands.line || t.line < thousands.line)) thousands = t;
    }
    if (comma.line) notes.push_back("read decimal commas (" + comma.text + ")");
    if (thousands.line)
        notes.push_back("read separators between thousands (" + thousands.text + ")");
    const auto count = x.size(0);

    // Labels: numbers sort numerically, text alphabetically; sklearn files bring names.
    Dataset ds;
    const bool numericLabels = std::all_of(labelCells.begin(), labelCells.end(), isNumber);
    std::vector<std::string> classes;
    std::map<std::string, std::int64_t> index;
    if (numericLabels) {
        std::set<double> values;
        std::map<std::string, double> parsed;
        std::map<double, std::string> written;  // a value as its first cell writes it
        for (const auto& c : labelCells) {
            parseNumber(c, parsed[c]);
            values.insert(parsed[c]);
            written.emplace(parsed[c], c);
        }
        if (values.size() > 1000)
            return fail(file + ": label column '" + names[label] +
                        "' has more than 1000 distinct values (a regression target?)");
        std::map<double, std::int64_t> byValue;
        for (double v : values) {
            byValue[v] = static_cast<std::int64_t>(byValue.size());
            // Whole numbers as integers while a double holds them exactly (1.0 and 1 are one
            // class, "1"); others as the file writes them (0.0000001 and 0.0000002 are two).
            std::string shown = v == std::floor(v) && std::fabs(v) < 9007199254740992.0
                                    ? std::to_string(static_cast<long long>(v))
                                    : written[v];
            const auto k = static_cast<std::size_t>(byValue[v]);
            // A run's file (`like`) may hold some classes only: its values are their numbers.
            const bool named = !sklearnClasses.empty() && v == std::floor(v) && v >= 0 &&
                               v < static_cast<double>(sklearnClasses.size()) &&
                               (k == static_cast<std::size_t>(v) || like);
            classes.push_back(named ? sklearnClasses[static_cast<std::size_t>(v)] : shown);
        }
        for (const auto& [cell, v] : parsed) index[cell] = byValue[v];
    } else {
        std::set<std::string> values(labelCells.begin(), labelCells.end());
        if (values.size() > 1000)
            return fail(file + ": label column '" + names[label] +
                        "' has more than 1000 distinct values");
        for (const auto& v : values)
            index[v] = static_cast<std::int64_t>(classes.size()), classes.push_back(v);
    }
    torch::Tensor y = torch::empty({count}, torch::kInt64);
    auto ya = y.accessor<std::int64_t, 1>();
    for (std::int64_t i = 0; i < count; ++i) ya[i] = index[labelCells[static_cast<std::size_t>(i)]];
    // A label of its own for most rows (an id, a price) is no class: say so, as training would
    // learn nothing a class could steer.
    if (const auto classCount = static_cast<std::int64_t>(classes.size());
        !like && classCount >= 10 && classCount * 2 > count)
        notes.push_back("the label column '" + clipped(names[label], 60) + "' makes " +
                        std::to_string(classCount) + " classes of " + std::to_string(count) +
                        " rows, fewer than two rows a class: if it is not the label, name the "
                        "label with --label-column");
    if (like) {
        auto theirs = asRunsClasses(file, classes, *like, x, y, lines, foreignRows, foreignClasses);
        if (!theirs) return tl::unexpected(theirs.error());
        if (!theirs->empty()) notes.push_back(*theirs);
        classes = like->classNames;
    }

    ds.modality = Modality::Tabular;
    ds.source = file;
    ds.name = path.stem().string();
    ds.classNames = std::move(classes);
    ds.featureNames = std::move(featureNames);
    ds.categorical = std::move(categorical);
    ds.decimal = decimal;
    ds.decimals = std::move(decimals);
    for (const auto& note : notes) ds.note += (ds.note.empty() ? "" : "; ") + note;
    // In doubles (a float's square of 1e20 overflows), standardised in place.
    ds.mean = x.mean(0);
    // A constant column gets std 1 so it standardises to zeros instead of NaN.
    ds.std = x.std(0, /*unbiased=*/false);
    ds.std = torch::where(ds.std > 1e-12, ds.std, torch::ones_like(ds.std));
    ds.x = x.sub_(ds.mean).div_(ds.std).to(torch::kFloat32);
    ds.mean = ds.mean.to(torch::kFloat32);
    ds.std = ds.std.to(torch::kFloat32);
    ds.y = y;
    return ds;
}

}  // namespace ll
