#include "export/exportcontext.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "common/sha256.h"
#include "data/loader.h"
#include "eval/extractorchoice.h"
#include "eval/features.h"
#include "eval/metrics.h"

namespace ll::exporting {
namespace fs = std::filesystem;
using torch::Tensor;

namespace {
constexpr std::int64_t kThresholdRows = 2000;  // held-out images that set the copy threshold
}  // namespace

namespace {

bool needsClassifier(const ExportRequest& r, bool conditional) {
    return r.card || r.minConfidence > 0 || r.dropCopies || !conditional;
}

}  // namespace

Result<Context> openContext(const ExportRequest& r, bool withClassifier) {
    auto run = loadRun(r.run, r.step);
    if (!run) return tl::unexpected(run.error());
    // A dataset from older weights than the user thinks is worse than none: name the fault
    // and let them ask for the older checkpoint.
    if (!run->warning.empty())
        return fail(run->warning + ". Export that one with --checkpoint " +
                    std::to_string(run->step) + ", or train the run on");
    Context c{.request = r, .run = std::move(*run)};
    GenerativeModel& model = *c.run.model;
    if (!model.generates())
        return fail(r.run.string() + " is a " + model.name() + " run: it has nothing to export");
    const ModelInfo* info = findModel(model.name());
    c.conditional = info && info->conditional;
    const auto& shape = model.shape();
    if (shape.tabular() != (r.format == ExportFormat::Csv))
        return fail(shape.tabular()
                        ? r.run.string() + " generates table rows: export them as csv"
                        : r.run.string() + " generates images: export png, idx or npy, not csv");
    if (r.gzip && r.format != ExportFormat::Idx) return fail("gzip applies to idx files only");
    for (int k : r.classes)
        if (k < 0 || k >= shape.numClasses)
            return fail("no class " + std::to_string(k) + ": the run has classes 0.." +
                        std::to_string(shape.numClasses - 1));
    for (auto [k, w] : r.proportions) {
        if (k < 0 || k >= shape.numClasses)
            return fail("no class " + std::to_string(k) +
                        " in the proportions: the run has "
                        "classes 0.." +
                        std::to_string(shape.numClasses - 1));
        if (!(w >= 0)) return fail("class proportions must not be negative");
    }
    if (!r.proportions.empty() && (r.total < 1 || r.total > 10000000))
        return fail("proportions need a total count in 1..10000000");
    if (r.proportions.empty() && (r.perClass < 1 || r.perClass > 1000000))
        return fail("the count per class must lie in 1..1000000");
    if (r.minConfidence < 0 || r.minConfidence > 1)
        return fail("the minimum confidence must lie in 0..1");
    if (r.batch < 1 || r.batch > 10000) return fail("the draw batch must lie in 1..10000");
    if (!(r.maxDrawFactor >= 1)) return fail("the draw limit factor must be at least 1");
    const fs::path checkpoint = runfiles::checkpoint(r.run, c.run.step);
    auto sha = sha256File(checkpoint);
    if (!sha) return tl::unexpected(sha.error());
    c.checkpointSha = *sha;
    if (!r.guidingClassifier.empty()) {
        auto guide = loadRun(r.guidingClassifier);
        if (!guide) return fail("classifier: " + guide.error().message);
        c.guide = std::make_unique<LoadedRun>(std::move(*guide));
    }
    if (!withClassifier || !needsClassifier(r, c.conditional)) return c;

    const fs::path workspace = workspaceOfRun(r.run, r.workspace);
    // Why a classifier is needed and how to get one, for every way of not having it.
    const auto how = [&](const std::string& what) {
        const std::string why = !c.conditional        ? "to sort an unconditional model's samples"
                                : r.minConfidence > 0 ? "for the confidence filter"
                                : r.dropCopies        ? "for the near-copy filter"
                                                      : "for the dataset card's metrics";
        return fail(what + ". A domain classifier is needed " + why +
                    ": train one with `latentlab-cli train-extractor --dataset " +
                    c.run.config.dataset.source + "`" +
                    (r.card ? " or export with --no-card" : ""));
    };
    auto choice = chooseExtractor(r.extractor, c.run.data.datasetName, workspace);
    if (!choice) return how(choice.error().message);
    auto opened = loadRun(choice->dir);
    if (!opened) return how("extractor: " + opened.error().message);
    const auto& theirs = opened->model->shape();
    if (opened->model->generates() || theirs.numClasses != shape.numClasses ||
        theirs.channels != shape.channels || theirs.height != shape.height ||
        theirs.width != shape.width || theirs.features != shape.features)
        return fail("extractor: " + choice->dir.string() + " is no classifier of the run's data");
    c.classifier = std::move(opened->model);
    c.extractorDir = fs::absolute(choice->dir).lexically_normal().string();
    if (choice->info) {
        c.extractorKey = choice->info->sha256;
    } else if (auto latest = latestCheckpoint(choice->dir)) {
        auto sum = sha256File(latest->second);
        if (!sum) return tl::unexpected(sum.error());
        c.extractorKey = *sum;
    }
    return c;
}

Result<void> prepareCopies(Context& c, const ExportProgressFn& progress) {
    if (!c.classifier) return {};
    auto train = loadDataset(c.run.config.dataset);
    if (!train) return tl::unexpected(train.error());
    auto features = cachedFeatures(c.classifier.get(), c.extractorKey, train->x,
                                   [&](double f) { return !progress || progress("loading", f); });
    if (!features) return tl::unexpected(features.error());
    c.trainFeatures = *features;
    c.copyDistance = c.request.copyDistance;
    c.copyReference = "given";
    if (std::isnan(c.copyDistance)) {
        // The 1st percentile of real unseen images' distances to their nearest training image:
        // a sample closer than that sits closer to the training set than real data does. Data
        // without a held-out split (a table, a folder of classes, one IDX file) measures its
        // training rows against the others instead (leave one out).
        const bool unseen = hasSplits(c.run.config.dataset.source);
        Result<Dataset> heldOut = fail("");
        if (unseen) {
            heldOut = loadHeldOut(c.run.config.dataset, *train);
            if (!heldOut) return tl::unexpected(heldOut.error());  // a split that fails to read
        }
        const Tensor& from = unseen ? heldOut->x : train->x;
        if (from.size(0) < 2)
            return fail(
                "the near-copy threshold needs two samples or more to measure; give it "
                "with --copy-distance");
        const auto n = std::min(kThresholdRows, from.size(0));
        auto g = at::detail::createCPUGenerator(0);
        const Tensor picked = torch::randperm(from.size(0), g, torch::kInt64).slice(0, 0, n);
        Tensor features;
        if (unseen) {
            auto f = extractFeatures(c.classifier.get(), from.index_select(0, picked));
            if (!f) return tl::unexpected(f.error());
            features = *f;
        } else {
            features = c.trainFeatures.index_select(0, picked);
        }
        // Leaving one out: a training row's nearest is itself, its second the nearest other.
        auto nearest = nearestNeighbours(features, c.trainFeatures, unseen ? 1 : 2);
        if (!nearest) return tl::unexpected(nearest.error());
        Tensor distances = nearest->distances.select(1, unseen ? 0 : 1).to(torch::kFloat64);
        // A table's repeated rows are 0 apart: the data's own copies, not a measure of how near
        // distinct rows lie (with 1 % of them the threshold would be 0 and drop nothing).
        if (!unseen && (distances > 0).any().item<bool>())
            distances = distances.masked_select(distances > 0);
        c.copyDistance = distances.quantile(0.01).item<double>();
        c.copyReference = unseen ? "held-out" : "training (leave one out)";
    }
    return {};
}

std::vector<Target> targets(const Context& c) {
    const ExportRequest& r = c.request;
    const int classes = c.run.model->shape().numClasses;
    std::vector<Target> out;
    if (!r.proportions.empty()) {
        double sum = 0;
        for (auto [k, w] : r.proportions) sum += w;
        std::int64_t given = 0;
        for (std::size_t i = 0; i < r.proportions.size(); ++i) {
            const auto [k, w] = r.proportions[i];
            // The last class takes what rounding left, so the counts add up to the total.
            std::int64_t n = i + 1 == r.proportions.size()
                                 ? r.total - given
                                 : std::llround(double(r.total) * (sum > 0 ? w / sum : 0));
            n = std::max<std::int64_t>(0, std::min(n, r.total - given));
            given += n;
            if (n > 0) out.push_back({.label = k, .want = n});
        }
    } else {
        for (int k = 0; k < classes; ++k)
            if (r.classes.empty() || std::ranges::find(r.classes, k) != r.classes.end())
                out.push_back({.label = k, .want = r.perClass});
    }
    for (auto& t : out) {
        if (r.capPerClass > 0) t.want = std::min(t.want, r.capPerClass);
        // An unconditional model draws a class about once in `classes` draws: its limit is
        // what the class would take if every class came equally often.
        const double perSample = c.conditional ? 1.0 : double(classes);
        t.limit =
            static_cast<std::int64_t>(std::ceil(r.maxDrawFactor * perSample * double(t.want)));
    }
    return out;
}

Result<Judged> judge(const Context& c, const Tensor& samples, Tensor labels) {
    Judged j;
    const bool images = !c.run.model->shape().tabular();
    j.stored = images ? samples.mul(255.0).round().clamp(0, 255).to(torch::kUInt8)
                      : samples.to(torch::kFloat32);
    const auto n = samples.size(0);
    j.confidence.assign(static_cast<std::size_t>(n), kNaN);
    j.distance.assign(static_cast<std::size_t>(n), kNaN);
    j.nearest.assign(static_cast<std::size_t>(n), -1);
    if (c.classifier) {
        // Judged as stored: the dataset's bytes, not the model's floats.
        const Tensor x = images ? j.stored.to(torch::kFloat32).div(255.0) : j.stored;
        try {
            torch::NoGradGuard noGrad;
            const Tensor p = torch::softmax(c.classifier->classify(x).to(torch::kFloat32), 1);
            if (!c.conditional) labels = p.argmax(1);
            const auto conf = p.gather(1, labels.view({-1, 1})).view(-1).to(torch::kFloat64);
            for (std::int64_t i = 0; i < n; ++i)
                j.confidence[std::size_t(i)] = conf[i].item<double>();
        } catch (const std::exception& e) {
            return fail("classifier: " + firstLine(e));
        }
        auto f = extractFeatures(c.classifier.get(), x);
        if (!f) return tl::unexpected(f.error());
        auto nearest = nearestNeighbours(*f, c.trainFeatures, 1);
        if (!nearest) return tl::unexpected(nearest.error());
        const auto d = nearest->distances.select(1, 0).to(torch::kFloat64);
        const auto k = nearest->indices.select(1, 0).to(torch::kInt64);
        for (std::int64_t i = 0; i < n; ++i) {
            j.distance[std::size_t(i)] = d[i].item<double>();
            j.nearest[std::size_t(i)] = k[i].item<std::int64_t>();
        }
    }
    j.labels = labels;
    return j;
}

std::string verdict(const Context& c, const Judged& j, std::size_t i, const Target* t) {
    const ExportRequest& r = c.request;
    if (r.minConfidence > 0 && !(j.confidence[i] >= r.minConfidence)) return "confidence";
    if (r.dropCopies && j.distance[i] < c.copyDistance) return "copy";
    if (!t || t->kept >= t->want) return "cap";
    return "";
}

Result<void> checkTarget(const ExportRequest& r) {
    if (r.out.empty()) return fail("name the folder to export into");
    std::error_code ec;
    if (fs::exists(r.out, ec)) {
        if (!fs::is_directory(r.out, ec))
            return fail(r.out.string() + " exists and is not a folder");
        if (!fs::is_empty(r.out, ec) && !r.force)
            return fail(r.out.string() +
                        " is not empty: choose another folder or replace it "
                        "(--force)");
    }
    return {};
}

}  // namespace ll::exporting
