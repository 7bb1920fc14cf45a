#include "run/sweep.h"

#include <cmath>
#include <map>
#include <memory>
#include <sstream>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/format.h"
#include "image/grid.h"
#include "image/labelled.h"
#include "models/model.h"
#include "run/runloader.h"

namespace ll {
namespace fs = std::filesystem;

namespace {

const std::pair<SweepAxis, const char*> kAxes[] = {
    {SweepAxis::Guidance, "guidance"},
    {SweepAxis::ClassifierScale, "classifier-scale"},
    {SweepAxis::Steps, "steps"},
    {SweepAxis::Class, "class"},
    {SweepAxis::Seed, "seed"},
    {SweepAxis::Checkpoint, "checkpoint"},
    {SweepAxis::Truncation, "truncation"},
    {SweepAxis::Temperature, "temperature"},
};

bool integral(SweepAxis a) {
    return a == SweepAxis::Steps || a == SweepAxis::Class || a == SweepAxis::Seed ||
           a == SweepAxis::Checkpoint;
}

// The request of one cell: the base with the two axes' values applied.
void apply(SampleRequest& r, std::optional<std::int64_t>& step, SweepAxis axis, double v) {
    switch (axis) {
        case SweepAxis::Guidance:
            r.guidance = v;
            break;
        case SweepAxis::ClassifierScale:
            r.classifierScale = v;
            break;
        case SweepAxis::Steps:
            r.steps = static_cast<int>(v);
            break;
        case SweepAxis::Class:
            r.labels = {static_cast<std::int64_t>(v)};
            break;
        case SweepAxis::Seed:
            r.seed = static_cast<std::uint64_t>(v);
            break;
        case SweepAxis::Checkpoint:
            step = static_cast<std::int64_t>(v);
            break;
        case SweepAxis::Truncation:
            r.truncation = v;
            break;
        case SweepAxis::Temperature:
            r.temperature = v;
            break;
    }
}

std::string valueLabel(SweepAxis axis, double v, const std::vector<std::string>& classes) {
    if (axis == SweepAxis::Class) {
        const auto k = static_cast<std::size_t>(v);
        std::string name = k < classes.size() ? classes[k] : std::to_string(k);
        if (name.size() > 10) name = name.substr(0, 9) + ".";
        return name;
    }
    return formatNumber(v);
}

}  // namespace

std::string sweepAxisName(SweepAxis axis) {
    for (const auto& [a, name] : kAxes)
        if (a == axis) return name;
    return "?";
}

Result<SweepAxisValues> parseSweepAxis(const std::string& text) {
    const auto eq = text.find('=');
    std::string known;
    for (const auto& [a, name] : kAxes) known += (known.empty() ? "" : ", ") + std::string(name);
    if (eq == std::string::npos)
        return fail("a sweep axis reads AXIS=V1,V2,... (axes: " + known + "), got '" + text + "'");
    SweepAxisValues out;
    const std::string name = text.substr(0, eq);
    bool found = false;
    for (const auto& [a, n] : kAxes)
        if (name == n) out.axis = a, found = true;
    if (!found) return fail("no sweep axis '" + name + "' (axes: " + known + ")");
    std::istringstream in(text.substr(eq + 1));
    for (std::string item; std::getline(in, item, ',');) {
        std::size_t used = 0;
        double v = 0;
        try {
            v = std::stod(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != item.size() || !std::isfinite(v) ||
            (integral(out.axis) && (v < 0 || v != std::floor(v))))
            return fail("sweep axis " + name + ": '" + item + "' is not a valid value" +
                        (integral(out.axis) ? " (a whole number >= 0)" : ""));
        out.values.push_back(v);
    }
    if (out.values.empty() || out.values.size() > 64)
        return fail("sweep axis " + name + ": give 1 to 64 values");
    return out;
}

Result<fs::path> runSweep(const SweepRequest& q, const fs::path& out, const SweepCellFn& onCell) {
    if (q.x.axis == q.y.axis) return fail("the sweep's two axes must differ");
    std::optional<LoadedRun> classifier;
    SampleRequest base = q.base;
    if (!base.classifier && !q.classifierRun.empty()) {
        auto opened = loadRun(q.classifierRun);
        if (!opened) return tl::unexpected(opened.error());
        if (!opened->model->classifiesNoisy())
            return fail(q.classifierRun.string() + " is a " + opened->model->name() +
                        " run; classifier guidance needs a noisy-classifier run");
        classifier = std::move(*opened);
        base.classifier = classifier->model.get();
    }
    if ((q.x.axis == SweepAxis::ClassifierScale || q.y.axis == SweepAxis::ClassifierScale) &&
        !base.classifier)
        return fail("the classifier-scale axis needs a noisy classifier (--classifier RUN)");
    if (out.extension() != ".png") return fail(out.string() + ": a sweep is written as a .png");
    // One opened model per checkpoint the sweep visits.
    std::map<std::optional<std::int64_t>, std::unique_ptr<LoadedRun>> models;
    auto model = [&](std::optional<std::int64_t> step) -> Result<LoadedRun*> {
        auto& slot = models[step];
        if (!slot) {
            auto opened = loadRun(q.run, step);
            if (!opened) return tl::unexpected(opened.error());
            if (!opened->model->generates())
                return fail(q.run.string() + " is a " + opened->model->name() +
                            " run, which has nothing to sample");
            if (opened->model->shape().tabular())
                return fail("a sweep draws images; " + q.run.string() + " generates table rows");
            slot = std::make_unique<LoadedRun>(std::move(*opened));
        }
        return slot.get();
    };
    auto first = model(q.step);
    if (!first) return tl::unexpected(first.error());
    const auto classes = (*first)->data.classNames;

    const int rows = int(q.y.values.size()), cols = int(q.x.values.size());
    std::vector<torch::Tensor> tiles;
    nlohmann::json cells = nlohmann::json::array();
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) {
            SampleRequest request = base;
            request.count = 1;
            request.labels = {q.defaultClass};
            std::optional<std::int64_t> step = q.step;
            apply(request, step, q.y.axis, q.y.values[std::size_t(r)]);
            apply(request, step, q.x.axis, q.x.values[std::size_t(c)]);
            auto opened = model(step);
            if (!opened) return tl::unexpected(opened.error());
            torch::Tensor image;
            try {
                image = (*opened)->model->sample(request).to(torch::kCPU, torch::kFloat32);
            } catch (const std::exception& e) {
                const std::string what = firstLine(e);
                return fail("sweep cell (" + std::to_string(r) + ", " + std::to_string(c) +
                            "): " + what);
            }
            tiles.push_back(image);
            cells.push_back(
                {{"row", r},
                 {"col", c},
                 {"step", (*opened)->step},
                 {"class", request.labels.front()},
                 {"seed", request.seed},
                 {"guidance", request.guidance},
                 {"classifier_scale", request.classifier ? request.classifierScale : 0.0},
                 {"steps", request.steps},
                 {"sampler", request.sampler == Sampler::Ddim ? "ddim" : "ddpm"},
                 {"truncation", request.truncation},
                 {"temperature", request.temperature},
                 {"guidance_interval", {request.guidanceFrom, request.guidanceTo}}});
            if (onCell && !onCell(r, c, makeGrid(image, 1))) return fail("cancelled");
        }
    std::vector<std::string> columnLabels, rowLabels;
    for (double v : q.x.values) columnLabels.push_back(valueLabel(q.x.axis, v, classes));
    for (double v : q.y.values) rowLabels.push_back(valueLabel(q.y.axis, v, classes));
    const std::string title = "x: " + sweepAxisName(q.x.axis) + "   y: " + sweepAxisName(q.y.axis) +
                              "   (" + q.run.filename().string() + ")";
    if (auto ok =
            writeLabelledGrid(torch::cat(tiles), rows, cols, columnLabels, rowLabels, title, out);
        !ok)
        return tl::unexpected(ok.error());
    const nlohmann::json sidecar{{"run", fs::absolute(q.run).lexically_normal().string()},
                                 {"x", {{"axis", sweepAxisName(q.x.axis)}, {"values", q.x.values}}},
                                 {"y", {{"axis", sweepAxisName(q.y.axis)}, {"values", q.y.values}}},
                                 {"image", out.filename().string()},
                                 {"cells", cells}};
    fs::path json = out;
    json += ".json";
    if (auto ok = writeFileAtomic(json, sidecar.dump(1) + "\n"); !ok)
        return tl::unexpected(ok.error());
    return out;
}

}  // namespace ll
