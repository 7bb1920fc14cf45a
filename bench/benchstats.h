#pragma once

// A row of a benchmark table: one JSON record per round and min / median / max of its fields.
// Std and nlohmann/json only, so that the benchmarks of the Qt widgets (bench_grid) share it
// without LibTorch.

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bench {

/// One row of a table: a worker's JSON line per round, and statistics of one of its fields.
struct Row {
    std::vector<nlohmann::json> runs;

    bool empty() const { return runs.empty(); }
    std::vector<double> values(const char* key) const {
        std::vector<double> v;
        for (const auto& r : runs) v.push_back(r.at(key).get<double>());
        std::sort(v.begin(), v.end());
        return v;
    }
    double median(const char* key) const {
        const auto v = values(key);
        const std::size_t n = v.size();
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
    /// "min / median / max" of a field, or "-" for a row that never ran.
    std::string stats(const char* key, const char* format = "%.1f") const {
        if (empty()) return "-";
        const auto v = values(key);
        std::string fmt = std::string(format) + " / " + format + " / " + format;
        char buf[96];
        std::snprintf(buf, sizeof buf, fmt.c_str(), v.front(), median(key), v.back());
        return buf;
    }
    /// The largest peak resident memory of its processes, in MiB.
    std::string peakMib() const {
        if (empty()) return "-";
        double peak = 0;
        for (const auto& r : runs) peak = std::max(peak, r.value("peak_rss_mib", 0.0));
        return std::to_string(static_cast<long long>(peak + 0.5));
    }
    /// Torch x BLAS threads of its first run.
    std::string split() const {
        if (empty()) return "-";
        const auto& r = runs.front();
        return std::to_string(r.at("torch_threads").get<int>()) + "x" +
               std::to_string(r.at("blas_threads").get<int>());
    }
};

}  // namespace bench
