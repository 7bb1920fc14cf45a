#include "common/table.h"

#include <cstdio>

#include "common/atomicfile.h"

namespace ll {

namespace {

std::string csvCell(const std::string& text) {
    if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

}  // namespace

Result<void> writeTableCsv(const TableSamples& table, const std::filesystem::path& path) {
    std::string text;
    for (const auto& c : table.columns) text += csvCell(c) + ",";
    text += "class\n";
    char number[32];
    for (std::int64_t r = 0; r < table.rows; ++r) {
        for (std::size_t c = 0; c < table.columns.size(); ++c) {
            std::snprintf(number, sizeof number, "%.6g", table.at(r, c));
            text += number;
            text += ',';
        }
        const auto label = static_cast<std::size_t>(table.labels[static_cast<std::size_t>(r)]);
        text += csvCell(label < table.classNames.size() ? table.classNames[label]
                                                         : std::to_string(label));
        text += '\n';
    }
    return writeFileAtomic(path, text);
}

}  // namespace ll
