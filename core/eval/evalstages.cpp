#include "eval/evalstages.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>

#include <torch/torch.h>

#include "common/atomicfile.h"
#include "common/cpu.h"
#include "common/sha256.h"
#include "data/loader.h"
#include "eval/extractor.h"
#include "eval/extractorchoice.h"
#include "eval/features.h"
#include "eval/trtrcache.h"
#include "image/grid.h"
#include "run/runloader.h"

namespace ll::evalstages {
namespace fs = std::filesystem;
using nlohmann::json;
using torch::Tensor;

namespace {

constexpr std::int64_t kBatch = 250;
constexpr int kNeighbours = 3;  // training images shown beside each sample
constexpr int kCellPairs = 4;   // (sample, neighbour) pairs per data-copying cell
constexpr std::int64_t kMapPoints = 3000;

double scalar(const Tensor& t) {
    return t.item<double>();
}

struct Stage {
    const EvalProgressFn& progress;
    std::string name;
    bool operator()(double fraction) const { return !progress || progress(name, fraction); }
};

/// `count` samples and their classes, drawn as every score draws them (drawSampleBatches).
Result<std::pair<Tensor, Tensor>> drawSamples(GenerativeModel& generator, SampleRequest request,
                                              std::int64_t count, const Stage& stage) {
    std::vector<Tensor> images, classes;
    auto done = drawSampleBatches(generator, std::move(request), count, kBatch,
                                  [&](const Tensor& samples, const Tensor& labels, double f) {
                                      images.push_back(samples);
                                      classes.push_back(labels);
                                      return Result<bool>(stage(f));
                                  });
    if (!done) return tl::unexpected(done.error());
    return std::pair{torch::cat(images), torch::cat(classes)};
}

Result<Tensor> logitsOf(GenerativeModel& classifier, const Tensor& x) {
    std::vector<Tensor> parts;
    try {
        for (std::int64_t start = 0; start < x.size(0); start += kBatch)
            parts.push_back(classifier.classify(x.slice(0, start, start + kBatch)));
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    return torch::cat(parts).to(torch::kFloat32);
}

Tensor seededPermutation(std::int64_t n, std::uint64_t seed) {
    auto generator = at::detail::createCPUGenerator(seed);
    return torch::randperm(n, generator, torch::kInt64);
}

/// Trains a fresh classifier on (x, y) and returns its accuracy on (testX, testY): the
/// train-on-synthetic / train-on-real test.
Result<double> trainedAccuracy(const ModelShape& shape, const Tensor& x, const Tensor& y,
                               const Tensor& testX, const Tensor& testY, std::int64_t steps,
                               std::uint64_t seed, const Stage& stage) {
    torch::manual_seed(seed);
    auto model = createModel("classifier", shape, {{"lr", "0.001"}});
    if (!model) return tl::unexpected(model.error());
    auto generator = at::detail::createCPUGenerator(seed);
    for (std::int64_t s = 0; s < steps; ++s) {
        const auto rows = torch::randint(x.size(0), {std::min<std::int64_t>(128, x.size(0))},
                                         generator, torch::kInt64);
        (*model)->trainStep(x.index_select(0, rows), y.index_select(0, rows));
        if (s % 20 == 0 && !stage(double(s) / double(steps))) return fail("cancelled");
    }
    auto logits = logitsOf(**model, testX);
    if (!logits) return tl::unexpected(logits.error());
    return scalar(logits->argmax(1).eq(testY).to(torch::kFloat64).mean());
}

/// The two leading principal axes of x (rows centred on `mean`): F x 2.
Tensor principalAxes(const Tensor& x, const Tensor& mean) {
    const auto centred = x.to(torch::kFloat64) - mean;
    const auto covariance =
        centred.t().mm(centred) / double(std::max<std::int64_t>(1, x.size(0) - 1));
    const auto [values, vectors] = torch::linalg_eigh(covariance, "L");
    return vectors.slice(1, vectors.size(1) - 2).flip({1});  // eigh sorts ascending
}

std::string fileStem(std::int64_t step, double guidance) {
    char name[64];
    std::snprintf(name, sizeof name, "step-%06lld-g%g", static_cast<long long>(step), guidance);
    return name;
}

std::vector<double> toDoubles(const Tensor& t) {
    const auto c = t.to(torch::kFloat64).contiguous();
    return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}
std::vector<std::int64_t> toInts(const Tensor& t) {
    const auto c = t.to(torch::kInt64).contiguous();
    return {c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel()};
}

json scoreJson(double value, std::optional<double> floor = {}, std::optional<double> sd = {}) {
    json j{{"value", value}};
    if (floor) j["floor"] = *floor;
    if (sd) j["std"] = *sd;
    return j;
}

bool sameShape(const ModelShape& a, const ModelShape& b) {
    return a.channels == b.channels && a.height == b.height && a.width == b.width &&
           a.features == b.features;
}

/// The extractor's folder and the SHA-256 of its weights where its extractor.json names it:
/// options.extractor, else the dataset's own (workspace first, then shipped). An empty folder
/// (no extractor found) is only fine for pixels.
Result<std::pair<fs::path, std::string>> locateExtractor(const Evaluation& e) {
    const EvalOptions& o = e.options;
    auto choice =
        chooseExtractor(o.extractor, e.data.datasetName, workspaceOfRun(e.runDir, o.workspace));
    if (!choice) {
        // Raw pixels need no extractor: the dataset having none is no error then.
        if (o.pixels && o.extractor.empty()) return std::pair{fs::path(), std::string()};
        return tl::unexpected(choice.error());
    }
    return std::pair{choice->dir, choice->info ? choice->info->sha256 : std::string()};
}

}  // namespace

bool Evaluation::wants(const std::string& metric) const {
    return std::find(metrics.begin(), metrics.end(), metric) != metrics.end();
}

bool Evaluation::needsClassifier() const {
    return !options.pixels || std::ranges::any_of(metrics, metricNeedsClassifier);
}

bool Evaluation::report(const std::string& stage, double fraction) const {
    return Stage{progress, stage}(fraction);
}

void Evaluation::note(const std::string& metric, const std::string& message) {
    record["errors"][metric] = message;
}

// ---- The run, the classifier, the real data, the samples ----

Result<void> readRun(Evaluation& e) {
    auto data = readRunData(e.runDir);
    if (!data) return tl::unexpected(data.error());
    e.data = std::move(*data);
    if (!e.generator.generates())
        return fail(e.runDir.string() + " is a " + e.generator.name() +
                    " run; evaluation scores the samples of a generator");
    e.shape = e.generator.shape();
    e.images = !e.shape.tabular();
    applyThreadSettings(e.images ? Workload::Conv : Workload::Mlp);
    // Agreement and TSTR ask whether samples are of the class they were drawn for: an
    // unconditional model draws for no class.
    const ModelInfo* info = findModel(e.generator.name());
    e.conditional = info && info->conditional;
    return {};
}

Result<void> openClassifier(Evaluation& e) {
    auto located = locateExtractor(e);
    if (!located) return tl::unexpected(located.error());
    auto [dir, sha] = std::move(*located);
    if (!dir.empty()) {
        auto opened = loadRun(dir);
        if (!opened) return fail("extractor: " + opened.error().message);
        if (opened->model->generates() || opened->model->classifiesNoisy())
            return fail("extractor: " + dir.string() + " is a " + opened->model->name() +
                        " run, not a clean classifier");
        if (!sameShape(opened->model->shape(), e.shape) ||
            opened->model->shape().numClasses != e.shape.numClasses)
            return fail("extractor: " + dir.string() + " was trained on other data (" +
                        opened->data.datasetName + ") than the run's " + e.data.datasetName);
        if (sha.empty()) {
            auto latest = latestCheckpoint(dir);
            if (!latest) return tl::unexpected(latest.error());
            auto sum = sha256File(latest->second);
            if (!sum) return tl::unexpected(sum.error());
            sha = *sum;
        }
        e.extractor = {{"dir", fs::absolute(dir).lexically_normal().string()},
                       {"dataset", opened->data.datasetName},
                       {"step", opened->step},
                       {"sha256", sha}};
        e.classifier = std::move(opened->model);
    }
    if (!e.classifier)
        for (const auto& m : evalMetricNames())
            if (metricNeedsClassifier(m) && e.wants(m)) {
                if (!e.options.metrics.empty())  // asked for by name
                    return fail("metric '" + m + "' needs a classifier (an extractor)");
                std::erase(e.metrics, m);
                e.leftOut.push_back(m);
            }
    e.featureModel = e.options.pixels ? nullptr : e.classifier.get();
    return {};
}

// The real data training did not see: the user's (read as the run's data was), else the
// data's own other split.
static Result<Dataset> heldOutData(const Evaluation& e, const TrainConfig& config) {
    if (e.options.heldOut.source.empty()) return loadHeldOut(config.dataset, e.train);
    DatasetSpec spec = e.options.heldOut;
    if (spec.labelColumn.empty()) spec.labelColumn = config.dataset.labelColumn;
    return loadForRun(spec, config, e.data);
}

Result<void> loadRealData(Evaluation& e) {
    auto config = readRunConfig(e.runDir);
    if (!config) return tl::unexpected(config.error());
    auto train = loadDataset(config->dataset);
    if (!train) return fail("evaluation: " + train.error().message);
    if (train->classNames != e.data.classNames)
        return fail("evaluation: " + config->dataset.source +
                    " now has other classes than when the run was trained");
    e.train = std::move(*train);
    auto heldOut = heldOutData(e, *config);
    if (!heldOut && !e.options.heldOut.source.empty())
        return fail("evaluation: held-out data: " + heldOut.error().message);
    e.haveHeldOut = heldOut.has_value();
    if (!heldOut) e.heldOutError = heldOut.error().message;
    if (heldOut && !e.options.heldOut.source.empty()) e.heldOutNote = heldOut->note;

    const std::int64_t count = e.options.count;
    const std::uint64_t seed = e.options.request.seed;
    e.trainOrder = seededPermutation(e.train.size(), seed);
    if (e.haveHeldOut) {
        const auto n = std::min(count, heldOut->size());
        e.reference = heldOut->subset(seededPermutation(heldOut->size(), seed).slice(0, 0, n));
        e.floorSet = e.train.subset(e.trainOrder.slice(0, 0, std::min(n, e.train.size())));
    } else {
        // Two disjoint halves of the training data: one the reference, one the floor.
        const auto n = std::min(count, e.train.size() / 2);
        if (n < 2) return fail("evaluation needs at least 4 training samples");
        e.reference = e.train.subset(e.trainOrder.slice(0, 0, n));
        e.floorSet = e.train.subset(e.trainOrder.slice(0, n, 2 * n));
    }
    return {};
}

Result<void> drawGenerated(Evaluation& e) {
    if (e.givenSamples.defined()) {
        e.generated = e.givenSamples;
        e.labels = e.givenLabels;
        return {};
    }
    auto drawn =
        drawSamples(e.generator, e.options.request, e.options.count, Stage{e.progress, "sampling"});
    if (!drawn) return tl::unexpected(drawn.error());
    e.generated = drawn->first;
    e.labels = drawn->second;
    return {};
}

// ---- Features ----

Result<void> realAndGeneratedFeatures(Evaluation& e) {
    auto fG = extractFeatures(e.featureModel, e.generated);
    if (!fG) return tl::unexpected(fG.error());
    auto fR = extractFeatures(e.featureModel, e.reference.x);
    if (!fR) return tl::unexpected(fR.error());
    auto fF = extractFeatures(e.featureModel, e.floorSet.x);
    if (!fF) return tl::unexpected(fF.error());
    e.fG = *fG, e.fR = *fR, e.fF = *fF;
    return {};
}

Result<void> trainingFeatures(Evaluation& e) {
    const Stage featureStage{e.progress, "features"};
    const std::string extractorKey =
        e.extractor.is_null() ? std::string() : e.extractor.at("sha256").get<std::string>();
    auto all = cachedFeatures(e.featureModel, extractorKey, e.train.x,
                              [&](double f) { return featureStage(0.3 + 0.7 * f); });
    if (!all) return tl::unexpected(all.error());
    e.fT = *all;
    return {};
}

Result<void> classifierLogits(Evaluation& e) {
    auto g = logitsOf(*e.classifier, e.generated);
    if (!g) return tl::unexpected(g.error());
    auto r = logitsOf(*e.classifier, e.reference.x);
    if (!r) return tl::unexpected(r.error());
    e.lG = *g, e.lR = *r;
    return {};
}

// ---- The record and its scores ----

void startRecord(Evaluation& e) {
    const EvalOptions& o = e.options;
    const auto& request = o.request;
    e.record = {{"format", "latentlab-eval-1"},
                {"run", fs::absolute(e.runDir).lexically_normal().string()},
                {"model", e.generator.name()},
                {"step", e.step},
                {"count", o.count},
                {"seed", request.seed},
                {"guidance", request.guidance},
                {"temperature", request.temperature},
                {"truncation", request.truncation},
                {"sampling_steps", request.steps},
                {"sampler", request.sampler == Sampler::Ddim ? "ddim" : "ddpm"},
                {"feature_space", o.pixels ? "pixels" : "classifier"},
                {"samples_from", o.samplesFrom},
                {"extractor", e.extractor},
                {"reference",
                 {{"kind", e.haveHeldOut ? "held-out" : "train"},
                  {"unit", e.train.modality == Modality::Tabular ? "rows" : "images"},
                  {"source", o.heldOut.source.empty() ? json(nullptr) : json(o.heldOut.source)},
                  {"note", e.heldOutNote},
                  {"count", e.reference.size()},
                  {"floor_count", e.floorSet.size()},
                  {"train_count", e.train.size()}}},
                {"settings",
                 {{"k", o.k},
                  {"k_density", o.kDensity},
                  {"kid_subsets", o.kidSubsets},
                  {"kid_size", o.kidSize},
                  {"cells", o.cells},
                  {"tstr_steps", o.tstrSteps}}},
                {"metrics", e.metrics},
                {"scores", json::object()},
                {"errors", json::object()}};
    for (const auto& m : e.leftOut)
        e.note(m,
               "needs a classifier: raw pixels and no extractor (train one: latentlab-cli "
               "train-extractor)");
}

void scoreFid(Evaluation& e) {
    auto v = frechetDistance(e.fR, e.fG);
    auto f = frechetDistance(e.fR, e.fF);
    if (v && f)
        e.record["scores"]["fid"] = scoreJson(*v, *f);
    else
        e.note("fid", (!v ? v.error() : f.error()).message);
}

void scoreKid(Evaluation& e) {
    const KidConfig kc{.subsets = e.options.kidSubsets,
                       .subsetSize = e.options.kidSize,
                       .seed = e.options.request.seed};
    auto v = kernelInceptionDistance(e.fR, e.fG, kc);
    auto f = kernelInceptionDistance(e.fR, e.fF, kc);
    if (v && f)
        e.record["scores"]["kid"] = scoreJson(v->mean, f->mean, v->std);
    else
        e.note("kid", (!v ? v.error() : f.error()).message);
}

void scorePrecisionRecall(Evaluation& e) {
    auto v = precisionRecall(e.fR, e.fG, e.options.k);
    auto f = precisionRecall(e.fR, e.fF, e.options.k);
    if (!v || !f) {
        e.note("precision", (!v ? v.error() : f.error()).message);
        return;
    }
    auto& scores = e.record["scores"];
    if (e.wants("precision")) scores["precision"] = scoreJson(v->precision, f->precision);
    if (e.wants("recall")) scores["recall"] = scoreJson(v->recall, f->recall);
}

void scoreDensityCoverage(Evaluation& e) {
    auto v = densityCoverage(e.fR, e.fG, e.options.kDensity);
    auto f = densityCoverage(e.fR, e.fF, e.options.kDensity);
    if (!v || !f) {
        e.note("density", (!v ? v.error() : f.error()).message);
        return;
    }
    auto& scores = e.record["scores"];
    if (e.wants("density")) scores["density"] = scoreJson(v->density, f->density);
    if (e.wants("coverage")) scores["coverage"] = scoreJson(v->coverage, f->coverage);
}

void scoreInception(Evaluation& e) {
    auto v = inceptionScore(e.lG);
    auto f = inceptionScore(e.lR);
    if (v && f)
        e.record["scores"]["is"] = scoreJson(*v, *f);
    else
        e.note("is", (!v ? v.error() : f.error()).message);
}

void scoreAgreement(Evaluation& e) {
    if (!e.conditional) {
        e.note("agreement", "an unconditional model draws samples for no class");
        return;
    }
    // The floor is the classifier's own accuracy on the real reference: the agreement a
    // perfect conditional generator would get.
    e.record["scores"]["agreement"] =
        scoreJson(scalar(e.lG.argmax(1).eq(e.labels).to(torch::kFloat64).mean()),
                  scalar(e.lR.argmax(1).eq(e.reference.y).to(torch::kFloat64).mean()));
}

void countClasses(Evaluation& e) {
    const auto n = e.shape.numClasses;
    e.record["classes"] = {{"names", e.data.classNames},
                           {"generated", toInts(torch::bincount(e.lG.argmax(1), {}, n))},
                           {"real", toInts(torch::bincount(e.lR.argmax(1), {}, n))},
                           {"conditioned", toInts(torch::bincount(e.labels, {}, n))}};
}

// ---- Nearest neighbours and data copying ----

Result<void> makeEvalFolder(Evaluation& e) {
    e.stem = fileStem(e.step, e.options.request.guidance);
    e.dir = e.options.recordDir.empty() ? runfiles::evalDir(e.runDir) : e.options.recordDir;
    std::error_code ec;
    // Given samples never take the name of the run's own record, nor of an earlier one, and
    // are no step-* record: the run's lists, charts and sweeps hold its own draws only.
    if (!e.options.samplesFrom.empty()) {
        const std::string base = "samples-" + e.stem;
        e.stem = base;
        for (int k = 2; fs::exists(e.dir / (e.stem + ".json"), ec); ++k)
            e.stem = base + "-" + std::to_string(k);
    }
    fs::create_directories(e.dir, ec);
    if (ec) return fail(e.dir.string() + ": cannot create (" + ec.message() + ")");
    return {};
}

Result<void> findNearest(Evaluation& e) {
    auto n = nearestNeighbours(e.fG, e.fT, std::min<int>(kNeighbours, int(e.fT.size(0))));
    if (!n) return tl::unexpected(n.error());
    e.nearest = *n;
    return {};
}

Result<void> recordNeighbours(Evaluation& e) {
    const Nearest& nearest = e.nearest;
    auto r = nearestNeighbours(e.fR, e.fT, 1);
    if (!r) return tl::unexpected(r.error());
    const auto d = nearest.distances.select(1, 0);
    e.record["scores"]["nn_distance"] = scoreJson(
        scalar(d.median()),
        e.haveHeldOut ? std::optional(scalar(r->distances.select(1, 0).median())) : std::nullopt);
    const auto order = d.argsort();
    const auto rows = std::min<std::int64_t>(e.options.neighbourRows, order.size(0));
    json list = json::array();
    std::vector<Tensor> tiles;
    for (std::int64_t i = 0; i < rows; ++i) {
        const auto s = order[i].item<std::int64_t>();
        list.push_back({{"sample", s},
                        {"class", e.labels[s].item<std::int64_t>()},
                        {"train", toInts(nearest.indices[s])},
                        {"distances", toDoubles(nearest.distances[s])}});
        if (e.images) {
            tiles.push_back(e.generated[s].unsqueeze(0));
            tiles.push_back(e.train.x.index_select(0, nearest.indices[s]));
        }
    }
    auto& out = e.record["neighbours"];
    out = {{"rows", list}};
    if (e.images && !tiles.empty()) {
        const auto image = e.stem + "-neighbours.png";
        if (auto ok = writePng(makeGrid(torch::cat(tiles), 1 + int(nearest.indices.size(1))),
                               e.dir / image);
            !ok)
            return tl::unexpected(ok.error());
        out["image"] = image;
    }
    return {};
}

Result<void> testDataCopying(Evaluation& e) {
    if (!e.haveHeldOut) {
        e.note("ct", "needs held-out data: " + e.heldOutError);
        return {};
    }
    const DataCopyingConfig cc{.cells = e.options.cells};
    const Tensor& fT = e.fT;
    auto v = dataCopying(fT, e.fR, e.fG, cc);
    // The floor: half the held-out images against the other half, which no model saw.
    const auto half = e.fR.size(0) / 2;
    auto f = dataCopying(fT, e.fR.slice(0, 0, half), e.fR.slice(0, half), cc);
    if (!v) {
        e.note("ct", v.error().message);
        return {};
    }
    e.record["scores"]["ct"] = scoreJson(v->ct, f ? std::optional(f->ct) : std::nullopt);
    // The cells on the 2-D PCA map of the training features.
    const auto t64 = fT.to(torch::kFloat64);
    const auto mean = t64.mean(0);
    const auto axes = principalAxes(t64, mean);
    const auto centres = (v->centroids - mean).mm(axes);
    const auto cellOfT = torch::cdist(t64, v->centroids).argmin(1);
    const auto cellOfG = torch::cdist(e.fG.to(torch::kFloat64), v->centroids).argmin(1);
    const auto shown = seededPermutation(fT.size(0), e.options.request.seed)
                           .slice(0, 0, std::min(kMapPoints, fT.size(0)));
    const auto points = (t64.index_select(0, shown) - mean).mm(axes).to(torch::kFloat32);
    e.record["map"] = {{"x", toDoubles(points.select(1, 0))},
                       {"y", toDoubles(points.select(1, 1))},
                       {"cell", toInts(cellOfT.index_select(0, shown))}};
    // Each cell's generated samples closest to the training data, beside their neighbours.
    const Tensor& generated = e.generated;
    json cells = json::array();
    std::vector<Tensor> tiles;
    const auto d = e.nearest.distances.select(1, 0);
    for (const auto& c : v->cells) {
        const auto members = cellOfG.eq(c.id).nonzero().flatten();
        const auto take = std::min<std::int64_t>(kCellPairs, members.size(0));
        const auto closest =
            members.index_select(0, d.index_select(0, members).argsort().slice(0, 0, take));
        cells.push_back({{"id", c.id},
                         {"z", c.z},
                         {"kept", c.kept},
                         {"train", c.train},
                         {"test", c.test},
                         {"generated", c.generated},
                         {"x", scalar(centres[c.id][0])},
                         {"y", scalar(centres[c.id][1])},
                         {"samples", toInts(closest)},
                         {"distances", toDoubles(d.index_select(0, closest))}});
        if (!e.images) continue;
        std::vector<Tensor> row;
        for (std::int64_t i = 0; i < take; ++i) {
            const auto s = closest[i].item<std::int64_t>();
            row.push_back(generated[s].unsqueeze(0));
            row.push_back(e.train.x[e.nearest.indices[s][0].item<std::int64_t>()].unsqueeze(0));
        }
        for (auto i = take; i < kCellPairs; ++i)  // blank pairs keep rows aligned
            row.push_back(
                torch::zeros({2, generated.size(1), generated.size(2), generated.size(3)}));
        tiles.push_back(torch::cat(row));
    }
    e.record["cells"] = cells;
    if (e.images && !tiles.empty()) {
        const auto image = e.stem + "-cells.png";
        if (auto ok = writePng(makeGrid(torch::cat(tiles), 2 * kCellPairs), e.dir / image); !ok)
            return tl::unexpected(ok.error());
        e.record["cells_image"] = image;
    }
    return {};
}

// ---- Train on synthetic, test on real ----

Result<void> trainOnSynthetic(Evaluation& e) {
    const EvalOptions& o = e.options;
    if (!e.conditional) {
        e.note("tstr", "an unconditional model gives no labels to train a classifier on");
        return {};
    }
    if (o.tstrSteps < 1) return fail("tstr: --tstr-steps must be at least 1");
    const std::uint64_t seed = o.request.seed;
    const Dataset& reference = e.reference;
    auto tstr = trainedAccuracy(e.shape, e.generated, e.labels, reference.x, reference.y,
                                o.tstrSteps, seed, Stage{e.progress, "train-on-synthetic"});
    if (!tstr) return tl::unexpected(tstr.error());
    // The same classifier and steps on as many real training images (the floor half when the
    // reference came from the training data too).
    const Dataset real =
        e.haveHeldOut ? e.train.subset(e.trainOrder.slice(0, 0, std::min(o.count, e.train.size())))
                      : e.floorSet;
    // Its inputs alone decide it: another card or evaluation of the same data took it already.
    const fs::path workspace = workspaceOfRun(e.runDir, o.workspace);
    const std::string key = trtrKey(real.x, real.y, reference.x, reference.y, o.tstrSteps, seed);
    std::optional<double> trtr = cachedTrtr(workspace, key);
    if (!trtr) {
        auto trained = trainedAccuracy(e.shape, real.x, real.y, reference.x, reference.y,
                                       o.tstrSteps, seed, Stage{e.progress, "train-on-real"});
        if (!trained) return tl::unexpected(trained.error());
        trtr = *trained;
        storeTrtr(workspace, key, *trtr, real.size(), reference.size(), o.tstrSteps);
    }
    e.record["scores"]["tstr"] = scoreJson(*tstr, *trtr);
    return {};
}

Result<fs::path> writeRecord(const Evaluation& e) {
    const fs::path file = e.dir / (e.stem + ".json");
    if (auto ok = writeFileAtomic(file, e.record.dump(1) + "\n"); !ok)
        return tl::unexpected(ok.error());
    return file;
}

}  // namespace ll::evalstages
