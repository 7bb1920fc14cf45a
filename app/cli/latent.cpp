// interpolate and latents: a run's latent space and its principal directions (decode.cpp
// turns chosen latents into images).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "cli/console.h"
#include "cli/latentrows.h"
#include "cli/options.h"
#include "cli/outputs.h"
#include "common/cpu.h"
#include "common/format.h"
#include "common/npy.h"
#include "data/loader.h"
#include "image/grid.h"
#include "image/labelled.h"
#include "models/catalog.h"
#include "run/runloader.h"
#include "sample/interpolate.h"
#include "sample/latentarithmetic.h"
#include "sample/latentmap.h"

namespace ll::cli {

namespace {

// "SEED", "SEED:CLASS", "FILE.npy@ROW" or "FILE.npy@ROW:CLASS" (a row of saved latents, read
// by loadEnd once the run is open).
struct EndSpec {
    LatentEnd end;
    std::string path;
    long long row = 0;
};

// The class after the colon goes by name or number among the run's `classNames`.
Result<EndSpec> parseEnd(const std::string& text, const char* option,
                         const Result<std::vector<std::string>>& classNames) {
    EndSpec spec;
    std::string rest = text;
    if (const auto npy = text.find(".npy@"); npy != std::string::npos) {
        spec.path = text.substr(0, npy + 4);
        rest = text.substr(npy + 5);
    }
    const auto colon = rest.find(':');
    long long number = 0;
    std::istringstream in(rest.substr(0, colon));
    if (!(in >> number) || !(in >> std::ws).eof() || rest.empty() || rest[0] == '-' ||
        colon + 1 == rest.size())
        return fail(std::string(option) +
                    " expects SEED or SEED:CLASS, or a row of saved latents "
                    "FILE.npy@ROW[:CLASS], got '" +
                    text + "'");
    if (colon != std::string::npos) {
        auto label = runClasses({rest.substr(colon + 1)}, classNames);
        if (!label) return fail(std::string(option) + ": " + label.error().message);
        spec.end.label = label->front();
    }
    if (spec.path.empty())
        spec.end.seed = static_cast<std::uint64_t>(number);
    else
        spec.row = number;
    return spec;
}

Result<LatentEnd> loadEnd(EndSpec spec, const char* option, GenerativeModel& model) {
    if (spec.path.empty()) return spec.end;
    const auto dims = model.latents(SampleRequest{.count = 1}).numel();
    auto z = readLatents(spec.path, dims);
    if (!z) return fail(std::string(option) + ": " + z.error().message);
    if (spec.row >= z->size(0))
        return fail(std::string(option) + ": " + spec.path + " has rows 0 to " +
                    std::to_string(z->size(0) - 1) + ", not " + std::to_string(spec.row));
    spec.end.latent = rowOf(*z, spec.row);
    return spec.end;
}

struct InterpolateArgs {
    std::string run;
    std::string from;
    std::string to;
    int steps = 10;
    std::string mode = "slerp";
    std::string out;
    std::string video;
    double fps = 12;
    SteerArgs steer;
};

int runInterpolate(const InterpolateArgs& a) {
    const auto classNames = runClassNames(a.run);
    auto fromSpec = parseEnd(a.from, "--from", classNames);
    if (!fromSpec) return failure("interpolate: " + fromSpec.error().message);
    auto toSpec = parseEnd(a.to, "--to", classNames);
    if (!toSpec) return failure("interpolate: " + toSpec.error().message);
    if (!a.out.ends_with(".png")) return failure("interpolate: --out must name a .png file");
    auto base = a.steer.request(classNames);
    if (!base) return failure("interpolate: " + base.error().message);
    auto opened = loadRun(a.run, a.steer.step());
    if (!opened) return failure(opened.error().message);
    if (const auto why = overwritesData(a.out, {opened->config.dataset.source}); !why.empty())
        return failure("interpolate: " + why);
    auto& model = *opened->model;
    if (model.shape().tabular()) return failure("interpolate: the run generates rows, not images");
    if (!model.hasLatents())
        return failure("interpolate: " + model.name() + " has no latent space");
    auto from = loadEnd(*fromSpec, "--from", model);
    if (!from) return failure("interpolate: " + from.error().message);
    auto to = loadEnd(*toSpec, "--to", model);
    if (!to) return failure("interpolate: " + to.error().message);
    if (opened->data.shape.numClasses > 0 && findModel(model.name()) &&
        findModel(model.name())->conditional) {
        if (from->label < 0) from->label = 0;
        if (to->label < 0) to->label = from->label;
    }
    applyThreadSettings(model.workload());
    auto frames = interpolateSamples(
        model, *from, *to, a.steps,
        a.mode == "lerp" ? Interpolation::Linear : Interpolation::Spherical, *base);
    if (!frames) return failure("interpolate: " + frames.error().message);
    std::vector<std::string> labels;
    for (int i = 0; i < a.steps; ++i) labels.push_back(formatNumber(double(i) / (a.steps - 1)));
    const auto& names = opened->data.classNames;
    auto endName = [&](const EndSpec& spec, const LatentEnd& e) {
        return (spec.path.empty() ? "seed " + std::to_string(e.seed)
                                  : std::filesystem::path(spec.path).filename().string() + " row " +
                                        std::to_string(spec.row)) +
               (e.label >= 0 && e.label < int(names.size()) ? " " + names[std::size_t(e.label)]
                                                            : std::string());
    };
    const std::string title =
        a.mode + " from " + endName(*fromSpec, *from) + " to " + endName(*toSpec, *to);
    if (auto ok = writeLabelledGrid(*frames, 1, a.steps, labels, {}, title, a.out); !ok)
        return failure(ok.error().message);
    std::printf("wrote %s (%d frames)\n", a.out.c_str(), a.steps);
    if (!a.video.empty()) {
        if (auto ok = writeVideo(*frames, a.video, a.fps); !ok) return failure(ok.error().message);
        std::printf("wrote %s\n", a.video.c_str());
    }
    return 0;
}

struct LatentsArgs {
    std::string run;
    std::string dataset;
    std::string labelColumn;
    std::int64_t count = 2000;
    std::uint64_t seed = 0;
    int directions = 8;
    std::string out;
    std::string directionsOut;
    std::string latentsOut;
    std::int64_t checkpoint = -1;
};

int runLatents(const LatentsArgs& a) {
    if (!a.out.ends_with(".csv")) return failure("latents: --out must name a .csv file");
    if (!a.directionsOut.empty() && !a.directionsOut.ends_with(".npy"))
        return failure("latents: --directions-out must name a .npy file");
    if (!a.latentsOut.empty() && !a.latentsOut.ends_with(".npy"))
        return failure("latents: --latents-out must name a .npy file");
    auto opened = loadRun(a.run, a.checkpoint >= 0 ? std::optional(a.checkpoint) : std::nullopt);
    if (!opened) return failure(opened.error().message);
    for (const auto& out : {a.out, a.directionsOut, a.latentsOut})
        if (const auto why = overwritesData(out, {opened->config.dataset.source, a.dataset});
            !why.empty())
            return failure("latents: " + why);
    auto& model = *opened->model;
    std::optional<Dataset> data;
    if (model.encodes()) {
        DatasetSpec spec = opened->config.dataset;
        // Other data, shaped as the run's images were.
        if (!a.dataset.empty())
            spec = {.source = absoluteSource(a.dataset),
                    .labelColumn = a.labelColumn,
                    .imageSize = spec.imageSize,
                    .colour = spec.colour};
        // Read as the run's data was (a table the run's way), in its standardisation.
        auto loaded = loadForRun(spec, opened->config, opened->data);
        if (!loaded) return failure("latents: " + loaded.error().message);
        if (!a.dataset.empty() && !loaded->note.empty())
            std::fprintf(stderr, "note: %s: %s\n", spec.source.c_str(), loaded->note.c_str());
        data = std::move(*loaded);
    }
    applyThreadSettings(model.workload());
    auto map = buildLatentMap(model, data ? &*data : nullptr, a.count, a.seed, a.directions);
    if (!map) return failure("latents: " + map.error().message);
    if (auto ok = writeLatentMapCsv(*map, opened->data.classNames, a.out); !ok)
        return failure(ok.error().message);
    if (!a.directionsOut.empty()) {
        std::vector<float> flat;
        for (const auto& d : map->directions) flat.insert(flat.end(), d.begin(), d.end());
        auto t = torch::tensor(flat).view({std::int64_t(map->directions.size()), map->dims});
        if (auto ok = writeNpy(a.directionsOut, t); !ok) return failure(ok.error().message);
    }
    if (!a.latentsOut.empty()) {
        auto t = torch::tensor(map->latents).view({std::int64_t(map->x.size()), map->dims});
        if (auto ok = writeNpy(a.latentsOut, t); !ok) return failure(ok.error().message);
    }
    std::printf(
        "wrote %s: %zu points (%s) in a %d-dimensional latent space; spread along the "
        "leading directions:",
        a.out.c_str(), map->x.size(), data ? "drawn and encoded" : "drawn", map->dims);
    for (float s : map->spread) std::printf(" %.3g", s);
    std::printf("\n");
    return 0;
}

}  // namespace

Command addInterpolate(CLI::App& app) {
    auto a = std::make_shared<InterpolateArgs>();
    auto* cmd = app.add_subcommand(
        "interpolate", "Samples along a path between two latents: a PNG strip and a video");
    cmd->add_option("--run", a->run, "Run folder")->required();
    cmd->add_option("--from", a->from,
                    "Start: SEED, SEED:CLASS, or a row of saved latents FILE.npy@ROW[:CLASS] "
                    "(CLASS by name or number)")
        ->required();
    cmd->add_option("--to", a->to, "End: as --from")->required();
    cmd->add_option("--frames", a->steps, "Frames, both ends included")
        ->check(CLI::Range(2, 1000))
        ->capture_default_str();
    cmd->add_option("--mode", a->mode, "slerp (great circle) or lerp (straight line)")
        ->check(CLI::IsMember({"slerp", "lerp"}))
        ->capture_default_str();
    cmd->add_option("--out", a->out, ".png strip to write")->required();
    cmd->add_option("--video", a->video, "Also a video: .mp4 or .avi");
    cmd->add_option("--fps", a->fps, "Video frames per second")->capture_default_str();
    a->steer.add(cmd);
    return {cmd, [a] { return runInterpolate(*a); }};
}

Command addLatents(CLI::App& app) {
    auto a = std::make_shared<LatentsArgs>();
    auto* cmd = app.add_subcommand(
        "latents",
        "A run's latent space on its two leading principal axes: drawn latents and, "
        "for the VAE family, encoded data; CSV, and the principal directions (.npy)");
    cmd->add_option("--run", a->run, "Run folder")->required();
    cmd->add_option("--dataset", a->dataset, "Data to encode (default: the run's)");
    cmd->add_option("--label-column", a->labelColumn,
                    "CSV: label column by name or 0-based number (default: last)");
    cmd->add_option("--count", a->count, "Points of each kind")->capture_default_str();
    cmd->add_option("--seed", a->seed, "Seed")->capture_default_str();
    cmd->add_option("--checkpoint", a->checkpoint, "Checkpoint step (default: latest)");
    cmd->add_option("--directions", a->directions, "Principal directions to find")
        ->capture_default_str();
    cmd->add_option("--out", a->out, ".csv of the points")->required();
    cmd->add_option("--directions-out", a->directionsOut,
                    ".npy of the principal directions (one row each)");
    cmd->add_option("--latents-out", a->latentsOut,
                    ".npy of every point's latent, rows in the CSV's order (for decode "
                    "and interpolate)");
    return {cmd, [a] { return runLatents(*a); }};
}

}  // namespace ll::cli
