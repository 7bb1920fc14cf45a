#pragma once

// What bench_train and bench_sample share: the thread pools and memory of a worker process,
// shell quoting for the commands that start one, and a row of rounds with its statistics.

#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bench {

constexpr const char* kMallocEnv =
    "MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_MMAP_MAX_=0";

using SetThreads = void (*)(int);
using GetThreads = int (*)();

inline SetThreads openblasSet() {
    return reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
}
inline int blasThreads() {
    auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    return get ? get() : 1;
}

/// This process's peak resident memory (VmHWM) in MiB.
inline double peakRssMib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024.0;
}

/// The running program's path, for starting it again as a worker.
inline std::string selfPath() {
    char self[4096];
    const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    return len > 0 ? std::string(self, static_cast<std::size_t>(len)) : std::string();
}

/// A word for sh -c: single-quoted, inner quotes escaped.
inline std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

inline std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

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

/// b's median over a's median of a field, as "1.23x", or "-" when either never ran.
inline std::string ratio(const Row& a, const Row& b, const char* key) {
    if (a.empty() || b.empty()) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2fx", b.median(key) / a.median(key));
    return buf;
}

}  // namespace bench
