#include "study/oneclass.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/csvtext.h"
#include "common/jsonnumber.h"
#include "image/chart.h"
#include "image/labelled.h"
#include "study/oneclassdetect.h"

namespace ll {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

template <class E>
Result<E> parseName(const std::string& name, const std::vector<std::pair<E, std::string>>& names,
                    const std::string& what) {
    std::string known;
    for (const auto& [value, n] : names) {
        if (n == name) return value;
        known += (known.empty() ? "" : ", ") + n;
    }
    return fail("unknown " + what + " '" + name + "' (known: " + known + ")");
}

const std::vector<std::pair<OneClassModel, std::string>>& modelNames() {
    static const std::vector<std::pair<OneClassModel, std::string>> names{
        {OneClassModel::Vae, "vae"},
        {OneClassModel::ChaoticVae, "chaotic-vae"},
        {OneClassModel::Mahalanobis, "mahalanobis"}};
    return names;
}

const std::vector<std::pair<OneClassScore, std::string>>& scoreNames() {
    static const std::vector<std::pair<OneClassScore, std::string>> names{
        {OneClassScore::Reconstruction, "reconstruction"},
        {OneClassScore::Elbo, "elbo"},
        {OneClassScore::Latent, "latent"},
        {OneClassScore::Features, "features"}};
    return names;
}

const std::vector<std::pair<ChaoticTransform, std::string>>& transformNames() {
    static const std::vector<std::pair<ChaoticTransform, std::string>> names{
        {ChaoticTransform::Standardise, "standardise"},
        {ChaoticTransform::InverseNormal, "inverse-normal"}};
    return names;
}

template <class E>
std::string nameOf(E value, const std::vector<std::pair<E, std::string>>& names) {
    for (const auto& [v, n] : names)
        if (v == value) return n;
    return "?";
}

}  // namespace

std::string oneClassModelName(OneClassModel model) {
    return nameOf(model, modelNames());
}
Result<OneClassModel> parseOneClassModel(const std::string& name) {
    return parseName(name, modelNames(), "one-class model");
}

Result<std::vector<OneClassModel>> parseOneClassModels(const std::string& list) {
    std::vector<OneClassModel> out;
    std::size_t start = 0;
    while (start <= list.size()) {
        auto end = list.find(',', start);
        if (end == std::string::npos) end = list.size();
        const std::string name = list.substr(start, end - start);
        auto model = parseOneClassModel(name);
        if (!model) return tl::unexpected(model.error());
        for (auto m : out)
            if (m == *model) return fail("model '" + name + "' is listed twice");
        out.push_back(*model);
        start = end + 1;
    }
    return out;
}

std::string oneClassScoreName(OneClassScore score) {
    return nameOf(score, scoreNames());
}
Result<OneClassScore> parseOneClassScore(const std::string& name) {
    return parseName(name, scoreNames(), "one-class score");
}

std::string chaoticTransformName(ChaoticTransform transform) {
    return nameOf(transform, transformNames());
}
Result<ChaoticTransform> parseChaoticTransform(const std::string& name) {
    return parseName(name, transformNames(), "noise transform");
}

namespace {

// Everything a part depends on: a part made with other options is not reused. The number of
// seeds and the list of models are not in it, so a rerun with more seeds or another model
// keeps what was finished.
json optionsJson(const OneClassRequest& r) {
    return {{"dataset", r.data.source},
            {"label_column", r.data.labelColumn},
            {"limit", r.data.limit},
            {"normal", r.normal},
            {"first_seed", r.firstSeed},
            {"steps", r.steps},
            {"batch_size", r.batchSize},
            {"learning_rate", r.learningRate},
            {"latent", r.latent},
            {"hidden", r.hidden},
            {"beta", r.beta},
            {"r", r.r},
            {"start", r.chaoticStart ? json(*r.chaoticStart) : json("random")},
            {"transform", chaoticTransformName(r.transform)},
            {"elbo_samples", r.elboSamples},
            {"headline", oneClassScoreName(r.headline)},
            {"percentile", r.percentile},
            {"validation_fraction", r.validationFraction},
            {"test_fraction", r.testFraction},
            {"test_limit", r.testLimit},
            {"top_anomalies", r.topAnomalies},
            {"extractor", r.extractor.string()}};
}

std::vector<double> values(const torch::Tensor& t) {
    auto c = t.to(torch::kFloat64).contiguous();
    return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

std::vector<bool> flags(const torch::Tensor& t) {
    auto c = t.to(torch::kBool).contiguous();
    // Parentheses: braces would make a two-element list of the pointers as bools.
    return std::vector<bool>(c.data_ptr<bool>(), c.data_ptr<bool>() + c.numel());
}

fs::path partFile(const fs::path& out, OneClassModel model, std::uint64_t seed) {
    return out / "parts" / (oneClassModelName(model) + "-seed" + std::to_string(seed) + ".json");
}

// One model at one seed from its scores: AUROC of every score, and of the headline its
// curves, the threshold on the validation normals, the rate and the most anomalous rows.
Result<json> evaluatePart(const OneClassRequest& r, OneClassModel model, std::uint64_t seed,
                          const oneclass::ScoreSet& set, const std::vector<bool>& anomalous,
                          const std::string& headline) {
    json part{{"model", oneClassModelName(model)}, {"seed", seed}, {"headline", headline}};
    for (const auto& [name, scores] : set.scores) {
        auto a = stats::auroc(values(scores.second), anomalous);
        if (!a) return tl::unexpected(a.error());
        part["auroc"][name] = *a;
    }
    const auto& [validation, test] = set.scores.at(headline);
    const auto scores = values(test);
    auto roc = stats::rocCurve(scores, anomalous);
    auto pr = stats::prCurve(scores, anomalous);
    if (!roc || !pr) return tl::unexpected(roc ? pr.error() : roc.error());
    const double threshold = stats::percentile(values(validation), r.percentile);
    std::int64_t right = 0;
    for (std::size_t i = 0; i < scores.size(); ++i)
        right += (scores[i] > threshold) == anomalous[i];
    part["headline_auroc"] = roc->auc;
    part["average_precision"] = pr->averagePrecision;
    part["threshold"] = threshold;
    part["rate"] = double(right) / double(scores.size());
    part["final_loss"] = set.finalLoss;
    if (seed == r.firstSeed) {
        part["roc"] = {{"fpr", roc->fpr}, {"tpr", roc->tpr}};
        part["pr"] = {{"precision", pr->precision}, {"recall", pr->recall}};
    }
    std::vector<std::size_t> order(scores.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    const auto k = std::min<std::size_t>(order.size(), std::size_t(std::max(0, r.topAnomalies)));
    std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(k), order.end(),
                      [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
    json top = json::array();
    for (std::size_t i = 0; i < k; ++i) top.push_back({order[i], scores[order[i]]});
    part["top"] = top;
    return part;
}

// A number of a part; null (how JSON writes NaN) is NaN, anything else throws.
double numberOrNaN(const json& v) {
    if (v.is_null()) return NAN;
    return v.get<double>();
}

// Throws on a missing or mistyped field (wellFormedPart says which parts are read).
OneClassRun runFromPart(const json& p) {
    OneClassRun run;
    const auto model = parseOneClassModel(p.at("model").get<std::string>());
    if (!model) throw std::out_of_range("unknown model");
    run.model = *model;
    run.seed = wholeNumber<std::uint64_t>(p.at("seed"), "seed");
    for (const auto& [score, auroc] : p.at("auroc").items()) run.auroc[score] = numberOrNaN(auroc);
    run.headlineAuroc = numberOrNaN(p.at("headline_auroc"));
    run.averagePrecision = numberOrNaN(p.at("average_precision"));
    run.threshold = numberOrNaN(p.at("threshold"));
    run.rate = numberOrNaN(p.at("rate"));
    run.finalLoss = numberOrNaN(p.value("final_loss", json(0.0)));
    if (p.contains("roc")) {
        run.roc.fpr = p.at("roc").at("fpr").get<std::vector<double>>();
        run.roc.tpr = p.at("roc").at("tpr").get<std::vector<double>>();
        run.roc.auc = run.headlineAuroc;
        run.pr.precision = p.at("pr").at("precision").get<std::vector<double>>();
        run.pr.recall = p.at("pr").at("recall").get<std::vector<double>>();
        run.pr.averagePrecision = run.averagePrecision;
    }
    return run;
}

// True when a part on disk is one this study would have written for `model` and `seed` on a
// test set of `testRows` rows: a damaged or edited one is made again, not read.
bool wellFormedPart(const json& p, OneClassModel model, std::uint64_t seed, std::int64_t testRows) {
    try {
        const OneClassRun run = runFromPart(p);
        if (run.model != model || run.seed != seed || run.roc.fpr.size() != run.roc.tpr.size() ||
            run.pr.precision.size() != run.pr.recall.size())
            return false;
        const json& top = p.at("top");
        if (!top.is_array()) return false;
        for (const auto& t : top) {
            if (!t.is_array() || t.size() != 2 || !(t[1].is_number() || t[1].is_null()))
                return false;
            const auto row = asWholeNumber<std::int64_t>(t[0]);
            if (!row || *row < 0 || *row >= testRows) return false;
        }
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

// Clears OUT/parts when it holds parts made with other options; true if it did.
bool clearStaleParts(const fs::path& parts, const json& options) {
    std::error_code ec;
    bool stale = false;
    for (const auto& e : fs::directory_iterator(parts, ec)) {
        if (e.path().extension() != ".json") continue;
        auto text = readFile(e.path());
        auto j = text ? parseJson(*text) : json();
        if (j.is_discarded() || !j.is_object() || j.value("options", json()) != options)
            stale = true;
    }
    if (stale) fs::remove_all(parts, ec);
    return stale;
}

Result<void> writeCharts(const OneClassResult& result, const fs::path& out,
                         std::vector<fs::path>& charts) {
    chart::LineChart roc{.title = "ROC, normal class " + result.normalClass + " (first seed)",
                         .xLabel = "false positive rate",
                         .yLabel = "true positive rate",
                         .xRange = std::pair{0.0, 1.0},
                         .yRange = std::pair{0.0, 1.0},
                         .diagonal = true};
    chart::LineChart pr{.title = "Precision-recall, anomalous as positive (first seed)",
                        .xLabel = "recall",
                        .yLabel = "precision",
                        .xRange = std::pair{0.0, 1.0},
                        .yRange = std::pair{0.0, 1.0}};
    chart::LineChart seeds{.title = "AUROC per seed", .xLabel = "seed", .yLabel = "AUROC"};
    for (const auto& m : result.models) {
        const auto name = oneClassModelName(m.model);
        for (const auto& run : result.runs)
            if (run.model == m.model && !run.roc.fpr.empty()) {
                roc.series.push_back({.name = name, .x = run.roc.fpr, .y = run.roc.tpr});
                pr.series.push_back({.name = name, .x = run.pr.recall, .y = run.pr.precision});
                break;
            }
        chart::Series s{.name = name, .y = m.aurocs, .points = true};
        for (auto seed : m.seeds) s.x.push_back(double(seed));
        seeds.series.push_back(s);
    }
    for (auto [c, file] :
         {std::pair{&roc, "roc.png"}, {&pr, "pr.png"}, {&seeds, "auroc_seeds.png"}}) {
        if (auto ok = chart::writeLineChart(*c, out / file); !ok) return ok;
        charts.push_back(out / file);
    }
    return {};
}

// The most anomalous test rows by the part's headline score: a grid of images, or the rows.
Result<fs::path> writeAnomalies(const oneclass::StudyData& data, const json& part,
                                const fs::path& out) {
    std::vector<std::int64_t> rows;
    std::vector<double> scores;
    for (const auto& t : part.at("top")) {
        rows.push_back(t[0].get<std::int64_t>());
        scores.push_back(t[1].is_number() ? t[1].get<double>() : NAN);
    }
    if (rows.empty()) return fs::path();
    const auto& test = data.test;
    auto labels = test.y.index_select(0, torch::tensor(rows));
    std::string csv = "rank,test_row,class,anomalous,score";
    const bool images = test.modality == Modality::Image;
    if (!images)
        for (const auto& f : test.featureNames) csv += "," + csvCell(f);
    csv += "\n";
    auto x = test.x.index_select(0, torch::tensor(rows));
    auto original = images ? x
                           : (x.to(torch::kFloat64) * test.std.to(torch::kFloat64) +
                              test.mean.to(torch::kFloat64));
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto label = labels[std::int64_t(i)].item<std::int64_t>();
        csv += std::to_string(i + 1) + "," + std::to_string(rows[i]) + "," +
               test.classNames[std::size_t(label)] + "," + (label != data.normal ? "yes" : "no") +
               "," + std::to_string(scores[i]);
        if (!images)
            for (std::int64_t j = 0; j < original.size(1); ++j)
                csv += "," + std::to_string(original[std::int64_t(i)][j].item<double>());
        csv += "\n";
    }
    if (auto ok = writeFileAtomic(out / "anomalies.csv", csv); !ok)
        return tl::unexpected(ok.error());
    if (!images) return out / "anomalies.csv";
    const int cols = 8, gridRows = int((rows.size() + cols - 1) / cols);
    auto tiles = torch::zeros({std::int64_t(gridRows * cols), x.size(1), x.size(2), x.size(3)});
    tiles.slice(0, 0, x.size(0)).copy_(x);
    std::vector<std::string> rowLabels;
    for (int r = 0; r < gridRows; ++r) rowLabels.push_back("#" + std::to_string(r * cols + 1));
    const std::string title = "Most anomalous test images, normal class " +
                              data.data.classNames[std::size_t(data.normal)] + " (" +
                              part.at("model").get<std::string>() + ", " +
                              part.at("headline").get<std::string>() + ")";
    if (auto ok =
            writeLabelledGrid(tiles, gridRows, cols, {}, rowLabels, title, out / "anomalies.png");
        !ok)
        return tl::unexpected(ok.error());
    return out / "anomalies.png";
}

}  // namespace

namespace {

Result<void> checkNumbers(const OneClassRequest& r) {
    if (r.models.empty()) return fail("name one model at least (vae, chaotic-vae, mahalanobis)");
    if (r.seeds < 1 || r.seeds > 1000) return fail("seeds must lie in 1..1000");
    if (r.steps < 1) return fail("steps must be at least 1");
    if (r.batchSize < 1 || r.batchSize > 65536) return fail("batch size must lie in 1..65536");
    if (r.latent < 1 || r.latent > 4096) return fail("latent must lie in 1..4096");
    if (r.elboSamples < 1 || r.elboSamples > 1000) return fail("ELBO samples must lie in 1..1000");
    if (!(r.percentile >= 0 && r.percentile <= 100))
        return fail("the threshold percentile must lie in 0..100");
    if (!(r.validationFraction > 0 && r.validationFraction < 1))
        return fail("the validation fraction must lie strictly between 0 and 1");
    if (!(r.testFraction > 0 && r.testFraction < 1))
        return fail("the test fraction must lie strictly between 0 and 1");
    if (r.testLimit < 0) return fail("the test limit must not be negative (0: all)");
    if (!(r.r > 3.56995 && r.r <= 4))
        return fail("r must lie in (3.57, 4]: below, the logistic map is not chaotic");
    if (r.chaoticStart && !(*r.chaoticStart > 0 && *r.chaoticStart < 1))
        return fail("the chaotic start value must lie strictly between 0 and 1");
    if (r.headline == OneClassScore::Features)
        return fail(
            "the VAEs' headline score is reconstruction, elbo or latent ('features' is "
            "the baseline's)");
    if (r.out.empty()) return fail("name an output folder (--out)");
    return {};
}

}  // namespace

Result<void> checkOneClass(const OneClassRequest& request) {
    if (auto ok = checkNumbers(request); !ok) return ok;
    auto data = oneclass::prepareData(request);
    if (!data) return tl::unexpected(data.error());
    return {};
}

Result<OneClassResult> runOneClass(const OneClassRequest& request,
                                   const OneClassProgressFn& progress) {
    if (auto ok = checkNumbers(request); !ok) return tl::unexpected(ok.error());
    auto report = [&](const std::string& stage, double fraction) {
        return !progress || progress(stage, fraction);
    };
    if (!report("loading", 0)) return fail("cancelled");
    auto prepared = oneclass::prepareData(request);
    if (!prepared) return tl::unexpected(prepared.error());
    const auto& data = *prepared;

    OneClassResult result;
    result.out = request.out;
    result.normalClass = data.data.classNames[std::size_t(data.normal)];
    result.classes = data.data.classNames;
    const auto nValidation = static_cast<std::int64_t>(
        std::round(double(data.pool.size(0)) * request.validationFraction));
    result.trainRows = data.pool.size(0) - nValidation;
    result.validationRows = nValidation;
    result.testAnomalous = data.anomalous.sum().item<std::int64_t>();
    result.testNormal = data.test.size() - result.testAnomalous;
    const auto anomalous = flags(data.anomalous);

    const fs::path parts = request.out / "parts";
    const json options = optionsJson(request);
    std::error_code ec;
    result.restarted = clearStaleParts(parts, options);
    fs::create_directories(parts, ec);
    if (ec) return fail(parts.string() + ": cannot create the folder (" + ec.message() + ")");

    std::optional<oneclass::FeatureSpace> features;
    std::map<std::pair<OneClassModel, std::uint64_t>, json> done;
    const double units = double(request.models.size()) * request.seeds;
    double unit = 0;
    for (int s = 0; s < request.seeds; ++s) {
        const std::uint64_t seed = request.firstSeed + std::uint64_t(s);
        for (auto model : request.models) {
            const auto file = partFile(request.out, model, seed);
            const std::string stage = oneClassModelName(model) + " seed " + std::to_string(seed);
            if (auto text = readFile(file); text) {
                auto j = parseJson(*text);
                if (!j.is_discarded() && j.value("options", json()) == options &&
                    wellFormedPart(j, model, seed, data.test.size())) {
                    done[{model, seed}] = j;
                    ++result.resumedParts;
                    unit += 1;
                    continue;
                }
            }
            if (!report(stage, unit / units)) return fail("cancelled");
            const auto [train, validation] =
                oneclass::splitPool(data.pool, request.validationFraction, seed);
            oneclass::ScoreSet set;
            std::string headline = oneClassScoreName(request.headline);
            if (model == OneClassModel::Mahalanobis) {
                if (!features) {
                    auto f = oneclass::featureSpace(request, data);
                    if (!f) return tl::unexpected(f.error());
                    features = std::move(*f);
                }
                set = oneclass::scoreFeatures(*features, train, validation);
                headline = "features";
            } else {
                auto scored = oneclass::scoreVae(
                    request, model, data, train, validation, seed,
                    request.out / "work" /
                        (oneClassModelName(model) + "-seed" + std::to_string(seed)),
                    [&](double f) { return report(stage, (unit + f) / units); });
                if (!scored) return tl::unexpected(scored.error());
                set = std::move(*scored);
            }
            auto part = evaluatePart(request, model, seed, set, anomalous, headline);
            if (!part) return tl::unexpected(part.error());
            (*part)["options"] = options;
            (*part)["features"] = features ? features->name : "";
            if (auto ok = writeFileAtomic(file, part->dump()); !ok)
                return tl::unexpected(ok.error());
            done[{model, seed}] = std::move(*part);
            unit += 1;
        }
    }
    fs::remove_all(request.out / "work", ec);
    if (!report("charts", 1)) return fail("cancelled");

    json record{
        {"study", "oneclass"},
        {"dataset", data.data.name},
        {"normal", result.normalClass},
        {"classes", result.classes},
        {"options", options},
        {"counts",
         {{"train", result.trainRows},
          {"validation", result.validationRows},
          {"test_normal", result.testNormal},
          {"test_anomalous", result.testAnomalous}}},
        {"test_rows", data.heldOutSplit ? "the data's held-out split"
                                        : "normal rows held back, and every anomalous row"}};
    for (auto model : request.models) {
        OneClassSummary m{.model = model};
        std::map<std::string, std::vector<double>> byScore;
        for (int s = 0; s < request.seeds; ++s) {
            const auto& p = done.at({model, request.firstSeed + std::uint64_t(s)});
            auto run = runFromPart(p);
            m.headline = p.at("headline");
            if (model == OneClassModel::Mahalanobis && result.features.empty())
                result.features = p.value("features", "");
            m.seeds.push_back(run.seed);
            m.aurocs.push_back(run.headlineAuroc);
            m.rates.push_back(run.rate);
            for (const auto& [name, a] : run.auroc) byScore[name].push_back(a);
            result.runs.push_back(std::move(run));
        }
        m.aurocMean = stats::mean(m.aurocs);
        m.aurocSd = stats::sd(m.aurocs);
        m.rateMean = stats::mean(m.rates);
        m.rateSd = stats::sd(m.rates);
        json scores;
        for (const auto& [name, v] : byScore) {
            m.scoreAurocMean[name] = stats::mean(v);
            scores[name] = {
                {"auroc_mean", stats::mean(v)}, {"auroc_sd", stats::sd(v)}, {"aurocs", v}};
        }
        record["models"][oneClassModelName(model)] = {
            {"auroc_mean", m.aurocMean}, {"auroc_sd", m.aurocSd},  {"rate_mean", m.rateMean},
            {"rate_sd", m.rateSd},       {"headline", m.headline}, {"seeds", m.seeds},
            {"aurocs", m.aurocs},        {"rates", m.rates},       {"scores", scores}};
        result.models.push_back(std::move(m));
    }
    const OneClassSummary* vae = nullptr;
    const OneClassSummary* chaotic = nullptr;
    for (const auto& m : result.models) {
        if (m.model == OneClassModel::Vae) vae = &m;
        if (m.model == OneClassModel::ChaoticVae) chaotic = &m;
    }
    record["ttest"] = nullptr;
    if (vae && chaotic && request.seeds >= 2) {
        if (auto t = stats::studentTTest(chaotic->aurocs, vae->aurocs); t) {
            result.ttest = *t;
            record["ttest"] = {{"t", t->t},
                               {"df", t->df},
                               {"p", t->p},
                               {"of", "chaotic-vae against vae, headline AUROC per seed"}};
        }
    }
    record["features"] = result.features;
    record["resumed_parts"] = result.resumedParts;
    record["restarted"] = result.restarted;

    json notes = json::array();
    if (auto ok = writeCharts(result, request.out, result.charts); !ok)
        notes.push_back("charts: " + ok.error().message);
    // The rows shown come from chaotic-vae's first seed when it ran, else the first model's.
    const auto shown = chaotic ? OneClassModel::ChaoticVae : request.models.front();
    if (auto a = writeAnomalies(data, done.at({shown, request.firstSeed}), request.out); a)
        result.anomalies = *a;
    else
        notes.push_back("anomalies: " + a.error().message);
    json charts = json::array();
    for (const auto& c : result.charts) charts.push_back(c.filename().string());
    record["charts"] = charts;
    record["anomalies"] = result.anomalies.filename().string();
    record["notes"] = notes;
    if (auto ok = writeFileAtomic(request.out / "result.json", record.dump(2)); !ok)
        return tl::unexpected(ok.error());
    return result;
}

}  // namespace ll
