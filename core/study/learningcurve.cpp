#include "study/learningcurve.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <stop_token>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/jsonnumber.h"
#include "image/chart.h"
#include "run/runfolder.h"
#include "study/learningcurvedata.h"
#include "study/stats.h"
#include "study/studyparts.h"

namespace ll {
namespace fs = std::filesystem;
using learningcurve::Prepared;
using nlohmann::json;
using torch::Tensor;

namespace {

constexpr const char* kFeatureNames[] = {"extractor", "pixels", "columns"};
constexpr const char* kChartFile = "learning-curve.png";
constexpr const char* kResultFile = "result.json";

// The chart's names, in learningCurveMethods()'s order.
std::string methodLabel(const std::string& method) {
    const auto known = learningCurveMethods();
    const char* labels[] = {
        "naive Bayes",         "GDA (shared covariance)", "QDA (per-class covariance)",
        "logistic regression", "CNN classifier",          "diffusion classifier (run)"};
    const auto at = std::find(known.begin(), known.end(), method) - known.begin();
    return at < 6 ? labels[at] : method;
}

}  // namespace

std::string curveFeaturesName(CurveFeatures features) {
    return kFeatureNames[static_cast<int>(features)];
}

Result<CurveFeatures> parseCurveFeatures(const std::string& name) {
    for (int i = 0; i < 3; ++i)
        if (name == kFeatureNames[i]) return static_cast<CurveFeatures>(i);
    return fail("unknown feature space \"" + name + "\" (choose extractor, pixels or columns)");
}

std::vector<std::string> learningCurveMethods() {
    return {"nb", "gda", "qda", "logistic", "cnn", "diffusion"};
}

std::vector<std::int64_t> learningCurveSizes(std::int64_t largest) {
    // 10, 30, 100, 300, ...: two steps a decade, the spacing of Ng and Jordan's plots.
    std::vector<std::int64_t> sizes;
    for (std::int64_t s = 10, step = 0; s < largest; s = step % 2 ? s * 10 / 3 : s * 3, ++step)
        sizes.push_back(s);
    if (largest >= 2) sizes.push_back(largest);
    return sizes;
}

Result<void> checkLearningCurve(const LearningCurveRequest& r) {
    if (r.out.empty()) return fail("learning-curve: no output folder given");
    if (r.methods.empty()) return fail("learning-curve: no methods given");
    const auto known = learningCurveMethods();
    std::set<std::string> seen;
    for (const auto& m : r.methods) {
        if (std::find(known.begin(), known.end(), m) == known.end())
            return fail("learning-curve: unknown method \"" + m +
                        "\" (choose from nb, gda, qda, logistic, cnn, diffusion)");
        if (!seen.insert(m).second) return fail("learning-curve: method " + m + " given twice");
    }
    for (auto s : r.sizes)
        if (s < 2)
            return fail("learning-curve: size " + std::to_string(s) +
                        " is too small (at least 2 rows per class)");
    if (r.seeds < 1 || r.seeds > 1000) return fail("learning-curve: seeds must lie in 1..1000");
    if (!(r.heldOutFraction > 0 && r.heldOutFraction < 1))
        return fail("learning-curve: the held-out fraction must lie in (0, 1)");
    if (r.heldOutLimit < 0) return fail("learning-curve: the held-out limit must be at least 0");
    if (!(r.settings.shrinkage >= 0 && r.settings.shrinkage <= 1))
        return fail("learning-curve: shrinkage must lie in [0, 1]");
    if (!(r.settings.c > 0)) return fail("learning-curve: C must be above 0");
    if (!(r.settings.varSmoothing >= 0))
        return fail("learning-curve: var smoothing must be at least 0");
    if (seen.count("cnn") && (!(r.cnnStepsPerRow > 0) || r.cnnMinSteps < 1 ||
                              r.cnnMaxSteps < r.cnnMinSteps || r.cnnBatch < 1))
        return fail("learning-curve: cnn steps per row must be above 0, 1 <= min <= max steps");
    if (seen.count("diffusion")) {
        if (r.diffusionRun.empty())
            return fail(
                "learning-curve: the diffusion method needs a ddpm or latent-ddpm run "
                "(--diffusion-run RUN)");
        if (r.diffusionImages < 0)
            return fail("learning-curve: the diffusion images must be at least 0 (0: all)");
        if (auto ok = checkDiffusionClassifierOptions(r.diffusionOptions); !ok)
            return fail("learning-curve: diffusion: " + ok.error().message);
    } else if (!r.diffusionRun.empty()) {
        return fail("learning-curve: a diffusion run was given but not the diffusion method");
    }
    return {};
}

std::vector<CurveCrossing> findCrossings(const std::vector<CurvePoint>& curves,
                                         const std::string& discriminative) {
    std::map<std::int64_t, double> other;
    for (const auto& p : curves)
        if (p.method == discriminative) other[p.size] = p.mean;
    std::vector<CurveCrossing> out;
    if (other.empty()) return out;
    std::vector<std::string> order;
    std::map<std::string, std::vector<const CurvePoint*>> by;
    for (const auto& p : curves) {
        if (p.method == discriminative || p.method == "cnn" || !other.count(p.size)) continue;
        if (auto m = parseClassicMethod(p.method); !m || !isGenerative(*m)) continue;
        if (!by.count(p.method)) order.push_back(p.method);
        by[p.method].push_back(&p);
    }
    for (const auto& method : order) {
        auto points = by[method];
        std::sort(points.begin(), points.end(), [](auto* a, auto* b) { return a->size < b->size; });
        CurveCrossing c{.generative = method, .discriminative = discriminative};
        // Where it stops being better for good: after the last size at which it leads.
        int last = -1;
        for (int i = 0; i < static_cast<int>(points.size()); ++i)
            if (points[i]->mean > other[points[i]->size]) last = i;
        if (last < 0) {
            c.note = method + " is never better than " + discriminative;
        } else if (last + 1 == static_cast<int>(points.size())) {
            c.note = method + " is still better than " + discriminative + " at the largest size";
        } else {
            const CurvePoint& a = *points[last];
            const CurvePoint& b = *points[last + 1];
            const double da = a.mean - other[a.size], db = b.mean - other[b.size];  // > 0, <= 0
            const double t = da / (da - db);
            const double la = std::log(static_cast<double>(a.size));
            const double lb = std::log(static_cast<double>(b.size));
            c.found = true;
            c.size = std::exp(la + t * (lb - la));
            c.accuracy = a.mean + t * (b.mean - a.mean);
            c.note = method + " stops being better than " + discriminative + " between " +
                     std::to_string(a.size) + " and " + std::to_string(b.size) + " per class";
        }
        out.push_back(c);
    }
    return out;
}

namespace {

using learningcurve::labelsOf;
using learningcurve::matrixOf;

bool has(const std::vector<std::string>& methods, const char* method) {
    return std::find(methods.begin(), methods.end(), method) != methods.end();
}

json optionsOf(const LearningCurveRequest& r, const Prepared& p) {
    const auto& d = r.data;
    // A table of keys: one option that differs means the parts were made otherwise.
    // clang-format off
    json o{{"source", d.source}, {"split", d.split}, {"label_column", d.labelColumn},
           {"image_size", d.imageSize}, {"colour", colourName(d.colour)},
           {"classes", p.train.keptClasses}, {"long_tail", d.longTailRatio}, {"limit", d.limit},
           {"features", curveFeaturesName(p.features)}, {"extractor", p.extractorDir},
           {"extractor_sha256", p.extractorKey}, {"held_out_fraction", r.heldOutFraction},
           {"held_out_limit", r.heldOutLimit}, {"seed", r.seed},
           {"var_smoothing", r.settings.varSmoothing}, {"shrinkage", r.settings.shrinkage},
           {"c", r.settings.c}, {"max_iterations", r.settings.maxIterations},
           {"tolerance", r.settings.tolerance}, {"standardised", true}};
    // clang-format on
    if (has(r.methods, "diffusion")) {
        const auto& d = r.diffusionOptions;
        // Its latest checkpoint: a run trained on since scores anew.
        const auto latest = latestCheckpoint(r.diffusionRun);
        o["diffusion"] = {{"run", fs::absolute(r.diffusionRun).lexically_normal().string()},
                          {"step", latest ? latest->first : -1},
                          {"images", r.diffusionImages},
                          {"options", diffusionClassifierOptionsText(d)}};
    }
    if (has(r.methods, "cnn"))
        o["cnn"] = {{"preset", r.cnnPreset.empty() ? "classifier-cpu" : r.cnnPreset},
                    {"steps_per_row", r.cnnStepsPerRow},
                    {"min_steps", r.cnnMinSteps},
                    {"max_steps", r.cnnMaxSteps},
                    {"batch", r.cnnBatch}};
    return o;
}

std::string partName(const std::string& method, std::int64_t size, int seed) {
    return method + "-n" + std::to_string(size) + "-s" + std::to_string(seed) + ".json";
}

json resultJson(const LearningCurveRequest& r, const LearningCurveResult& res, const json& options,
                const std::vector<std::int64_t>& sizes) {
    json curves = json::array(), crossings = json::array();
    // clang-format off
    for (const auto& c : res.curves)
        curves.push_back({{"method", c.method}, {"size", c.size}, {"train_rows", c.trainRows},
                          {"mean", c.mean}, {"sd", c.sd}, {"accuracies", c.accuracies},
                          {"images", c.images ? c.images : res.heldOutRows},
                          {"evaluations_per_image", c.evaluationsPerImage}});
    for (const auto& c : res.crossings)
        crossings.push_back({{"generative", c.generative}, {"discriminative", c.discriminative},
                             {"found", c.found}, {"size", c.size}, {"accuracy", c.accuracy},
                             {"note", c.note}});
    return {{"study", "learning-curve"}, {"dataset", r.data.source}, {"classes", res.classes},
            {"features", res.features}, {"extractor", res.extractor},
            {"feature_dim", res.featureDim}, {"size_unit", res.sizeUnit}, {"sizes", sizes},
            {"methods", r.methods}, {"seeds", r.seeds}, {"train_rows", res.trainRows},
            {"held_out", res.heldOut}, {"held_out_rows", res.heldOutRows},
            {"metric", "accuracy on the held-out part; sd over seeds (n - 1)"},
            {"options", options}, {"curves", curves}, {"crossings", crossings},
            {"chart", res.chart.empty() ? "" : kChartFile}, {"parts_reused", res.partsReused},
            {"notes", res.notes}};
    // clang-format on
}

Result<void> writeChart(const LearningCurveRequest& r, LearningCurveResult& res) {
    chart::LineChart c{.title = "Learning curves: " + fs::path(r.data.source).filename().string() +
                                " (" + res.features + ")",
                       .xLabel = "training rows per class",
                       .yLabel = "held-out accuracy",
                       .logX = true};
    for (const auto& m : r.methods) {
        // The diffusion run is one point (its own training size), not a line.
        chart::Series s{.name = methodLabel(m), .points = true, .line = m != "diffusion"};
        for (const auto& p : res.curves) {
            if (p.method != m) continue;
            s.x.push_back(static_cast<double>(p.size));
            s.y.push_back(p.mean);
            s.low.push_back(p.mean - p.sd);
            s.high.push_back(p.mean + p.sd);
        }
        c.series.push_back(std::move(s));
    }
    // A margin on the log axis, so that the points at either end (the diffusion run's, often
    // the largest) are drawn whole.
    double low = 0, high = 0;
    for (const auto& p : res.curves) {
        const double x = static_cast<double>(p.size);
        low = low == 0 ? x : std::min(low, x);
        high = std::max(high, x);
    }
    if (low > 0) c.xRange = std::pair{low / 1.15, high * 1.15};
    for (const auto& x : res.crossings)
        if (x.found)
            c.markers.push_back({.x = x.size,
                                 .y = x.accuracy,
                                 .text = x.generative + " = " + x.discriminative + " at " +
                                         std::to_string(std::llround(x.size)) + "/class"});
    if (auto ok = chart::writeLineChart(c, r.out / kChartFile); !ok) return ok;
    res.chart = r.out / kChartFile;
    return {};
}

/// One seed at one size: its rows, and their features standardised on the subset's own mean
/// and spread (the held-out part with the same), made when a method first needs them.
struct Unit {
    std::int64_t size = 0;
    int seed = 0;
    Tensor idx;
    std::optional<std::pair<FeatureMatrix, FeatureMatrix>> standardised;
};

/// A finished part's accuracy, or -1 when there is none made with these options.
double reusedPart(const fs::path& part, const json& options) {
    auto text = readFile(part);
    if (!text) return -1;
    const json j = parseJson(*text);
    if (!j.is_object() || j.value("options", json()) != options) return -1;
    // A damaged or edited accuracy is fitted again, not averaged.
    const json accuracy = j.value("accuracy", json());
    if (!accuracy.is_number()) return -1;
    const double a = accuracy.get<double>();
    return a >= 0 && a <= 1 ? a : -1;
}

Result<double> fitUnit(const LearningCurveRequest& r, const Prepared& p,
                       const std::vector<std::vector<Tensor>>& order, const std::string& method,
                       Unit& u, const fs::path& parts,
                       const std::function<bool(double)>& progress) {
    if (!u.idx.defined()) {
        std::vector<Tensor> pick;
        for (const auto& o : order[u.seed]) pick.push_back(o.slice(0, 0, u.size));
        u.idx = torch::cat(pick);
    }
    if (method == "cnn")
        return fitCnn(r, p, u.idx, r.seed + u.seed, parts / ("cnn-work-" + std::to_string(u.seed)),
                      progress);
    if (!u.standardised) {
        // Constant features keep a spread of 1 (they are 0 after centring).
        const Tensor x = p.trainX.index_select(0, u.idx).to(torch::kFloat64);
        const Tensor mean = x.mean(0);
        Tensor sd = x.std(0, false);
        sd = torch::where(sd > 1e-12, sd, torch::ones_like(sd));
        u.standardised.emplace(matrixOf((x - mean) / sd),
                               matrixOf((p.heldX.to(torch::kFloat64) - mean) / sd));
    }
    auto fitted = ClassicClassifier::fit(*parseClassicMethod(method), u.standardised->first,
                                         labelsOf(p.train.y.index_select(0, u.idx)),
                                         p.train.numClasses(), r.settings);
    if (!fitted) return tl::unexpected(fitted.error());
    return fitted->accuracy(u.standardised->second, labelsOf(p.held.y));
}

/// The diffusion run's point, from parts/diffusion.json when one was made with these options,
/// else scored afresh (the classifier resumes from parts/diffusion-work/ on its own).
Result<learningcurve::DiffusionPoint> diffusionPart(const LearningCurveRequest& r,
                                                    const Prepared& p, const fs::path& parts,
                                                    const json& options, LearningCurveResult& res,
                                                    const std::function<bool(double)>& progress) {
    const fs::path file = parts / "diffusion.json";
    if (auto text = readFile(file)) {
        const json j = parseJson(*text);
        // A damaged or edited part is scored again, not read.
        if (j.is_object() && j.value("options", json()) == options) {
            try {
                learningcurve::DiffusionPoint point{
                    .size = wholeNumber<std::int64_t>(j.at("size"), "size"),
                    .trainRows = wholeNumber<std::int64_t>(j.at("train_rows"), "train_rows"),
                    .images = wholeNumber<std::int64_t>(j.at("images"), "images"),
                    .evaluationsPerImage = j.at("evaluations_per_image").get<double>(),
                    .accuracies = j.at("accuracies").get<std::vector<double>>()};
                if (std::ssize(point.accuracies) == r.seeds &&
                    std::ranges::all_of(point.accuracies,
                                        [](double a) { return a >= 0 && a <= 1; })) {
                    res.partsReused += r.seeds;
                    return point;
                }
            } catch (const std::exception&) {
            }
        }
    }
    auto point = learningcurve::diffusionPoint(r, p, parts / "diffusion-work", progress);
    if (!point) return point;
    const json j{{"options", options},
                 {"size", point->size},
                 {"train_rows", point->trainRows},
                 {"images", point->images},
                 {"evaluations_per_image", point->evaluationsPerImage},
                 {"accuracies", point->accuracies}};
    if (auto ok = writeFileAtomic(file, j.dump(2) + "\n"); !ok) return tl::unexpected(ok.error());
    return point;
}

}  // namespace

Result<LearningCurveResult> runLearningCurve(const LearningCurveRequest& r,
                                             const LearningCurveProgressFn& progress) {
    if (auto ok = checkLearningCurve(r); !ok) return tl::unexpected(ok.error());
    if (progress && !progress("loading", 0)) return fail("cancelled");
    Result<Prepared> prepared = fail("");
    try {
        torch::NoGradGuard noGrad;
        prepared = learningcurve::prepare(r, progress);
    } catch (const std::exception& e) {
        return fail("learning-curve: " + firstLine(e));
    }
    if (!prepared) return tl::unexpected(prepared.error());
    const Prepared& p = *prepared;
    const int classes = p.train.numClasses();
    const auto counts = p.train.classCounts();
    const auto smallest = std::min_element(counts.begin(), counts.end());
    const std::string smallestName = p.train.classNames[smallest - counts.begin()];
    std::vector<std::int64_t> sizes = r.sizes.empty() ? learningCurveSizes(*smallest) : r.sizes;
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    if (sizes.empty() || sizes.back() > *smallest)
        return fail("learning-curve: size " + std::to_string(sizes.empty() ? 0 : sizes.back()) +
                    " per class is larger than the data allows: class " + smallestName + " has " +
                    std::to_string(*smallest) + " training rows");

    const bool diffusion = has(r.methods, "diffusion");
    if (diffusion)
        if (auto ok = learningcurve::diffusionRunRows(r, p); !ok) return tl::unexpected(ok.error());

    LearningCurveResult res;
    res.features = curveFeaturesName(p.features);
    res.extractor = p.extractorDir;
    res.featureDim = p.trainX.size(1);
    res.classes = p.train.classNames;
    res.trainRows = p.train.size();
    res.heldOutRows = p.held.size();
    res.heldOut = p.heldOutText;
    res.json = r.out / kResultFile;

    // Resume: parts made with these options are kept, others cleared.
    const json options = optionsOf(r, p);
    const fs::path parts = r.out / "parts";
    if (auto ok = prepareParts(parts, options, res.notes); !ok) return tl::unexpected(ok.error());

    // Each seed orders every class once; a size takes the first rows of each, so one seed's
    // subsets are nested as they grow.
    std::vector<std::vector<Tensor>> order(r.seeds);
    for (int s = 0; s < r.seeds; ++s) {
        auto g = at::detail::createCPUGenerator(r.seed + static_cast<std::uint64_t>(s));
        for (int k = 0; k < classes; ++k) {
            const Tensor idx = torch::nonzero(p.train.y == k).squeeze(1);
            order[s].push_back(idx.index_select(0, torch::randperm(idx.size(0), g, torch::kInt64)));
        }
    }
    const auto perSize = r.methods.size() - (diffusion ? 1 : 0);
    // The diffusion run counts as much as one method over every size.
    const double total =
        static_cast<double>(sizes.size() * r.seeds * (perSize + (diffusion ? 1 : 0)));
    std::map<std::pair<std::string, std::int64_t>, std::vector<double>> accuracies;
    double done = 0;
    try {
        torch::NoGradGuard noGrad;
        for (auto size : sizes) {
            for (int s = 0; s < r.seeds; ++s) {
                Unit unit{.size = size, .seed = s};
                for (const auto& method : r.methods) {
                    if (method == "diffusion") continue;
                    const fs::path part = parts / partName(method, size, s);
                    double accuracy = reusedPart(part, options);
                    if (accuracy >= 0) {
                        ++res.partsReused;
                    } else {
                        const auto started = std::chrono::steady_clock::now();
                        auto a = fitUnit(r, p, order, method, unit, parts, [&](double f) {
                            return !progress || progress("fitting", (done + f) / total);
                        });
                        if (!a) return tl::unexpected(a.error());
                        accuracy = *a;
                        const std::chrono::duration<double> took =
                            std::chrono::steady_clock::now() - started;
                        const json j{{"options", options},     {"method", method},
                                     {"size", size},           {"seed", r.seed + s},
                                     {"accuracy", accuracy},   {"train_rows", unit.idx.size(0)},
                                     {"seconds", took.count()}};
                        if (auto ok = writeFileAtomic(part, j.dump(2) + "\n"); !ok)
                            return tl::unexpected(ok.error());
                    }
                    accuracies[{method, size}].push_back(accuracy);
                    done += 1;
                    if (progress && !progress("fitting", done / total)) return fail("cancelled");
                }
            }
        }
    } catch (const std::exception& e) {
        return fail("learning-curve: " + firstLine(e));
    }
    std::optional<learningcurve::DiffusionPoint> run;
    if (diffusion) {
        auto point = diffusionPart(r, p, parts, options, res, [&](double f) {
            return !progress || progress("fitting", (done + f * r.seeds * sizes.size()) / total);
        });
        if (!point) return tl::unexpected(point.error());
        run = *point;
        if (run->images < res.heldOutRows)
            res.notes.push_back("the diffusion classifier scored " + std::to_string(run->images) +
                                " of the " + std::to_string(res.heldOutRows) +
                                " held-out images (--diffusion-images)");
    }

    const auto summarise = [](CurvePoint c) {
        c.mean = stats::mean(c.accuracies);
        c.sd = stats::sd(c.accuracies);
        return c;
    };
    for (const auto& m : r.methods) {
        if (m == "diffusion") {
            res.curves.push_back(summarise({.method = m,
                                            .size = run->size,
                                            .trainRows = run->trainRows,
                                            .images = run->images,
                                            .evaluationsPerImage = run->evaluationsPerImage,
                                            .accuracies = run->accuracies}));
            continue;
        }
        for (auto size : sizes)
            res.curves.push_back(summarise({.method = m,
                                            .size = size,
                                            .trainRows = size * classes,
                                            .accuracies = accuracies[{m, size}]}));
    }
    res.crossings = findCrossings(res.curves);
    if (progress && !progress("chart", 1)) return fail("cancelled");
    if (auto ok = writeChart(r, res); !ok) res.notes.push_back("no chart: " + ok.error().message);
    if (auto ok = writeFileAtomic(res.json, resultJson(r, res, options, sizes).dump(2) + "\n"); !ok)
        return tl::unexpected(ok.error());
    return res;
}

Result<LearningCurveResult> readLearningCurve(const fs::path& resultJson) {
    auto text = readFile(resultJson);
    if (!text) return tl::unexpected(text.error());
    const json j = parseJson(*text);
    if (!j.is_object() || j.value("study", json()) != "learning-curve" || !j.contains("curves"))
        return fail(resultJson.string() + ": not a learning-curve result");
    try {
        LearningCurveResult res;
        for (const auto& c : j.at("curves"))
            res.curves.push_back({.method = c.at("method").get<std::string>(),
                                  .size = wholeNumber<std::int64_t>(c.at("size"), "size"),
                                  .trainRows = wholeNumber(c, "train_rows", std::int64_t{0}),
                                  .images = wholeNumber(c, "images", std::int64_t{0}),
                                  .evaluationsPerImage = c.value("evaluations_per_image", 0.0),
                                  .mean = c.at("mean").get<double>(),
                                  .sd = c.at("sd").get<double>(),
                                  .accuracies = c.value("accuracies", std::vector<double>{})});
        for (const auto& c : j.value("crossings", json::array()))
            res.crossings.push_back({.generative = c.at("generative").get<std::string>(),
                                     .discriminative = c.at("discriminative").get<std::string>(),
                                     .found = c.at("found").get<bool>(),
                                     .size = c.at("size").get<double>(),
                                     .accuracy = c.at("accuracy").get<double>(),
                                     .note = c.value("note", "")});
        res.sizeUnit = j.value("size_unit", "per_class");
        res.features = j.value("features", "");
        res.extractor = j.value("extractor", "");
        res.featureDim = wholeNumber(j, "feature_dim", std::int64_t{0});
        res.classes = j.value("classes", std::vector<std::string>{});
        res.trainRows = wholeNumber(j, "train_rows", std::int64_t{0});
        res.heldOutRows = wholeNumber(j, "held_out_rows", std::int64_t{0});
        res.heldOut = j.value("held_out", "");
        res.partsReused = wholeNumber(j, "parts_reused", std::int64_t{0});
        res.notes = j.value("notes", std::vector<std::string>{});
        res.json = resultJson;
        if (const std::string chart = j.value("chart", ""); !chart.empty())
            res.chart = resultJson.parent_path() / chart;
        return res;
    } catch (const std::exception& e) {
        return fail(resultJson.string() + ": " + firstLine(e));
    }
}

}  // namespace ll
