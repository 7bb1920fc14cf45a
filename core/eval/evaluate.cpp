#include "eval/evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/cpu.h"
#include "common/sha256.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "eval/extractor.h"
#include "eval/features.h"
#include "eval/metrics.h"
#include "image/grid.h"
#include "models/catalog.h"
#include "models/model.h"
#include "run/runfolder.h"
#include "run/runloader.h"

namespace ll {
namespace fs = std::filesystem;
using nlohmann::json;
using torch::Tensor;

namespace {

// Scores in table order; lower-is-better ones are distances.
struct ScoreInfo {
    const char* name;
    const char* label;
    bool lowerIsBetter;
    const char* help;
};
constexpr ScoreInfo kScores[] = {
    {"fid", "FID", true,
     "Frechet distance between Gaussians fitted to real and generated features; 0 is best"},
    {"kid", "KID", true,
     "Kernel Inception Distance: unbiased polynomial-kernel MMD^2 over subsets; 0 is best"},
    {"precision", "precision", false,
     "Share of samples inside the real data's k-NN manifold: fidelity"},
    {"recall", "recall", false,
     "Share of real images inside the samples' k-NN manifold: diversity"},
    {"density", "density", false,
     "How many real k-NN balls hold each sample, on average (1 for real data): fidelity"},
    {"coverage", "coverage", false,
     "Share of real k-NN balls that hold at least one sample: diversity"},
    {"is", "Inception score", false,
     "exp E KL(p(y|x) || p(y)) with the domain classifier: confident and varied classes"},
    {"agreement", "classifier agreement", false,
     "Share of samples the classifier puts in the class they were conditioned on"},
    {"nn_distance", "NN distance (median)", false,
     "Median feature distance from a sample to its nearest training image; far below the "
     "floor means copies"},
    {"ct", "data-copying C_T", false,
     "Meehan et al.'s Z statistic: well below 0 means the samples sit closer to the training "
     "images than unseen real images do (copying); well above 0, underfitting"},
    {"tstr", "TSTR accuracy", false,
     "Accuracy on real held-out images of a classifier trained on the samples; the floor "
     "column is the same classifier trained on as many real images (TRTR)"},
};

constexpr std::int64_t kBatch = 250;
constexpr int kNeighbours = 3;  // training images shown beside each sample
constexpr int kCellPairs = 4;   // (sample, neighbour) pairs per data-copying cell
constexpr std::int64_t kMapPoints = 3000;

bool wants(const std::vector<std::string>& metrics, const std::string& m) {
    return std::find(metrics.begin(), metrics.end(), m) != metrics.end();
}

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
    const auto [values, vectors] = torch::linalg::eigh(covariance, "L");
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

}  // namespace

std::string scoreLabel(const std::string& score) {
    for (const auto& s : kScores)
        if (score == s.name) return s.label;
    return score;
}

std::string scoreHelp(const std::string& score) {
    for (const auto& s : kScores)
        if (score == s.name) return s.help;
    return {};
}

const std::vector<std::string>& evalMetricNames() {
    static const std::vector<std::string> names = {
        "fid", "kid",       "precision", "recall",     "density", "coverage",
        "is",  "agreement", "classes",   "neighbours", "ct",      "tstr"};
    return names;
}

std::vector<std::string> defaultEvalMetrics() {
    auto all = evalMetricNames();
    std::erase(all, "tstr");
    return all;
}

Result<std::vector<std::string>> parseEvalMetrics(const std::string& list) {
    if (list.empty()) return defaultEvalMetrics();
    std::vector<std::string> out;
    std::stringstream in(list);
    for (std::string item; std::getline(in, item, ',');) {
        if (item.empty()) continue;
        if (item == "all") return evalMetricNames();
        if (item == "pr") item = "precision,recall";
        if (item == "precision/recall" || item == "precision-recall") item = "precision,recall";
        std::stringstream parts(item);
        for (std::string m; std::getline(parts, m, ',');) {
            if (!wants(evalMetricNames(), m)) {
                std::string known;
                for (const auto& n : evalMetricNames()) known += (known.empty() ? "" : ", ") + n;
                return fail("unknown metric '" + m + "' (known: " + known + ", all)");
            }
            if (!wants(out, m)) out.push_back(m);
        }
    }
    if (out.empty()) return defaultEvalMetrics();
    return out;
}

Result<fs::path> evaluateRun(const fs::path& runDir, std::optional<std::int64_t> step,
                             const EvalOptions& o, const EvalProgressFn& progress) {
    if (o.count < 2 || o.count > 1000000) return fail("the sample count must lie in 2..1000000");
    auto run = openRun(runDir, step);
    if (!run) return tl::unexpected(run.error());
    return evaluateModel(*run->model, runDir, run->step, o, progress);
}

Result<fs::path> evaluateModel(GenerativeModel& generator, const fs::path& runDir,
                               std::int64_t step, const EvalOptions& o,
                               const EvalProgressFn& progress) {
    const auto metrics = o.metrics.empty() ? defaultEvalMetrics() : o.metrics;
    if (o.count < 2 || o.count > 1000000) return fail("the sample count must lie in 2..1000000");
    auto runData = readRunData(runDir);
    if (!runData) return tl::unexpected(runData.error());
    const RunData& data = *runData;
    if (!generator.generates())
        return fail(runDir.string() + " is a " + generator.name() +
                    " run; evaluation scores the samples of a generator");
    const ModelShape& shape = generator.shape();
    const bool images = !shape.tabular();
    applyThreadSettings(images ? Workload::Conv : Workload::Mlp);

    // The domain classifier: features (unless pixels), Inception score, agreement, classes.
    std::unique_ptr<GenerativeModel> classifier;
    json extractorJson = nullptr;
    bool needClassifier = !o.pixels;
    for (const char* m : {"is", "agreement", "classes", "tstr"})
        needClassifier = needClassifier || wants(metrics, m);
    if (needClassifier) {
        fs::path dir = o.extractor;
        std::string sha;
        if (dir.empty()) {
            const fs::path workspace = !o.workspace.empty() ? o.workspace
                                       : runDir.parent_path().filename() == "runs"
                                           ? runDir.parent_path().parent_path()
                                           : defaultWorkspace();
            auto found = findExtractor(data.datasetName, workspace);
            if (!found && !o.pixels) return tl::unexpected(found.error());
            if (found) dir = found->dir, sha = found->sha256;
        } else if (std::error_code ec; fs::exists(dir / kExtractorFile, ec)) {
            auto info = readExtractor(dir);
            if (!info) return tl::unexpected(info.error());
            sha = info->sha256;
        }
        if (!dir.empty()) {
            auto opened = openRun(dir);
            if (!opened) return fail("extractor: " + opened.error().message);
            if (opened->model->generates() || opened->model->classifiesNoisy())
                return fail("extractor: " + dir.string() + " is a " + opened->model->name() +
                            " run, not a clean classifier");
            if (!sameShape(opened->model->shape(), shape) ||
                opened->model->shape().numClasses != shape.numClasses)
                return fail("extractor: " + dir.string() + " was trained on other data (" +
                            opened->data.datasetName + ") than the run's " + data.datasetName);
            if (sha.empty()) {
                auto latest = latestCheckpoint(dir);
                if (!latest) return tl::unexpected(latest.error());
                auto sum = sha256File(latest->second);
                if (!sum) return tl::unexpected(sum.error());
                sha = *sum;
            }
            extractorJson = {{"dir", fs::absolute(dir).lexically_normal().string()},
                             {"dataset", opened->data.datasetName},
                             {"step", opened->step},
                             {"sha256", sha}};
            classifier = std::move(opened->model);
        }
    }
    const bool withClassifier = classifier != nullptr;
    // Agreement and TSTR ask whether samples are of the class they were drawn for: an
    // unconditional model draws for no class.
    const ModelInfo* info = findModel(generator.name());
    const bool conditional = info && info->conditional;
    for (const char* m : {"is", "agreement", "classes", "tstr"})
        if (wants(metrics, m) && !withClassifier)
            return fail(std::string("metric '") + m + "' needs a classifier (an extractor)");
    GenerativeModel* featureModel = o.pixels ? nullptr : classifier.get();

    // Real data: the training set, and the held-out reference when the data has one.
    auto config = readRunConfig(runDir);
    if (!config) return tl::unexpected(config.error());
    auto train = loadDataset(config->dataset);
    if (!train) return fail("evaluation: " + train.error().message);
    if (train->classNames != data.classNames)
        return fail("evaluation: " + config->dataset.source +
                    " now has other classes than when the run was trained");
    auto heldOut = loadHeldOut(config->dataset);
    const bool haveHeldOut = heldOut.has_value();
    // The data-copying test compares samples with images training did not see.
    std::string ctUnavailable;
    if (wants(metrics, "ct") && !haveHeldOut)
        ctUnavailable = "needs held-out data: " + heldOut.error().message;
    const bool ct = wants(metrics, "ct") && haveHeldOut;

    const std::uint64_t seed = o.request.seed;
    const auto trainOrder = seededPermutation(train->size(), seed);
    Dataset reference, floorSet;
    if (haveHeldOut) {
        const auto n = std::min(o.count, heldOut->size());
        reference = heldOut->subset(seededPermutation(heldOut->size(), seed).slice(0, 0, n));
        floorSet = train->subset(trainOrder.slice(0, 0, std::min(n, train->size())));
    } else {
        // Two disjoint halves of the training data: one the reference, one the floor.
        const auto n = std::min(o.count, train->size() / 2);
        if (n < 2) return fail("evaluation needs at least 4 training samples");
        reference = train->subset(trainOrder.slice(0, 0, n));
        floorSet = train->subset(trainOrder.slice(0, n, 2 * n));
    }

    // Generated samples.
    auto drawn = drawSamples(generator, o.request, o.count, Stage{progress, "sampling"});
    if (!drawn) return tl::unexpected(drawn.error());
    const auto& [generated, labels] = *drawn;

    const Stage featureStage{progress, "features"};
    auto features = [&](const Tensor& x) { return extractFeatures(featureModel, x); };
    auto fG = features(generated);
    if (!fG) return tl::unexpected(fG.error());
    auto fR = features(reference.x);
    if (!fR) return tl::unexpected(fR.error());
    auto fF = features(floorSet.x);
    if (!fF) return tl::unexpected(fF.error());
    if (!featureStage(0.3)) return fail("cancelled");
    Tensor fT;  // the whole training set, for neighbours and C_T
    if (wants(metrics, "neighbours") || ct) {
        const std::string extractorKey =
            extractorJson.is_null() ? std::string() : extractorJson["sha256"].get<std::string>();
        auto all = cachedFeatures(featureModel, extractorKey, train->x,
                                  [&](double f) { return featureStage(0.3 + 0.7 * f); });
        if (!all) return tl::unexpected(all.error());
        fT = *all;
    }
    Tensor lG, lR;
    if (withClassifier) {
        auto g = logitsOf(*classifier, generated);
        if (!g) return tl::unexpected(g.error());
        auto r = logitsOf(*classifier, reference.x);
        if (!r) return tl::unexpected(r.error());
        lG = *g, lR = *r;
    }

    const auto& request = o.request;
    json out{{"format", "latentlab-eval-1"},
             {"run", fs::absolute(runDir).lexically_normal().string()},
             {"model", generator.name()},
             {"step", step},
             {"count", o.count},
             {"seed", seed},
             {"guidance", request.guidance},
             {"temperature", request.temperature},
             {"truncation", request.truncation},
             {"sampling_steps", request.steps},
             {"sampler", request.sampler == Sampler::Ddim ? "ddim" : "ddpm"},
             {"feature_space", o.pixels ? "pixels" : "classifier"},
             {"extractor", extractorJson},
             {"reference",
              {{"kind", haveHeldOut ? "held-out" : "train"},
               {"count", reference.size()},
               {"floor_count", floorSet.size()},
               {"train_count", train->size()}}},
             {"settings",
              {{"k", o.k},
               {"k_density", o.kDensity},
               {"kid_subsets", o.kidSubsets},
               {"kid_size", o.kidSize},
               {"cells", o.cells},
               {"tstr_steps", o.tstrSteps}}},
             {"metrics", metrics},
             {"scores", json::object()},
             {"errors", json::object()}};
    auto& scores = out["scores"];
    auto& errors = out["errors"];
    // A metric that cannot be computed (too few samples, say) is recorded with its reason;
    // the others still count.
    auto note = [&](const std::string& name, const std::string& message) {
        errors[name] = message;
    };

    const Stage metricStage{progress, "metrics"};
    if (wants(metrics, "fid")) {
        auto v = frechetDistance(*fR, *fG);
        auto f = frechetDistance(*fR, *fF);
        if (v && f)
            scores["fid"] = scoreJson(*v, *f);
        else
            note("fid", (!v ? v.error() : f.error()).message);
    }
    if (!metricStage(0.2)) return fail("cancelled");
    if (wants(metrics, "kid")) {
        const KidConfig kc{.subsets = o.kidSubsets, .subsetSize = o.kidSize, .seed = seed};
        auto v = kernelInceptionDistance(*fR, *fG, kc);
        auto f = kernelInceptionDistance(*fR, *fF, kc);
        if (v && f)
            scores["kid"] = scoreJson(v->mean, f->mean, v->std);
        else
            note("kid", (!v ? v.error() : f.error()).message);
    }
    if (!metricStage(0.4)) return fail("cancelled");
    if (wants(metrics, "precision") || wants(metrics, "recall")) {
        auto v = precisionRecall(*fR, *fG, o.k);
        auto f = precisionRecall(*fR, *fF, o.k);
        if (v && f) {
            if (wants(metrics, "precision"))
                scores["precision"] = scoreJson(v->precision, f->precision);
            if (wants(metrics, "recall")) scores["recall"] = scoreJson(v->recall, f->recall);
        } else {
            note("precision", (!v ? v.error() : f.error()).message);
        }
    }
    if (!metricStage(0.6)) return fail("cancelled");
    if (wants(metrics, "density") || wants(metrics, "coverage")) {
        auto v = densityCoverage(*fR, *fG, o.kDensity);
        auto f = densityCoverage(*fR, *fF, o.kDensity);
        if (v && f) {
            if (wants(metrics, "density")) scores["density"] = scoreJson(v->density, f->density);
            if (wants(metrics, "coverage"))
                scores["coverage"] = scoreJson(v->coverage, f->coverage);
        } else {
            note("density", (!v ? v.error() : f.error()).message);
        }
    }
    if (wants(metrics, "is")) {
        auto v = inceptionScore(lG);
        auto f = inceptionScore(lR);
        if (v && f)
            scores["is"] = scoreJson(*v, *f);
        else
            note("is", (!v ? v.error() : f.error()).message);
    }
    if (wants(metrics, "agreement") && !conditional) {
        note("agreement", "an unconditional model draws samples for no class");
    } else if (wants(metrics, "agreement")) {
        // The floor is the classifier's own accuracy on the real reference: the agreement a
        // perfect conditional generator would get.
        scores["agreement"] =
            scoreJson(scalar(lG.argmax(1).eq(labels).to(torch::kFloat64).mean()),
                      scalar(lR.argmax(1).eq(reference.y).to(torch::kFloat64).mean()));
    }
    if (wants(metrics, "classes"))
        out["classes"] = {
            {"names", data.classNames},
            {"generated", toInts(torch::bincount(lG.argmax(1), {}, shape.numClasses))},
            {"real", toInts(torch::bincount(lR.argmax(1), {}, shape.numClasses))},
            {"conditioned", toInts(torch::bincount(labels, {}, shape.numClasses))}};
    if (!metricStage(0.7)) return fail("cancelled");

    const std::string stem = fileStem(step, request.guidance);
    const fs::path evalDir = runDir / "eval";
    std::error_code ec;
    fs::create_directories(evalDir, ec);
    if (ec) return fail(evalDir.string() + ": cannot create (" + ec.message() + ")");

    Nearest nearest;  // every generated sample's nearest training rows
    if (wants(metrics, "neighbours") || ct) {
        auto n = nearestNeighbours(*fG, fT, std::min<int>(kNeighbours, int(fT.size(0))));
        if (!n) return tl::unexpected(n.error());
        nearest = *n;
    }
    if (wants(metrics, "neighbours")) {
        auto r = nearestNeighbours(*fR, fT, 1);
        if (!r) return tl::unexpected(r.error());
        const auto d = nearest.distances.select(1, 0);
        scores["nn_distance"] = scoreJson(
            scalar(d.median()),
            haveHeldOut ? std::optional(scalar(r->distances.select(1, 0).median())) : std::nullopt);
        const auto order = d.argsort();
        const auto rows = std::min<std::int64_t>(o.neighbourRows, order.size(0));
        json list = json::array();
        std::vector<Tensor> tiles;
        for (std::int64_t i = 0; i < rows; ++i) {
            const auto s = order[i].item<std::int64_t>();
            list.push_back({{"sample", s},
                            {"class", labels[s].item<std::int64_t>()},
                            {"train", toInts(nearest.indices[s])},
                            {"distances", toDoubles(nearest.distances[s])}});
            if (images) {
                tiles.push_back(generated[s].unsqueeze(0));
                tiles.push_back(train->x.index_select(0, nearest.indices[s]));
            }
        }
        out["neighbours"] = {{"rows", list}};
        if (images && !tiles.empty()) {
            const auto image = stem + "-neighbours.png";
            if (auto ok = writePng(makeGrid(torch::cat(tiles), 1 + int(nearest.indices.size(1))),
                                   evalDir / image);
                !ok)
                return tl::unexpected(ok.error());
            out["neighbours"]["image"] = image;
        }
    }
    if (!metricStage(0.8)) return fail("cancelled");
    if (!ctUnavailable.empty()) note("ct", ctUnavailable);
    if (ct) {
        const DataCopyingConfig cc{.cells = o.cells};
        auto v = dataCopying(fT, *fR, *fG, cc);
        // The floor: half the held-out images against the other half, which no model saw.
        const auto half = fR->size(0) / 2;
        auto f = dataCopying(fT, fR->slice(0, 0, half), fR->slice(0, half), cc);
        if (!v) {
            note("ct", v.error().message);
        } else {
            scores["ct"] = scoreJson(v->ct, f ? std::optional(f->ct) : std::nullopt);
            // The cells on the 2-D PCA map of the training features.
            const auto t64 = fT.to(torch::kFloat64);
            const auto mean = t64.mean(0);
            const auto axes = principalAxes(t64, mean);
            const auto centres = (v->centroids - mean).mm(axes);
            const auto cellOfT = torch::cdist(t64, v->centroids).argmin(1);
            const auto cellOfG = torch::cdist(fG->to(torch::kFloat64), v->centroids).argmin(1);
            const auto shown =
                seededPermutation(fT.size(0), seed).slice(0, 0, std::min(kMapPoints, fT.size(0)));
            const auto points = (t64.index_select(0, shown) - mean).mm(axes).to(torch::kFloat32);
            out["map"] = {{"x", toDoubles(points.select(1, 0))},
                          {"y", toDoubles(points.select(1, 1))},
                          {"cell", toInts(cellOfT.index_select(0, shown))}};
            json cells = json::array();
            std::vector<Tensor> tiles;
            const auto d = nearest.distances.select(1, 0);
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
                if (!images) continue;
                std::vector<Tensor> row;
                for (std::int64_t i = 0; i < take; ++i) {
                    const auto s = closest[i].item<std::int64_t>();
                    row.push_back(generated[s].unsqueeze(0));
                    row.push_back(
                        train->x[nearest.indices[s][0].item<std::int64_t>()].unsqueeze(0));
                }
                for (auto i = take; i < kCellPairs; ++i)  // blank pairs keep rows aligned
                    row.push_back(
                        torch::zeros({2, generated.size(1), generated.size(2), generated.size(3)}));
                tiles.push_back(torch::cat(row));
            }
            out["cells"] = cells;
            if (images && !tiles.empty()) {
                const auto image = stem + "-cells.png";
                if (auto ok =
                        writePng(makeGrid(torch::cat(tiles), 2 * kCellPairs), evalDir / image);
                    !ok)
                    return tl::unexpected(ok.error());
                out["cells_image"] = image;
            }
        }
    }
    if (!metricStage(1.0)) return fail("cancelled");
    if (wants(metrics, "tstr") && !conditional) {
        note("tstr", "an unconditional model gives no labels to train a classifier on");
    } else if (wants(metrics, "tstr")) {
        if (o.tstrSteps < 1) return fail("tstr: --tstr-steps must be at least 1");
        const Stage tstrStage{progress, "train-on-synthetic"};
        auto tstr = trainedAccuracy(shape, generated, labels, reference.x, reference.y, o.tstrSteps,
                                    seed, tstrStage);
        if (!tstr) return tl::unexpected(tstr.error());
        // The same classifier and steps on as many real training images (the floor half
        // when the reference came from the training data too).
        const Dataset real =
            haveHeldOut ? train->subset(trainOrder.slice(0, 0, std::min(o.count, train->size())))
                        : floorSet;
        const Stage trtrStage{progress, "train-on-real"};
        auto trtr = trainedAccuracy(shape, real.x, real.y, reference.x, reference.y, o.tstrSteps,
                                    seed, trtrStage);
        if (!trtr) return tl::unexpected(trtr.error());
        scores["tstr"] = scoreJson(*tstr, *trtr);
    }

    const fs::path file = evalDir / (stem + ".json");
    if (auto ok = writeFileAtomic(file, out.dump(1) + "\n"); !ok) return tl::unexpected(ok.error());
    return file;
}

// ---- Reading ----

namespace {

// A number of a record; NaN where it is missing or null (JSON has no NaN).
double number(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : kNoValue;
}

}  // namespace

const EvalScore* EvalRecord::score(const std::string& name) const {
    for (const auto& s : scores)
        if (s.name == name) return &s;
    return nullptr;
}

Result<EvalRecord> readEvaluation(const fs::path& file) {
    auto text = readFile(file);
    if (!text) return tl::unexpected(text.error());
    EvalRecord r;
    try {
        const json j = json::parse(*text);
        if (j.value("format", "") != "latentlab-eval-1")
            return fail(file.string() + ": not a LatentLab evaluation record");
        r.file = file;
        r.step = j.at("step").get<std::int64_t>();
        r.count = j.value("count", std::int64_t{0});
        r.seed = j.value("seed", std::uint64_t{0});
        r.guidance = j.value("guidance", 0.0);
        r.featureSpace = j.value("feature_space", "");
        if (const auto& e = j.value("extractor", json()); e.is_object()) {
            r.extractor = e.value("dir", "");
            r.extractorSha256 = e.value("sha256", "");
        }
        const auto ref = j.value("reference", json::object());
        r.reference = ref.value("kind", "");
        std::ostringstream protocol;
        protocol << r.count << " samples (seed " << r.seed << ", guidance " << r.guidance << ") vs "
                 << ref.value("count", 0) << " real " << r.reference
                 << " images; floor: " << ref.value("floor_count", 0)
                 << " real training images; features: "
                 << (r.featureSpace == "pixels" ? std::string("raw pixels")
                                                : "classifier " + r.extractor + " (sha256 " +
                                                      r.extractorSha256.substr(0, 12) + ")");
        r.protocol = protocol.str();
        const auto scores = j.value("scores", json::object());
        for (const auto& info : kScores) {
            if (!scores.contains(info.name)) continue;
            const auto& s = scores[info.name];
            EvalScore score{.name = info.name, .lowerIsBetter = info.lowerIsBetter};
            score.value = number(s, "value");
            score.floor = number(s, "floor");
            score.std = number(s, "std");
            r.scores.push_back(score);
        }
        const json errors = j.value("errors", json::object());  // items() needs it alive
        for (const auto& [name, message] : errors.items())
            if (message.is_string()) r.errors.emplace_back(name, message.get<std::string>());
        if (const auto c = j.value("classes", json()); c.is_object()) {
            r.classNames = c.value("names", std::vector<std::string>{});
            r.generatedClasses = c.value("generated", std::vector<std::int64_t>{});
            r.realClasses = c.value("real", std::vector<std::int64_t>{});
        }
        if (const auto n = j.value("neighbours", json()); n.is_object()) {
            for (const auto& row : n.value("rows", json::array()))
                r.neighbours.push_back(
                    {.sample = row.value("sample", std::int64_t{0}),
                     .label = row.value("class", -1),
                     .train = row.value("train", std::vector<std::int64_t>{}),
                     .distances = row.value("distances", std::vector<double>{})});
            if (n.contains("image"))
                r.neighboursImage = file.parent_path() / n["image"].get<std::string>();
        }
        for (const auto& c : j.value("cells", json::array()))
            r.cells.push_back({.id = c.value("id", 0),
                               .z = number(c, "z"),
                               .kept = c.value("kept", false),
                               .train = c.value("train", std::int64_t{0}),
                               .test = c.value("test", std::int64_t{0}),
                               .generated = c.value("generated", std::int64_t{0}),
                               .x = number(c, "x"),
                               .y = number(c, "y"),
                               .samples = c.value("samples", std::vector<std::int64_t>{}),
                               .distances = c.value("distances", std::vector<double>{})});
        if (j.contains("cells_image"))
            r.cellsImage = file.parent_path() / j["cells_image"].get<std::string>();
        if (const auto m = j.value("map", json()); m.is_object()) {
            r.mapX = m.value("x", std::vector<float>{});
            r.mapY = m.value("y", std::vector<float>{});
            r.mapCell = m.value("cell", std::vector<int>{});
        }
    } catch (const json::exception& e) {
        return fail(file.string() + ": malformed evaluation record (" + e.what() + ")");
    }
    return r;
}

std::vector<EvalRecord> listEvaluations(const fs::path& run) {
    std::vector<EvalRecord> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(run / "eval", ec)) {
        const auto name = e.path().filename().string();
        if (!name.starts_with("step-") || e.path().extension() != ".json") continue;
        if (auto r = readEvaluation(e.path())) out.push_back(std::move(*r));
    }
    std::sort(out.begin(), out.end(), [](const EvalRecord& a, const EvalRecord& b) {
        return std::tie(a.step, a.guidance) < std::tie(b.step, b.guidance);
    });
    return out;
}

}  // namespace ll
