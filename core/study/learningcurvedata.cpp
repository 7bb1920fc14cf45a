#include "study/learningcurvedata.h"

#include <algorithm>

#include <torch/torch.h>

#include "data/loader.h"
#include "eval/agreement.h"
#include "eval/extractorchoice.h"
#include "eval/features.h"
#include "models/catalog.h"
#include "run/runloader.h"
#include "study/heldout.h"
#include "study/trainon.h"

namespace ll::learningcurve {
namespace fs = std::filesystem;
using torch::Tensor;

Result<Prepared> prepare(const LearningCurveRequest& r, const LearningCurveProgressFn& progress) {
    Prepared p;
    DatasetSpec spec = r.data;
    spec.seed = r.seed;
    auto data = loadDataset(spec);
    if (!data) return tl::unexpected(data.error());
    const auto counts = data->classCounts();
    if (std::count_if(counts.begin(), counts.end(), [](auto n) { return n > 0; }) < 2)
        return fail(spec.source + ": one class only; a classifier needs at least two");
    const bool tabular = data->modality == Modality::Tabular;
    p.features = r.features.value_or(tabular ? CurveFeatures::Columns : CurveFeatures::Extractor);
    if (p.features == CurveFeatures::Columns && !tabular)
        return fail(spec.source + ": columns are a CSV's features; use pixels or extractor");
    if (p.features == CurveFeatures::Pixels && tabular)
        return fail(spec.source + ": a table has no pixels; use columns");
    if (std::count(r.methods.begin(), r.methods.end(), "cnn") && tabular)
        return fail("cnn: the CNN classifier learns from images; " + spec.source + " is a table");

    auto part = splitOffHeldOut(spec, std::move(*data), r.heldOutFraction, r.heldOutLimit, r.seed);
    if (!part) return tl::unexpected(part.error());
    p.train = std::move(part->train);
    p.held = std::move(part->held);
    p.heldOutText = std::move(part->text);
    p.heldSpec = std::move(part->heldSpec);
    p.heldRows = std::move(part->heldRows);
    p.heldOutSplit = part->otherSplit;

    std::unique_ptr<GenerativeModel> extractor;
    if (p.features == CurveFeatures::Extractor) {
        auto choice = chooseExtractor(r.extractor, p.train.name, r.workspace);
        if (!choice) return tl::unexpected(choice.error());
        auto opened = loadRun(choice->dir);
        if (!opened) return fail("extractor: " + opened.error().message);
        const auto& s = opened->model->shape();
        const auto& x = p.train.x;
        const bool fits =
            tabular ? s.features == x.size(1)
                    : s.channels == x.size(1) && s.height == x.size(2) && s.width == x.size(3);
        if (opened->model->generates() || !fits)
            return fail("extractor: " + choice->dir.string() + " is no classifier of " +
                        spec.source + "'s shape");
        extractor = std::move(opened->model);
        p.extractorDir = fs::absolute(choice->dir).lexically_normal().string();
        p.extractorKey = choice->info ? choice->info->sha256 : "";
    }
    const auto report = [&](double base) {
        return [&, base](double f) { return !progress || progress("features", base + f / 2); };
    };
    auto trainX = extractFeatures(extractor.get(), p.train.x, report(0));
    if (!trainX) return tl::unexpected(trainX.error());
    auto heldX = extractFeatures(extractor.get(), p.held.x, report(0.5));
    if (!heldX) return tl::unexpected(heldX.error());
    p.trainX = *trainX;
    p.heldX = *heldX;
    return p;
}

FeatureMatrix matrixOf(const Tensor& t) {
    const Tensor f = t.to(torch::kFloat).contiguous();
    FeatureMatrix m{.rows = f.size(0), .cols = f.size(1)};
    m.values.assign(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
    return m;
}

std::vector<int> labelsOf(const Tensor& y) {
    const Tensor l = y.to(torch::kInt32).contiguous();
    return {l.data_ptr<int>(), l.data_ptr<int>() + l.numel()};
}

Result<double> fitCnn(const LearningCurveRequest& r, const Prepared& p, const Tensor& idx,
                      std::uint64_t seed, const fs::path& work,
                      const std::function<bool(double)>& progress) {
    torch::AutoGradMode grad(true);  // the study's loop runs without gradients
    const ModelPreset* preset = findPreset(r.cnnPreset.empty() ? "classifier-cpu" : r.cnnPreset);
    if (!preset || preset->model != "classifier")
        return fail("cnn: \"" + r.cnnPreset + "\" is no preset of the classifier model");
    const auto steps = std::clamp<std::int64_t>(
        static_cast<std::int64_t>(std::llround(r.cnnStepsPerRow * idx.size(0))), r.cnnMinSteps,
        r.cnnMaxSteps);
    auto run = trainAndLoad(p.train.subset(idx),
                            {.preset = preset->name,
                             .steps = steps,
                             .batch = static_cast<int>(r.cnnBatch),
                             .seed = seed,
                             .work = work},
                            progress);
    Result<double> accuracy = fail("");
    if (!run) {
        accuracy = run.error().message == "cancelled" ? fail("cancelled")
                                                      : fail("cnn: " + run.error().message);
    } else {
        auto a = classifierAccuracy(*run->model, p.held);
        accuracy = a ? Result<double>(a->accuracy) : tl::unexpected(a.error());
    }
    std::error_code ec;
    fs::remove_all(work, ec);
    return accuracy;
}

}  // namespace ll::learningcurve
