#include "study/rebalance.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/jsonnumber.h"
#include "image/chart.h"
#include "study/rebalancelab.h"
#include "study/stats.h"
#include "study/studyparts.h"

namespace ll {
namespace fs = std::filesystem;
using nlohmann::json;
using rebalance::Lab;

namespace {

constexpr const char* kResultFile = "result.json";
constexpr const char* kMetricsChart = "metrics.png";
constexpr const char* kRecallChart = "per-class-recall.png";
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* const kGenerators[] = {"cvae", "cgan", "acgan", "ddpm", "latent-ddpm"};

double number(const json& j) {
    return j.is_number() ? j.get<double>() : kNaN;
}

std::map<std::string, double> metricsOf(const ImbalanceScores& s) {
    return {{"minority_recall", s.minorityRecall},
            {"balanced_accuracy", s.balancedAccuracy},
            {"macro_f1", s.macroF1},
            {"g_mean", s.gMean},
            {"minority_auroc", s.minorityAuroc},
            {"accuracy", s.accuracy}};
}

// Mean and sample sd (n - 1) over the finite values; NaN when there are none.
std::pair<double, double> meanSd(std::vector<double> values) {
    std::erase_if(values, [](double v) { return !std::isfinite(v); });
    return {stats::mean(values), stats::sd(values)};
}

json byName(const std::vector<std::string>& names, const std::vector<std::int64_t>& counts) {
    json o = json::object();
    for (std::size_t k = 0; k < names.size() && k < counts.size(); ++k) o[names[k]] = counts[k];
    return o;
}

json optionsOf(const RebalanceRequest& r, const Lab& lab) {
    const auto& d = r.data;
    json minority = json::array();
    for (const auto& [k, share] : lab.profile.minority) minority.push_back({k, share});
    const char* modes[] = {"as-is", "long-tail", "minority"};
    // clang-format off
    json o{{"source", d.source}, {"split", d.split}, {"label_column", d.labelColumn},
           {"image_size", d.imageSize}, {"colour", colourName(d.colour)},
           {"classes", lab.train.keptClasses}, {"limit", d.limit},
           {"imbalance", modes[static_cast<int>(r.imbalance)]},
           {"long_tail_ratio", r.imbalance == ImbalanceMode::LongTail ? r.longTailRatio : 1.0},
           {"minority_shares", minority}, {"seed", r.seed},
           {"held_out_fraction", r.heldOutFraction}, {"held_out_limit", r.heldOutLimit},
           {"classifier", lab.classifier},
           {"classifier_preset", r.classifierPreset.empty() ? "classifier-cpu"
                                                           : r.classifierPreset},
           {"classifier_steps", r.classifierSteps}, {"classifier_batch", r.classifierBatch},
           {"logistic_c", r.logistic.c}, {"logistic_iterations", r.logistic.maxIterations},
           {"logistic_tolerance", r.logistic.tolerance}};
    // clang-format on
    return o;
}

// True when `j` holds what aggregate() reads: every metric, and each class's recall,
// precision, F1 and training count.
bool wellFormedPart(const json& j, std::size_t classes) {
    const auto numberOrNull = [](const json& v) { return v.is_number() || v.is_null(); };
    const auto perClass = [&](const char* key) {
        const auto it = j.find(key);
        return it != j.end() && it->is_array() && it->size() == classes &&
               std::ranges::all_of(*it, numberOrNull);
    };
    const auto metrics = j.find("metrics");
    if (metrics == j.end() || !metrics->is_object()) return false;
    for (const auto& metric : rebalanceMetrics())
        if (!metrics->contains(metric) || !numberOrNull((*metrics)[metric])) return false;
    const auto counts = j.find("train_counts");
    return perClass("recall") && perClass("precision") && perClass("f1") && counts != j.end() &&
           counts->is_array() && counts->size() == classes &&
           std::ranges::all_of(*counts,
                               [](const json& v) { return asWholeNumber<std::int64_t>(v) >= 0; }) &&
           asWholeNumber<std::int64_t>(j.value("synthetic", json(0))).value_or(-1) >= 0;
}

// A finished part made with these options, or null: one another version wrote, or one damaged
// or edited, is made again.
json reusedPart(const fs::path& part, const json& options, const json& methodOptions,
                std::size_t classes) {
    auto text = readFile(part);
    if (!text) return nullptr;
    json j = parseJson(*text);
    if (!j.is_object() || j.value("options", json()) != options ||
        j.value("method_options", json()) != methodOptions || !wellFormedPart(j, classes))
        return nullptr;
    return j;
}

json partJson(const json& options, const json& methodOptions, const std::string& method,
              std::uint64_t seed, const ImbalanceScores& s, const rebalance::Rebalanced& data,
              double seconds) {
    json metrics = json::object();
    for (const auto& [k, v] : metricsOf(s)) metrics[k] = std::isfinite(v) ? json(v) : json();
    return {{"options", options},
            {"method_options", methodOptions},
            {"method", method},
            {"seed", seed},
            {"metrics", metrics},
            {"recall", s.recall},
            {"precision", s.precision},
            {"f1", s.f1},
            {"train_counts", data.data.classCounts()},
            {"synthetic", data.synthetic},
            {"notes", data.notes},
            {"seconds", seconds}};
}

MethodScores aggregate(const std::string& method, const std::vector<json>& parts,
                       std::size_t classes) {
    MethodScores m{.method = method};
    for (const auto& p : parts) {
        std::map<std::string, double> one;
        for (const auto& metric : rebalanceMetrics()) one[metric] = number(p["metrics"][metric]);
        m.perSeed.push_back(one);
    }
    for (const auto& metric : rebalanceMetrics()) {
        std::vector<double> v;
        for (const auto& one : m.perSeed) v.push_back(one.at(metric));
        std::tie(m.mean[metric], m.sd[metric]) = meanSd(v);
    }
    for (std::size_t k = 0; k < classes; ++k) {
        std::vector<double> v;
        for (const auto& p : parts) v.push_back(number(p["recall"][k]));
        const auto [mean, sd] = meanSd(v);
        m.perClassRecall.push_back(mean);
        m.perClassRecallSd.push_back(sd);
    }
    if (!parts.empty()) {
        m.trainCounts = parts[0]["train_counts"].get<std::vector<std::int64_t>>();
        m.synthetic = parts[0].value("synthetic", std::int64_t{0});
    }
    return m;
}

json resultJson(const RebalanceRequest& r, const RebalanceResult& res, const json& options,
                const std::map<std::string, json>& methodOptions) {
    json methods = json::object();
    for (const auto& m : res.methods) {
        json o = json::object();
        for (const auto& metric : rebalanceMetrics()) {
            const double mean = m.mean.at(metric), sd = m.sd.at(metric);
            o[metric + "_mean"] = std::isfinite(mean) ? json(mean) : json();
            o[metric + "_sd"] = std::isfinite(sd) ? json(sd) : json();
        }
        json recall = json::object(), recallSd = json::object();
        for (std::size_t k = 0; k < res.classes.size(); ++k) {
            recall[res.classes[k]] = m.perClassRecall[k];
            recallSd[res.classes[k]] = m.perClassRecallSd[k];
        }
        json perSeed = json::array();
        for (const auto& one : m.perSeed) {
            json s = json::object();
            for (const auto& [k, v] : one) s[k] = std::isfinite(v) ? json(v) : json();
            perSeed.push_back(s);
        }
        o["per_class_recall"] = recall;
        o["per_class_recall_sd"] = recallSd;
        o["train_counts"] = byName(res.classes, m.trainCounts);
        o["synthetic"] = m.synthetic;
        o["per_seed"] = perSeed;
        o["options"] = methodOptions.at(m.method);
        methods[m.method] = o;
    }
    json samples = json::object();
    for (const auto& [m, file] : res.samples) samples[m] = file.filename().string();
    // clang-format off
    return {{"study", "rebalance"}, {"dataset", r.data.source}, {"classes", res.classes},
            {"images", res.images}, {"imbalance", res.imbalance},
            {"counts", byName(res.classes, res.counts)},
            {"original_counts", byName(res.classes, res.originalCounts)},
            {"held_out", res.heldOut}, {"held_out_counts", byName(res.classes, res.heldOutCounts)},
            {"minority", res.minority}, {"classifier", res.classifier},
            {"method_order", r.methods}, {"seeds", r.seeds}, {"seed", r.seed},
            {"metrics", rebalanceMetrics()},
            {"metric", "scores on the held-out part; mean and sd over seeds (n - 1)"},
            {"methods", methods}, {"settings", options},
            {"charts", {{"metrics", res.metricsChart.empty() ? "" : kMetricsChart},
                        {"per_class_recall", res.recallChart.empty() ? "" : kRecallChart},
                        {"samples", samples}}},
            {"parts_reused", res.partsReused}, {"notes", res.notes}};
    // clang-format on
}

void writeCharts(const RebalanceRequest& r, RebalanceResult& res) {
    const std::string name = fs::path(r.data.source).filename().string();
    chart::GroupedBarChart metrics{.title = "Rebalancing " + name + " (" + res.imbalance + ")",
                                   .yLabel = "held-out score, mean +- sd over seeds",
                                   .yRange = std::pair{0.0, 1.05}};
    chart::GroupedBarChart recall{.title = "Per-class recall: " + name + " (" + res.imbalance + ")",
                                  .xLabel = "class",
                                  .yLabel = "recall, mean +- sd over seeds",
                                  .groups = res.classes,
                                  .yRange = std::pair{0.0, 1.05}};
    for (const auto& metric : rebalanceMetrics())
        if (metric != "accuracy") metrics.groups.push_back(rebalanceMetricLabel(metric));
    for (const auto& m : res.methods) {
        chart::GroupedBarSeries s{.name = m.method}, c{.name = m.method};
        for (const auto& metric : rebalanceMetrics())
            if (metric != "accuracy")
                s.values.push_back(m.mean.at(metric)), s.errors.push_back(m.sd.at(metric));
        c.values = m.perClassRecall;
        c.errors = m.perClassRecallSd;
        metrics.series.push_back(std::move(s));
        recall.series.push_back(std::move(c));
    }
    if (auto ok = chart::writeGroupedBarChart(metrics, r.out / kMetricsChart); ok)
        res.metricsChart = r.out / kMetricsChart;
    else
        res.notes.push_back("no chart: " + ok.error().message);
    if (auto ok = chart::writeGroupedBarChart(recall, r.out / kRecallChart); ok)
        res.recallChart = r.out / kRecallChart;
}

std::string figureName(const std::string& method) {
    return "samples-" + method + ".png";
}

}  // namespace

std::string rebalanceMetricLabel(const std::string& metric) {
    static const std::map<std::string, std::string> labels{
        {"minority_recall", "minority recall"},
        {"balanced_accuracy", "balanced accuracy"},
        {"macro_f1", "macro F1"},
        {"g_mean", "G-mean"},
        {"minority_auroc", "minority AUROC"},
        {"accuracy", "accuracy"}};
    return labels.count(metric) ? labels.at(metric) : metric;
}

Result<std::vector<MinorityShare>> parseMinorityShares(const std::string& text) {
    std::vector<MinorityShare> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        const auto colon = item.rfind(':');
        char* end = nullptr;
        const double share =
            colon == std::string::npos ? 0 : std::strtod(item.c_str() + colon + 1, &end);
        if (colon == std::string::npos || colon == 0 || !end || *end != '\0' ||
            colon + 1 == item.size())
            return fail("--minority: \"" + item +
                        "\" is not CLASS:SHARE (e.g. 3:0.02 or "
                        "malignant:0.05)");
        out.push_back({item.substr(0, colon), share});
    }
    if (out.empty()) return fail("--minority names no class");
    return out;
}

std::vector<std::string> rebalanceMethods() {
    return {"none", "under", "over",  "smote", "smote+under", "smote-latent",
            "cvae", "cgan",  "acgan", "ddpm",  "latent-ddpm"};
}

bool isGeneratorMethod(const std::string& method) {
    return std::find(std::begin(kGenerators), std::end(kGenerators), method) !=
           std::end(kGenerators);
}

std::vector<std::string> rebalanceMetrics() {
    return {"minority_recall", "balanced_accuracy", "macro_f1",
            "g_mean",          "minority_auroc",    "accuracy"};
}

Result<void> checkRebalance(const RebalanceRequest& r) {
    if (r.out.empty()) return fail("rebalance: no output folder given");
    if (r.methods.empty()) return fail("rebalance: no methods given");
    const auto known = rebalanceMethods();
    std::set<std::string> seen;
    for (const auto& m : r.methods) {
        if (m == "smote-features")
            return fail(
                "rebalance: smote-features is not offered: features cannot be decoded "
                "back to data, so the classifier would differ from the other methods'");
        if (std::find(known.begin(), known.end(), m) == known.end()) {
            std::string all;
            for (const auto& k : known) all += (all.empty() ? "" : ", ") + k;
            return fail("rebalance: unknown method \"" + m + "\" (choose from " + all + ")");
        }
        if (!seen.insert(m).second) return fail("rebalance: method " + m + " given twice");
    }
    if (r.seeds < 1 || r.seeds > 1000) return fail("rebalance: seeds must lie in 1..1000");
    if (r.imbalance == ImbalanceMode::LongTail && !(r.longTailRatio >= 1))
        return fail("rebalance: the long-tail ratio must be at least 1");
    if (r.imbalance == ImbalanceMode::Minority && r.minority.empty())
        return fail("rebalance: --minority names no class");
    double sum = 0;
    for (const auto& m : r.minority) {
        if (!(m.share > 0 && m.share < 1))
            return fail("rebalance: the share of class " + m.cls + " must lie in (0, 1)");
        sum += m.share;
    }
    if (r.imbalance == ImbalanceMode::Minority && !(sum < 1))
        return fail("rebalance: the minority shares sum to 1 or more");
    if (r.smoteK < 1 || r.smoteK > 100) return fail("rebalance: --smote-k must lie in 1..100");
    if (!(r.smoteUnderShare > 0 && r.smoteUnderShare <= 1))
        return fail("rebalance: the smote+under share must lie in (0, 1]");
    if (!(r.heldOutFraction > 0 && r.heldOutFraction < 1))
        return fail("rebalance: the held-out fraction must lie in (0, 1)");
    if (r.heldOutLimit < 0) return fail("rebalance: the held-out limit must be at least 0");
    if (!r.classifier.empty() && r.classifier != "cnn" && r.classifier != "mlp" &&
        r.classifier != "logistic")
        return fail("rebalance: unknown classifier \"" + r.classifier +
                    "\" (choose cnn, mlp or logistic)");
    if (r.classifierSteps < 1 || r.classifierBatch < 1)
        return fail("rebalance: classifier steps and batch must be at least 1");
    if (!(r.logistic.c > 0)) return fail("rebalance: C must be above 0");
    if (r.generatorSteps < 0) return fail("rebalance: generator steps must be at least 0");
    if (!(r.minConfidence >= 0 && r.minConfidence <= 1))
        return fail("rebalance: the minimum confidence must lie in 0..1");
    return {};
}

Result<RebalanceResult> runRebalance(const RebalanceRequest& r,
                                     const RebalanceProgressFn& progress) {
    if (auto ok = checkRebalance(r); !ok) return tl::unexpected(ok.error());
    if (progress && !progress("loading", 0)) return fail("cancelled");
    Result<Lab> prepared = fail("");
    try {
        torch::NoGradGuard noGrad;
        prepared = rebalance::prepareLab(r);
    } catch (const std::exception& e) {
        return fail("rebalance: " + firstLine(e));
    }
    if (!prepared) return tl::unexpected(prepared.error());
    Lab& lab = *prepared;
    const auto& classes = lab.train.classNames;

    RebalanceResult res;
    res.classes = classes;
    res.counts = lab.train.classCounts();
    res.originalCounts = lab.originalCounts;
    res.heldOutCounts = lab.held.classCounts();
    for (int k : lab.minority) res.minority.push_back(classes[static_cast<std::size_t>(k)]);
    res.imbalance = lab.imbalanceText;
    res.classifier = lab.classifier;
    res.heldOut = lab.heldOutText;
    res.images = lab.images();
    res.json = r.out / kResultFile;

    // Resume: parts made with these options are kept, others cleared.
    const json options = optionsOf(r, lab);
    const fs::path parts = r.out / "parts";
    if (auto ok = prepareParts(parts, options, res.notes); !ok) return tl::unexpected(ok.error());

    const double total = static_cast<double>(r.methods.size() * static_cast<std::size_t>(r.seeds));
    double done = 0;
    std::map<std::string, json> methodOptions;
    try {
        torch::NoGradGuard noGrad;
        auto trained = rebalance::prepareGenerators(
            r, lab, options, [&](double f) { return !progress || progress("generator", f); });
        if (!trained) return tl::unexpected(trained.error());
        for (const auto& note : lab.notes) res.notes.push_back(note);
        for (const auto& method : r.methods) {
            methodOptions[method] = rebalance::methodOptions(r, lab, method);
            std::vector<json> finished;
            for (int s = 0; s < r.seeds; ++s) {
                const fs::path part = parts / (method + "-s" + std::to_string(s) + ".json");
                const fs::path figure = r.out / figureName(method);
                json j = reusedPart(part, options, methodOptions[method], classes.size());
                if (!j.is_null()) {
                    ++res.partsReused;
                    if (s == 0 && fs::exists(figure)) res.samples[method] = figure;
                } else {
                    const auto started = std::chrono::steady_clock::now();
                    const auto step = [&](double f) {
                        return !progress || progress("fitting", (done + f) / total);
                    };
                    auto data = rebalance::rebalanceWith(r, lab, method, s,
                                                         [&](double f) { return step(f / 4); });
                    if (!data) return tl::unexpected(data.error());
                    if (s == 0 && !data->figure.columns.empty()) {
                        auto ok = rebalance::writeFigure(data->figure, method, figure);
                        if (ok)
                            res.samples[method] = figure;
                        else
                            res.notes.push_back("no samples figure: " + ok.error().message);
                    } else if (s == 0 && lab.images() && method != "none" && method != "under" &&
                               method != "over") {
                        res.notes.push_back(method +
                                            ": no synthetic minority sample was kept, so no "
                                            "samples figure");
                    }
                    const std::uint64_t seed = r.seed + static_cast<std::uint64_t>(s);
                    auto scores =
                        rebalance::fitAndScore(r, lab, data->data, seed, parts / ("work-" + method),
                                               [&](double f) { return step(0.25 + 0.75 * f); });
                    if (!scores) return tl::unexpected(scores.error());
                    const std::chrono::duration<double> took =
                        std::chrono::steady_clock::now() - started;
                    j = partJson(options, methodOptions[method], method, seed, *scores, *data,
                                 took.count());
                    if (auto ok = writeFileAtomic(part, j.dump(2) + "\n"); !ok)
                        return tl::unexpected(ok.error());
                }
                for (const auto& note : j.value("notes", std::vector<std::string>{}))
                    res.notes.push_back(note);
                finished.push_back(std::move(j));
                done += 1;
                if (progress && !progress("fitting", done / total)) return fail("cancelled");
            }
            res.methods.push_back(aggregate(method, finished, classes.size()));
        }
    } catch (const std::exception& e) {
        return fail("rebalance: " + firstLine(e));
    }
    if (progress && !progress("chart", 1)) return fail("cancelled");
    writeCharts(r, res);
    if (auto ok =
            writeFileAtomic(res.json, resultJson(r, res, options, methodOptions).dump(2) + "\n");
        !ok)
        return tl::unexpected(ok.error());
    return res;
}

Result<RebalanceResult> readRebalance(const fs::path& resultJson) {
    auto text = readFile(resultJson);
    if (!text) return tl::unexpected(text.error());
    const json j = parseJson(*text);
    if (!j.is_object() || j.value("study", json()) != "rebalance" || !j.contains("methods"))
        return fail(resultJson.string() + ": not a rebalance result");
    try {
        RebalanceResult res;
        res.classes = j.at("classes").get<std::vector<std::string>>();
        const auto counts = [&](const char* key) {
            std::vector<std::int64_t> out;
            for (const auto& c : res.classes) out.push_back(j.at(key).value(c, std::int64_t{0}));
            return out;
        };
        res.counts = counts("counts");
        res.originalCounts = counts("original_counts");
        res.heldOutCounts = counts("held_out_counts");
        res.minority = j.at("minority").get<std::vector<std::string>>();
        res.imbalance = j.value("imbalance", "");
        res.classifier = j.value("classifier", "");
        res.heldOut = j.value("held_out", "");
        res.images = j.value("images", true);
        res.partsReused = j.value("parts_reused", std::int64_t{0});
        res.notes = j.value("notes", std::vector<std::string>{});
        for (const auto& name : j.at("method_order")) {
            const json& o = j.at("methods").at(name.get<std::string>());
            MethodScores m{.method = name};
            for (const auto& metric : rebalanceMetrics()) {
                m.mean[metric] = number(o.value(metric + "_mean", json()));
                m.sd[metric] = number(o.value(metric + "_sd", json()));
            }
            for (const auto& c : res.classes) {
                m.perClassRecall.push_back(number(o.at("per_class_recall").value(c, json())));
                m.perClassRecallSd.push_back(number(o.at("per_class_recall_sd").value(c, json())));
                m.trainCounts.push_back(o.at("train_counts").value(c, std::int64_t{0}));
            }
            for (const auto& seed : o.value("per_seed", json::array())) {
                std::map<std::string, double> one;
                for (const auto& [k, v] : seed.items()) one[k] = number(v);
                m.perSeed.push_back(one);
            }
            m.synthetic = o.value("synthetic", std::int64_t{0});
            res.methods.push_back(std::move(m));
        }
        const fs::path dir = resultJson.parent_path();
        const json& charts = j.at("charts");
        if (const std::string f = charts.value("metrics", ""); !f.empty())
            res.metricsChart = dir / f;
        if (const std::string f = charts.value("per_class_recall", ""); !f.empty())
            res.recallChart = dir / f;
        // A named copy: items() of the temporary value() returns would dangle.
        const json samples = charts.value("samples", json::object());
        for (const auto& [m, f] : samples.items()) res.samples[m] = dir / f.get<std::string>();
        res.json = resultJson;
        return res;
    } catch (const std::exception& e) {
        return fail(resultJson.string() + ": " + firstLine(e));
    }
}

}  // namespace ll
