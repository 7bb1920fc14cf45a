#pragma once

// What bench_train and bench_sample share: a preset's settings and the thread split of a worker
// process, its memory, shell quoting for the commands that start one and the interleaved rounds
// of a row (their statistics: benchstats.h).

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include "benchstats.h"
#include "common/cpu.h"
#include "models/catalog.h"

namespace bench {

constexpr const char* kMallocEnv =
    "MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_MMAP_MAX_=0";

/// The BLAS threads a worker reports: 1 where BLAS is not OpenBLAS (one thread, the caller's).
inline int blasThreads() {
    return std::max(1, ll::blasThreads());
}

/// A preset's settings as the benchmarks build its model: on `device` (cpu or cuda), and
/// latent-ddpm's own VAE with one step, so that its rows time the denoiser (the VAE's step is
/// the vae row).
inline ll::Settings presetSettings(const ll::ModelPreset& preset,
                                   const std::string& device = "cpu") {
    ll::Settings s = preset.settings;
    s["lr"] = std::to_string(preset.learningRate);
    s["device"] = device;
    if (ll::modelInfo(preset.model).defaults.count("vae_steps")) s["vae_steps"] = "1";
    return s;
}

/// The environment of a check on a GPU: NVIDIA's libraries compute fp32 products in fp32, not
/// TF32 (which LibTorch and PyTorch allow cuDNN by default).
inline constexpr const char* kExactGpuEnv = "NVIDIA_TF32_OVERRIDE=0";

/// On a GPU, the Python reference's flag that lets cuDNN time its algorithms, as LatentLab does
/// there; nothing on the CPU.
inline std::string cudnnSearch(const std::string& device) {
    return device == "cpu" ? "" : " --cudnn-benchmark";
}

/// The Python reference's flags for a device. On a GPU there is no thread split to tune: the
/// `tuned` run is the one with cuDNN's search.
inline std::string pythonDeviceFlags(const std::string& device, bool tuned) {
    if (device == "cpu") return "";
    return " --device " + device + (tuned ? cudnnSearch(device) : "");
}

/// "T,B": T torch (OpenMP) threads and B OpenBLAS threads; empty leaves the split as it is.
inline void applySplit(const std::string& threads) {
    if (threads.empty()) return;
    int t = 1, b = 1;
    std::sscanf(threads.c_str(), "%d,%d", &t, &b);
    at::set_num_threads(t);
    ll::setBlasThreads(b);
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

/// The rounds of one row, interleaved: C++ (`runCpp()`), then, with `python`, Python with the
/// library defaults and tuned (`runPython(env, flags, tuned)`): the allocator environment, and
/// in the first round the split the script probes, reused by the later rounds.
template <class RunCpp, class RunPython>
void interleaveRounds(const std::string& name, int rounds, bool python, RunCpp runCpp,
                      RunPython runPython, Row& cpp, Row& plain, Row& tuned) {
    std::string tunedSplit;
    for (int round = 1; round <= rounds; ++round) {
        std::printf("%s: round %d of %d\n", name.c_str(), round, rounds);
        std::fflush(stdout);
        if (std::optional<nlohmann::json> j = runCpp()) cpp.runs.push_back(*j);
        if (!python) continue;
        if (std::optional<nlohmann::json> j = runPython(std::string(), std::string(), false))
            plain.runs.push_back(*j);
        const std::string flags = tunedSplit.empty() ? " --tuned" : " --threads " + tunedSplit;
        if (std::optional<nlohmann::json> j = runPython(std::string(kMallocEnv), flags, true)) {
            tuned.runs.push_back(*j);
            tunedSplit = std::to_string(j->at("torch_threads").get<int>()) + "," +
                         std::to_string(j->at("blas_threads").get<int>());
        }
    }
}

/// b's median over a's median of a field, as "1.23x", or "-" when either never ran.
inline std::string ratio(const Row& a, const Row& b, const char* key) {
    if (a.empty() || b.empty()) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2fx", b.median(key) / a.median(key));
    return buf;
}

}  // namespace bench
