// sample and sweep: a run's samples as a grid, a folder, rows of a table, or an X/Y sweep.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/console.h"
#include "cli/options.h"
#include "cli/outputs.h"
#include "common/classnames.h"
#include "common/cpu.h"
#include "common/table.h"
#include "data/dataset.h"
#include "image/grid.h"
#include "run/sweep.h"
#include "sample/manifest.h"

namespace ll::cli {

namespace {

namespace fs = std::filesystem;

struct SampleArgs {
    std::string run;
    std::string out;
    std::int64_t count = 64;
    std::vector<std::string> classes;
    int cols = 0;
    SteerArgs steer;
};

// A folder: one PNG per sample and a manifest that says how each was made.
int writeFolder(const SampleArgs& a, const torch::Tensor& samples, const LoadedRun& run,
                const SampleRequest& request, const std::vector<std::int64_t>& classes) {
    const fs::path dir = a.out;
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
        return failure("sample: " + a.out + " exists and is not a folder (name a .png for a grid)");
    fs::create_directories(dir, ec);
    if (ec) return failure("sample: cannot create " + a.out + " (" + ec.message() + ")");
    std::vector<ManifestRow> rows;
    for (std::int64_t i = 0; i < a.count; ++i) {
        const std::string file = sampleFileName(i);
        if (auto ok = writePng(makeGrid(samples.slice(0, i, i + 1), 1), dir / file); !ok)
            return failure(ok.error().message);
        rows.push_back({.file = file,
                        .label = static_cast<int>(classes[static_cast<std::size_t>(i)]),
                        .index = i});
    }
    if (auto ok =
            writeSampleManifest(dir / "manifest.csv", rows, run.data.classNames, request, run.step);
        !ok)
        return failure(ok.error().message);
    return 0;
}

int runSample(const SampleArgs& a) {
    if (a.count < 1 || a.count > 100000) return failure("sample: --count must lie in 1..100000");
    {
        const auto ext = fs::path(a.out).extension().string();
        std::error_code ec;
        if (!ext.empty() && ext != ".png" && ext != ".csv" && !fs::is_directory(a.out, ec))
            return failure("sample: --out must name a .png file, a .csv file or a folder, not '" +
                           a.out + "'");
    }
    auto steered = a.steer.request(runClassNames(a.run));
    if (!steered) return failure("sample: " + steered.error().message);
    auto opened = loadRun(a.run, a.steer.step());
    if (!opened) return failure(opened.error().message);
    if (const auto why = overwritesData(a.out, {opened->config.dataset.source}); !why.empty())
        return failure("sample: " + why);
    if (!opened->warning.empty()) std::fprintf(stderr, "warning: %s\n", opened->warning.c_str());
    auto& model = *opened->model;
    if (!model.generates())
        return failure("sample: " + a.run + " is a " + model.name() +
                       " run, which has nothing to sample");
    const auto& shape = model.shape();
    const bool png = a.out.ends_with(".png");
    const bool csv = a.out.ends_with(".csv");
    if (shape.tabular() && !csv)
        return failure("sample: " + a.run + " generates tabular rows: give --out a .csv file");
    if (!shape.tabular() && csv)
        return failure("sample: " + a.run +
                       " generates images: give --out a .png file or a folder");
    SampleRequest request = *steered;
    request.count = a.count;
    auto listed = classIndices(a.classes, opened->data.classNames);
    if (!listed) return failure("sample: --class: " + listed.error().message);
    for (int k : *listed) {
        if (k < 0 || k >= shape.numClasses)
            return failure("sample: no class " + std::to_string(k) + " (the run has classes 0.." +
                           std::to_string(shape.numClasses - 1) + ")");
        request.labels.push_back(k);
    }
    torch::Tensor samples;
    try {
        samples = model.sample(request);
    } catch (const std::exception& e) {
        return failure("sample: " + firstLine(e));
    }
    // The class each sample was drawn for: the listed ones in turn, else every class in turn.
    std::vector<std::int64_t> classes;
    for (std::int64_t i = 0; i < a.count; ++i)
        classes.push_back(
            request.labels.empty()
                ? i % shape.numClasses
                : request.labels[static_cast<std::size_t>(i) % request.labels.size()]);
    if (csv) {
        const auto& d = opened->data;
        auto table = makeTable(samples, torch::tensor(classes), d.featureNames, d.mean, d.std,
                               d.classNames, d.categorical, d.decimals);
        if (auto ok = writeTableCsv(table, a.out); !ok) return failure(ok.error().message);
    } else if (png) {
        // More columns than samples would only widen the grid with blank tiles.
        const int cols = a.cols > 0 ? static_cast<int>(std::min<std::int64_t>(a.cols, a.count))
                                    : static_cast<int>(std::ceil(std::sqrt(double(a.count))));
        if (auto ok = writePng(makeGrid(samples, cols), a.out); !ok)
            return failure(ok.error().message);
    } else if (int failed = writeFolder(a, samples, *opened, request, classes)) {
        return failed;
    }
    std::fprintf(stderr, "wrote %lld samples of %s (step %lld) to %s\n",
                 static_cast<long long>(a.count), a.run.c_str(),
                 static_cast<long long>(opened->step), a.out.c_str());
    return 0;
}

struct SweepArgs {
    std::string run;
    std::string x;
    std::string y;
    std::string defaultClass;  // empty: class 0
    std::string out;
    SteerArgs steer;
};

// A class axis (class=Sneaker,Bag) by number, as the sweep takes it; other axes as they are.
Result<std::string> classesByNumber(const std::string& axis,
                                    const Result<std::vector<std::string>>& classNames) {
    if (!axis.starts_with("class=")) return axis;
    std::vector<std::string> tokens;
    std::istringstream in(axis.substr(6));
    for (std::string item; std::getline(in, item, ',');) tokens.push_back(item);
    auto classes = runClasses(tokens, classNames);
    if (!classes) return tl::unexpected(classes.error());
    std::string out = "class=";
    for (std::size_t i = 0; i < classes->size(); ++i)
        out += (i ? "," : "") + std::to_string((*classes)[i]);
    return out;
}

int runSweep(const SweepArgs& a) {
    const auto classNames = runClassNames(a.run);
    auto xText = classesByNumber(a.x, classNames);
    if (!xText) return failure("sweep: --x: " + xText.error().message);
    auto yText = classesByNumber(a.y, classNames);
    if (!yText) return failure("sweep: --y: " + yText.error().message);
    auto defaultClass = a.defaultClass.empty() ? Result<std::vector<int>>(std::vector<int>{0})
                                               : runClasses({a.defaultClass}, classNames);
    if (!defaultClass) return failure("sweep: --class: " + defaultClass.error().message);
    auto x = parseSweepAxis(*xText);
    if (!x) return failure("sweep: --x: " + x.error().message);
    auto y = parseSweepAxis(*yText);
    if (!y) return failure("sweep: --y: " + y.error().message);
    auto base = a.steer.request(classNames);
    if (!base) return failure("sweep: " + base.error().message);
    if (auto opened = loadRun(a.run, a.steer.step())) {
        if (const auto why = overwritesData(a.out, {opened->config.dataset.source}); !why.empty())
            return failure("sweep: " + why);
        applyThreadSettings(opened->model->workload());
    }
    const auto cells = x->values.size() * y->values.size();
    std::size_t done = 0;
    auto file = ll::runSweep({.run = a.run,
                              .step = a.steer.step(),
                              .x = *x,
                              .y = *y,
                              .base = *base,
                              .defaultClass = defaultClass->front()},
                             a.out, [&](int, int, const SampleGrid&) {
                                 std::fprintf(stderr, "\rcell %zu of %zu", ++done, cells);
                                 return !interrupted();
                             });
    std::fputc('\n', stderr);
    if (!file) return failure("sweep: " + file.error().message);
    std::printf("wrote %s and %s.json (%zu x %zu cells)\n", file->c_str(), file->c_str(),
                y->values.size(), x->values.size());
    return 0;
}

}  // namespace

Command addSample(CLI::App& app) {
    auto a = std::make_shared<SampleArgs>();
    auto* cmd = app.add_subcommand(
        "sample",
        "Sample a trained run: a .png grid, a folder of PNGs with manifest.csv, or a .csv");
    cmd->add_option("--run", a->run, "Run folder")->required();
    cmd->add_option("--out", a->out,
                    "A .png grid, a folder (one PNG per sample plus manifest.csv) or, for "
                    "tabular runs, a .csv")
        ->required();
    cmd->add_option("--count", a->count, "Number of samples")->capture_default_str();
    cmd->add_option("--class", a->classes,
                    "Class of every sample, or a comma list to cycle, by name or number "
                    "(default: all classes in turn)")
        ->delimiter(',');
    cmd->add_option("--cols", a->cols, "Grid columns (default: square)")->check(positiveNumber());
    a->steer.add(cmd);
    return {cmd, [a] { return runSample(*a); }};
}

Command addSweep(CLI::App& app) {
    auto a = std::make_shared<SweepArgs>();
    auto* cmd = app.add_subcommand(
        "sweep",
        "An X/Y grid of samples over two settings; writes a labelled PNG and a JSON "
        "sidecar with every cell's settings");
    cmd->add_option("--run", a->run, "Run folder")->required();
    cmd->add_option("--x", a->x,
                    "Columns: AXIS=V1,V2,... with AXIS one of guidance, classifier-scale, "
                    "steps, class (by name or number), seed, checkpoint, truncation, "
                    "temperature")
        ->required();
    cmd->add_option("--y", a->y, "Rows: AXIS=V1,V2,...")->required();
    cmd->add_option("--class", a->defaultClass,
                    "Class of every cell unless an axis is, by name or number (default: the "
                    "first, 0)");
    cmd->add_option("--out", a->out, ".png file to write")->required();
    a->steer.add(cmd);
    return {cmd, [a] { return runSweep(*a); }};
}

}  // namespace ll::cli
