// The imbalance lab's generative methods: the generator runs it draws from (given and checked
// against the lab's data, or trained on the imbalanced set), filling the classes with their
// samples, SMOTE in a VAE's latent space, and the figure of synthetic samples.
#include <algorithm>
#include <set>

#include <torch/torch.h>

#include "common/atomicfile.h"
#include "common/jsonnumber.h"
#include "eval/extractorchoice.h"
#include "eval/features.h"
#include "image/labelled.h"
#include "study/rebalancelab.h"
#include "study/trainon.h"

namespace ll::rebalance {
namespace fs = std::filesystem;
using nlohmann::json;
using torch::Tensor;

namespace {

ModelShape labShape(const Dataset& d) {
    ModelShape s{.numClasses = d.numClasses()};
    if (d.modality == Modality::Tabular) {
        s.features = static_cast<int>(d.x.size(1));
    } else {
        s.channels = static_cast<int>(d.x.size(1));
        s.height = static_cast<int>(d.x.size(2));
        s.width = static_cast<int>(d.x.size(3));
    }
    return s;
}

std::string shapeText(const ModelShape& s) {
    return s.tabular() ? std::to_string(s.features) + " columns"
                       : std::to_string(s.channels) + "x" + std::to_string(s.height) + "x" +
                             std::to_string(s.width);
}

// A run of the lab's data: the same dataset, classes (names, in order) and shape.
Result<void> checkFits(const Lab& lab, const RunData& d, const fs::path& dir,
                       const std::string& what) {
    const ModelShape want = labShape(lab.train);
    if (d.datasetName == lab.train.name && d.classNames == lab.train.classNames && d.shape == want)
        return {};
    return fail(what + ": " + dir.string() + " was trained on other data: " + d.datasetName + " (" +
                shapeText(d.shape) + ", classes " + joined(d.classNames) + "), the lab's is " +
                lab.train.name + " (" + shapeText(want) + ", classes " +
                joined(lab.train.classNames) +
                "); give a run of the lab's data and classes, or "
                "none and the lab trains one");
}

// The preset each generator method trains with: given ones by their model, else <model>-cpu.
Result<std::map<std::string, std::string>> generatorPresets(const RebalanceRequest& r) {
    std::map<std::string, std::string> out;
    for (const auto& name : r.generatorPresets) {
        const ModelPreset* p = findPreset(name);
        if (!p) return fail("rebalance: no preset \"" + name + "\" in the zoo");
        if (!isGeneratorMethod(p->model))
            return fail("rebalance: preset " + name + " is a " + p->model +
                        " preset, not one of the lab's generators");
        out[p->model] = name;
    }
    for (const auto& m : r.methods)
        if (isGeneratorMethod(m) && !out.count(m)) out[m] = m + "-cpu";
    return out;
}

Result<std::shared_ptr<LoadedRun>> openRun(const fs::path& dir, const std::string& what) {
    auto run = loadRun(dir);
    if (!run) return fail(what + ": " + run.error().message);
    return std::make_shared<LoadedRun>(std::move(*run));
}

// Where the lab keeps a generator it trains, and whether one made with `marker` is finished.
bool finished(const fs::path& dir, const json& marker, std::int64_t steps) {
    auto text = readFile(dir / "lab.json");
    if (!text || parseJson(*text) != marker) return false;
    auto latest = latestCheckpoint(dir / "run");
    return latest && latest->first == steps;
}

// Probability the domain classifier gives each sample's class (its own index for the class).
Result<Tensor> confidence(const Lab& lab, const Tensor& x, std::int64_t cls) {
    try {
        torch::NoGradGuard noGrad;
        Tensor in = lab.images() ? x : toRunTable(x, lab.train, lab.domain->data);
        const Tensor p = torch::softmax(lab.domain->model->classify(in).to(torch::kFloat64), 1);
        return p.select(1, lab.domainClass[static_cast<std::size_t>(cls)]);
    } catch (const std::exception& e) {
        return fail("domain classifier: " + firstLine(e));
    }
}

// Generated samples beside their nearest real training row of the same class (pixels).
Figure nearestFigure(const Lab& lab, const Tensor& x, const Tensor& y) {
    Figure f{.columnLabels = {"generated", "nearest real"}};
    std::vector<std::int64_t> rows;
    for (std::int64_t i = 0; i < y.size(0) && rows.size() < 8; ++i)
        if (std::count(lab.minority.begin(), lab.minority.end(), y[i].item<std::int64_t>()))
            rows.push_back(i);
    if (rows.empty() || !lab.images()) return {};
    std::vector<Tensor> real;
    for (auto i : rows) {
        const auto c = y[i].item<std::int64_t>();
        const Tensor idx = torch::nonzero(lab.train.y == c).squeeze(1);
        const Tensor pool = lab.train.x.index_select(0, idx).flatten(1);
        const Tensor d = (pool - x[i].flatten().unsqueeze(0)).square().sum(1);
        real.push_back(lab.train.x[idx[d.argmin().item<std::int64_t>()].item<std::int64_t>()]);
        f.rowLabels.push_back(lab.train.classNames[static_cast<std::size_t>(c)]);
    }
    f.columns = {x.index_select(0, torch::tensor(rows, torch::kInt64)), torch::stack(real)};
    return f;
}

// Whether the lab trained a run (on its imbalanced set): it leaves lab.json beside it.
bool labRunMarker(const fs::path& run) {
    return fs::exists(run.parent_path() / "lab.json");
}

}  // namespace

Result<void> checkGenerators(const RebalanceRequest& r, Lab& lab) {
    const std::set<std::string> methods(r.methods.begin(), r.methods.end());
    for (const auto& dir : r.generatorRuns) {
        auto run = openRun(dir, "--generator-run");
        if (!run) return tl::unexpected(run.error());
        const std::string model = (*run)->config.model;
        if (!isGeneratorMethod(model))
            return fail("--generator-run: " + dir.string() + " is a " + model +
                        " run; the lab draws from cvae, cgan, acgan, ddpm or latent-ddpm");
        if (!methods.count(model))
            return fail("--generator-run: " + dir.string() + " is a " + model +
                        " run, but --methods has no " + model);
        if (lab.generators.count(model))
            return fail("--generator-run: two " + model + " runs given; give one per method");
        if (auto ok = checkFits(lab, (*run)->data, dir, "--generator-run"); !ok) return ok;
        if (!labRunMarker(dir))
            lab.notes.push_back(model + ": " + dir.string() +
                                " was not trained by the lab on its imbalanced set, so it may "
                                "have seen more minority rows than the classifier does");
        lab.generators[model] = *run;
        lab.generatorRuns[model] = fs::absolute(dir).lexically_normal();
    }
    auto presets = generatorPresets(r);
    if (!presets) return tl::unexpected(presets.error());
    for (const auto& [model, preset] : *presets)
        if (methods.count(model) && !lab.generators.count(model) && !findPreset(preset))
            return fail(model + ": no preset \"" + preset + "\"; name one with --generator-preset");
    if (methods.count("smote-latent")) {
        if (!r.vaeRun.empty()) {
            auto run = openRun(r.vaeRun, "--vae-run");
            if (!run) return tl::unexpected(run.error());
            if (!(*run)->model->encodes())
                return fail("--vae-run: " + r.vaeRun.string() + " is a " + (*run)->config.model +
                            " run, which has no encoder (use a vae, cvae "
                            "or chaotic-vae run)");
            if (auto ok = checkFits(lab, (*run)->data, r.vaeRun, "--vae-run"); !ok) return ok;
            lab.vae = *run;
            lab.vaeRun = fs::absolute(r.vaeRun).lexically_normal();
        } else if (const ModelPreset* p = findPreset(r.vaePreset);
                   !p || !modelInfo(p->model).encodes) {
            return fail("smote-latent: \"" + r.vaePreset + "\" is no preset of a VAE");
        }
    }
    const bool generating = std::any_of(r.methods.begin(), r.methods.end(), isGeneratorMethod);
    if (r.minConfidence > 0 && generating) {
        const std::string how = "--min-confidence needs the dataset's domain classifier";
        auto choice = chooseExtractor(r.extractor, lab.train.name, r.workspace);
        if (!choice)
            return fail(how + " (" + choice.error().message +
                        "): train one with latentlab-cli train-extractor");
        auto run = openRun(choice->dir, "domain classifier");
        if (!run) return tl::unexpected(run.error());
        if ((*run)->model->generates()) return fail(how + "; " + choice->dir.string() + " is none");
        for (const auto& name : lab.train.classNames) {
            const auto& known = (*run)->data.classNames;
            const auto at = std::find(known.begin(), known.end(), name);
            if (at == known.end())
                return fail(how + "; " + choice->dir.string() + " does not know class " + name);
            lab.domainClass.push_back(at - known.begin());
        }
        lab.domain = *run;
        lab.domainDir = fs::absolute(choice->dir).lexically_normal().string();
    }
    return {};
}

Result<void> prepareGenerators(const RebalanceRequest& r, Lab& lab, const json& options,
                               const std::function<bool(double)>& progress) {
    auto presets = generatorPresets(r);
    if (!presets) return tl::unexpected(presets.error());
    std::vector<std::pair<std::string, std::string>> toTrain;  // (folder name, preset)
    for (const auto& m : r.methods)
        if (isGeneratorMethod(m) && !lab.generators.count(m))
            toTrain.emplace_back(m, presets->at(m));
    const bool latent = std::count(r.methods.begin(), r.methods.end(), "smote-latent") > 0;
    if (latent && !lab.vae) toTrain.emplace_back("vae", r.vaePreset);
    for (std::size_t i = 0; i < toTrain.size(); ++i) {
        const auto& [name, preset] = toTrain[i];
        TrainOnRequest t{.preset = preset,
                         .steps = r.generatorSteps,
                         .seed = r.seed,
                         .threads = r.threads,
                         .work = r.out / "generator" / name};
        auto resolved = resolveTrainOn(t);
        if (!resolved) return tl::unexpected(resolved.error());
        const json marker{
            {"options", options}, {"preset", preset}, {"steps", resolved->steps}, {"seed", r.seed}};
        if (finished(t.work, marker, resolved->steps)) {
            lab.notes.push_back(name + ": reused the generator trained in " + t.work.string());
        } else {
            const double base = static_cast<double>(i) / static_cast<double>(toTrain.size());
            auto run = trainOn(lab.train, t, [&](double f) {
                return !progress || progress(base + f / static_cast<double>(toTrain.size()));
            });
            if (!run) return fail(name + ": " + run.error().message);
            if (auto ok = writeFileAtomic(t.work / "lab.json", marker.dump(2) + "\n"); !ok)
                return ok;
        }
        auto opened = openRun(t.work / "run", name);
        if (!opened) return tl::unexpected(opened.error());
        if (name == "vae") {
            lab.vae = *opened;
            lab.vaeRun = fs::absolute(t.work / "run").lexically_normal();
        } else {
            lab.generators[name] = *opened;
            lab.generatorRuns[name] = fs::absolute(t.work / "run").lexically_normal();
        }
    }
    return {};
}

Result<Rebalanced> generatorFill(const RebalanceRequest& r, const Lab& lab,
                                 const std::string& method, std::uint64_t seed,
                                 const std::function<bool(double)>& progress) {
    const LoadedRun& run = *lab.generators.at(method);
    const auto counts = lab.train.classCounts();
    const auto largest = *std::max_element(counts.begin(), counts.end());
    std::int64_t total = 0;
    for (auto c : counts) total += largest - c;
    std::vector<Tensor> xs, ys;
    Rebalanced out;
    std::int64_t done = 0;
    for (std::size_t c = 0; c < counts.size(); ++c) {
        const std::int64_t need = largest - counts[c];
        std::int64_t kept = 0, drawn = 0;
        const std::int64_t budget = r.minConfidence > 0 ? 8 * need : need;
        for (std::uint64_t round = 0; kept < need && drawn < budget; ++round) {
            const std::int64_t n = std::min(need - kept, budget - drawn);
            SampleRequest req{.seed = seed * 1000003ULL + c * 10007ULL + round * 257ULL,
                              .labels = {static_cast<std::int64_t>(c)},
                              .guidance = r.guidance};
            auto ok = drawSampleBatches(
                *run.model, req, n, 256,
                [&](const Tensor& samples, const Tensor&, double) -> Result<bool> {
                    Tensor x = lab.images() ? samples : fromRunTable(samples, run.data, lab.train);
                    if (r.minConfidence > 0) {
                        auto p = confidence(lab, x, static_cast<std::int64_t>(c));
                        if (!p) return tl::unexpected(p.error());
                        x = x.index_select(0, torch::nonzero(*p >= r.minConfidence).squeeze(1));
                    }
                    x = x.slice(0, 0, need - kept);
                    xs.push_back(x);
                    ys.push_back(
                        torch::full({x.size(0)}, static_cast<std::int64_t>(c), torch::kInt64));
                    kept += x.size(0);
                    drawn += samples.size(0);
                    return !progress ||
                           progress(static_cast<double>(done + kept) / std::max<double>(1, total));
                });
            if (!ok) return fail(method + ": " + ok.error().message);
        }
        done += need;
        if (kept < need)
            out.notes.push_back(method + ": class " + lab.train.classNames[c] + " got " +
                                std::to_string(kept) + " of " + std::to_string(need) +
                                " samples after " + std::to_string(drawn) +
                                " draws (the confidence filter)");
    }
    const Tensor x = xs.empty() ? lab.train.x.slice(0, 0, 0) : torch::cat(xs);
    const Tensor y = ys.empty() ? lab.train.y.slice(0, 0, 0) : torch::cat(ys);
    out.data = withRows(lab.train, x, y);
    out.synthetic = x.size(0);
    out.figure = nearestFigure(lab, x, y);
    return out;
}

Result<Rebalanced> latentSmote(const RebalanceRequest& r, const Lab& lab, std::uint64_t seed) {
    GenerativeModel& vae = *lab.vae->model;
    const Tensor x = lab.images() ? lab.train.x : toRunTable(lab.train.x, lab.train, lab.vae->data);
    std::vector<Tensor> parts;
    for (std::int64_t i = 0; i < x.size(0); i += 1000) {
        const auto end = std::min(x.size(0), i + 1000);
        parts.push_back(vae.encodeLatents(x.slice(0, i, end), lab.train.y.slice(0, i, end)));
    }
    const Tensor z = torch::cat(parts).to(torch::kFloat32);
    auto made = smote(z, lab.train.y, lab.train.numClasses(), {.k = r.smoteK}, seed);
    if (!made) return fail("smote-latent: " + made.error().message);
    std::vector<Tensor> decoded;
    for (std::int64_t i = 0; i < made->x.size(0); i += 1000) {
        const auto end = std::min(made->x.size(0), i + 1000);
        const Tensor y = made->y.slice(0, i, end).contiguous();
        // A table's categories are drawn (a VAE's decoder is a distribution): a seed per
        // thousand rows, so that no two thousands share their draws.
        SampleRequest req{
            .count = end - i,
            .seed = seed + static_cast<std::uint64_t>(i),
            .labels = {y.data_ptr<std::int64_t>(), y.data_ptr<std::int64_t>() + y.numel()}};
        Tensor d =
            vae.decodeLatents(made->x.slice(0, i, end), req).to(torch::kCPU, torch::kFloat32);
        decoded.push_back(lab.images() ? d : fromRunTable(d, lab.vae->data, lab.train));
    }
    const Tensor newX = decoded.empty() ? lab.train.x.slice(0, 0, 0) : torch::cat(decoded);
    Rebalanced out{.data = withRows(lab.train, newX, made->y), .synthetic = newX.size(0)};
    if (lab.images()) {
        std::vector<std::int64_t> rows;
        for (std::int64_t i = 0; i < made->y.size(0) && rows.size() < 8; ++i)
            if (std::count(lab.minority.begin(), lab.minority.end(),
                           made->y[i].item<std::int64_t>()))
                rows.push_back(i);
        if (!rows.empty()) {
            const Tensor pick = torch::tensor(rows, torch::kInt64);
            const Tensor parents = made->parents.index_select(0, pick);
            out.figure = {.columns = {lab.train.x.index_select(0, parents.select(1, 0)),
                                      newX.index_select(0, pick),
                                      lab.train.x.index_select(0, parents.select(1, 1))},
                          .columnLabels = {"parent i", "decoded", "parent j"}};
            for (auto i : rows)
                out.figure.rowLabels.push_back(
                    lab.train.classNames[made->y[i].item<std::int64_t>()]);
        }
    }
    return out;
}

Result<void> writeFigure(const Figure& f, const std::string& title, const fs::path& png) {
    if (f.columns.empty()) return fail("no synthetic minority samples to show");
    const Tensor tiles = torch::stack(f.columns, 1).flatten(0, 1).to(torch::kFloat32).clamp(0, 1);
    return writeLabelledGrid(tiles, static_cast<int>(f.columns[0].size(0)),
                             static_cast<int>(f.columns.size()), f.columnLabels, f.rowLabels, title,
                             png);
}

json methodOptions(const RebalanceRequest& r, const Lab& lab, const std::string& method) {
    json o = json::object();
    if (method.rfind("smote", 0) == 0) o["k"] = r.smoteK;
    if (method == "smote+under") o["share"] = r.smoteUnderShare;
    if (method == "smote-latent" && lab.vae)
        o["vae"] = {{"run", lab.vaeRun.string()}, {"step", lab.vae->step}};
    if (isGeneratorMethod(method) && lab.generators.count(method))
        o["generator"] = {{"run", lab.generatorRuns.at(method).string()},
                          {"step", lab.generators.at(method)->step},
                          {"guidance", r.guidance},
                          {"min_confidence", r.minConfidence},
                          {"domain", lab.domainDir}};
    return o;
}

}  // namespace ll::rebalance
