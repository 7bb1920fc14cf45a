#include "export/datasetexport.h"

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <functional>
#include <sstream>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/classnames.h"
#include "common/cpu.h"
#include "common/csvtext.h"
#include "common/format.h"
#include "common/sha256.h"
#include "common/text.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "eval/evalsamples.h"
#include "eval/extractorchoice.h"
#include "eval/features.h"
#include "eval/metrics.h"
#include "eval/samplefolder.h"
#include "export/datasetcard.h"
#include "export/exportcontext.h"
#include "export/exportwriters.h"
#include "image/grid.h"
#include "run/runloader.h"

namespace ll {
namespace fs = std::filesystem;
using nlohmann::json;
using torch::Tensor;

std::string exportFormatName(ExportFormat format) {
    switch (format) {
        case ExportFormat::Png:
            return "png";
        case ExportFormat::Idx:
            return "idx";
        case ExportFormat::Npy:
            return "npy";
        case ExportFormat::Csv:
            return "csv";
    }
    return "png";
}

Result<ExportFormat> parseExportFormat(const std::string& name) {
    for (auto f : {ExportFormat::Png, ExportFormat::Idx, ExportFormat::Npy, ExportFormat::Csv})
        if (name == exportFormatName(f)) return f;
    return fail("unknown format '" + name + "' (png, idx, npy or csv)");
}

namespace {

using namespace exporting;

/// The steering columns of the manifest (one text for every row of an export).
std::string steeringCells(const SampleRequest& s, const ExportRequest& r) {
    std::string mix;
    for (auto [k, w] : s.mixture)
        mix += (mix.empty() ? "" : " ") + std::to_string(k) + ":" + formatNumber(w);
    char text[256];
    std::snprintf(text, sizeof text, "%g,%g,%g,%d,%s,%g,%g:%g,%s", s.temperature, s.truncation,
                  s.guidance, s.steps, s.sampler == Sampler::Ddim ? "ddim" : "ddpm",
                  r.guidingClassifier.empty() ? 0.0 : s.classifierScale, s.guidanceFrom,
                  s.guidanceTo, mix.c_str());
    return text;
}

constexpr const char* kManifestHeader =
    "file,row,class,class_name,sha256,run,step,checkpoint_sha256,seed,index,draw_count,"
    "temperature,truncation,guidance,steps,sampler,classifier_scale,guidance_interval,mixture,"
    "confidence,nn_distance,nn_index\n";

std::string cellNumber(double v) {
    if (std::isnan(v)) return "";
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", v);
    return text;
}

/// A temporary folder beside the target, removed unless released.
class PartialFolder {
public:
    explicit PartialFolder(fs::path target) : m_target(std::move(target)) {
        m_path = m_target.parent_path() /
                 ("." + m_target.filename().string() + ".partial-" + std::to_string(::getpid()));
    }
    ~PartialFolder() {
        std::error_code ec;
        if (!m_done) fs::remove_all(m_path, ec);
    }
    const fs::path& path() const { return m_path; }
    Result<void> create() {
        std::error_code ec;
        fs::remove_all(m_path, ec);
        fs::create_directories(m_path, ec);
        if (ec)
            return fail(m_path.parent_path().string() + ": cannot write here (" + ec.message() +
                        ")");
        return {};
    }
    /// Puts the folder in the target's place (a replaced target goes only once it is there).
    Result<void> commit() {
        std::error_code ec;
        fs::path old;
        if (fs::exists(m_target, ec)) {
            old = m_target.parent_path() /
                  ("." + m_target.filename().string() + ".old-" + std::to_string(::getpid()));
            fs::rename(m_target, old, ec);
            if (ec) return fail(m_target.string() + ": cannot replace (" + ec.message() + ")");
        }
        fs::rename(m_path, m_target, ec);
        if (ec) {
            if (!old.empty()) fs::rename(old, m_target, ec);
            return fail(m_target.string() + ": cannot move the export into place");
        }
        if (!old.empty()) fs::remove_all(old, ec);
        m_done = true;
        return {};
    }

private:
    fs::path m_target, m_path;
    bool m_done = false;
};

std::string isoNow() {
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

/// One drawn batch: the samples as judged, the target of each (null: a class not asked
/// for), the filters' verdicts, and the draw's seed and size.
struct Batch {
    Judged judged;
    std::vector<Target*> owners;
    std::vector<std::string> verdicts;
    std::uint64_t seed = 0;
    std::int64_t count = 0;
};
using BatchFn = std::function<Result<void>(const Batch&)>;

/// Draws for the targets until each has its samples or has used its draws, `maxDraws` in all
/// when positive. Conditional models draw one class per batch, never more than it still
/// needs (so nothing is drawn only to be thrown away); unconditional ones draw whole batches
/// and the classifier sorts them. Batch b is drawn with seed steering.seed + b.
Result<void> drawBatches(Context& c, std::vector<Target>& targets, std::int64_t maxDraws,
                         const BatchFn& onBatch, const ExportProgressFn& progress) {
    const ExportRequest& r = c.request;
    std::int64_t wanted = 0, drawn = 0, limit = 0;
    // Conditional draws are counted per class; unconditional ones serve every class at once.
    for (const auto& t : targets)
        wanted += t.want, limit = c.conditional ? limit + t.limit : std::max(limit, t.limit);
    std::uint64_t batchNo = 0;
    std::size_t next = 0;
    while (maxDraws <= 0 || drawn < maxDraws) {
        SampleRequest q = r.steering;
        q.labels.clear();
        Target* target = nullptr;
        std::int64_t n = 0;
        if (c.conditional) {
            for (std::size_t k = 0; k < targets.size() && !target; ++k) {
                Target& t = targets[(next + k) % targets.size()];
                if (t.kept < t.want && t.drawn < t.limit) {
                    target = &t;
                    next = (next + k + 1) % targets.size();
                }
            }
            if (!target) break;
            n = std::min({r.batch, target->limit - target->drawn, target->want - target->kept});
            q.labels.assign(static_cast<std::size_t>(n), target->label);
        } else {
            const bool open =
                std::ranges::any_of(targets, [](const Target& t) { return t.kept < t.want; });
            if (!open || drawn >= limit) break;
            n = std::min(r.batch, limit - drawn);
        }
        if (maxDraws > 0) n = std::min(n, maxDraws - drawn);
        q.count = n;
        q.seed = r.steering.seed + batchNo++;
        if (c.guide) q.classifier = c.guide->model.get();
        Tensor samples;
        try {
            samples = c.run.model->sample(q);
        } catch (const std::exception& e) {
            return fail("sampling: " + firstLine(e));
        }
        const Tensor labels = torch::full({n}, target ? target->label : 0, torch::kInt64);
        auto judged = judge(c, samples, labels);
        if (!judged) return tl::unexpected(judged.error());
        Batch b{.judged = std::move(*judged), .seed = q.seed, .count = n};
        for (std::int64_t i = 0; i < n; ++i) {
            Target* owner = target;
            if (!c.conditional) {
                const auto label = b.judged.labels[i].item<std::int64_t>();
                const auto it = std::ranges::find_if(
                    targets, [&](const Target& t) { return t.label == label; });
                owner = it == targets.end() ? nullptr : &*it;
            }
            b.owners.push_back(owner);
            b.verdicts.push_back(verdict(c, b.judged, static_cast<std::size_t>(i), owner));
            if (b.verdicts.back().empty()) ++owner->kept;
        }
        if (target) target->drawn += n;
        drawn += n;
        if (auto ok = onBatch(b); !ok) return ok;
        std::int64_t kept = 0;
        for (const auto& t : targets) kept += t.kept;
        if (progress &&
            !progress("drawing", double(kept) / double(std::max<std::int64_t>(1, wanted))))
            return fail("cancelled");
    }
    return {};
}

/// The card's quality section: the kept samples evaluated as `evaluate --samples` would.
Result<json> cardMetrics(Context& c, const Tensor& x, const Tensor& y, const fs::path& dir,
                         const ExportProgressFn& progress) {
    const ExportRequest& r = c.request;
    EvalOptions o;
    o.metrics = r.metrics.empty() ? evalMetricNames() : r.metrics;
    o.extractor = c.extractorDir;
    o.workspace = r.workspace;
    o.tstrSteps = r.tstrSteps;
    o.recordDir = dir / ".card-eval";
    o.samplesFrom = dir.string();
    auto file = evaluateSamples(
        *c.run.model, r.run, c.run.step, x, y, o,
        [&](const std::string&, double f) { return !progress || progress("card", f); });
    if (!file) return tl::unexpected(file.error());
    auto record = readEvaluation(*file);
    std::error_code ec;
    fs::remove_all(o.recordDir, ec);
    if (!record) return tl::unexpected(record.error());
    json metrics = json::object(), labels = json::object(), help = json::object(),
         errors = json::object();
    auto value = [](double v) { return std::isnan(v) ? json() : json(v); };
    for (const auto& s : record->scores) {
        metrics[s.name] = {{"value", value(s.value)}, {"floor", value(s.floor)}};
        labels[s.name] = scoreLabel(s.name);
        help[s.name] = scoreHelp(s.name);
    }
    for (const auto& [name, why] : record->errors) errors[name] = why;
    std::string metricList;
    for (const auto& m : o.metrics) metricList += (metricList.empty() ? "" : ",") + m;
    std::string check = "latentlab-cli evaluate --run " + r.run.string() + " --checkpoint " +
                        std::to_string(c.run.step) + " --samples " + r.out.string() +
                        " --metrics " + metricList + " --tstr-steps " + std::to_string(r.tstrSteps);
    if (!r.extractor.empty()) check += " --extractor " + r.extractor.string();
    return json{{"metrics", metrics},
                {"metric_labels", labels},
                {"metric_help", help},
                {"metric_errors", errors},
                {"evaluation",
                 {{"protocol", record->protocol},
                  {"reference", record->reference},
                  {"extractor", record->extractor},
                  {"extractor_sha256", record->extractorSha256},
                  {"count", record->count},
                  {"command", check}}}};
}

}  // namespace

std::string exportCommand(const ExportRequest& r, std::int64_t step,
                          const std::vector<std::string>& classNames) {
    // Classes by name: the CLI reads a name before a number (a class named "2" is not class 2).
    const auto token = [&](int k) { return shellWord(classToken(k, classNames)); };
    const SampleRequest& s = r.steering;
    std::ostringstream cmd;
    cmd << "latentlab-cli export --run " << shellWord(r.run.string()) << " --checkpoint " << step;
    if (!r.proportions.empty()) {
        std::string p;
        for (auto [k, w] : r.proportions)
            p += (p.empty() ? "" : ",") + token(k) + ":" + formatNumber(w);
        cmd << " --proportions " << p << " --total " << r.total;
    } else {
        cmd << " --per-class " << r.perClass;
        std::string k;
        for (int c : r.classes) k += (k.empty() ? "" : ",") + token(c);
        if (!k.empty()) cmd << " --classes " << k;
    }
    cmd << " --seed " << s.seed << " --temperature " << s.temperature << " --truncation "
        << s.truncation << " --guidance " << s.guidance << " --steps " << s.steps << " --sampler "
        << (s.sampler == Sampler::Ddim ? "ddim" : "ddpm");
    if (s.guidanceFrom != 0 || s.guidanceTo != 1)
        cmd << " --guidance-interval " << s.guidanceFrom << ":" << s.guidanceTo;
    if (!s.mixture.empty()) {
        std::string m;
        for (auto [k, w] : s.mixture)
            m += (m.empty() ? "" : ",") + token(k) + ":" + formatNumber(w);
        cmd << " --mix " << m;
    }
    if (!r.guidingClassifier.empty())
        cmd << " --classifier " << shellWord(r.guidingClassifier.string()) << " --classifier-scale "
            << s.classifierScale;
    if (r.minConfidence > 0) cmd << " --min-confidence " << r.minConfidence;
    if (r.dropCopies) {
        cmd << " --drop-copies";
        if (!std::isnan(r.copyDistance)) cmd << " --copy-distance " << r.copyDistance;
    }
    if (r.capPerClass > 0) cmd << " --cap-per-class " << r.capPerClass;
    cmd << " --batch " << r.batch << " --max-draws " << r.maxDrawFactor << " --format "
        << exportFormatName(r.format);
    if (r.gzip) cmd << " --gzip";
    if (!r.extractor.empty()) cmd << " --extractor " << shellWord(r.extractor.string());
    if (!r.card) cmd << " --no-card";
    if (r.card && !r.metrics.empty()) {
        std::string m;
        for (const auto& name : r.metrics) m += (m.empty() ? "" : ",") + name;
        cmd << " --metrics " << m;
    }
    if (r.card) cmd << " --tstr-steps " << r.tstrSteps;
    cmd << " --out " << shellWord(r.out.string());
    return cmd.str();
}

Result<void> checkExport(const ExportRequest& r) {
    if (auto ok = checkTarget(r); !ok) return ok;
    auto c = openContext(r, false);
    if (!c) return tl::unexpected(c.error());
    return {};
}

Result<ExportSummary> exportDataset(const ExportRequest& request,
                                    const ExportProgressFn& progress) {
    if (auto ok = checkTarget(request); !ok) return tl::unexpected(ok.error());
    if (progress && !progress("loading", 0)) return fail("cancelled");
    auto opened = openContext(request, true);
    if (!opened) return tl::unexpected(opened.error());
    Context& c = *opened;
    const ExportRequest& r = request;
    // The training set's features under the thread settings evaluation takes them with: the
    // card reuses them, and its numbers must be those `evaluate --samples` computes afresh.
    applyThreadSettings(c.run.model->shape().tabular() ? Workload::Mlp : Workload::Conv);
    if (auto ok = prepareCopies(c, progress); !ok) return tl::unexpected(ok.error());
    applyThreadSettings(c.run.model->workload());

    PartialFolder partial(fs::absolute(r.out));
    if (auto ok = partial.create(); !ok) return tl::unexpected(ok.error());
    const fs::path dir = partial.path();
    auto writer = SampleWriter::create(r.format, r.gzip, dir, c.run.data);
    if (!writer) return tl::unexpected(writer.error());

    const RunData& data = c.run.data;
    const bool images = !data.shape.tabular();
    const std::string runId = fs::absolute(r.run).lexically_normal().filename().string();
    const std::string common =
        csvCell(runId) + "," + std::to_string(c.run.step) + "," + c.checkpointSha + ",";
    const std::string steering = steeringCells(r.steering, r);
    std::string manifest = kManifestHeader;
    std::vector<Tensor> keptX, keptY;
    std::map<std::string, std::int64_t> dropped;
    if (r.minConfidence > 0) dropped["confidence"] = 0;
    if (r.dropCopies) dropped["copy"] = 0;
    if (!c.conditional || r.capPerClass > 0) dropped["cap"] = 0;
    std::int64_t drawnTotal = 0;

    auto targetList = targets(c);
    auto drawn = drawBatches(
        c, targetList, 0,
        [&](const Batch& b) -> Result<void> {
            std::vector<std::int64_t> keep;
            for (std::size_t i = 0; i < b.verdicts.size(); ++i) {
                if (!b.verdicts[i].empty()) {
                    ++dropped[b.verdicts[i]];
                    continue;
                }
                const int label = b.owners[i]->label;
                auto written = (*writer)->add(b.judged.stored[static_cast<std::int64_t>(i)], label);
                if (!written) return tl::unexpected(written.error());
                manifest +=
                    csvCell(written->file) + "," + std::to_string(written->row) + "," +
                    std::to_string(label) + "," + csvCell(data.classNames[std::size_t(label)]) +
                    "," + written->sha256 + "," + common + std::to_string(b.seed) + "," +
                    std::to_string(i) + "," + std::to_string(b.count) + "," + steering + "," +
                    cellNumber(b.judged.confidence[i]) + "," + cellNumber(b.judged.distance[i]) +
                    "," + (b.judged.nearest[i] >= 0 ? std::to_string(b.judged.nearest[i]) : "") +
                    "\n";
                keep.push_back(static_cast<std::int64_t>(i));
            }
            drawnTotal += b.count;
            if (!keep.empty() && r.card) {
                const auto rows = torch::tensor(keep, torch::kInt64);
                keptX.push_back(b.judged.stored.index_select(0, rows));
                keptY.push_back(b.judged.labels.index_select(0, rows));
            }
            return {};
        },
        progress);
    if (!drawn) return tl::unexpected(drawn.error());
    auto files = (*writer)->finish();
    if (!files) return tl::unexpected(files.error());
    if (auto ok = writeFileAtomic(dir / "manifest.csv", manifest); !ok)
        return tl::unexpected(ok.error());

    ExportSummary summary{
        .out = r.out, .step = c.run.step, .dropped = dropped, .drawn = drawnTotal};
    std::int64_t kept = 0;
    for (const auto& t : targetList) {
        const std::string& name = data.classNames[static_cast<std::size_t>(t.label)];
        summary.counts[name] = t.kept;
        kept += t.kept;
        if (t.kept < t.want)
            summary.shortfalls.push_back(
                name + ": " + std::to_string(t.kept) + " of " + std::to_string(t.want) +
                (c.conditional ? " after " + std::to_string(t.drawn) +
                                     " draws of the class (the filters drop too many)"
                               : " in " + std::to_string(drawnTotal) +
                                     " draws (the model draws few of this class)"));
    }
    for (const auto& f : *files) summary.files.push_back(r.out / f.filename());
    if (r.card) {
        json card = {
            {"format", "latentlab-dataset-card-1"},
            {"synthetic", true},
            {"name", fs::absolute(r.out).lexically_normal().filename().string()},
            {"created", isoNow()},
            {"run", fs::absolute(r.run).lexically_normal().string()},
            {"run_id", runId},
            {"model", c.run.model->name()},
            {"dataset", data.datasetName},
            {"classes", data.classNames},
            {"checkpoint_step", c.run.step},
            {"checkpoint_sha256", c.checkpointSha},
            {"format_written", exportFormatName(r.format) + (r.gzip ? " (gzip)" : "")},
            {"encoding",
             images ? (r.format == ExportFormat::Png ? "image/png" : "application/octet-stream")
                    : "text/csv"},
            {"kept", kept},
            {"drawn", drawnTotal},
            {"counts", summary.counts},
            {"dropped", dropped},
            {"shortfalls", summary.shortfalls},
            {"threads", torch::get_num_threads()},
            {"command", exportCommand(r, c.run.step, data.classNames)}};
        const SampleRequest& s = r.steering;
        card["settings"] = {
            {"seed", s.seed},
            {"temperature", s.temperature},
            {"truncation", s.truncation},
            {"guidance", s.guidance},
            {"guidance_interval", {s.guidanceFrom, s.guidanceTo}},
            {"steps", s.steps},
            {"sampler", s.sampler == Sampler::Ddim ? "ddim" : "ddpm"},
            {"classifier", r.guidingClassifier.string()},
            {"classifier_scale", r.guidingClassifier.empty() ? 0.0 : s.classifierScale},
            {"mixture", s.mixture},
            {"batch", r.batch},
            {"per_class", r.perClass},
            {"classes", r.classes},
            {"proportions", r.proportions},
            {"total", r.total}};
        card["filters"] = {
            {"min_confidence", r.minConfidence},
            {"drop_copies", r.dropCopies},
            {"copy_distance", std::isnan(c.copyDistance) ? json() : json(c.copyDistance)},
            {"copy_distance_from", c.copyReference.empty() ? json() : json(c.copyReference)},
            {"cap_per_class", r.capPerClass},
            {"max_draw_factor", r.maxDrawFactor}};
        json written = json::array();
        for (const auto& f : *files) written.push_back(f.filename().string());
        if (r.format == ExportFormat::Png)
            for (const auto& t : targetList)
                if (t.kept > 0)
                    written.push_back(
                        exporting::classFolderName(t.label, data.classNames[std::size_t(t.label)],
                                                   int(data.classNames.size())) +
                        "/");
        card["files"] = written;
        if (kept >= 2) {
            Tensor x, y;
            if (images) {
                x = torch::cat(keptX).to(torch::kFloat32).div(255.0);
                y = torch::cat(keptY);
            } else {
                // Rows as the CSV holds them, so that `evaluate --samples` gives the same numbers.
                auto read = readSampleFolder(dir, data.shape, data);
                if (!read) return tl::unexpected(read.error());
                x = read->samples, y = read->labels;
            }
            keptX.clear();
            auto metrics = cardMetrics(c, x, y, dir, progress);
            if (!metrics) return fail("dataset card: " + metrics.error().message);
            card.update(*metrics);
        } else {
            card["metric_errors"] = {{"all", "fewer than 2 samples kept"}};
        }
        if (progress && !progress("writing", 1)) return fail("cancelled");
        auto text = writeCard(dir, card);
        if (!text) return tl::unexpected(text.error());
        summary.card = r.out / "card.md";
        summary.cardText = *text;
    }
    if (auto ok = partial.commit(); !ok) return tl::unexpected(ok.error());
    return summary;
}

Result<ExportPreview> previewExport(const ExportRequest& request, std::int64_t count) {
    auto opened = openContext(request, request.minConfidence > 0 || request.dropCopies);
    if (!opened) return tl::unexpected(opened.error());
    Context& c = *opened;
    if (auto ok = prepareCopies(c, {}); !ok) return tl::unexpected(ok.error());
    // A row per class (at most 10), the first tiles of each as the export draws them.
    auto targetList = targets(c);
    if (targetList.size() > 10) targetList.resize(10);
    const auto rows = static_cast<std::int64_t>(targetList.size());
    const std::int64_t cols = std::max<std::int64_t>(1, count / std::max<std::int64_t>(1, rows));
    for (auto& t : targetList) t.want = std::min(t.want, cols), t.limit = t.want;
    ExportPreview p{.copyDistance = c.copyDistance};
    std::vector<Tensor> tiles, tileLabels;
    std::vector<std::string> labels;
    auto drawn =
        drawBatches(c, targetList, rows * cols,
                    [&](const Batch& b) -> Result<void> {
                        for (std::size_t i = 0; i < b.verdicts.size(); ++i) {
                            p.dropped.push_back(b.verdicts[i] == "cap" ? "" : b.verdicts[i]);
                            p.confidence.push_back(b.judged.confidence[i]);
                            p.distance.push_back(b.judged.distance[i]);
                        }
                        tiles.push_back(b.judged.stored);
                        tileLabels.push_back(b.judged.labels);
                        return {};
                    },
                    {});
    if (!drawn) return tl::unexpected(drawn.error());
    if (tiles.empty()) return p;
    if (const RunData& d = c.run.data; d.shape.tabular()) {
        p.table = makeTable(torch::cat(tiles), torch::cat(tileLabels), d.featureNames, d.mean,
                            d.std, d.classNames, d.categorical, d.decimals);
        return p;
    }
    for (const auto& t : targetList) labels.push_back(c.run.data.classNames[std::size_t(t.label)]);
    p.grid = makeGrid(torch::cat(tiles).to(torch::kFloat32).div(255.0), static_cast<int>(cols),
                      c.conditional ? labels : std::vector<std::string>{});
    return p;
}

}  // namespace ll
