#include "data/csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include <torch/torch.h>

#include "common/text.h"

namespace ll {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxCells = 400u << 20;  // refuse files that would need > 1.6 GB of floats

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

// RFC 4180: fields may be quoted, quotes doubled inside. A quoted field does not span lines
// here; such files are rare for numeric data and reported as an unbalanced quote.
bool splitLine(const std::string& line, char delimiter, std::vector<std::string>& out) {
    out.clear();
    std::string field;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char ch = line[i];
        if (quoted) {
            if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (ch == '"') {
                quoted = false;
            } else {
                field += ch;
            }
        } else if (ch == '"') {
            quoted = true;
        } else if (ch == delimiter) {
            out.push_back(trim(field));
            field.clear();
        } else {
            field += ch;
        }
    }
    out.push_back(trim(field));
    return !quoted;
}

bool parseNumber(const std::string& cell, double& value) {
    if (cell.empty()) return false;
    const char* begin = cell.data();
    if (*begin == '+') ++begin;
    auto [ptr, ec] = std::from_chars(begin, cell.data() + cell.size(), value);
    return ec == std::errc() && ptr == cell.data() + cell.size() && std::isfinite(value);
}

char detectDelimiter(const std::string& line) {
    std::size_t best = 0;
    char chosen = ',';
    for (char d : {',', ';', '\t'}) {
        const auto n = static_cast<std::size_t>(std::count(line.begin(), line.end(), d));
        if (n > best) best = n, chosen = d;
    }
    return chosen;
}

}  // namespace

Result<Dataset> readCsv(const fs::path& path, const std::string& labelColumn) {
    const std::string file = path.string();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return fail(file + ": no such file");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(file + ": cannot open file");

    // Lines are kept with their 1-based numbers so that errors point at the right place.
    std::vector<std::pair<std::size_t, std::vector<std::string>>> rows;
    std::string line;
    std::size_t lineNo = 0;
    char delimiter = 0;
    std::size_t cells = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        if (lineNo == 1 && startsWith(line, "\xEF\xBB\xBF")) line.erase(0, 3);  // UTF-8 BOM
        if (trim(line).empty()) continue;
        if (line.find('\0') != std::string::npos)
            return fail(file + ": line " + std::to_string(lineNo) +
                        " holds binary data (not a CSV file?)");
        if (!delimiter) delimiter = detectDelimiter(line);
        std::vector<std::string> fields;
        if (!splitLine(line, delimiter, fields))
            return fail(file + ": line " + std::to_string(lineNo) + " has an unbalanced quote");
        cells += fields.size();
        if (cells > kMaxCells) return fail(file + ": too large (more than 400 million cells)");
        rows.emplace_back(lineNo, std::move(fields));
    }
    if (rows.empty()) return fail(file + ": the file is empty");

    auto numericRow = [](const std::vector<std::string>& r) {
        double v;
        return std::all_of(r.begin(), r.end(),
                           [&](const std::string& c) { return parseNumber(c, v); });
    };
    std::vector<std::string> names;
    std::vector<std::string> sklearnClasses;
    std::size_t first = 0;
    const auto& head = rows[0].second;
    double n0 = 0, n1 = 0;
    // The first line may have as many cells as a data row (iris: "150,4,setosa,versicolor,
    // virginica" over rows of 4 features and a target); then its count must match the rows.
    if (rows.size() > 1 && head.size() >= 2 && parseNumber(head[0], n0) &&
        parseNumber(head[1], n1) && n1 + 1 == static_cast<double>(rows[1].second.size()) &&
        (head.size() != rows[1].second.size() || n0 == static_cast<double>(rows.size() - 1))) {
        // sklearn's bundled files: "569,30,malignant,benign", then features and an int target.
        sklearnClasses.assign(head.begin() + 2, head.end());
        first = 1;
    } else if (!numericRow(head)) {
        names = head;
        first = 1;
    }
    if (first >= rows.size()) return fail(file + ": has a header but no data rows");
    const std::size_t columns = rows[first].second.size();
    if (names.empty())
        for (std::size_t c = 0; c < columns; ++c) names.push_back(std::to_string(c));
    if (names.size() != columns)
        return fail(file + ": the header has " + std::to_string(names.size()) +
                    " columns but line " + std::to_string(rows[first].first) + " has " +
                    std::to_string(columns));
    if (columns < 2) return fail(file + ": needs at least one feature column and a label column");

    // Resolve the label column: a name first, then a number.
    std::size_t label = columns - 1;
    if (!labelColumn.empty()) {
        auto it = std::find(names.begin(), names.end(), labelColumn);
        double number = 0;
        if (it != names.end()) {
            label = static_cast<std::size_t>(it - names.begin());
        } else if (parseNumber(labelColumn, number) && number >= 0 && number < columns &&
                   number == std::floor(number)) {
            label = static_cast<std::size_t>(number);
        } else {
            std::string all;
            for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
            if (all.size() > 200) all = all.substr(0, 200) + "...";
            return fail(file + ": no label column '" + labelColumn + "' (columns: " + all + ")");
        }
    }

    const std::int64_t n = static_cast<std::int64_t>(rows.size() - first);
    const std::int64_t d = static_cast<std::int64_t>(columns - 1);
    torch::Tensor x = torch::empty({n, d}, torch::kFloat64);
    auto xa = x.accessor<double, 2>();
    std::vector<std::string> labelCells;
    labelCells.reserve(static_cast<std::size_t>(n));
    for (std::int64_t r = 0; r < n; ++r) {
        const auto& [no, fields] = rows[first + static_cast<std::size_t>(r)];
        if (fields.size() != columns)
            return fail(file + ": line " + std::to_string(no) + " has " +
                        std::to_string(fields.size()) + " columns, expected " +
                        std::to_string(columns));
        std::int64_t j = 0;
        for (std::size_t c = 0; c < columns; ++c) {
            if (c == label) {
                if (fields[c].empty())
                    return fail(file + ": line " + std::to_string(no) + ", column '" + names[c] +
                                "': missing label");
                labelCells.push_back(fields[c]);
                continue;
            }
            double v;
            if (!parseNumber(fields[c], v))
                return fail(file + ": line " + std::to_string(no) + ", column '" + names[c] +
                            "': '" + fields[c].substr(0, 40) + "' is not a number");
            xa[r][j++] = v;
        }
    }

    // Labels: numbers sort numerically, text alphabetically; sklearn files bring names.
    Dataset ds;
    double tmp;
    const bool numericLabels =
        std::all_of(labelCells.begin(), labelCells.end(),
                    [&](const std::string& c) { return parseNumber(c, tmp); });
    std::vector<std::string> classes;
    std::map<std::string, std::int64_t> index;
    if (numericLabels) {
        std::set<double> values;
        std::map<std::string, double> parsed;
        for (const auto& c : labelCells) parseNumber(c, parsed[c]), values.insert(parsed[c]);
        if (values.size() > 1000)
            return fail(file + ": label column '" + names[label] +
                        "' has more than 1000 distinct values (a regression target?)");
        std::map<double, std::int64_t> byValue;
        for (double v : values) {
            byValue[v] = static_cast<std::int64_t>(byValue.size());
            // Whole numbers as integers while a double holds them exactly; others as written.
            std::string shown = v == std::floor(v) && std::fabs(v) < 9007199254740992.0
                                    ? std::to_string(static_cast<long long>(v))
                                    : std::to_string(v);
            const auto k = static_cast<std::size_t>(byValue[v]);
            const bool named = !sklearnClasses.empty() && v == std::floor(v) && v >= 0 &&
                               v < static_cast<double>(sklearnClasses.size()) &&
                               k == static_cast<std::size_t>(v);
            classes.push_back(named ? sklearnClasses[k] : shown);
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
    torch::Tensor y = torch::empty({n}, torch::kInt64);
    auto ya = y.accessor<std::int64_t, 1>();
    for (std::int64_t r = 0; r < n; ++r) ya[r] = index[labelCells[static_cast<std::size_t>(r)]];

    ds.modality = Modality::Tabular;
    ds.source = file;
    ds.name = path.stem().string();
    ds.classNames = std::move(classes);
    for (std::size_t c = 0; c < columns; ++c)
        if (c != label) ds.featureNames.push_back(names[c]);
    ds.mean = x.mean(0);
    // A constant column gets std 1 so it standardises to zeros instead of NaN.
    ds.std = x.std(0, /*unbiased=*/false);
    ds.std = torch::where(ds.std > 1e-12, ds.std, torch::ones_like(ds.std));
    ds.x = ((x - ds.mean) / ds.std).to(torch::kFloat32);
    ds.mean = ds.mean.to(torch::kFloat32);
    ds.std = ds.std.to(torch::kFloat32);
    ds.y = y;
    return ds;
}

}  // namespace ll
