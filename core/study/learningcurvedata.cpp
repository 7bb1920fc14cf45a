#include "study/learningcurvedata.h"

#include <algorithm>
#include <stop_token>

#include <torch/torch.h>

#include "common/atomicfile.h"
#include "data/loader.h"
#include "eval/agreement.h"
#include "eval/extractorchoice.h"
#include "eval/features.h"
#include "models/catalog.h"
#include "run/runloader.h"
#include "train/trainer.h"

namespace ll::learningcurve {
namespace fs = std::filesystem;
using torch::Tensor;

namespace {

// A stratified fraction of every class, drawn with `seed`.
std::pair<Tensor, Tensor> stratifiedSplit(const Tensor& y, int classes, double fraction,
                                          std::uint64_t seed) {
    auto g = at::detail::createCPUGenerator(seed);
    std::vector<Tensor> keep, held;
    for (int k = 0; k < classes; ++k) {
        const Tensor idx = torch::nonzero(y == k).squeeze(1);
        const Tensor perm = idx.index_select(0, torch::randperm(idx.size(0), g, torch::kInt64));
        const auto n = static_cast<std::int64_t>(std::llround(fraction * idx.size(0)));
        held.push_back(perm.slice(0, 0, n));
        keep.push_back(perm.slice(0, n));
    }
    return {std::get<0>(torch::cat(keep).sort()), std::get<0>(torch::cat(held).sort())};
}

}  // namespace

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

    Tensor heldRows;
    if (auto held = loadHeldOut(spec)) {
        p.train = std::move(*data);
        p.held = std::move(*held);
        p.heldOutText = "the " + std::string(spec.split == "test" ? "train" : "test") + " split";
        // As loadHeldOut reads it: the other split, whole.
        p.heldSpec = spec;
        p.heldSpec.split = spec.split == "test" ? "train" : "test";
        p.heldSpec.limit = 0;
        p.heldSpec.longTailRatio = 1.0;
        p.heldOutSplit = true;
        heldRows = torch::arange(p.held.size(), torch::kInt64);
    } else {
        auto [keepRows, split] =
            stratifiedSplit(data->y, data->numClasses(), r.heldOutFraction, r.seed);
        p.train = data->subset(keepRows);
        p.held = data->subset(split);
        p.heldSpec = spec;
        heldRows = split;
        p.heldOutText = "a stratified " +
                        std::to_string(static_cast<int>(std::lround(100 * r.heldOutFraction))) +
                        "% of the rows";
    }
    if (r.heldOutLimit > 0 && p.held.size() > r.heldOutLimit) {
        auto g = at::detail::createCPUGenerator(r.seed);
        const Tensor pick = torch::randperm(p.held.size(), g, torch::kInt64);
        const Tensor kept = std::get<0>(pick.slice(0, 0, r.heldOutLimit).sort());
        p.held = p.held.subset(kept);
        heldRows = heldRows.index_select(0, kept);
    }
    const Tensor rows = heldRows.contiguous();
    p.heldRows.assign(rows.data_ptr<std::int64_t>(), rows.data_ptr<std::int64_t>() + rows.numel());
    if (p.held.size() < 1) return fail(spec.source + ": no held-out rows to score on");

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

namespace {

// An IDX file of unsigned bytes: the CNN's training subset, for the Trainer to load.
Result<void> writeIdx(const fs::path& file, const Tensor& bytes) {
    std::string out{'\0', '\0', '\x08', static_cast<char>(bytes.dim())};
    for (auto d : bytes.sizes())
        for (int shift = 24; shift >= 0; shift -= 8)
            out.push_back(static_cast<char>((d >> shift) & 0xff));
    const Tensor b = bytes.contiguous();
    out.append(reinterpret_cast<const char*>(b.data_ptr<std::uint8_t>()), b.numel());
    return writeFileAtomic(file, out);
}

}  // namespace

Result<double> fitCnn(const LearningCurveRequest& r, const Prepared& p, const Tensor& idx,
                      std::uint64_t seed, const fs::path& work,
                      const std::function<bool(double)>& progress) {
    torch::AutoGradMode grad(true);  // the study's loop runs without gradients
    std::error_code ec;
    fs::remove_all(work, ec);
    fs::create_directories(work / "data", ec);
    const Tensor x = p.train.x.index_select(0, idx);
    const Tensor images = (x.permute({0, 2, 3, 1}) * 255).round().clamp(0, 255).to(torch::kUInt8);
    const fs::path file = work / "data" / "train-images-idx3-ubyte";
    if (auto ok = writeIdx(file, x.size(1) == 1 ? images.squeeze(3) : images); !ok)
        return tl::unexpected(ok.error());
    if (auto ok = writeIdx(work / "data" / "train-labels-idx1-ubyte",
                           p.train.y.index_select(0, idx).to(torch::kUInt8));
        !ok)
        return tl::unexpected(ok.error());
    const ModelPreset* preset = findPreset(r.cnnPreset.empty() ? "classifier-cpu" : r.cnnPreset);
    if (!preset || preset->model != "classifier")
        return fail("cnn: \"" + r.cnnPreset + "\" is no preset of the classifier model");
    const auto steps = std::clamp<std::int64_t>(
        static_cast<std::int64_t>(std::llround(r.cnnStepsPerRow * idx.size(0))), r.cnnMinSteps,
        r.cnnMaxSteps);
    TrainConfig config{.dataset = {.source = file.string(), .seed = seed},
                       .model = "classifier",
                       .preset = preset->name,
                       .settings = preset->settings,
                       .steps = steps,
                       .learningRate = preset->learningRate,
                       .batchSize = static_cast<int>(r.cnnBatch),
                       .seed = seed,
                       .logEvery = 10,
                       .sampleEvery = static_cast<int>(steps),
                       .checkpointEvery = static_cast<int>(steps),
                       .runDir = work / "run"};
    std::stop_source stop;
    Trainer trainer(config, [&](const TrainEvent& event) {
        if (auto* e = std::get_if<TrainProgress>(&event))
            if (progress && !progress(static_cast<double>(e->step) / steps)) stop.request_stop();
    });
    const TrainFinished done = trainer.run(stop.get_token());
    Result<double> accuracy = fail(
        done.outcome == TrainFinished::Outcome::Cancelled ? "cancelled" : "cnn: " + done.message);
    if (done.outcome == TrainFinished::Outcome::Completed) {
        auto run = loadRun(work / "run");
        auto a = run ? classifierAccuracy(*run->model, p.held) : tl::unexpected(run.error());
        accuracy = a ? Result<double>(a->accuracy) : tl::unexpected(a.error());
    }
    fs::remove_all(work, ec);
    return accuracy;
}

}  // namespace ll::learningcurve
