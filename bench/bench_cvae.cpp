// bench_cvae: CVAE training steps per second in LibTorch C++ against the same model and loop in
// Python PyTorch (bench/cvae_reference.py, run by Debian's /usr/bin/python3 on the same
// library). A plain timed loop rather than Google Benchmark: the figures we want are per-step
// times of a long-lived model, side by side with the Python runs this program launches.

#include <dlfcn.h>
#include <sys/wait.h>

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
#include "pythonrun.h"

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
    // Rounds of every row, interleaved; each row reports its fastest round. The host's speed
    // drifts by a fifth over minutes, and noise only ever adds time.
    int rounds = 3;
    // A split that makes the pools fight can run 20x slower: stop its timed loop after this long
    // (and its warm-up after a quarter of it) so that a full run stays within a few minutes.
    double maxSeconds = 20;
    bool python = true;
    std::string interpreter = "/usr/bin/python3";
};

/// One timed run of a row.
struct Timing {
    double msPerStep = 0;
    int steps = 0;
    double loss = 0;  // the last timed step's: a check that both sides train the same model
    int torchThreads = 0;
    int blasThreads = 0;
};

/// A row of the table: its runs, one per round.
struct Series {
    std::string label;
    std::vector<Timing> runs;
    std::string note;

    const Timing& best() const {
        return *std::min_element(runs.begin(), runs.end(), [](const Timing& a, const Timing& b) {
            return a.msPerStep < b.msPerStep;
        });
    }
    double median() const {
        std::vector<double> ms;
        for (const auto& r : runs) ms.push_back(r.msPerStep);
        std::sort(ms.begin(), ms.end());
        const std::size_t n = ms.size();
        return n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    }
};

using SetThreads = void (*)(int);
using GetThreads = int (*)();

// OpenBLAS is reached through libblas.so.3 (Debian's alternatives), so look it up at run time
// as core/common/cpu.cpp does; null where the BLAS is not OpenBLAS.
SetThreads openblasSet() {
    return reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
}
int blasThreads() {
    auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    return get ? get() : 1;
}

// The trainer's loop (core/train/trainer.cpp): a permutation per epoch, consecutive slices of
// it gathered with index_select, one trainStep per batch. Returns the mean time of a timed step.
Timing timeSteps(ll::GenerativeModel& model, const ll::Dataset& data, const Options& opt) {
    const std::int64_t n = data.size();
    const std::int64_t batch = std::min<std::int64_t>(opt.batch, n);
    const std::int64_t perEpoch = n / batch;
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(1);
    torch::Tensor order;
    std::int64_t step = 0;
    double loss = 0;
    auto runStep = [&] {
        const std::int64_t k = step % perEpoch;
        if (k == 0) order = torch::randperm(n, gen, torch::kInt64);
        const auto idx = order.slice(0, k * batch, (k + 1) * batch);
        loss = model.trainStep(data.x.index_select(0, idx), data.y.index_select(0, idx)).at("loss");
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
    return {1000.0 * seconds(start) / done, done, loss, torch::get_num_threads(), blasThreads()};
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

std::string formatNumber(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

// Runs the Python reference and reads its JSON line; nullopt (with a message) if it fails.
std::optional<nlohmann::json> runPython(const Options& opt, bool tuned) {
    std::string cmd = tuned ? std::string(kMallocEnv) + " " : std::string();
    cmd += "'" + opt.interpreter + "' '" LATENTLAB_BENCH_DIR "/cvae_reference.py' --warmup " +
           std::to_string(opt.warmup) + " --steps " + std::to_string(opt.steps) + " --batch " +
           std::to_string(opt.batch) + " --max-seconds " + formatNumber(opt.maxSeconds) +
           (tuned ? " --tuned" : "");
    return bench::runPythonJson(cmd, "bench_cvae", "ms_per_step");
}

Timing pythonTiming(const nlohmann::json& j) {
    return {j.at("ms_per_step").get<double>(), j.at("steps").get<int>(), j.at("loss").get<double>(),
            j.at("torch_threads").get<int>(), j.at("blas_threads").get<int>()};
}

void printSeries(const Series& s) {
    const Timing& b = s.best();
    std::printf("  %-26s %5d %5d %6d %9.2f %9.2f %9.1f %8.2f%s%s\n", s.label.c_str(),
                b.torchThreads, b.blasThreads, b.steps, b.msPerStep, s.median(),
                1000.0 / b.msPerStep, b.loss, s.note.empty() ? "" : "  ", s.note.c_str());
}

void printRatio(const char* what, const Series& cpp, const Series& py, double target) {
    if (py.runs.empty()) return;
    const double ratio = py.best().msPerStep / cpp.best().msPerStep;
    std::printf("  %-30s %5.2fx  (medians %5.2fx)  target >= %.2fx: %s\n", what, ratio,
                py.median() / cpp.median(), target, ratio >= target ? "met" : "MISSED");
}

int usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--warmup N] [--steps N] [--rounds N] [--batch N] [--max-seconds S]\n"
                 "          [--no-python] [--python PATH]\n"
                 "CVAE training steps/s in LibTorch C++ against %s/cvae_reference.py.\n",
                 argv0, LATENTLAB_BENCH_DIR);
    return 2;
}

// Returns false on an unknown argument or a missing or bad value.
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
        else if (a == "--rounds")
            opt.rounds = std::atoi(v);
        else if (a == "--batch")
            opt.batch = std::atoi(v);
        else if (a == "--max-seconds")
            opt.maxSeconds = std::atof(v);
        else if (a == "--python")
            opt.interpreter = v;
        else
            return false;
    }
    return opt.warmup >= 0 && opt.steps >= 1 && opt.rounds >= 1 && opt.batch >= 1 &&
           opt.maxSeconds > 0;
}

// One round of the Python reference: library defaults, then design.md's CPU settings.
void runPythonRound(const Options& opt, int round, Series& plain, Series& tuned) {
    if (auto j = runPython(opt, false)) plain.runs.push_back(pythonTiming(*j));
    auto j = runPython(opt, true);
    if (!j) return;
    tuned.runs.push_back(pythonTiming(*j));
    std::string probes;
    for (const auto& p : j->value("probes", nlohmann::json::array())) {
        char cell[64];
        std::snprintf(cell, sizeof cell, "  %dx%d %.2f", p.at("torch_threads").get<int>(),
                      p.at("blas_threads").get<int>(), p.at("ms_per_step").get<double>());
        probes += cell;
    }
    std::printf("  round %d, Python split probes (torch x BLAS threads, ms/step):%s\n", round,
                probes.c_str());
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
        "CVAE 784+10 -> 512 -> 256 -> 2x16 | 16+10 -> 256+10 -> 512+10 -> 784, Adam, batch %d, "
        "%s (%lld images)\n",
        opt.batch, data->name.c_str(), static_cast<long long>(data->size()));
    std::printf("%d rounds of %d warm-up + %d timed steps per row (at most %g s each)\n",
                opt.rounds, opt.warmup, opt.steps, opt.maxSeconds);
    std::printf("app start-up: %s\n", ll::cpuSummary().c_str());
    if (!openblasSet()) std::printf("(BLAS is not OpenBLAS: only the torch thread count varies)\n");

    // Every split of the cores between LibTorch's OpenMP pool and OpenBLAS's pthreads, and the
    // app's own split if it is none of them (a core count other than 1 or all of them).
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::vector<int> counts = {1};
    if (cores > 1) counts.push_back(cores);
    const std::vector<int> blasCounts = openblasSet() ? counts : std::vector<int>{appBlas};
    std::vector<std::pair<int, int>> splits;
    for (int t : counts)
        for (int b : blasCounts) splits.emplace_back(t, b);
    const auto appSplit = std::make_pair(appTorch, appBlas);
    if (std::find(splits.begin(), splits.end(), appSplit) == splits.end())
        splits.push_back(appSplit);

    std::vector<Series> cpp(splits.size(), Series{"C++ LibTorch", {}, ""});
    Series pyPlain{"Python, library defaults", {}, ""};
    Series pyTuned{"Python, CPU settings", {}, "malloc env, fastest split"};
    for (int round = 1; round <= opt.rounds; ++round) {
        std::printf("round %d of %d...\n", round, opt.rounds);
        std::fflush(stdout);
        // Python first: its runs must not share the cores with this process's thread pools.
        if (opt.python) {
            runPythonRound(opt, round, pyPlain, pyTuned);
            // It will not start working in the next round: keep the C++ rows.
            if (pyPlain.runs.empty() && pyTuned.runs.empty()) opt.python = false;
        }
        for (std::size_t i = 0; i < splits.size(); ++i) {
            torch::set_num_threads(splits[i].first);
            if (auto set = openblasSet()) set(splits[i].second);
            cpp[i].runs.push_back(timeCpp(*data, opt));
        }
    }
    ll::applyThreadSettings(ll::Workload::Mlp);

    const auto app =
        cpp.begin() + (std::find(splits.begin(), splits.end(), appSplit) - splits.begin());
    app->note = "app (Workload::Mlp)";
    const auto fastest = std::min_element(
        cpp.begin(), cpp.end(),
        [](const Series& a, const Series& b) { return a.best().msPerStep < b.best().msPerStep; });
    fastest->note += fastest->note.empty() ? "fastest" : ", fastest";

    std::printf("\n  %-26s %5s %5s %6s %9s %9s %9s %8s\n", "", "torch", "BLAS", "steps", "ms/step",
                "median", "steps/s", "loss");
    for (const auto& s : cpp) printSeries(s);
    if (!pyPlain.runs.empty()) printSeries(pyPlain);
    if (!pyTuned.runs.empty()) printSeries(pyTuned);
    std::printf("  (ms/step and steps/s: the fastest of %d rounds; median: of the rounds)\n",
                opt.rounds);

    if (!pyPlain.runs.empty() || !pyTuned.runs.empty()) {
        std::printf("\nC++ at the app's split against Python (Python ms/step / C++ ms/step):\n");
        printRatio("vs Python, library defaults", *app, pyPlain, 1.3);
        printRatio("vs Python, CPU settings", *app, pyTuned, 1.0);
    }
    if (fastest->best().msPerStep < app->best().msPerStep * 0.97)
        std::printf(
            "\nnote: split %d x %d is %.0f%% faster than the app's %d x %d "
            "(core/common/cpu.cpp)\n",
            fastest->best().torchThreads, fastest->best().blasThreads,
            100.0 * (app->best().msPerStep / fastest->best().msPerStep - 1), appTorch, appBlas);
    return 0;
}
