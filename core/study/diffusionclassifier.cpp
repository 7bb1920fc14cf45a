#include "study/diffusionclassifier.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/jsonnumber.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "eval/agreement.h"
#include "eval/extractorchoice.h"
#include "run/runloader.h"
#include "study/diffusionclassifierscore.h"

namespace ll {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace diffusionclassify;

std::string denoisingLossName(DenoisingLoss loss) {
    return loss == DenoisingLoss::L1 ? "l1" : "l2";
}

Result<DenoisingLoss> parseDenoisingLoss(const std::string& name) {
    for (auto l : {DenoisingLoss::L1, DenoisingLoss::L2})
        if (name == denoisingLossName(l)) return l;
    return fail("unknown loss '" + name + "' (l1 or l2)");
}

Result<void> checkDiffusionClassifierOptions(const DiffusionClassifierOptions& o) {
    if (o.timesteps < 1 || o.timesteps > 100000)
        return fail("the number of timesteps must lie in 1..100000");
    if (o.noiseDraws < 1 || o.noiseDraws > 1000)
        return fail("the number of noise draws must lie in 1..1000");
    const int pairs = o.timesteps * o.noiseDraws;
    if (pairs > 100000) return fail("timesteps x noise draws must be at most 100000");
    if (o.stages.size() != o.keep.size())
        return fail("give as many stages as keep counts (" + std::to_string(o.stages.size()) +
                    " stages, " + std::to_string(o.keep.size()) + " keep counts)");
    for (std::size_t i = 0; i < o.stages.size(); ++i) {
        if (o.stages[i] < 1 || o.stages[i] >= pairs)
            return fail("a stage must lie in 1.." + std::to_string(pairs - 1) +
                        " (timesteps x noise draws), got " + std::to_string(o.stages[i]));
        if (i > 0 && o.stages[i] <= o.stages[i - 1]) return fail("the stages must ascend");
        if (o.keep[i] < 1) return fail("a keep count must be at least 1");
        if (i > 0 && o.keep[i] > o.keep[i - 1]) return fail("the keep counts must not ascend");
    }
    return {};
}

std::string diffusionClassifierOptionsText(const DiffusionClassifierOptions& o) {
    const auto list = [](const std::vector<int>& v) {
        std::string s;
        for (int x : v) {
            if (!s.empty()) s += ',';
            s += std::to_string(x);
        }
        return s;
    };
    std::ostringstream out;
    out << "--timesteps " << o.timesteps << " --noise-draws " << o.noiseDraws;
    if (!o.stages.empty()) out << " --stages " << list(o.stages) << " --keep " << list(o.keep);
    out << " --loss " << denoisingLossName(o.loss) << " --seed " << o.seed;
    return out.str();
}

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// A run held open with its denoising capability.
struct Opened {
    LoadedRun run;
    DenoisingClassifiable* model = nullptr;
};

Result<Opened> openDiffusionRun(const fs::path& run, std::optional<std::int64_t> step) {
    auto loaded = loadRun(run, step);
    if (!loaded) return tl::unexpected(loaded.error());
    Opened o{.run = std::move(*loaded)};
    o.model = dynamic_cast<DenoisingClassifiable*>(o.run.model.get());
    if (!o.model)
        return fail(run.string() + " is a " + o.run.model->name() +
                    " run; the diffusion classifier needs a ddpm or latent-ddpm run");
    if (o.run.data.shape.numClasses < 2)
        return fail(run.string() +
                    " was trained without classes; the diffusion classifier "
                    "needs a class-conditional run");
    return o;
}

Result<void> checkAgainstRun(const DiffusionClassifierOptions& options, const Opened& o) {
    if (auto ok = checkDiffusionClassifierOptions(options); !ok) return ok;
    const int T = o.model->diffusionSchedule().timesteps();
    if (options.timesteps > T)
        return fail("--timesteps " + std::to_string(options.timesteps) + " is more than the " +
                    std::to_string(T) + " timesteps the run was trained with");
    return {};
}

}  // namespace

Result<Dataset> diffusionclassify::loadRunImages(const DatasetSpec& given, const LoadedRun& run,
                                                 const std::vector<std::int64_t>& rows) {
    auto data = loadForRun(given, run.config, run.data);
    if (!data) return tl::unexpected(data.error());
    if (rows.empty()) return data;
    for (auto i : rows)
        if (i < 0 || i >= data->size())
            return fail(given.source + ": row " + std::to_string(i) + " is not there (it has " +
                        std::to_string(data->size()) + ")");
    return data->subset(torch::tensor(rows, torch::kInt64));
}

namespace {

/// The diffusion space of images, with a model's refusal as an error.
Result<torch::Tensor> diffusionSpace(DenoisingClassifiable& model, const torch::Tensor& x) {
    try {
        torch::NoGradGuard noGrad;
        return model.diffusionSpace(x);
    } catch (const std::logic_error& e) {
        return fail(firstLine(e));
    }
}

fs::path workspaceOf(const DiffusionClassifyRequest& r) {
    return workspaceOfRun(r.run, r.workspace);
}

/// The clean domain classifier on the same images, or a note why there is none.
void addBaseline(DiffusionClassifyResult& result, const DiffusionClassifyRequest& r,
                 const LoadedRun& run, const Dataset& data) {
    auto choice = chooseExtractor(r.extractor, run.data.datasetName, workspaceOf(r));
    if (!choice) {
        result.baselineNote = "no baseline: " + choice.error().message;
        result.notes.push_back(result.baselineNote);
        return;
    }
    auto opened = loadRun(choice->dir);
    if (!opened) {
        result.baselineNote = "no baseline: " + opened.error().message;
        result.notes.push_back(result.baselineNote);
        return;
    }
    auto accuracy = classifierAccuracy(*opened->model, data);
    if (!accuracy) {
        result.baselineNote = "no baseline: " + accuracy.error().message;
        result.notes.push_back(result.baselineNote);
        return;
    }
    result.baselineAccuracy = accuracy->accuracy;
    result.baselineName = fs::absolute(choice->dir).lexically_normal().string();
}

/// The chosen rows in a part's key: their number and a 64-bit FNV-1a hash of the list.
std::string rowsKey(const std::vector<std::int64_t>& rows) {
    if (rows.empty()) return "all";
    std::uint64_t h = 14695981039346656037ull;
    for (auto i : rows)
        for (int b = 0; b < 8; ++b)
            h = (h ^ ((static_cast<std::uint64_t>(i) >> (8 * b)) & 0xff)) * 1099511628211ull;
    char text[48];
    std::snprintf(text, sizeof text, "%zu rows %016llx", rows.size(),
                  static_cast<unsigned long long>(h));
    return text;
}

/// What makes a part reusable: the same run, checkpoint, images and options. The classes
/// by the source's numbers of those `data` kept, however they were named.
json partKey(const DiffusionClassifyRequest& r, const Dataset& data, std::int64_t step,
             const std::vector<int>& budgets) {
    const auto& d = r.data;
    return {{"run", fs::absolute(r.run).lexically_normal().string()},
            {"step", step},
            {"data",
             {{"source", d.source},
              {"split", d.split},
              {"label_column", d.labelColumn},
              {"classes", data.keptClasses},
              {"long_tail", d.longTailRatio},
              {"limit", d.limit},
              {"seed", d.seed},
              {"rows", rowsKey(r.rows)}}},
            {"options", diffusionClassifierOptionsText(r.options)},
            {"unpruned", r.unpruned},
            {"budgets", budgets},
            {"part_size", r.partSize}};
}

fs::path partFile(const fs::path& out, std::int64_t part) {
    char name[32];
    std::snprintf(name, sizeof name, "part-%06lld.json", static_cast<long long>(part));
    return out / "parts" / name;
}

/// The finished parts that match `key`, by number; parts made otherwise are removed (with a
/// note) so that the run starts over.
std::map<std::int64_t, json> readParts(const fs::path& out, const json& key,
                                       std::vector<std::string>& notes) {
    std::map<std::int64_t, json> parts;
    std::error_code ec;
    if (!fs::is_directory(out / "parts", ec)) return parts;
    bool other = false;
    for (const auto& e : fs::directory_iterator(out / "parts", ec)) {
        const auto name = e.path().filename().string();
        if (!name.starts_with("part-") || !name.ends_with(".json")) continue;
        auto text = readFile(e.path());
        json j = text ? parseJson(*text) : json();
        if (j.is_discarded() || !j.is_object() || j.value("key", json()) != key) {
            other = true;
            break;
        }
        const auto number = asWholeNumber<std::int64_t>(j.value("part", json()));
        if (number) parts[*number] = std::move(j);
    }
    if (other) {
        notes.push_back("the parts in " + (out / "parts").string() +
                        " were made with other options or images: started over");
        parts.clear();
        fs::remove_all(out / "parts", ec);
    }
    return parts;
}

/// True when a part on disk holds what summarise reads for its `count` images, `classes`
/// classes and `budgets` budgets; a damaged or edited one is scored again, not read.
bool wellFormedPart(const json& p, std::int64_t count, int classes, std::size_t budgets) {
    const auto n = static_cast<std::size_t>(count);
    const auto isClass = [&](const json& v) {
        const auto c = asWholeNumber<int>(v);
        return c && *c >= 0 && *c < classes;
    };
    const auto numberOrNull = [](const json& v) { return v.is_number() || v.is_null(); };
    const auto scoreRow = [&](const json& row) {
        return row.is_array() && row.size() == static_cast<std::size_t>(classes) &&
               std::ranges::all_of(row, numberOrNull);
    };
    const auto budgetRow = [&](const json& row) {
        return row.is_array() && row.size() == budgets && std::ranges::all_of(row, isClass);
    };
    const auto list = [&](const char* key, const auto& each) {
        const auto it = p.find(key);
        return it != p.end() && it->is_array() && it->size() == n && std::ranges::all_of(*it, each);
    };
    if (asWholeNumber<std::int64_t>(p.value("count", json())) != count ||
        !list("labels", isClass) || !list("predictions", isClass) ||
        !list("evaluations", [](const json& v) { return v.is_number(); }) ||
        !list("scores", scoreRow))
        return false;
    return !p.contains("unpruned_predictions") ||
           (list("unpruned_predictions", isClass) && list("unpruned_scores", scoreRow) &&
            list("budget_predictions", budgetRow));
}

json nanToNull(const std::vector<double>& v) {
    json a = json::array();
    for (double x : v) a.push_back(std::isnan(x) ? json() : json(x));
    return a;
}

std::vector<double> nullToNan(const json& a) {
    std::vector<double> v;
    for (const auto& x : a) v.push_back(x.is_number() ? x.get<double>() : std::nan(""));
    return v;
}

/// Scores one part's images (pruned, and unpruned when asked) into its part record.
Result<json> scorePart(Opened& o, const Dataset& data, const DiffusionClassifyRequest& r,
                       const Pairs& pairs, const std::vector<int>& budgets, std::int64_t first,
                       std::int64_t count, const std::function<bool(double)>& progress) {
    const int classes = o.run.data.shape.numClasses;
    const bool pruning = !r.options.stages.empty();
    const bool unpruned = !pruning || r.unpruned;
    // The pruned pass's time includes taking the images into the diffusion space (an encoder
    // for latent-ddpm): it is what classifying an image costs.
    auto start = Clock::now();
    auto x0 = diffusionSpace(*o.model, data.x.slice(0, first, first + count));
    if (!x0) return tl::unexpected(x0.error());
    // The share of the work the pruned pass is, for one fraction over both passes.
    const double full = double(classes) * double(pairs.size());
    double pruned = 0;
    for (std::size_t s = 0; s <= r.options.stages.size(); ++s) {
        const int from = s == 0 ? 0 : r.options.stages[s - 1];
        const int to = s < r.options.stages.size() ? r.options.stages[s] : int(pairs.size());
        const int active = s == 0 ? classes : std::min(classes, r.options.keep[s - 1]);
        if (active > 1 || s == 0) pruned += active * (to - from);
    }
    const double share = pruning && unpruned ? pruned / (pruned + full) : 1.0;

    Scored main = scoreImages(*o.model, *x0, classes, pairs, r.options, !pruning,
                              [&](double f) { return !progress || progress(f * share); });
    if (main.predictions.empty()) return fail("cancelled");
    const double seconds = since(start);
    Scored everyPair;
    double unprunedSeconds = seconds;
    if (pruning && unpruned) {
        DiffusionClassifierOptions all = r.options;
        all.stages.clear();
        all.keep.clear();
        start = Clock::now();
        everyPair = scoreImages(*o.model, *x0, classes, pairs, all, true, [&](double f) {
            return !progress || progress(share + f * (1 - share));
        });
        if (everyPair.predictions.empty()) return fail("cancelled");
        unprunedSeconds = since(start);
    }
    const Scored& every = pruning ? everyPair : main;
    json part{{"first", first},
              {"count", count},
              {"labels", json::array()},
              {"predictions", main.predictions},
              {"evaluations", main.evaluations},
              {"scores", json::array()},
              {"seconds", seconds}};
    auto y = data.y.slice(0, first, first + count).contiguous();
    for (std::int64_t i = 0; i < count; ++i) {
        part["labels"].push_back(y[i].item<std::int64_t>());
        part["scores"].push_back(nanToNull(main.scores[std::size_t(i)]));
    }
    if (unpruned) {
        part["unpruned_predictions"] = every.predictions;
        part["unpruned_scores"] = json::array();
        part["budget_predictions"] = json::array();
        part["unpruned_seconds"] = unprunedSeconds;
        for (std::int64_t i = 0; i < count; ++i) {
            part["unpruned_scores"].push_back(nanToNull(every.scores[std::size_t(i)]));
            part["budget_predictions"].push_back(budgetPredictions(every.pairErrors[i], budgets));
        }
    }
    // Explanations of the first images, before the part is recorded as finished.
    const std::int64_t explain = std::min<std::int64_t>(count, r.explain - first);
    if (explain > 0) {
        torch::Tensor errors;
        if (unpruned) {
            errors = every.pairErrors.slice(0, 0, explain);
        } else {
            DiffusionClassifierOptions all = r.options;
            all.stages.clear();
            all.keep.clear();
            errors = scoreImages(*o.model, x0->slice(0, 0, explain), classes, pairs, all, true)
                         .pairErrors;
        }
        for (std::int64_t i = 0; i < explain; ++i) {
            auto e =
                explanationOf(errors[i], pairs, data.classNames, int(y[i].item<std::int64_t>()));
            auto ok = writeExplanationCharts(e, r.out / "explain" / std::to_string(first + i));
            if (!ok) part["chart_note"] = "explanations: " + ok.error().message;
        }
    }
    return part;
}

/// Folds the parts into the result: accuracy, confusion, budget curve, speed.
void summarise(DiffusionClassifyResult& result, const std::map<std::int64_t, json>& parts,
               const std::vector<int>& budgets, int classes, bool pruning) {
    double evaluations = 0, seconds = 0, unprunedSeconds = 0;
    std::vector<int> unprunedPredictions;
    std::vector<std::vector<int>> budget;
    for (const auto& [number, p] : parts) {
        for (const auto& v : p["labels"]) result.labels.push_back(v.get<int>());
        for (const auto& v : p["predictions"]) result.predictions.push_back(v.get<int>());
        for (const auto& v : p["evaluations"]) evaluations += v.get<double>();
        for (const auto& v : p["scores"]) result.scores.push_back(nullToNan(v));
        seconds += p.value("seconds", 0.0);
        if (p.contains("unpruned_predictions")) {
            for (const auto& v : p["unpruned_predictions"])
                unprunedPredictions.push_back(v.get<int>());
            for (const auto& v : p["unpruned_scores"])
                result.unprunedScores.push_back(nullToNan(v));
            for (const auto& v : p["budget_predictions"])
                budget.push_back(v.get<std::vector<int>>());
            unprunedSeconds += p.value("unpruned_seconds", 0.0);
        }
        if (p.contains("chart_note")) result.notes.push_back(p["chart_note"].get<std::string>());
    }
    const auto n = static_cast<std::int64_t>(result.labels.size());
    result.count = n;
    const auto accuracyOf = [&](const std::vector<int>& predicted) {
        std::int64_t hits = 0;
        for (std::size_t i = 0; i < predicted.size(); ++i) hits += predicted[i] == result.labels[i];
        return n ? double(hits) / double(n) : 0.0;
    };
    result.accuracy = accuracyOf(result.predictions);
    result.confusion = confusionOf(result.labels, result.predictions, classes);
    result.evaluationsPerImage = n ? evaluations / double(n) : 0;
    result.imagesPerSecond = seconds > 0 ? double(n) / seconds : 0;
    if (unprunedPredictions.size() != result.labels.size()) return;
    result.unprunedAccuracy = accuracyOf(unprunedPredictions);
    result.unprunedEvaluationsPerImage = double(classes) * double(budgets.back());
    result.unprunedImagesPerSecond = unprunedSeconds > 0 ? double(n) / unprunedSeconds : 0;
    for (std::size_t b = 0; b < budgets.size(); ++b) {
        std::vector<int> predicted;
        for (const auto& row : budget) predicted.push_back(row[b]);
        result.budget.push_back(
            {.evaluations = double(classes) * budgets[b], .accuracy = accuracyOf(predicted)});
    }
    if (pruning)
        result.budget.push_back({.evaluations = result.evaluationsPerImage,
                                 .accuracy = result.accuracy,
                                 .pruned = true});
}

}  // namespace

Result<DiffusionClassifyResult> classifyWithDiffusion(const DiffusionClassifyRequest& request,
                                                      const DiffusionClassifyProgressFn& progress) {
    const auto start = Clock::now();
    const auto report = [&](const std::string& stage, double f) {
        return !progress || progress(stage, f);
    };
    DiffusionClassifyRequest r = request;
    if (r.partSize < 1 || r.partSize > 100000) return fail("the part size must lie in 1..100000");
    if (!report("loading", 0)) return fail("cancelled");
    auto opened = openDiffusionRun(r.run, r.step);
    if (!opened) return tl::unexpected(opened.error());
    if (auto ok = checkAgainstRun(r.options, *opened); !ok) return tl::unexpected(ok.error());
    auto data = loadRunImages(r.data, opened->run, r.rows);
    if (!data) return tl::unexpected(data.error());
    if (r.out.empty()) r.out = diffusionClassifierFolder(r.run);
    const int classes = opened->run.data.shape.numClasses;
    const int pairCount = r.options.timesteps * r.options.noiseDraws;
    std::vector<int> budgets = r.budgets.empty() ? defaultBudgets(pairCount) : r.budgets;
    std::sort(budgets.begin(), budgets.end());
    budgets.erase(std::unique(budgets.begin(), budgets.end()), budgets.end());
    if (budgets.front() < 1 || budgets.back() > pairCount)
        return fail("a budget must lie in 1.." + std::to_string(pairCount));
    if (budgets.back() != pairCount) budgets.push_back(pairCount);

    DiffusionClassifyResult result{.out = r.out,
                                   .classes = data->classNames,
                                   .model = opened->run.model->name(),
                                   .step = opened->run.step,
                                   .settings = diffusionClassifierOptionsText(r.options)};
    if (!data->note.empty()) result.notes.push_back(r.data.source + ": " + data->note);
    std::error_code ec;
    fs::create_directories(r.out / "parts", ec);
    if (ec) return fail(r.out.string() + ": cannot create the folder (" + ec.message() + ")");
    const json key = partKey(r, *data, opened->run.step, budgets);
    auto parts = readParts(r.out, key, result.notes);
    fs::create_directories(r.out / "parts", ec);

    if (r.baseline) {
        if (!report("baseline", 0)) return fail("cancelled");
        addBaseline(result, r, opened->run, *data);
    }
    auto probe = diffusionSpace(*opened->model, data->x.slice(0, 0, 1));
    if (!probe) return tl::unexpected(probe.error());
    const Pairs pairs = makePairs(r.options, opened->model->diffusionSchedule(),
                                  probe->sizes().slice(1), probe->device());

    const std::int64_t n = data->size();
    const std::int64_t partCount = (n + r.partSize - 1) / r.partSize;
    for (std::int64_t part = 0; part < partCount; ++part) {
        const std::int64_t first = part * r.partSize, count = std::min(r.partSize, n - first);
        if (auto it = parts.find(part);
            it != parts.end() && wellFormedPart(it->second, count, classes, budgets.size())) {
            result.resumedImages += count;
            continue;
        }
        auto scored = scorePart(*opened, *data, r, pairs, budgets, first, count, [&](double f) {
            return report("classifying", (double(first) + f * double(count)) / double(n));
        });
        if (!scored) return tl::unexpected(scored.error());
        (*scored)["key"] = key;
        (*scored)["part"] = part;
        if (auto ok = writeFileAtomic(partFile(r.out, part), scored->dump()); !ok)
            return tl::unexpected(ok.error());
        parts[part] = std::move(*scored);
    }
    if (result.resumedImages > 0)
        result.notes.push_back("resumed " + std::to_string(result.resumedImages) + " images from " +
                               (r.out / "parts").string());
    // Parts numbered past this run's (made by hand, or of data that shrank under the same
    // spec) are not this run's.
    std::erase_if(parts, [&](const auto& p) { return p.first < 0 || p.first >= partCount; });
    summarise(result, parts, budgets, classes, !r.options.stages.empty());
    if (!report("charts", 0)) return fail("cancelled");
    writeResultCharts(result);
    result.seconds = since(start);
    json extra{
        {"run", fs::absolute(r.run).lexically_normal().string()},
        {"dataset", {{"source", r.data.source}, {"split", r.data.split}, {"limit", r.data.limit}}},
        {"options",
         {{"timesteps", r.options.timesteps},
          {"noise_draws", r.options.noiseDraws},
          {"stages", r.options.stages},
          {"keep", r.options.keep},
          {"loss", denoisingLossName(r.options.loss)},
          {"seed", r.options.seed}}},
        {"timesteps", pairs.timesteps}};
    if (auto ok = writeResult(result, extra); !ok) return tl::unexpected(ok.error());
    report("charts", 1);
    return result;
}

struct DiffusionClassifier::Impl {
    Opened opened;
};

DiffusionClassifier::DiffusionClassifier(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
DiffusionClassifier::DiffusionClassifier(DiffusionClassifier&&) noexcept = default;
DiffusionClassifier& DiffusionClassifier::operator=(DiffusionClassifier&&) noexcept = default;
DiffusionClassifier::~DiffusionClassifier() = default;

Result<DiffusionClassifier> DiffusionClassifier::open(const fs::path& run,
                                                      std::optional<std::int64_t> step) {
    auto opened = openDiffusionRun(run, step);
    if (!opened) return tl::unexpected(opened.error());
    return DiffusionClassifier(std::make_unique<Impl>(Impl{std::move(*opened)}));
}

const std::vector<std::string>& DiffusionClassifier::classes() const {
    return m_impl->opened.run.data.classNames;
}
int DiffusionClassifier::channels() const {
    return m_impl->opened.run.data.shape.channels;
}
int DiffusionClassifier::height() const {
    return m_impl->opened.run.data.shape.height;
}
int DiffusionClassifier::width() const {
    return m_impl->opened.run.data.shape.width;
}

namespace {

Result<DiffusionExplanation> explainImage(Opened& o, const torch::Tensor& image, int label,
                                          const DiffusionClassifierOptions& options) {
    if (auto ok = checkAgainstRun(options, o); !ok) return tl::unexpected(ok.error());
    auto x0 = diffusionSpace(*o.model, image);
    if (!x0) return tl::unexpected(x0.error());
    DiffusionClassifierOptions all = options;
    all.stages.clear();
    all.keep.clear();
    const Pairs pairs =
        makePairs(all, o.model->diffusionSchedule(), x0->sizes().slice(1), x0->device());
    auto scored = scoreImages(*o.model, *x0, o.run.data.shape.numClasses, pairs, all, true);
    return explanationOf(scored.pairErrors[0], pairs, o.run.data.classNames, label);
}

}  // namespace

Result<DiffusionExplanation> DiffusionClassifier::explain(
    const DatasetSpec& spec, std::int64_t index, const DiffusionClassifierOptions& options) {
    auto data = loadRunImages(spec, m_impl->opened.run);
    if (!data) return tl::unexpected(data.error());
    if (index < 0 || index >= data->size())
        return fail("image " + std::to_string(index) + " is past the data's " +
                    std::to_string(data->size()) + " images");
    return explainImage(m_impl->opened, data->x.slice(0, index, index + 1),
                        int(data->y[index].item<std::int64_t>()), options);
}

Result<DiffusionExplanation> DiffusionClassifier::explain(
    const std::vector<float>& pixels, int label, const DiffusionClassifierOptions& options) {
    const auto& s = m_impl->opened.run.data.shape;
    if (pixels.size() != std::size_t(s.channels) * std::size_t(s.height) * std::size_t(s.width))
        return fail("the image has " + std::to_string(pixels.size()) + " values; the run's are " +
                    std::to_string(s.channels) + "x" + std::to_string(s.height) + "x" +
                    std::to_string(s.width));
    auto x = torch::tensor(pixels, torch::kFloat32).view({1, s.channels, s.height, s.width});
    return explainImage(m_impl->opened, x, label, options);
}

}  // namespace ll
