// The diffusion classifier's record: result.json and its charts, read back for the window; and
// the same record for a plain classifier run.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/jsonnumber.h"
#include "image/chart.h"
#include "run/runfolder.h"
#include "study/diffusionclassifier.h"
#include "study/diffusionclassifierscore.h"

namespace ll {
namespace fs = std::filesystem;
using nlohmann::json;

namespace diffusionclassify {

std::vector<std::vector<std::int64_t>> confusionOf(const std::vector<int>& labels,
                                                   const std::vector<int>& predictions,
                                                   int numClasses) {
    std::vector<std::vector<std::int64_t>> m(
        static_cast<std::size_t>(numClasses),
        std::vector<std::int64_t>(static_cast<std::size_t>(numClasses), 0));
    for (std::size_t i = 0; i < labels.size() && i < predictions.size(); ++i)
        if (labels[i] >= 0 && labels[i] < numClasses && predictions[i] >= 0 &&
            predictions[i] < numClasses)
            ++m[std::size_t(labels[i])][std::size_t(predictions[i])];
    return m;
}

namespace {

void addChart(DiffusionClassifyResult& result, const Result<void>& written, const fs::path& png) {
    if (written)
        result.charts.push_back(png);
    else
        result.notes.push_back(png.filename().string() + ": " + written.error().message);
}

}  // namespace

void writeResultCharts(DiffusionClassifyResult& result) {
    chart::Heatmap confusion{.title = "Confusion (" + std::to_string(result.count) +
                                      " images, accuracy " +
                                      std::to_string(result.accuracy).substr(0, 5) + ")",
                             .rowTitle = "true class",
                             .columnTitle = "chosen class",
                             .rowLabels = result.classes,
                             .columnLabels = result.classes};
    for (const auto& row : result.confusion) confusion.values.emplace_back(row.begin(), row.end());
    addChart(result, chart::writeHeatmap(confusion, result.out / "confusion.png"),
             result.out / "confusion.png");
    if (result.budget.empty()) return;
    // Accuracy against the network evaluations an image costs: the unpruned classifier cut
    // to its first k pairs, and the pruned run's own point.
    chart::LineChart budget{.title = "Accuracy against evaluations per image",
                            .xLabel = "network evaluations per image",
                            .yLabel = "accuracy",
                            .logX = true};
    chart::Series unpruned{.name = "first k pairs, every class", .points = true};
    for (const auto& p : result.budget) {
        if (p.pruned) {
            budget.markers.push_back({p.evaluations, p.accuracy, "pruned"});
            continue;
        }
        unpruned.x.push_back(p.evaluations);
        unpruned.y.push_back(p.accuracy);
    }
    budget.series.insert(budget.series.begin(), unpruned);
    if (result.baselineAccuracy) {
        const double lo = unpruned.x.front(), hi = unpruned.x.back();
        budget.series.push_back({.name = "clean classifier",
                                 .x = {lo, hi},
                                 .y = {*result.baselineAccuracy, *result.baselineAccuracy}});
    }
    addChart(result, chart::writeLineChart(budget, result.out / "budget.png"),
             result.out / "budget.png");
}

Result<void> writeResult(const DiffusionClassifyResult& r, const json& extra) {
    json j{{"accuracy", r.accuracy},
           {"confusion", r.confusion},
           {"classes", r.classes},
           {"count", r.count},
           {"model", r.model},
           {"step", r.step},
           {"seconds", r.seconds},
           {"images_per_second", r.imagesPerSecond},
           {"notes", r.notes},
           // Per image in data order: what the window's strip shows of a finished study.
           {"labels", r.labels},
           {"predictions", r.predictions}};
    if (r.evaluationsPerImage > 0) {
        j["evaluations_per_image"] = r.evaluationsPerImage;
        j["settings"] = r.settings;
        j["resumed_images"] = r.resumedImages;
    }
    if (r.unprunedAccuracy) {
        j["unpruned_accuracy"] = *r.unprunedAccuracy;
        j["unpruned_evaluations_per_image"] = r.unprunedEvaluationsPerImage;
        j["unpruned_images_per_second"] = r.unprunedImagesPerSecond;
    }
    if (!r.budget.empty()) {
        j["budget"] = json::array();
        for (const auto& p : r.budget)
            j["budget"].push_back(
                {{"evaluations", p.evaluations}, {"accuracy", p.accuracy}, {"pruned", p.pruned}});
    }
    if (r.baselineAccuracy)
        j["baseline"] = {{"accuracy", *r.baselineAccuracy}, {"classifier", r.baselineName}};
    j["charts"] = json::array();
    for (const auto& c : r.charts) j["charts"].push_back(c.lexically_relative(r.out).string());
    for (const auto& [k, v] : extra.items()) j[k] = v;
    return writeFileAtomic(r.out / "result.json", j.dump(2) + "\n");
}

}  // namespace diffusionclassify

using namespace diffusionclassify;

fs::path diffusionClassifierFolder(const fs::path& run) {
    return runfiles::studies(run) / "diffusion-classifier";
}

Result<DiffusionClassifyResult> readDiffusionClassifyResult(const fs::path& out) {
    auto text = readFile(out / "result.json");
    if (!text) return tl::unexpected(text.error());
    const json j = parseJson(*text);
    if (j.is_discarded() || !j.is_object() || !j.contains("accuracy"))
        return fail((out / "result.json").string() + ": not a classification result");
    try {
        DiffusionClassifyResult r{
            .out = out,
            .classes = j.at("classes").get<std::vector<std::string>>(),
            .count = j.value("count", std::int64_t(0)),
            .accuracy = j.at("accuracy").get<double>(),
            .confusion = j.at("confusion").get<std::vector<std::vector<std::int64_t>>>(),
            .evaluationsPerImage = j.value("evaluations_per_image", 0.0)};
        if (j.contains("unpruned_accuracy"))
            r.unprunedAccuracy = j["unpruned_accuracy"].get<double>();
        r.unprunedEvaluationsPerImage = j.value("unpruned_evaluations_per_image", 0.0);
        r.unprunedImagesPerSecond = j.value("unpruned_images_per_second", 0.0);
        for (const auto& p : j.value("budget", json::array()))
            r.budget.push_back({p.at("evaluations").get<double>(), p.at("accuracy").get<double>(),
                                p.value("pruned", false)});
        if (j.contains("baseline")) {
            r.baselineAccuracy = j["baseline"].at("accuracy").get<double>();
            r.baselineName = j["baseline"].value("classifier", "");
        }
        r.model = j.value("model", "");
        r.step = j.value("step", std::int64_t(0));
        r.settings = j.value("settings", "");
        r.seconds = j.value("seconds", 0.0);
        r.imagesPerSecond = j.value("images_per_second", 0.0);
        r.resumedImages = j.value("resumed_images", std::int64_t(0));
        r.notes = j.value("notes", std::vector<std::string>{});
        r.labels = j.value("labels", std::vector<int>{});
        r.predictions = j.value("predictions", std::vector<int>{});
        if (r.labels.size() != r.predictions.size()) r.labels.clear(), r.predictions.clear();
        for (const auto& c : j.value("charts", std::vector<std::string>{}))
            r.charts.push_back(out / c);
        return r;
    } catch (const json::exception& e) {
        return fail((out / "result.json").string() + ": " + firstLine(e));
    }
}

Result<void> writeExplanationCharts(const DiffusionExplanation& e, const fs::path& stem) {
    if (e.classes.empty() || e.errors.size() != e.classes.size())
        return fail("an explanation without classes");
    std::error_code ec;
    fs::create_directories(stem.parent_path(), ec);
    const auto name = [&](int c) {
        return c >= 0 && std::size_t(c) < e.classes.size() ? e.classes[std::size_t(c)]
                                                           : std::string("?");
    };
    std::string title = "Denoising error per class: went to " + name(e.predicted);
    if (e.label >= 0) title += " (true: " + name(e.label) + ")";
    chart::BarChart bars{.title = title,
                         .xLabel = "class",
                         .yLabel = "mean denoising error",
                         .labels = e.classes,
                         .values = e.errors,
                         .highlight = e.predicted};
    auto png = stem;
    png += "-errors.png";
    if (auto ok = chart::writeBarChart(bars, png); !ok) return ok;
    chart::LineChart curve{.title = "Denoising error against t, per class",
                           .xLabel = "timestep t",
                           .yLabel = "error (mean over noise draws)"};
    for (std::size_t c = 0; c < e.classes.size(); ++c) {
        chart::Series s{.name = e.classes[c], .y = e.curves[c]};
        s.x.assign(e.timesteps.begin(), e.timesteps.end());
        s.points = e.timesteps.size() < 30;
        curve.series.push_back(std::move(s));
    }
    png = stem;
    png += "-curve.png";
    return chart::writeLineChart(curve, png);
}

Result<DiffusionClassifyResult> classifyWithClassifier(
    const DiffusionClassifyRequest& r, const DiffusionClassifyProgressFn& progress) {
    const auto start = std::chrono::steady_clock::now();
    if (progress && !progress("loading", 0)) return fail("cancelled");
    auto run = loadRun(r.run, r.step);
    if (!run) return tl::unexpected(run.error());
    if (run->model->generates())
        return fail(r.run.string() + " is a " + run->model->name() +
                    " run; classify needs a classifier run, or a ddpm or latent-ddpm run");
    auto data = loadRunImages(r.data, *run, r.rows);
    if (!data) return tl::unexpected(data.error());
    DiffusionClassifyResult result{
        .out = r.out, .classes = data->classNames, .model = run->model->name(), .step = run->step};
    if (!data->note.empty()) result.notes.push_back(r.data.source + ": " + data->note);
    constexpr std::int64_t kBatch = 500;
    for (std::int64_t first = 0; first < data->size(); first += kBatch) {
        if (progress && !progress("classifying", double(first) / double(data->size())))
            return fail("cancelled");
        const auto end = std::min(data->size(), first + kBatch);
        torch::NoGradGuard noGrad;
        auto predicted = run->model->classify(data->x.slice(0, first, end)).argmax(1).contiguous();
        auto truth = data->y.slice(0, first, end).contiguous();
        for (std::int64_t i = 0; i < end - first; ++i) {
            result.predictions.push_back(int(predicted[i].item<std::int64_t>()));
            result.labels.push_back(int(truth[i].item<std::int64_t>()));
        }
    }
    result.count = data->size();
    std::int64_t hits = 0;
    for (std::size_t i = 0; i < result.labels.size(); ++i)
        hits += result.labels[i] == result.predictions[i];
    result.accuracy = double(hits) / double(result.count);
    result.confusion = confusionOf(result.labels, result.predictions, data->numClasses());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.seconds = seconds;
    result.imagesPerSecond = seconds > 0 ? double(result.count) / seconds : 0;
    if (r.out.empty()) return result;
    std::error_code ec;
    fs::create_directories(r.out, ec);
    if (ec) return fail(r.out.string() + ": cannot create the folder (" + ec.message() + ")");
    writeResultCharts(result);
    json extra{
        {"run", fs::absolute(r.run).lexically_normal().string()},
        {"dataset", {{"source", r.data.source}, {"split", r.data.split}, {"limit", r.data.limit}}}};
    if (auto ok = writeResult(result, extra); !ok) return tl::unexpected(ok.error());
    return result;
}

}  // namespace ll
