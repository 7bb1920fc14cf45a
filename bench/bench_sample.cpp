// bench_sample: images per second of every sampling family in LibTorch C++ against the same
// model and sampler in Python PyTorch (bench/sample_reference.py and the mirrors in
// bench/reference/), with the library defaults and with the tuned settings. Prints a table and
// ratios; asserts nothing.
//
// As in bench_train, every row is a process of its own, run one after another, the rounds
// interleaved. A worker builds the row's model from seed 1 (a guiding classifier from seed 2),
// trains the steps a row asks for (pixel ddpm one, so that its zero-initialised output layer
// predicts something; latent-ddpm its VAE's step and one denoiser step, for its latent scale),
// draws once untimed, then times draws of the row's count until a second has passed. Both sides
// draw the same images from the same weights: the first draw's checksum, compared at one thread,
// says they run the same sampler.

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
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

/// One sampling workload: a preset's model and a request.
struct SampleRow {
    std::string name;
    std::string preset;
    std::int64_t count = 100;
    double guidance = 0;
    int steps = 0;
    std::string sampler = "ddim";
    std::string classifier;  // a noisy classifier's preset, for classifier guidance
    double classifierScale = 0;
    int trainSteps = 0;  // steps before drawing (latent-ddpm: its VAE's and one denoiser step)
    std::int64_t gpuCount = 0;  // --device cuda: images per draw for the row's *-gpu preset
};

const std::vector<SampleRow>& sampleRows() {
    static const std::vector<SampleRow> rows = {
        {.name = "vae", .preset = "vae-cpu", .count = 1000, .gpuCount = 10000},
        {.name = "cvae", .preset = "cvae-cpu", .count = 1000, .gpuCount = 10000},
        {.name = "dcgan", .preset = "dcgan-cpu", .count = 500, .gpuCount = 5000},
        {.name = "cgan", .preset = "cgan-cpu", .count = 500, .gpuCount = 5000},
        {.name = "latent-ddpm-cfg",
         .preset = "latent-ddpm-cpu",
         .count = 500,
         .guidance = 3,
         .steps = 50,
         .trainSteps = 2,
         .gpuCount = 2000},
        {.name = "ddpm-ddim",
         .preset = "ddpm-cpu",
         .count = 16,
         .steps = 50,
         .trainSteps = 1,
         .gpuCount = 256},
        {.name = "ddpm-ddim-cfg",
         .preset = "ddpm-cpu",
         .count = 16,
         .guidance = 3,
         .steps = 50,
         .trainSteps = 1,
         .gpuCount = 256},
        {.name = "ddpm-ddim-classifier",
         .preset = "ddpm-cpu",
         .count = 16,
         .steps = 50,
         .classifier = "noisy-classifier-cpu",
         .classifierScale = 1,
         .trainSteps = 1,
         .gpuCount = 256},
        {.name = "ddpm-ancestral",
         .preset = "ddpm-cpu",
         .count = 16,
         .steps = 50,
         .sampler = "ddpm",
         .trainSteps = 1,
         .gpuCount = 256},
    };
    return rows;
}

json rowJson(const SampleRow& r) {
    return {{"name", r.name},
            {"preset", r.preset},
            {"count", r.count},
            {"guidance", r.guidance},
            {"steps", r.steps},
            {"sampler", r.sampler},
            {"classifier", r.classifier},
            {"classifier_scale", r.classifierScale},
            {"train_steps", r.trainSteps}};
}

struct Options {
    std::vector<std::string> rows;
    int rounds = 3;
    double minSeconds = 1;
    bool python = true;
    bool worker = false;
    bool trace = false;
    std::string threads;
    std::string interpreter = "/usr/bin/python3";
    std::string markdown;
    std::string device = "cpu";
};

/// A row as it runs on `device`: on a GPU its *-gpu presets and its GPU count.
SampleRow onDevice(SampleRow row, const std::string& device) {
    if (device == "cpu") return row;
    const auto gpu = [](std::string preset) {
        if (preset.ends_with("-cpu")) preset.replace(preset.size() - 4, 4, "-gpu");
        return preset;
    };
    row.preset = gpu(row.preset);
    if (!row.classifier.empty()) row.classifier = gpu(row.classifier);
    row.count = row.gpuCount;
    return row;
}

std::unique_ptr<ll::GenerativeModel> build(const std::string& presetName, std::uint64_t seed,
                                           const std::string& device, json& settingsOut) {
    const ll::ModelPreset* preset = ll::findPreset(presetName);
    if (!preset) throw std::runtime_error("no preset '" + presetName + "'");
    torch::manual_seed(seed);
    auto made =
        ll::createModel(preset->model, ll::ModelShape{}, bench::presetSettings(*preset, device));
    if (!made) throw std::runtime_error(made.error().message);
    settingsOut = {{"model", preset->model},
                   {"lr", preset->learningRate},
                   {"batch", preset->batchSize},
                   {"settings", json::object()}};
    for (const auto& [k, v] : (*made)->settings()) settingsOut["settings"][k] = v;
    return std::move(*made);
}

int runWorker(const SampleRow& row, const Options& opt) {
    ll::applyCpuSettings();
    json modelJson, classifierJson;
    auto model = build(row.preset, 1, opt.device, modelJson);
    std::unique_ptr<ll::GenerativeModel> classifier;
    if (!row.classifier.empty()) classifier = build(row.classifier, 2, opt.device, classifierJson);
    if (row.trainSteps > 0) {
        // The trainer's first batches of seed 1 (of the 10,000 test images, as the Python side
        // loads them): enough for latent-ddpm's scale.
        auto data = ll::loadDataset(ll::DatasetSpec{.split = "test"});
        if (!data) throw std::runtime_error(data.error().message);
        auto gen = torch::make_generator<torch::CPUGeneratorImpl>(1 * 1000003);
        const auto order = torch::randperm(data->size(), gen, torch::kInt64);
        const std::int64_t batch = modelJson.at("batch").get<std::int64_t>();
        for (int k = 0; k < row.trainSteps; ++k) {
            const auto idx = order.slice(0, k * batch, (k + 1) * batch);
            model->trainStep(data->x.index_select(0, idx), data->y.index_select(0, idx));
        }
    }
    // As the window's sampler does: the cores go to the pool that suits the model.
    ll::applyThreadSettings(model->workload());
    bench::applySplit(opt.threads);
    ll::SampleRequest request;
    request.seed = 7;
    request.guidance = row.guidance;
    request.steps = row.steps;
    request.sampler = row.sampler == "ddpm" ? ll::Sampler::Ddpm : ll::Sampler::Ddim;
    request.classifier = classifier.get();
    request.classifierScale = row.classifierScale;

    // Warm-up: a draw of the row's count (diffusion with two steps), so that the allocator, the
    // thread pools and oneDNN's kernels for this batch size are ready before the clock starts.
    request.count = row.count;
    if (row.steps > 0) request.steps = std::min(row.steps, 2);
    model->sample(request);
    request.steps = row.steps;
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    double seconds = 0;
    int draws = 0;
    torch::Tensor first;
    while (draws == 0 || seconds < opt.minSeconds) {
        auto images = model->sample(request);
        if (draws == 0) first = images.to(torch::kFloat64);
        ++draws;
        seconds = std::chrono::duration<double>(Clock::now() - start).count();
    }
    const auto flat = first.flatten();
    json firstValues = json::array();
    for (int i = 0; i < 4 && i < flat.numel(); ++i) firstValues.push_back(flat[i].item<double>());
    json out = {{"impl", "c++"},
                {"row", rowJson(row)},
                {"model", modelJson},
                {"torch_threads", torch::get_num_threads()},
                {"blas_threads", bench::blasThreads()},
                {"draws", draws},
                {"images_per_s", row.count * draws / seconds},
                {"checksum", first.sum().item<double>()},
                {"first", firstValues},
                {"peak_rss_mib", bench::peakRssMib()}};
    if (classifier) out["classifier"] = classifierJson;
    std::printf("%s\n", out.dump().c_str());
    return 0;
}

struct RowResult {
    SampleRow row;
    std::optional<double> cppChecksum, pyChecksum;
    Row cpp, plain, tuned;
};

std::optional<json> runCpp(const std::string& self, const SampleRow& row, const Options& opt,
                           const std::string& threads, double minSeconds) {
    std::string cmd = quote(self) + " --worker --row " + quote(row.name) + " --min-seconds " +
                      number(minSeconds) + " --device " + opt.device;
    if (!threads.empty()) cmd += " --threads " + threads;
    return bench::runPythonJson(cmd, "bench_sample (C++ worker)", "images_per_s");
}

std::optional<json> runPython(const json& cpp, const Options& opt, const std::string& env,
                              const std::string& flags, bool tuned, double minSeconds) {
    json spec = cpp;
    spec.erase("images_per_s");
    const std::string cmd = env + (env.empty() ? "" : " ") + quote(opt.interpreter) + " " +
                            quote(LATENTLAB_BENCH_DIR "/sample_reference.py") + " --spec " +
                            quote(spec.dump()) + " --min-seconds " + number(minSeconds) + flags +
                            bench::pythonDeviceFlags(opt.device, tuned);
    return bench::runPythonJson(cmd, "bench_sample (Python)", "images_per_s");
}

RowResult benchRow(const std::string& self, const SampleRow& row, const Options& opt) {
    RowResult res{row, {}, {}, {}, {}, {}};
    std::printf("%s: one draw on each side at one thread each (the same sampler?)\n",
                row.name.c_str());
    std::fflush(stdout);
    auto check = runCpp(self, row, opt, "1,1", 0);
    if (!check) return res;
    res.cppChecksum = check->at("checksum").get<double>();
    bool python = opt.python;
    if (python) {
        if (auto py = runPython(*check, opt, "", " --threads 1,1", true, 0))
            res.pyChecksum = py->at("checksum").get<double>();
        else
            python = false;
    }
    bench::interleaveRounds(
        row.name, opt.rounds, python,
        [&] { return runCpp(self, row, opt, opt.threads, opt.minSeconds); },
        [&](const std::string& env, const std::string& flags, bool tuned) {
            return runPython(*check, opt, env, flags, tuned, opt.minSeconds);
        },
        res.cpp, res.plain, res.tuned);
    return res;
}

std::string sameSampler(const RowResult& r) {
    if (!r.cppChecksum || !r.pyChecksum) return "-";
    const double diff =
        std::abs(*r.cppChecksum - *r.pyChecksum) / std::max(1e-12, std::abs(*r.cppChecksum));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s (%.1e)", diff < 1e-3 ? "yes" : "NO", diff);
    return buf;
}

std::string describe(const SampleRow& r) {
    std::string d = r.preset + ", " + std::to_string(r.count) + " images";
    if (r.steps > 0) d += ", " + r.sampler + " " + std::to_string(r.steps) + " steps";
    if (r.guidance != 0) d += ", guidance " + number(r.guidance);
    if (!r.classifier.empty()) d += ", classifier scale " + number(r.classifierScale);
    return d;
}

/// One row of the table. Higher is better here: the ratio is C++ images/s over Python's.
std::string rowLine(const RowResult& r) {
    return "| " + r.row.name + " | " + describe(r.row) + " | " + sameSampler(r) + " | " +
           r.cpp.stats("images_per_s") + " | " + r.cpp.split() + " | " +
           r.plain.stats("images_per_s") + " | " + r.plain.split() + " | " +
           r.tuned.stats("images_per_s") + " | " + r.tuned.split() + " | " +
           bench::ratio(r.plain, r.cpp, "images_per_s") + " | " +
           bench::ratio(r.tuned, r.cpp, "images_per_s") + " | " + r.cpp.peakMib() + " / " +
           r.plain.peakMib() + " / " + r.tuned.peakMib() + " |\n";
}

std::string table(const std::vector<RowResult>& results, const Options& opt) {
    std::string out =
        "| row | what | same images (rel. diff of the checksum) | C++ images/s (min / median / "
        "max) | split | Python defaults images/s | split | Python tuned images/s | split | vs "
        "defaults | vs tuned | peak MiB C++ / defaults / tuned |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : results) out += rowLine(r);
    char foot[400];
    std::snprintf(foot, sizeof foot,
                  "\n%d interleaved rounds per row, each a fresh process: an untimed draw, then "
                  "draws of the row's count for at least %g s. Ratios: C++ "
                  "median images/s over Python's; targets >= 1.3x against the defaults, >= 1.0x "
                  "against the tuned Python.\n",
                  opt.rounds, opt.minSeconds);
    return out + foot;
}

int usage(const char* argv0) {
    std::string names;
    for (const auto& r : sampleRows()) names += " " + r.name;
    std::fprintf(stderr,
                 "usage: %s [--row NAME]... [--rounds N] [--min-seconds S] [--threads T,B]\n"
                 "          [--no-python] [--python PATH] [--markdown FILE] [--trace]\n"
                 "          [--device cpu|cuda]\n"
                 "Sampling images/s in LibTorch C++ against %s/sample_reference.py (with\n"
                 "--device cuda the rows' *-gpu presets, more images per draw, on the GPU).\n"
                 "rows:%s\n",
                 argv0, LATENTLAB_BENCH_DIR, names.c_str());
    return 2;
}

bool parseArgs(int argc, char** argv, Options& opt) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--no-python" || a == "--worker" || a == "--trace") {
            (a == "--no-python" ? opt.python
             : a == "--worker"  ? opt.worker
                                : opt.trace) = a != "--no-python";
            continue;
        }
        if (i + 1 >= argc) return false;
        const char* v = argv[++i];
        if (a == "--row")
            opt.rows.emplace_back(v);
        else if (a == "--rounds")
            opt.rounds = std::atoi(v);
        else if (a == "--min-seconds")
            opt.minSeconds = std::atof(v);
        else if (a == "--threads")
            opt.threads = v;
        else if (a == "--python")
            opt.interpreter = v;
        else if (a == "--markdown")
            opt.markdown = v;
        else if (a == "--device")
            opt.device = v;
        else
            return false;
    }
    return (opt.device == "cpu" || opt.device == "cuda") && opt.rounds >= 1 && opt.minSeconds >= 0;
}

const SampleRow* findRow(const std::string& name) {
    for (const auto& r : sampleRows())
        if (r.name == name) return &r;
    return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    if (!parseArgs(argc, argv, opt)) return usage(argv[0]);
    if (opt.rows.empty())
        for (const auto& r : sampleRows()) opt.rows.push_back(r.name);
    std::vector<SampleRow> rows;
    for (const auto& name : opt.rows) {
        const SampleRow* row = findRow(name);
        if (!row) return usage(argv[0]);
        rows.push_back(onDevice(*row, opt.device));
    }
    if (opt.worker || opt.trace) {  // one row, in this process
        try {
            if (opt.trace && opt.threads.empty()) opt.threads = "1,1";
            if (opt.trace) opt.minSeconds = 0;
            return runWorker(rows.front(), opt);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_sample: %s\n", e.what());
            return 1;
        }
    }
    const std::string self = bench::selfPath();
    std::vector<RowResult> results;
    for (const auto& row : rows) {
        results.push_back(benchRow(self, row, opt));
        // At once, so that a run stopped part-way keeps the rows it finished.
        std::printf("%s", rowLine(results.back()).c_str());
        std::fflush(stdout);
    }
    const std::string text = table(results, opt);
    std::printf("\n%s", text.c_str());
    if (!opt.markdown.empty()) std::ofstream(opt.markdown) << text;
    return 0;
}
