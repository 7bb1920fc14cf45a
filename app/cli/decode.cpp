// decode: images from chosen latents (saved rows, their arithmetic A - B + C, or rows moved
// along principal directions).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/console.h"
#include "cli/latentrows.h"
#include "cli/options.h"
#include "cli/outputs.h"
#include "common/cpu.h"
#include "image/grid.h"
#include "models/catalog.h"
#include "sample/latentarithmetic.h"

namespace ll::cli {

namespace {

struct DecodeArgs {
    std::string run;
    std::string latents;
    std::vector<std::int64_t> rows;
    std::vector<std::int64_t> arithmetic;
    std::string directions;
    std::string along;
    std::string label;
    int cols = 0;
    std::string out;
    SteerArgs steer;
};

int runDecode(const DecodeArgs& a) {
    if (!a.out.ends_with(".png")) return failure("decode: --out must name a .png file");
    if (!a.arithmetic.empty() && a.arithmetic.size() != 3)
        return failure("decode: --arithmetic expects three rows A,B,C");
    if (!a.along.empty() && a.directions.empty())
        return failure("decode: --along needs --directions");
    const auto classNames = runClassNames(a.run);
    auto base = a.steer.request(classNames);
    if (!base) return failure("decode: " + base.error().message);
    int label = -1;
    if (!a.label.empty()) {
        auto named = runClasses({a.label}, classNames);
        if (!named) return failure("decode: --class: " + named.error().message);
        label = named->front();
    }
    auto opened = loadRun(a.run, a.steer.step());
    if (!opened) return failure(opened.error().message);
    if (const auto why = overwritesData(a.out, {opened->config.dataset.source}); !why.empty())
        return failure("decode: " + why);
    auto& model = *opened->model;
    if (model.shape().tabular()) return failure("decode: the run generates rows, not images");
    if (!model.hasLatents()) return failure("decode: " + model.name() + " has no latent space");
    const auto dims = model.latents(SampleRequest{.count = 1}).numel();
    auto z = readLatents(a.latents, dims);
    if (!z) return failure("decode: " + z.error().message);
    auto row = [&](std::int64_t i) -> Result<std::vector<float>> {
        if (i < 0 || i >= z->size(0))
            return fail(a.latents + " has rows 0 to " + std::to_string(z->size(0) - 1) + ", not " +
                        std::to_string(i));
        return rowOf(*z, i);
    };
    std::vector<std::vector<float>> chosen;
    if (!a.arithmetic.empty()) {
        std::vector<std::vector<float>> abc;
        for (auto i : a.arithmetic) {
            auto r = row(i);
            if (!r) return failure("decode: " + r.error().message);
            abc.push_back(std::move(*r));
        }
        chosen.push_back(*latentArithmetic(abc[0], abc[1], abc[2]));  // rows of one width
    } else if (!a.rows.empty()) {
        for (auto i : a.rows) {
            auto r = row(i);
            if (!r) return failure("decode: " + r.error().message);
            chosen.push_back(std::move(*r));
        }
    } else {
        for (std::int64_t i = 0; i < z->size(0); ++i) chosen.push_back(rowOf(*z, i));
    }
    if (!a.along.empty()) {
        int k = 0;
        double amount = 0;
        char colon = 0;
        std::istringstream in(a.along);
        if (!(in >> k >> colon >> amount) || colon != ':' || !(in >> std::ws).eof() || k < 0)
            return failure("decode: --along expects K:S (direction K, S units), got '" + a.along +
                           "'");
        auto directions = readLatents(a.directions, dims);
        if (!directions) return failure("decode: --directions: " + directions.error().message);
        if (k >= directions->size(0))
            return failure("decode: " + a.directions + " has " +
                           std::to_string(directions->size(0)) + " directions, not " +
                           std::to_string(k + 1));
        const auto direction = rowOf(*directions, k);
        for (auto& latent : chosen) latent = *moveAlong(std::move(latent), direction, amount);
    }
    std::vector<float> flat;
    for (const auto& latent : chosen) flat.insert(flat.end(), latent.begin(), latent.end());
    const auto latents = torch::tensor(flat).view({std::int64_t(chosen.size()), dims});
    auto request = *base;
    request.count = latents.size(0);
    const int classes = opened->data.shape.numClasses;
    if (label >= classes) return failure("decode: no class " + std::to_string(label));
    if (label >= 0) request.labels = {label};
    applyThreadSettings(model.workload());
    try {
        const auto images = model.decodeLatents(latents, request);
        const int cols =
            a.cols > 0 ? a.cols : static_cast<int>(std::ceil(std::sqrt(double(request.count))));
        if (auto ok = writePng(makeGrid(images, cols), a.out); !ok)
            return failure(ok.error().message);
    } catch (const std::exception& e) {
        return failure("decode: " + firstLine(e));
    }
    std::printf("wrote %s (%lld images)\n", a.out.c_str(), static_cast<long long>(request.count));
    return 0;
}

}  // namespace

Command addDecode(CLI::App& app) {
    auto a = std::make_shared<DecodeArgs>();
    auto* cmd = app.add_subcommand(
        "decode",
        "Images from given latents (a .npy of rows, as latents --latents-out writes): chosen "
        "rows, moved along principal directions, or the arithmetic A - B + C");
    cmd->add_option("--run", a->run, "Run folder")->required();
    cmd->add_option("--latents", a->latents, ".npy of latents, one row each")->required();
    cmd->add_option("--rows", a->rows, "Rows to decode (default: all), e.g. 0,5,9")->delimiter(',');
    cmd->add_option("--arithmetic", a->arithmetic, "A,B,C: decode row A - row B + row C instead")
        ->delimiter(',');
    cmd->add_option("--directions", a->directions,
                    ".npy of principal directions (latents --directions-out)");
    cmd->add_option("--along", a->along,
                    "K:S: move every latent S units along direction K (needs --directions)");
    cmd->add_option("--class", a->label,
                    "Class of every image, by name or number (conditional models)");
    cmd->add_option("--cols", a->cols, "Grid columns (default: square)")->check(positiveNumber());
    cmd->add_option("--out", a->out, ".png grid to write")->required();
    a->steer.add(cmd);
    return {cmd, [a] { return runDecode(*a); }};
}

}  // namespace ll::cli
