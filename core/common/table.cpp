#include "common/table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "common/atomicfile.h"
#include "common/csvtext.h"

namespace ll {

int Categorical::valueIndex(const std::string& value) const {
    const auto it = std::find(values.begin(), values.end(), value);
    return it == values.end() ? -1 : static_cast<int>(it - values.begin());
}

const Categorical* categoryOf(const std::vector<Categorical>& categorical, std::size_t feature) {
    for (const auto& c : categorical)
        if (feature >= c.first && feature < c.end()) return &c;
    return nullptr;
}

std::string categoricalFault(const std::vector<Categorical>& categorical, std::size_t features) {
    std::size_t from = 0;
    for (const auto& c : categorical) {
        if (c.values.empty()) return "categorical column '" + c.column + "' has no values";
        for (std::size_t v = 0; v < c.values.size(); ++v)
            if (c.values[v].empty() ||
                std::find(c.values.begin(), c.values.begin() + static_cast<std::ptrdiff_t>(v),
                          c.values[v]) != c.values.begin() + static_cast<std::ptrdiff_t>(v))
                return "categorical column '" + c.column + "' lists value '" + c.values[v] +
                       "' twice or empty";
        if (c.first < from || c.end() > features)
            return "categorical column '" + c.column + "' (features " + std::to_string(c.first) +
                   " to " + std::to_string(c.end() - 1) + ") does not fit the " +
                   std::to_string(features) + " features";
        from = c.end();
    }
    return {};
}

std::string TableSamples::text(std::int64_t row, std::size_t column, int digits) const {
    const double v = at(row, column);
    if (categorical(column)) {
        const auto& names = levels[column];
        if (!(v >= 0 && v < static_cast<double>(names.size()))) return "?";
        return names[static_cast<std::size_t>(v)];
    }
    char number[40];
    const int places = column < decimals.size() ? decimals[column] : -1;
    if (places >= 0 && places <= 15 && std::fabs(v) < 1e15) {
        std::snprintf(number, sizeof number, "%.*f", places, v);
        // -0.04 to one place is "-0.0": a zero has no sign.
        if (number[0] == '-' && std::strspn(number + 1, "0.") == std::strlen(number + 1))
            return number + 1;
        return number;
    }
    // Whole digits are not cut to an exponent (25065, not 2.507e+04); past 1e15 they are.
    // (9999.7 at 4 digits rounds up to 10^4, so the threshold sits half a unit below it.)
    if (const double a = std::fabs(v); a >= std::pow(10.0, digits) - 0.5 && a < 1e15)
        std::snprintf(number, sizeof number, "%.0f", v);
    else
        std::snprintf(number, sizeof number, "%.*g", digits, v);
    return number;
}

std::string tableCsvHeader(const TableSamples& table) {
    std::string text;
    for (const auto& c : table.columns) text += csvCell(c) + ",";
    return text + "class\n";
}

std::string tableCsvRow(const TableSamples& table, std::int64_t row, int digits) {
    std::string text;
    for (std::size_t c = 0; c < table.columns.size(); ++c)
        text +=
            (table.categorical(c) ? csvCell(table.text(row, c)) : table.text(row, c, digits)) + ",";
    const auto label = static_cast<std::size_t>(table.labels[static_cast<std::size_t>(row)]);
    text +=
        csvCell(label < table.classNames.size() ? table.classNames[label] : std::to_string(label));
    return text + "\n";
}

Result<void> writeTableCsv(const TableSamples& table, const std::filesystem::path& path) {
    std::string text = tableCsvHeader(table);
    for (std::int64_t r = 0; r < table.rows; ++r) text += tableCsvRow(table, r);
    return writeFileAtomic(path, text);
}

}  // namespace ll
