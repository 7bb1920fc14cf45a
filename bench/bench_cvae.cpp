// bench_cvae: CVAE training steps per second in LibTorch C++ against the same model and loop in
// Python PyTorch (bench/cvae_reference.py, run by Debian's /usr/bin/python3 on the same
// library). A plain timed loop rather than Google Benchmark: the figures we want are per-step
// times of a long-lived model, side by side with the Python runs this program launches.

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/cpu.h"
#include "data/loader.h"
#include "models/model.h"

#ifndef LATENTLAB_BENCH_DIR
#define LATENTLAB_BENCH_DIR "bench"
#endif

namespace {

// Allocator settings the tuned Python run gets through glibc's environment, the same values
// ll::applyAllocatorSettings() sets with mallopt (design.md, "Determinism and devices").
constexpr const char* kMallocEnv =
    "MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_MMAP_MAX_=0";

struct Options {
    int warmup = 30;
    int steps = 200;
    int batch = 128;
    // A split that makes the pools fight can run 20x slower: stop its timed loop after this long
    // (and its warm-up after a quarter of it) so that a full run stays within a few minutes.
    double maxSeconds = 20;
    bool python = true;
    std::string interpreter = "/usr/bin/python3";
};

struct Row {
    std::string label;
    int torchThreads = 0;
    int blasThreads = 0;
    double msPerStep = 0;
    int steps = 0;
    std::string note;
};

struct Timing {
    double msPerStep = 0;
    int steps = 0;
};

using SetThreads = void (*)(int);
using GetThreads = int (*)();

// OpenBLAS is reached through libblas.so.3 (Debian's alternatives), so look it up at run time
// as core/common/cpu.cpp does; null where the BLAS is not OpenBLAS.
SetThreads openblasSet() {
    return reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
}
GetThreads openblasGet() {
    return reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
}
int blasThreads() {
    auto get = openblasGet();
    return get ? get() : 1;
}

// The trainer's loop (core/train/trainer.cpp): a permutation per epoch, consecutive slices of
// it gathered with index_select, one trainStep per batch. Returns the mean time of a timed step.
Timing timeSteps(ll::GenerativeModel& model, const ll::Dataset& data, const Options& opt) {
    const std::int64_t n = data.size();
    const std::int64_t perEpoch = n / opt.batch;
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(1);
    torch::Tensor order;
    std::int64_t step = 0;
    auto runStep = [&] {
        const std::int64_t k = step % perEpoch;
        if (k == 0) order = torch::randperm(n, gen, torch::kInt64);
        const auto idx = order.slice(0, k * opt.batch, (k + 1) * opt.batch);
        model.trainStep(data.x.index_select(0, idx), data.y.index_select(0, idx));
        ++step;
    };
    using Clock = std::chrono::steady_clock;
    const auto seconds = [](Clock::time_point since) {
        return std::chrono::duration<double>(Clock::now() - since).count();
    };
    const auto warm = Clock::now();
    for (int i = 0; i < opt.warmup && seconds(warm) < opt.maxSeconds / 4; ++i) runStep();
    const auto start = Clock::now();
    int done = 0;
    while (done < opt.steps && (done == 0 || seconds(start) < opt.maxSeconds)) {
        runStep();
        ++done;
    }
    return {1000.0 * seconds(start) / done, done};
}

// A fresh model per measurement, seeded as the Python reference seeds its own.
Timing timeCpp(const ll::Dataset& data, const Options& opt) {
    torch::manual_seed(1);
    ll::ModelShape shape;  // 1 x 28 x 28, 10 classes: Fashion-MNIST
    auto model =
        ll::createModel("cvae", shape, {{"latent", "16"}, {"hidden", "512,256"}, {"lr", "0.001"}});
    if (!model) throw std::runtime_error(model.error().message);
    return timeSteps(**model, data, opt);
}

// Runs the Python reference and reads its JSON line; nullopt (with a message) if it fails.
std::optional<nlohmann::json> runPython(const Options& opt, bool tuned) {
    std::string cmd = tuned ? std::string(kMallocEnv) + " " : std::string();
    cmd += "'" + opt.interpreter + "' '" LATENTLAB_BENCH_DIR "/cvae_reference.py' --warmup " +
           std::to_string(opt.warmup) + " --steps " + std::to_string(opt.steps) + " --batch " +
           std::to_string(opt.batch) + " --max-seconds " + std::to_string(opt.maxSeconds) +
           (tuned ? " --tuned" : "");
    std::fflush(stdout);
    FILE* pipe = popen(cmd.c_str(), "r");
    if (!pipe) {
        std::fprintf(stderr, "bench_cvae: cannot start: %s\n", cmd.c_str());
        return std::nullopt;
    }
    std::string out;
    char buf[4096];
    while (std::size_t got = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, got);
    const int status = pclose(pipe);
    // The JSON line is the last non-empty line of the output.
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    const std::string last =
        out.substr(out.find_last_of('\n') == std::string::npos ? 0 : out.find_last_of('\n') + 1);
    auto json = nlohmann::json::parse(last, nullptr, false);
    if (status != 0 || json.is_discarded() || !json.contains("ms_per_step")) {
        std::fprintf(stderr, "bench_cvae: the Python reference failed (status %d): %s\n%s\n",
                     status, cmd.c_str(), out.c_str());
        return std::nullopt;
    }
    return json;
}

Row makeRow(std::string label, int torchThreads, int blasThreads, Timing t, std::string note) {
    return Row{std::move(label), torchThreads, blasThreads, t.msPerStep, t.steps, std::move(note)};
}

Row pythonRow(const nlohmann::json& j, std::string label, std::string note) {
    return makeRow(std::move(label), j.at("torch_threads").get<int>(),
                   j.at("blas_threads").get<int>(),
                   {j.at("ms_per_step").get<double>(), j.at("steps").get<int>()}, std::move(note));
}

void printRow(const Row& r) {
    std::printf("  %-26s %5d %5d %6d %9.2f %9.1f  %s\n", r.label.c_str(), r.torchThreads,
                r.blasThreads, r.steps, r.msPerStep, 1000.0 / r.msPerStep, r.note.c_str());
}

void printRatio(const char* what, const Row& cpp, const std::optional<Row>& py, double target) {
    if (!py) return;
    const double ratio = py->msPerStep / cpp.msPerStep;
    std::printf("  %-30s %5.2fx   (target >= %.2fx: %s)\n", what, ratio, target,
                ratio >= target ? "met" : "MISSED");
}

int usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--warmup N] [--steps N] [--batch N] [--max-seconds S] [--no-python]\n"
                 "          [--python PATH]\n"
                 "CVAE training steps/s in LibTorch C++ against %s/cvae_reference.py.\n",
                 argv0, LATENTLAB_BENCH_DIR);
    return 2;
}

// Returns false on an unknown argument or a missing value.
bool parseArgs(int argc, char** argv, Options& opt) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--no-python") {
            opt.python = false;
            continue;
        }
        if (i + 1 >= argc) return false;
        const char* v = argv[++i];
        if (a == "--warmup")
            opt.warmup = std::atoi(v);
        else if (a == "--steps")
            opt.steps = std::atoi(v);
        else if (a == "--batch")
            opt.batch = std::atoi(v);
        else if (a == "--max-seconds")
            opt.maxSeconds = std::atof(v);
        else if (a == "--python")
            opt.interpreter = v;
        else
            return false;
    }
    return opt.warmup >= 0 && opt.steps >= 1 && opt.batch >= 1 && opt.maxSeconds > 0;
}

// The Python reference, with library defaults and with design.md's CPU settings.
void runPythonRows(const Options& opt, std::optional<Row>& plain, std::optional<Row>& tuned) {
    std::printf("running the Python reference (library defaults, then CPU settings)...\n");
    if (auto j = runPython(opt, false)) plain = pythonRow(*j, "Python, library defaults", "");
    auto j = runPython(opt, true);
    if (!j) return;
    tuned = pythonRow(*j, "Python, CPU settings", "malloc env, fastest split");
    std::string probes = "  Python split probes, torch x BLAS threads (ms/step):";
    for (const auto& p : j->value("probes", nlohmann::json::array())) {
        char cell[64];
        std::snprintf(cell, sizeof cell, " %dx%d %.2f", p.at("torch_threads").get<int>(),
                      p.at("blas_threads").get<int>(), p.at("ms_per_step").get<double>());
        probes += cell;
    }
    std::printf("%s\n", probes.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    // What the app does first, before any tensor exists.
    ll::applyCpuSettings();
    const int appTorch = torch::get_num_threads();
    const int appBlas = blasThreads();

    Options opt;
    if (!parseArgs(argc, argv, opt)) return usage(argv[0]);

    auto data = ll::loadDataset(ll::DatasetSpec{});
    if (!data) {
        std::fprintf(stderr, "bench_cvae: %s\n", data.error().message.c_str());
        return 1;
    }
    std::printf(
        "CVAE 784+10 -> 512 -> 256 -> 2x16 | 16+10 -> 256 -> 512 -> 784, Adam, batch %d, "
        "%s (%lld images)\n",
        opt.batch, data->name.c_str(), static_cast<long long>(data->size()));
    std::printf("%d warm-up + %d timed steps per row (at most %.0f s); app start-up: %s\n",
                opt.warmup, opt.steps, opt.maxSeconds, ll::cpuSummary().c_str());
    if (!openblasSet()) std::printf("(BLAS is not OpenBLAS: only the torch thread count varies)\n");

    // Python first: its runs must not share the cores with this process's idle thread pools.
    std::optional<Row> pyPlain, pyTuned;
    if (opt.python) runPythonRows(opt, pyPlain, pyTuned);

    // Every split of the cores between LibTorch's OpenMP pool and OpenBLAS's pthreads.
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::vector<int> counts = {1};
    if (cores > 1) counts.push_back(cores);
    const std::vector<int> blasCounts = openblasSet() ? counts : std::vector<int>{appBlas};
    std::vector<Row> cpp;
    for (int t : counts) {
        for (int b : blasCounts) {
            torch::set_num_threads(t);
            if (auto set = openblasSet()) set(b);
            cpp.push_back(makeRow("C++ LibTorch", t, b, timeCpp(*data, opt), ""));
        }
    }
    // The app's own split, timed again unless it is one of the above (a core count other than
    // 1 or all of them).
    ll::applyThreadSettings(ll::Workload::Mlp);
    auto app = std::find_if(cpp.begin(), cpp.end(), [&](const Row& r) {
        return r.torchThreads == appTorch && r.blasThreads == appBlas;
    });
    if (app == cpp.end()) {
        cpp.push_back(makeRow("C++ LibTorch", appTorch, appBlas, timeCpp(*data, opt), ""));
        app = cpp.end() - 1;
    }
    app->note = "app (Workload::Mlp)";
    auto best = std::min_element(cpp.begin(), cpp.end(), [](const Row& a, const Row& b) {
        return a.msPerStep < b.msPerStep;
    });
    best->note += best->note.empty() ? "fastest" : ", fastest";

    std::printf("\n  %-26s %5s %5s %6s %9s %9s\n", "", "torch", "BLAS", "steps", "ms/step",
                "steps/s");
    for (const auto& r : cpp) printRow(r);
    if (pyPlain) printRow(*pyPlain);
    if (pyTuned) printRow(*pyTuned);

    if (pyPlain || pyTuned) {
        std::printf("\nC++ at the app's split against Python (Python ms/step / C++ ms/step):\n");
        printRatio("vs Python, library defaults", *app, pyPlain, 1.3);
        printRatio("vs Python, CPU settings", *app, pyTuned, 1.0);
    }
    if (best->msPerStep < app->msPerStep * 0.97)
        std::printf(
            "\nnote: split %d x %d is %.0f%% faster than the app's %d x %d "
            "(core/common/cpu.cpp)\n",
            best->torchThreads, best->blasThreads, 100.0 * (app->msPerStep / best->msPerStep - 1),
            appTorch, appBlas);
    return 0;
}
