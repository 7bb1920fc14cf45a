#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <QString>
#include <QStringList>

namespace ll::widgets {

/// "20, 100" as numbers; nullopt when a part is not a whole number. Empty text: no numbers.
inline std::optional<std::vector<std::int64_t>> parseIntList(const QString& text) {
    std::vector<std::int64_t> values;
    for (const QString& part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const qlonglong v = part.trimmed().toLongLong(&ok);
        if (!ok) return std::nullopt;
        values.push_back(v);
    }
    return values;
}

}  // namespace ll::widgets
