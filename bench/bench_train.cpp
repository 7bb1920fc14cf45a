// bench_train: the training step of every CPU preset in LibTorch C++ against the same model and
// loop in Python PyTorch (bench/train_reference.py and its mirrors in bench/reference/), with
// the library defaults and with the tuned settings. Prints a table and ratios; asserts nothing.
//
// Every row is a process of its own, started from here one after another so that no two share
// the cores: `bench_train --worker` for C++ (it times the model as ll::Trainer runs it: the
// app's allocator settings and the thread split of the model's workload) and the Python
// reference twice (plain; allocator environment plus its fastest thread split). The rounds
// interleave them; each row reports min / median / max over the rounds and its process's peak
// resident memory. Before the rounds, both sides train two steps at one thread each from the
// same seed: equal losses show that they build the same model and take the same step. The
// Python side of that check also counts the step's FLOPs (reference/flops.py), which give each
// row's GFLOP/s against the machine's peak, measured first (`bench_train --worker --peak`).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "benchrows.h"
#include "common/cpu.h"
#include "data/loader.h"
#include "models/model.h"
#include "pythonrun.h"

#ifndef LATENTLAB_BENCH_DIR
#define LATENTLAB_BENCH_DIR "bench"
#endif

namespace {

using bench::number;
using bench::quote;
using bench::Row;
using nlohmann::json;

struct Options {
    std::vector<std::string> presets;
    int warmup = 10;
    int steps = 50;
    int rounds = 3;
    double maxSeconds = 8;
    bool python = true;
    bool trace = false;
    bool worker = false;
    bool peak = false;         // worker: measure the machine's peak GFLOP/s instead
    bool warmupEpoch = false;  // worker: one whole epoch of untimed steps before warm-up
    bool exact = false;   // cuDNN's deterministic algorithms, no TF32 (both sides of a GPU check)
    ll::Settings set;     // worker: settings over the preset's (--set K=V)
    std::string threads;  // "T,B": a fixed split instead of the app's
    std::string device = "cpu";  // cuda: the *-gpu presets on the GPU against Python there
    std::string interpreter = "/usr/bin/python3";
    std::string markdown;  // a file for the results table (bench/run.sh)
};

// --- the worker: one preset's steps in this process --------------------------------------------

json lossesJson(const ll::LossMap& losses) {
    json out = json::object();
    for (const auto& [k, v] : losses) out[k] = v;
    return out;
}

int runWorker(const Options& opt) {
    ll::applyCpuSettings();
    const ll::ModelPreset* preset = ll::findPreset(opt.presets.front());
    if (!preset) {
        std::fprintf(stderr, "bench_train: no preset '%s'\n", opt.presets.front().c_str());
        return 2;
    }
    // Fashion-MNIST's 10,000 test images, as the Python side: a step costs the same whichever
    // images it draws, and a worker loads them in a sixth of the time the 60,000 take.
    auto data = ll::loadDataset(ll::DatasetSpec{.split = "test"});
    if (!data) {
        std::fprintf(stderr, "bench_train: %s\n", data.error().message.c_str());
        return 1;
    }
    ll::ModelShape shape;  // 1 x 28 x 28, 10 classes: Fashion-MNIST
    const std::uint64_t seed = 1;
    torch::manual_seed(seed);
    auto presetSettings = bench::presetSettings(*preset, opt.device);
    for (const auto& [k, v] : opt.set) presetSettings[k] = v;
    auto made = ll::createModel(preset->model, shape, presetSettings);
    if (!made) {
        std::fprintf(stderr, "bench_train: %s\n", made.error().message.c_str());
        return 1;
    }
    ll::GenerativeModel& model = **made;
    if (opt.exact) {  // after the model, which turns cuDNN's algorithm search on
        at::globalContext().setBenchmarkCuDNN(false);
        at::globalContext().setDeterministicCuDNN(true);
    }
    // As the Trainer does: the cores go to the pool that suits the model.
    ll::applyThreadSettings(model.workload());
    bench::applySplit(opt.threads);

    // The Trainer's data order: a permutation per epoch from a generator seeded by (seed, epoch),
    // batches gathered with index_select.
    const std::int64_t n = data->size();
    const std::int64_t batch = std::min<std::int64_t>(preset->batchSize, n);
    const std::int64_t perEpoch = n / batch;
    torch::Tensor order;
    std::int64_t step = 0;
    ll::LossMap losses;
    ll::Workload threadsFor = model.workload();
    auto runStep = [&](const char* phase) {
        // As the Trainer does: the cores change pool when the model's work changes kind.
        if (const ll::Workload w = model.workload(); w != threadsFor) {
            ll::applyThreadSettings(w);
            bench::applySplit(opt.threads);
            threadsFor = w;
        }
        const std::int64_t k = step % perEpoch;
        if (k == 0) {
            auto gen = torch::make_generator<torch::CPUGeneratorImpl>(
                seed * 1000003 + static_cast<std::uint64_t>(step / perEpoch));
            order = torch::randperm(n, gen, torch::kInt64);
        }
        const auto idx = order.slice(0, k * batch, (k + 1) * batch);
        losses = model.trainStep(data->x.index_select(0, idx), data->y.index_select(0, idx));
        ++step;
        if (opt.trace) std::printf("%s %s\n", phase, lossesJson(losses).dump().c_str());
    };
    using Clock = std::chrono::steady_clock;
    const auto seconds = [](Clock::time_point since) {
        return std::chrono::duration<double>(Clock::now() - since).count();
    };
    if (opt.warmupEpoch)
        for (std::int64_t i = 0; i < perEpoch; ++i) runStep("warmup");
    const auto warm = Clock::now();
    for (int i = 0; i < opt.warmup && seconds(warm) < opt.maxSeconds / 4; ++i) runStep("warmup");
    const auto start = Clock::now();
    int done = 0;
    while (done < opt.steps && (done == 0 || seconds(start) < opt.maxSeconds)) {
        runStep("step");
        ++done;
    }
    const double ms = 1000.0 * seconds(start) / done;

    json settings = json::object();
    for (const auto& [k, v] : model.settings()) settings[k] = v;
    const json out = {{"impl", "c++"},
                      {"model", preset->model},
                      {"device", opt.device},
                      {"lr", preset->learningRate},
                      {"batch", batch},
                      {"settings", settings},
                      {"torch_threads", torch::get_num_threads()},
                      {"blas_threads", bench::blasThreads()},
                      {"steps", done},
                      {"ms_per_step", ms},
                      {"loss", losses.at("loss")},
                      {"parameters", model.parameterCount()},
                      {"workload", model.workload() == ll::Workload::Conv ? "conv" : "mlp"},
                      {"peak_rss_mib", bench::peakRssMib()}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
}

/// Best GFLOP/s of `op` (which does `flop` floating-point operations) over a few timed calls.
template <class Op>
double bestGflops(double flop, Op op) {
    for (int i = 0; i < 2; ++i) op();  // oneDNN builds its kernels on the first call
    double best = 0;
    for (int i = 0; i < 10; ++i) {
        const auto start = std::chrono::steady_clock::now();
        op();
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        best = std::max(best, flop / s / 1e9);
    }
    return best;
}

/// The machine's peak for the two kinds of work the zoo does, each at the split the app gives
/// it: an sgemm of 2048 x 2048 matrices (OpenBLAS) and a 3x3 convolution of 128 channels at
/// 28 x 28, batch 32 (oneDNN).
int runPeak() {
    ll::applyCpuSettings();
    torch::NoGradGuard noGrad;
    ll::applyThreadSettings(ll::Workload::Mlp);
    const std::int64_t n = 2048;
    const auto a = torch::randn({n, n}), b = torch::randn({n, n});
    const double sgemm = bestGflops(2.0 * n * n * n, [&] { (void)torch::mm(a, b); });
    const std::string sgemmSplit =
        std::to_string(torch::get_num_threads()) + "x" + std::to_string(bench::blasThreads());
    ll::applyThreadSettings(ll::Workload::Conv);
    const auto x = torch::randn({32, 128, 28, 28}), w = torch::randn({128, 128, 3, 3});
    const double conv = bestGflops(2.0 * 32 * 128 * 28 * 28 * 128 * 9,
                                   [&] { (void)torch::conv2d(x, w, {}, 1, 1); });
    const json out = {{"sgemm_gflops", sgemm},
                      {"sgemm_split", sgemmSplit},
                      {"conv_gflops", conv},
                      {"conv_split", std::to_string(torch::get_num_threads()) + "x" +
                                         std::to_string(bench::blasThreads())}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
}

// --- the orchestrator ---------------------------------------------------------------------------

struct PresetResult {
    std::string preset;
    std::string model;
    std::int64_t parameters = 0;
    std::optional<double> cppCheckLoss, pyCheckLoss;
    std::int64_t pyParameters = 0;
    std::optional<double> gflopPerStep;  // counted on the Python side
    bool conv = false;                   // Workload::Conv: measured against the conv peak
    Row cpp, plain, tuned;               // C++ at the app's split; Python plain; Python tuned
};

/// Whether a model's steps get cheaper after its first epoch, so that its warm-up must cover
/// one to time the steady state: latent-ddpm's denoiser looks its frozen encoder's means up
/// (models/encodingcache.h) for every image it has met, which is most of its steps in a run
/// (the preset's 6,000 denoiser steps are 12.8 epochs of Fashion-MNIST).
bool warmsUpAnEpoch(const std::string& model) {
    return model == "latent-ddpm";
}

std::optional<json> runCpp(const std::string& self, const std::string& preset, const Options& opt,
                           const std::string& threads, int warmup, int steps,
                           bool warmupEpoch = false) {
    std::string cmd = quote(self) + " --worker --preset " + quote(preset) + " --warmup " +
                      std::to_string(warmup) + " --steps " + std::to_string(steps) +
                      " --max-seconds " + number(opt.maxSeconds) + " --device " + opt.device;
    if (!threads.empty()) cmd += " --threads " + threads;
    if (warmupEpoch) cmd += " --warmup-epoch";
    if (opt.exact) cmd = std::string(bench::kExactGpuEnv) + " " + cmd + " --exact";
    return bench::runPythonJson(cmd, "bench_train (C++ worker)", "ms_per_step");
}

std::optional<json> runPython(const json& cpp, const Options& opt, const std::string& env,
                              const std::string& flags, bool tuned, int warmup, int steps) {
    std::string cmd =
        env + (env.empty() ? "" : " ") + quote(opt.interpreter) + " " +
        quote(LATENTLAB_BENCH_DIR "/train_reference.py") + " --model " +
        quote(cpp.at("model").get<std::string>()) + " --settings " +
        quote(cpp.at("settings").dump()) + " --lr " + number(cpp.at("lr").get<double>()) +
        " --batch " + std::to_string(cpp.at("batch").get<int>()) + " --warmup " +
        std::to_string(warmup) + " --steps " + std::to_string(steps) + " --max-seconds " +
        number(opt.maxSeconds) + flags + bench::pythonDeviceFlags(opt.device, tuned);
    if (opt.exact) cmd = std::string(bench::kExactGpuEnv) + " " + cmd + " --exact";
    return bench::runPythonJson(cmd, "bench_train (Python)", "ms_per_step");
}

PresetResult benchPreset(const std::string& self, const std::string& preset, const Options& opt) {
    PresetResult res;
    res.preset = preset;
    std::printf("%s: two steps on each side at one thread each (the same model?)\n",
                preset.c_str());
    std::fflush(stdout);
    // On a GPU both sides take the check in plain fp32 with cuDNN's deterministic algorithms:
    // TF32 and timed algorithm choices round differently from run to run, and Adam's first
    // step, lr * g / |g|, turns that noise into whole steps of the weights whose gradient is
    // near zero (the ddpm-gpu check read 9.1e-3 so, where the CPU gives 8.5e-8).
    Options checkOpt = opt;
    checkOpt.exact = opt.device != "cpu";
    auto check = runCpp(self, preset, checkOpt, "1,1", 0, 2);
    if (!check) return res;
    res.model = check->at("model").get<std::string>();
    res.parameters = check->at("parameters").get<std::int64_t>();
    res.cppCheckLoss = check->at("loss").get<double>();
    res.conv = check->value("workload", "") == "conv";
    bool python = opt.python;
    if (python) {
        // FLOPs are counted on the CPU mirror's step (reference/flops.py), not on a GPU; there
        // the check is exact on both sides (above).
        const std::string flags = opt.device == "cpu" ? " --count-flops" : "";
        if (auto py = runPython(*check, checkOpt, "", " --threads 1,1" + flags, false, 0, 2)) {
            res.pyCheckLoss = py->at("loss").get<double>();
            res.pyParameters = py->at("parameters").get<std::int64_t>();
            if (py->contains("gflop_per_step"))
                res.gflopPerStep = py->at("gflop_per_step").get<double>();
        } else {
            python = false;  // a mirror that fails once fails every round
        }
    }
    const bool epoch = warmsUpAnEpoch(res.model);
    bench::interleaveRounds(
        preset, opt.rounds, python,
        [&] { return runCpp(self, preset, opt, opt.threads, opt.warmup, opt.steps, epoch); },
        [&](const std::string& env, const std::string& flags, bool tuned) {
            return runPython(*check, opt, env, flags + (epoch ? " --warmup-epoch" : ""), tuned,
                             opt.warmup, opt.steps);
        },
        res.cpp, res.plain, res.tuned);
    return res;
}

std::string sameModel(const PresetResult& r) {
    if (!r.cppCheckLoss || !r.pyCheckLoss) return "-";
    const double diff =
        std::abs(*r.cppCheckLoss - *r.pyCheckLoss) / std::max(1e-12, std::abs(*r.cppCheckLoss));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s (%.1e)", diff < 1e-3 ? "yes" : "NO", diff);
    std::string out = buf;
    if (r.pyParameters != r.parameters) out += ", parameters differ";
    return out;
}

/// The results as a Markdown table: the same text goes to stdout and to --markdown.
/// GFLOP per step and the C++ median's GFLOP/s with its share of the peak for its workload.
std::string throughput(const PresetResult& r, const std::optional<json>& peak) {
    if (!r.gflopPerStep || r.cpp.empty()) return "- | -";
    const double gflops = *r.gflopPerStep / (r.cpp.median("ms_per_step") / 1000.0);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.3f | %.1f", *r.gflopPerStep, gflops);
    std::string out = buf;
    if (peak) {
        const double top = peak->at(r.conv ? "conv_gflops" : "sgemm_gflops").get<double>();
        std::snprintf(buf, sizeof buf, " (%.0f %% of %s)", 100.0 * gflops / top,
                      r.conv ? "conv" : "sgemm");
        out += buf;
    }
    return out;
}

/// One preset's row of the table.
std::string rowLine(const PresetResult& r, const std::optional<json>& peak) {
    char params[32];
    std::snprintf(params, sizeof params, "%.2fM", r.parameters / 1e6);
    return "| " + r.preset + " | " + params + " | " + sameModel(r) + " | " +
           r.cpp.stats("ms_per_step") + " | " + r.cpp.split() + " | " +
           r.plain.stats("ms_per_step") + " | " + r.plain.split() + " | " +
           r.tuned.stats("ms_per_step") + " | " + r.tuned.split() + " | " +
           bench::ratio(r.cpp, r.plain, "ms_per_step") + " | " +
           bench::ratio(r.cpp, r.tuned, "ms_per_step") + " | " + r.cpp.peakMib() + " / " +
           r.plain.peakMib() + " / " + r.tuned.peakMib() + " | " + throughput(r, peak) + " |\n";
}

std::string table(const std::vector<PresetResult>& results, const std::optional<json>& peak,
                  const Options& opt) {
    std::string out;
    if (peak) {
        char line[300];
        std::snprintf(line, sizeof line,
                      "Machine peak, best of 10: sgemm 2048^3 %.1f GFLOP/s (split %s), 3x3 "
                      "convolution 128 -> 128 channels at 28 x 28, batch 32: %.1f GFLOP/s (split "
                      "%s).\n\n",
                      peak->at("sgemm_gflops").get<double>(),
                      peak->at("sgemm_split").get<std::string>().c_str(),
                      peak->at("conv_gflops").get<double>(),
                      peak->at("conv_split").get<std::string>().c_str());
        out += line;
    }
    out +=
        "| preset | parameters | same model (rel. diff of step 2's loss) | C++ ms/step "
        "(min / median / max) | split | Python defaults ms/step | split | Python tuned "
        "ms/step | split | vs defaults | vs tuned | peak MiB C++ / defaults / tuned | GFLOP/step "
        "| C++ GFLOP/s (share of peak) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : results) out += rowLine(r, peak);
    char foot[1100];
    std::snprintf(foot, sizeof foot,
                  "\n%d interleaved rounds of %d warm-up + %d timed steps per row (a timed loop "
                  "stops after %g s); every row a fresh process. Ratios: Python median ms/step "
                  "over C++ median ms/step; targets >= 1.3x against the defaults, >= 1.0x "
                  "against the tuned Python. GFLOP/step: the matrix products and convolutions "
                  "of one step, forward and backward, counted on the Python mirror "
                  "(reference/flops.py); GFLOP/s from the C++ median, its share against the "
                  "peak of the model's kind of work (sgemm for MLPs, convolution for "
                  "conv nets). FLOPs are nominal (direct algorithm): oneDNN's 3x3 path may "
                  "do fewer (Winograd), so its peak can exceed the cores' FMA rate.\n",
                  opt.rounds, opt.warmup, opt.steps, opt.maxSeconds);
    return out + foot;
}

int usage(const char* argv0) {
    std::fprintf(
        stderr,
        "usage: %s [--preset NAME]... [--warmup N] [--steps N] [--rounds N]\n"
        "          [--max-seconds S] [--threads T,B] [--no-python] [--python PATH]\n"
        "          [--device cpu|cuda] [--markdown FILE] [--trace]\n"
        "          [--worker [--peak] [--warmup-epoch] [--exact] [--set KEY=VALUE]...]\n"
        "Training steps of the CPU presets (all *-cpu presets by default; with --device cuda\n"
        "all *-gpu presets, on the GPU) in LibTorch C++ against %s/train_reference.py.\n",
        argv0, LATENTLAB_BENCH_DIR);
    return 2;
}

bool parseArgs(int argc, char** argv, Options& opt) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--no-python") {
            opt.python = false;
            continue;
        }
        if (a == "--trace") {
            opt.trace = true;
            continue;
        }
        if (a == "--worker") {
            opt.worker = true;
            continue;
        }
        if (a == "--peak") {
            opt.peak = true;
            continue;
        }
        if (a == "--warmup-epoch") {
            opt.warmupEpoch = true;
            continue;
        }
        if (a == "--exact") {
            opt.exact = true;
            continue;
        }
        if (i + 1 >= argc) return false;
        const char* v = argv[++i];
        if (a == "--preset")
            opt.presets.emplace_back(v);
        else if (a == "--warmup")
            opt.warmup = std::atoi(v);
        else if (a == "--steps")
            opt.steps = std::atoi(v);
        else if (a == "--rounds")
            opt.rounds = std::atoi(v);
        else if (a == "--max-seconds")
            opt.maxSeconds = std::atof(v);
        else if (a == "--threads")
            opt.threads = v;
        else if (a == "--python")
            opt.interpreter = v;
        else if (a == "--markdown")
            opt.markdown = v;
        else if (a == "--device")
            opt.device = v;
        else if (const char* eq = std::strchr(v, '='); a == "--set" && eq)
            opt.set[std::string(v, eq)] = eq + 1;
        else
            return false;
    }
    return (opt.device == "cpu" || opt.device == "cuda") && opt.warmup >= 0 && opt.steps >= 1 &&
           opt.rounds >= 1 && opt.maxSeconds > 0 &&
           (!opt.worker || opt.peak || opt.presets.size() == 1);
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    if (!parseArgs(argc, argv, opt)) return usage(argv[0]);
    if (opt.worker) return opt.peak ? runPeak() : runWorker(opt);
    if (opt.presets.empty()) {
        const std::string suffix = opt.device == "cpu" ? "-cpu" : "-gpu";
        for (const auto& p : ll::modelPresets())
            if (p.name.size() > 4 && p.name.ends_with(suffix)) opt.presets.push_back(p.name);
    }
    for (const auto& p : opt.presets)
        if (!ll::findPreset(p)) {
            std::fprintf(stderr, "bench_train: no preset '%s'\n", p.c_str());
            return 2;
        }
    if (opt.trace) {  // one preset's steps, printed: checking a mirror by hand
        opt.worker = true;
        opt.presets.resize(1);
        return runWorker(opt);
    }
    const std::string self = bench::selfPath();
    std::optional<json> peak;  // the CPU's: a GPU's step is not set against it
    if (opt.device == "cpu") {
        std::printf("the machine's peak: sgemm and a 3x3 convolution\n");
        peak = bench::runPythonJson(bench::quote(self) + " --worker --peak", "bench_train (peak)",
                                    "sgemm_gflops");
    }
    std::vector<PresetResult> results;
    for (const auto& p : opt.presets) {
        results.push_back(benchPreset(self, p, opt));
        // At once, so that a run stopped part-way keeps the rows it finished.
        std::printf("%s", rowLine(results.back(), peak).c_str());
        std::fflush(stdout);
    }
    const std::string text = table(results, peak, opt);
    std::printf("\n%s", text.c_str());
    if (!opt.markdown.empty()) std::ofstream(opt.markdown) << text;
    return 0;
}
