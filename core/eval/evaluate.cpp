#include "eval/evaluate.h"

#include <algorithm>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/jsonnumber.h"
#include "eval/evalsamples.h"
#include "eval/evalstages.h"
#include "eval/samplefolder.h"
#include "run/runloader.h"

namespace ll {
namespace fs = std::filesystem;
using nlohmann::json;

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

bool wants(const std::vector<std::string>& metrics, const std::string& m) {
    return std::find(metrics.begin(), metrics.end(), m) != metrics.end();
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

bool metricNeedsClassifier(const std::string& metric) {
    // TSTR trains classifiers of its own (on the samples, and on real rows for its floor).
    return metric == "is" || metric == "agreement" || metric == "classes";
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
    auto run = loadRun(runDir, step);
    if (!run) return tl::unexpected(run.error());
    return evaluateModel(*run->model, runDir, run->step, o, progress);
}

namespace {

// The stages (eval/evalstages.h) in order, each skipped when no metric asked for needs it.
// Cancellation is checked between them: it stops at the next boundary and writes nothing.
Result<fs::path> runStages(evalstages::Evaluation& e) {
    using namespace evalstages;
    const EvalOptions& o = e.options;
    if (o.count < 2 || o.count > 1000000) return fail("the sample count must lie in 2..1000000");
    if (auto ok = readRun(e); !ok) return tl::unexpected(ok.error());
    if (e.needsClassifier())
        if (auto ok = openClassifier(e); !ok) return tl::unexpected(ok.error());
    if (auto ok = loadRealData(e); !ok) return tl::unexpected(ok.error());
    if (auto ok = drawGenerated(e); !ok) return tl::unexpected(ok.error());

    if (auto ok = realAndGeneratedFeatures(e); !ok) return tl::unexpected(ok.error());
    if (!e.report("features", 0.3)) return fail("cancelled");
    if (e.wants("neighbours") || e.testsCopying())
        if (auto ok = trainingFeatures(e); !ok) return tl::unexpected(ok.error());
    if (e.classifier)
        if (auto ok = classifierLogits(e); !ok) return tl::unexpected(ok.error());

    startRecord(e);
    if (e.wants("fid")) scoreFid(e);
    if (!e.report("metrics", 0.2)) return fail("cancelled");
    if (e.wants("kid")) scoreKid(e);
    if (!e.report("metrics", 0.4)) return fail("cancelled");
    if (e.wants("precision") || e.wants("recall")) scorePrecisionRecall(e);
    if (!e.report("metrics", 0.6)) return fail("cancelled");
    if (e.wants("density") || e.wants("coverage")) scoreDensityCoverage(e);
    if (e.wants("is")) scoreInception(e);
    if (e.wants("agreement")) scoreAgreement(e);
    if (e.wants("classes")) countClasses(e);
    if (!e.report("metrics", 0.7)) return fail("cancelled");

    if (auto ok = makeEvalFolder(e); !ok) return tl::unexpected(ok.error());
    if (e.wants("neighbours") || e.testsCopying())
        if (auto ok = findNearest(e); !ok) return tl::unexpected(ok.error());
    if (e.wants("neighbours"))
        if (auto ok = recordNeighbours(e); !ok) return tl::unexpected(ok.error());
    if (!e.report("metrics", 0.8)) return fail("cancelled");
    if (e.wants("ct"))
        if (auto ok = testDataCopying(e); !ok) return tl::unexpected(ok.error());
    if (!e.report("metrics", 1.0)) return fail("cancelled");
    if (e.wants("tstr"))
        if (auto ok = trainOnSynthetic(e); !ok) return tl::unexpected(ok.error());
    return writeRecord(e);
}

}  // namespace

Result<fs::path> evaluateModel(GenerativeModel& generator, const fs::path& runDir,
                               std::int64_t step, const EvalOptions& o,
                               const EvalProgressFn& progress) {
    evalstages::Evaluation e{.generator = generator,
                             .runDir = runDir,
                             .step = step,
                             .options = o,
                             .metrics = o.metrics.empty() ? defaultEvalMetrics() : o.metrics,
                             .progress = progress};
    return runStages(e);
}

Result<fs::path> evaluateSamples(GenerativeModel& generator, const fs::path& runDir,
                                 std::int64_t step, const torch::Tensor& samples,
                                 const torch::Tensor& labels, const EvalOptions& options,
                                 const EvalProgressFn& progress) {
    if (!samples.defined() || samples.size(0) != labels.size(0))
        return fail("evaluation: the samples and their classes differ in number");
    if (samples.size(0) < 2) return fail("evaluation needs at least 2 samples");
    EvalOptions o = options;
    o.count = samples.size(0);
    if (o.samplesFrom.empty()) o.samplesFrom = "given samples";
    evalstages::Evaluation e{.generator = generator,
                             .runDir = runDir,
                             .step = step,
                             .options = o,
                             .metrics = o.metrics.empty() ? defaultEvalMetrics() : o.metrics,
                             .progress = progress,
                             .givenSamples = samples.to(torch::kFloat32),
                             .givenLabels = labels.to(torch::kInt64)};
    return runStages(e);
}

Result<fs::path> evaluateSampleFolder(const fs::path& runDir, std::optional<std::int64_t> step,
                                      const fs::path& folder, const EvalOptions& o,
                                      const EvalProgressFn& progress) {
    auto run = loadRun(runDir, step);
    if (!run) return tl::unexpected(run.error());
    auto read = readSampleFolder(folder, run->model->shape(), run->data);
    if (!read) return tl::unexpected(read.error());
    EvalOptions given = o;
    given.samplesFrom = fs::absolute(folder).lexically_normal().string();
    return evaluateSamples(*run->model, runDir, run->step, read->samples, read->labels, given,
                           progress);
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
        const json j = parseJson(*text);
        if (j.is_discarded()) return fail(file.string() + ": " + kNotJson);
        if (j.value("format", "") != "latentlab-eval-1")
            return fail(file.string() + ": not a LatentLab evaluation record");
        r.file = file;
        r.step = wholeNumber<std::int64_t>(j.at("step"), "step");
        r.count = wholeNumber(j, "count", std::int64_t{0});
        r.seed = wholeNumber(j, "seed", std::uint64_t{0});
        r.guidance = j.value("guidance", 0.0);
        r.featureSpace = j.value("feature_space", "");
        if (const auto& e = j.value("extractor", json()); e.is_object()) {
            r.extractor = e.value("dir", "");
            r.extractorSha256 = e.value("sha256", "");
        }
        const auto ref = j.value("reference", json::object());
        r.reference = ref.value("kind", "");
        r.samplesFrom = j.value("samples_from", "");
        std::ostringstream protocol;
        if (r.samplesFrom.empty())
            protocol << r.count << " samples (seed " << r.seed << ", guidance " << r.guidance
                     << ") vs ";
        else
            protocol << r.count << " samples from " << r.samplesFrom << " vs ";
        const std::string unit = ref.value("unit", "images");  // older records: images
        protocol << ref.value("count", 0) << " real " << r.reference << " " << unit;
        if (const auto source = ref.value("source", json()); source.is_string())
            protocol << " from " << source.get<std::string>();
        // What reading the user's held-out data said: what it left out (rows of classes the
        // run lacks, columns it has no feature for), how it read the file.
        if (const auto note = ref.value("note", json()); note.is_string() && !note.empty())
            protocol << " (" << note.get<std::string>() << ")";
        protocol << "; floor: " << ref.value("floor_count", 0) << " real training " << unit
                 << "; features: "
                 << (r.featureSpace == "pixels"
                         ? std::string(unit == "rows" ? "the table's columns" : "raw pixels")
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
            r.generatedClasses = wholeNumbers(c, "generated", std::vector<std::int64_t>{});
            r.realClasses = wholeNumbers(c, "real", std::vector<std::int64_t>{});
        }
        if (const auto n = j.value("neighbours", json()); n.is_object()) {
            for (const auto& row : n.value("rows", json::array()))
                r.neighbours.push_back(
                    {.sample = wholeNumber(row, "sample", std::int64_t{0}),
                     .label = wholeNumber(row, "class", -1),
                     .train = wholeNumbers(row, "train", std::vector<std::int64_t>{}),
                     .distances = row.value("distances", std::vector<double>{})});
            if (n.contains("image"))
                r.neighboursImage = file.parent_path() / n["image"].get<std::string>();
        }
        for (const auto& c : j.value("cells", json::array()))
            r.cells.push_back({.id = wholeNumber(c, "id", 0),
                               .z = number(c, "z"),
                               .kept = c.value("kept", false),
                               .train = wholeNumber(c, "train", std::int64_t{0}),
                               .test = wholeNumber(c, "test", std::int64_t{0}),
                               .generated = wholeNumber(c, "generated", std::int64_t{0}),
                               .x = number(c, "x"),
                               .y = number(c, "y"),
                               .samples = wholeNumbers(c, "samples", std::vector<std::int64_t>{}),
                               .distances = c.value("distances", std::vector<double>{})});
        if (j.contains("cells_image"))
            r.cellsImage = file.parent_path() / j["cells_image"].get<std::string>();
        if (const auto m = j.value("map", json()); m.is_object()) {
            r.mapX = m.value("x", std::vector<float>{});
            r.mapY = m.value("y", std::vector<float>{});
            r.mapCell = wholeNumbers(m, "cell", std::vector<int>{});
        }
    } catch (const json::exception& e) {
        return fail(file.string() + ": malformed evaluation record (" + jsonMessage(e) + ")");
    } catch (const std::out_of_range& e) {
        return fail(file.string() + ": malformed evaluation record (" + e.what() + ")");
    }
    return r;
}

std::vector<EvalRecord> listEvaluations(const fs::path& run, std::vector<std::string>* unreadable) {
    std::vector<EvalRecord> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(runfiles::evalDir(run), ec)) {
        const auto name = e.path().filename().string();
        if (!name.starts_with("step-") || e.path().extension() != ".json") continue;
        if (auto r = readEvaluation(e.path()))
            out.push_back(std::move(*r));
        else if (unreadable)
            unreadable->push_back(r.error().message);
    }
    std::sort(out.begin(), out.end(), [](const EvalRecord& a, const EvalRecord& b) {
        return std::tie(a.step, a.guidance) < std::tie(b.step, b.guidance);
    });
    return out;
}

}  // namespace ll
