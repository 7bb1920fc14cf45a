#pragma once

#include <cstdio>
#include <string>

namespace ll {

/// "m:ss", or "h:mm:ss" from an hour on: time left in progress bars (CLI and GUI alike).
inline std::string formatDuration(double seconds) {
    const auto s = static_cast<long long>(seconds > 0 ? seconds + 0.5 : 0);
    char out[32];
    if (s >= 3600)
        std::snprintf(out, sizeof out, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(out, sizeof out, "%lld:%02lld", s / 60, s % 60);
    return out;
}

/// A score for a line of text: 4 significant digits, "-" for NaN (no value).
inline std::string formatNumber(double value) {
    if (value != value) return "-";
    char out[32];
    std::snprintf(out, sizeof out, "%.4g", value);
    return out;
}

/// A size for a person: "840 KiB", "12.5 MiB", "1.6 GiB".
inline std::string formatBytes(double bytes) {
    char out[32];
    if (bytes >= double(1ull << 30))
        std::snprintf(out, sizeof out, "%.1f GiB", bytes / double(1ull << 30));
    else if (bytes >= double(1ull << 20))
        std::snprintf(out, sizeof out, "%.1f MiB", bytes / double(1ull << 20));
    else
        std::snprintf(out, sizeof out, "%.0f KiB", bytes / 1024.0);
    return out;
}

}  // namespace ll
