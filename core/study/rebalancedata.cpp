// The imbalance lab's data: the held-out part, the imbalance, the checks every method needs
// before anything is written, the classic rebalancing methods and the classifier.
#include <algorithm>
#include <cmath>
#include <set>

#include <torch/torch.h>

#include "common/classnames.h"
#include "data/loader.h"
#include "study/classicclassifiers.h"
#include "study/heldout.h"
#include "study/rebalancelab.h"
#include "study/trainon.h"

namespace ll::rebalance {
namespace fs = std::filesystem;
using torch::Tensor;

namespace {

// A class by its name (first) or its number.
Result<int> classIndex(const Dataset& d, const std::string& cls) {
    auto k = ll::classIndex(cls, d.classNames);
    if (!k) return fail("rebalance: " + d.name + ": " + k.error().message);
    return k;
}

Result<ImbalanceProfile> profileOf(const RebalanceRequest& r, const Dataset& d) {
    ImbalanceProfile p;
    if (r.imbalance == ImbalanceMode::LongTail) {
        p.kind = ImbalanceProfile::Kind::LongTail;
        p.ratio = r.longTailRatio;
    } else if (r.imbalance == ImbalanceMode::Minority) {
        p.kind = ImbalanceProfile::Kind::Minority;
        for (const auto& m : r.minority) {
            auto k = classIndex(d, m.cls);
            if (!k) return tl::unexpected(k.error());
            p.minority.emplace_back(*k, m.share);
        }
    }
    return p;
}

std::string imbalanceText(const RebalanceRequest& r, const Dataset& d, const ImbalanceProfile& p) {
    if (r.imbalance == ImbalanceMode::AsIs) return "as it is";
    if (r.imbalance == ImbalanceMode::LongTail) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "long tail, ratio %g", r.longTailRatio);
        return buffer;
    }
    std::string out = "minority";
    for (const auto& [k, share] : p.minority) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, " at %g%%", 100 * share);
        out +=
            (out == "minority" ? " " : ", ") + d.classNames[static_cast<std::size_t>(k)] + buffer;
    }
    return out;
}

// SMOTE needs k + 1 rows of every class it fills; says which class, how many and what to do.
Result<void> checkSmoteRows(const RebalanceRequest& r, const Lab& lab, const std::string& method,
                            std::int64_t target) {
    const auto counts = lab.train.classCounts();
    for (std::size_t k = 0; k < counts.size(); ++k) {
        if (counts[k] >= target || counts[k] >= r.smoteK + 1) continue;
        return fail(method + ": SMOTE with k = " + std::to_string(r.smoteK) + " needs at least " +
                    std::to_string(r.smoteK + 1) + " rows of every class it oversamples; class " +
                    lab.train.classNames[k] + " keeps " + std::to_string(counts[k]) +
                    " in the imbalanced training set (" + lab.imbalanceText +
                    "): raise its share, lower the ratio or lower --smote-k");
    }
    return {};
}

std::vector<std::vector<double>> rowsOf(const Tensor& t) {
    const Tensor c = t.to(torch::kFloat64).contiguous();
    std::vector<std::vector<double>> out(static_cast<std::size_t>(c.size(0)));
    const double* v = c.data_ptr<double>();
    for (std::int64_t i = 0; i < c.size(0); ++i)
        out[static_cast<std::size_t>(i)].assign(v + i * c.size(1), v + (i + 1) * c.size(1));
    return out;
}

std::vector<int> labelsOf(const Tensor& y) {
    const Tensor l = y.to(torch::kInt32).contiguous();
    return {l.data_ptr<int>(), l.data_ptr<int>() + l.numel()};
}

FeatureMatrix matrixOf(const Tensor& t) {
    const Tensor f = t.to(torch::kFloat).contiguous();
    FeatureMatrix m{.rows = f.size(0), .cols = f.size(1)};
    m.values.assign(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
    return m;
}

// Up to `count` rows of `y` in a minority class, spread evenly over them.
std::vector<std::int64_t> figureRows(const Tensor& y, const std::vector<int>& minority, int count) {
    std::vector<std::int64_t> rows;
    const Tensor l = y.to(torch::kInt64).contiguous();
    for (std::int64_t i = 0; i < l.numel(); ++i)
        if (std::count(minority.begin(), minority.end(), l.data_ptr<std::int64_t>()[i]))
            rows.push_back(i);
    std::vector<std::int64_t> picked;
    const auto n = static_cast<std::int64_t>(rows.size());
    for (int i = 0; i < count && i < n; ++i)
        picked.push_back(rows[static_cast<std::size_t>(i * n / std::min<std::int64_t>(count, n))]);
    return picked;
}

// SMOTE's figure: a sample between its two parents.
Figure smoteFigure(const Lab& lab, const SmoteResult& s) {
    Figure f{.columnLabels = {"parent i", "SMOTE", "parent j"}};
    const auto rows = figureRows(s.y, lab.minority, 8);
    if (rows.empty() || !lab.images()) return {};
    const Tensor pick = torch::tensor(rows, torch::kInt64);
    const Tensor parents = s.parents.index_select(0, pick);
    std::vector<std::int64_t> shape(lab.train.x.sizes().begin(), lab.train.x.sizes().end());
    shape[0] = -1;
    f.columns = {lab.train.x.index_select(0, parents.select(1, 0)),
                 s.x.index_select(0, pick).to(torch::kFloat32).reshape(shape),
                 lab.train.x.index_select(0, parents.select(1, 1))};
    for (auto i : rows) {
        char gap[32];
        std::snprintf(gap, sizeof gap, " (gap %.2f)", s.gaps[i].item<double>());
        f.rowLabels.push_back(lab.train.classNames[s.y[i].item<std::int64_t>()] + gap);
    }
    return f;
}

}  // namespace

Dataset withRows(const Dataset& data, const Tensor& extra, const Tensor& labels) {
    Dataset out = data;
    if (extra.size(0) == 0) return out;
    std::vector<std::int64_t> shape(data.x.sizes().begin(), data.x.sizes().end());
    shape[0] = extra.size(0);
    out.x = torch::cat({data.x, extra.to(data.x.dtype()).reshape(shape)});
    out.y = torch::cat({data.y, labels.to(torch::kInt64)});
    return out;
}

Result<Lab> prepareLab(const RebalanceRequest& r) {
    Lab lab;
    DatasetSpec spec = r.data;
    spec.seed = r.seed;
    if (spec.longTailRatio > 1)
        return fail(
            "rebalance: the lab makes the imbalance itself; use --long-tail, not the "
            "dataset's own long-tail option");
    auto data = loadDataset(spec);
    if (!data) return tl::unexpected(data.error());
    const auto counts = data->classCounts();
    if (std::count_if(counts.begin(), counts.end(), [](auto n) { return n > 0; }) < 2)
        return fail(spec.source + ": one class only; a classifier needs at least two");
    const bool tabular = data->modality == Modality::Tabular;

    // The classifier fits the data.
    lab.classifier = r.classifier.empty() ? (tabular ? "logistic" : "cnn") : r.classifier;
    if (lab.classifier == "cnn" && tabular)
        return fail("rebalance: the CNN learns from images; " + spec.source +
                    " is a table (use --classifier mlp or logistic)");
    if (lab.classifier == "mlp" && !tabular)
        return fail(
            "rebalance: the classifier model is an MLP for tables only; for images "
            "use --classifier cnn or logistic");
    if (lab.classifier != "logistic") {
        const ModelPreset* preset =
            findPreset(r.classifierPreset.empty() ? "classifier-cpu" : r.classifierPreset);
        if (!preset || preset->model != "classifier")
            return fail("rebalance: \"" + r.classifierPreset +
                        "\" is no preset of the classifier model");
    }

    // The held-out part: the other split, or a stratified fraction; never resampled.
    auto part = splitOffHeldOut(spec, std::move(*data), r.heldOutFraction, r.heldOutLimit, r.seed);
    if (!part) return tl::unexpected(part.error());
    Dataset train = std::move(part->train);
    lab.held = std::move(part->held);
    lab.heldOutText = std::move(part->text);

    // The imbalance, once, with the study's seed.
    auto profile = profileOf(r, train);
    if (!profile) return tl::unexpected(profile.error());
    lab.profile = *profile;
    lab.imbalanceText = imbalanceText(r, train, lab.profile);
    lab.originalCounts = train.classCounts();
    auto kept = imbalancedIndices(train.y, train.numClasses(), lab.profile, r.seed);
    if (!kept) return fail("rebalance: " + kept.error().message);
    lab.train = train.subset(*kept);
    const auto imbalanced = lab.train.classCounts();
    lab.minority = minorityClasses(imbalanced, lab.profile);
    if (lab.minority.empty())
        return fail("rebalance: no minority class: every class of " + spec.source +
                    " has at least half the largest class's rows as it is, so minority recall "
                    "and AUROC are undefined; use --long-tail or --minority");
    for (std::size_t k = 0; k < imbalanced.size(); ++k)
        if (imbalanced[k] < 2)
            return fail("rebalance: class " + lab.train.classNames[k] + " keeps " +
                        std::to_string(imbalanced[k]) +
                        " training rows; every class needs at least 2 (raise its share or lower "
                        "the ratio)");
    if (auto ok = checkGenerators(r, lab); !ok) return tl::unexpected(ok.error());

    // SMOTE's rows, per method that uses it.
    const auto largest = *std::max_element(imbalanced.begin(), imbalanced.end());
    for (const auto& m : r.methods) {
        if (m == "smote" || m == "smote-latent")
            if (auto ok = checkSmoteRows(r, lab, m, largest); !ok)
                return tl::unexpected(ok.error());
        if (m == "smote+under") {
            const auto t = static_cast<std::int64_t>(
                std::ceil(r.smoteUnderShare * static_cast<double>(largest)));
            if (auto ok = checkSmoteRows(r, lab, m, t); !ok) return tl::unexpected(ok.error());
        }
        if ((m == "smote-latent" || isGeneratorMethod(m)) && tabular &&
            (m == "smote-latent" || !modelInfo(m).tabular))
            return fail(m + ": the zoo's " + (m == "smote-latent" ? "VAE decoder" : m) +
                        " makes images; " + spec.source + " is a table");
    }
    return lab;
}

Result<Rebalanced> rebalanceWith(const RebalanceRequest& r, const Lab& lab,
                                 const std::string& method, int s,
                                 const std::function<bool(double)>& progress) {
    const Dataset& train = lab.train;
    const int k = train.numClasses();
    const std::uint64_t seed = r.seed + static_cast<std::uint64_t>(s);
    Rebalanced out;
    if (method == "none") {
        out.data = train;
    } else if (method == "under") {
        out.data = train.subset(randomUnderSample(train.y, k, seed));
    } else if (method == "over") {
        const Tensor idx = randomOverSample(train.y, k, seed);
        out.data = train.subset(idx);
        out.synthetic = idx.size(0) - train.size();
    } else if (method == "smote" || method == "smote+under") {
        const auto counts = train.classCounts();
        const auto largest = *std::max_element(counts.begin(), counts.end());
        const auto t =
            static_cast<std::int64_t>(std::ceil(r.smoteUnderShare * static_cast<double>(largest)));
        SmoteOptions options{.k = r.smoteK};
        if (method == "smote+under")
            for (auto c : counts) options.target.push_back(std::max(c, t));
        const Tensor flat = train.x.reshape({train.size(), -1});
        auto made = smote(flat, train.y, k, options, seed);
        if (!made) return fail(method + ": " + made.error().message);
        out.data = withRows(train, made->x, made->y);
        out.synthetic = made->x.size(0);
        out.figure = smoteFigure(lab, *made);
        if (method == "smote+under") {
            const Tensor keep = randomUnderSample(out.data.y, k, seed,
                                                  std::vector<std::int64_t>(std::size_t(k), t));
            out.synthetic = (keep >= train.size()).sum().item<std::int64_t>();
            out.data = out.data.subset(keep);
        }
    } else if (method == "smote-latent") {
        return latentSmote(r, lab, seed);
    } else if (isGeneratorMethod(method)) {
        return generatorFill(r, lab, method, seed, progress);
    } else {
        return fail("rebalance: unknown method \"" + method + "\"");
    }
    return out;
}

Result<ImbalanceScores> fitAndScore(const RebalanceRequest& r, const Lab& lab, const Dataset& train,
                                    std::uint64_t seed, const fs::path& work,
                                    const std::function<bool(double)>& progress) {
    const int k = lab.train.numClasses();
    Tensor probabilities;
    if (lab.classifier == "logistic") {
        // Standardised on the rebalanced rows, the held-out part with the same.
        const Tensor x = train.x.reshape({train.size(), -1}).to(torch::kFloat64);
        const Tensor mean = x.mean(0);
        Tensor sd = x.std(0, false);
        sd = torch::where(sd > 1e-12, sd, torch::ones_like(sd));
        const Tensor held = lab.held.x.reshape({lab.held.size(), -1}).to(torch::kFloat64);
        auto fitted = ClassicClassifier::fit(ClassicMethod::Logistic, matrixOf((x - mean) / sd),
                                             labelsOf(train.y), k, r.logistic);
        if (!fitted) return fail("logistic: " + fitted.error().message);
        auto scores = fitted->scores(matrixOf((held - mean) / sd));
        if (!scores) return fail("logistic: " + scores.error().message);
        const Tensor logits =
            torch::from_blob(scores->values.data(), {scores->rows, scores->cols}, torch::kFloat32)
                .to(torch::kFloat64);
        probabilities = torch::softmax(logits, 1);
    } else {
        TrainOnRequest t{
            .preset = r.classifierPreset.empty() ? "classifier-cpu" : r.classifierPreset,
            .steps = r.classifierSteps,
            .batch = static_cast<int>(r.classifierBatch),
            .seed = seed,
            .threads = r.threads,
            .work = work};
        auto run = trainAndLoad(train, t, progress);
        if (!run) return tl::unexpected(run.error());
        Tensor x = lab.held.x;
        if (!lab.images()) x = toRunTable(x, lab.held, run->data);
        std::vector<Tensor> parts;
        for (std::int64_t i = 0; i < x.size(0); i += 1000)
            parts.push_back(
                torch::softmax(run->model->classify(x.slice(0, i, std::min(x.size(0), i + 1000)))
                                   .to(torch::kFloat64),
                               1));
        probabilities = torch::cat(parts);
        std::error_code ec;
        fs::remove_all(work, ec);
    }
    const Tensor predictions = probabilities.argmax(1);
    auto scores = imbalanceScores(labelsOf(lab.held.y), labelsOf(predictions), k, lab.minority,
                                  rowsOf(probabilities));
    if (!scores) return fail("rebalance: " + scores.error().message);
    return scores;
}

}  // namespace ll::rebalance
