// features and metrics: feature arrays of real data or of a run's samples, and the metrics
// of two such arrays, so that any tool can check a score.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/console.h"
#include "cli/options.h"
#include "common/classnames.h"
#include "common/cpu.h"
#include "common/npy.h"
#include "data/loader.h"
#include "eval/extractorchoice.h"
#include "eval/featuremetrics.h"
#include "eval/features.h"
#include "run/runfolder.h"

namespace ll::cli {

namespace {

struct MetricsArgs {
    std::string out;
    MetricArgs metric;
};

// Every metric is computed before anything is written or printed, so a refusal leaves one line.
int runMetrics(const MetricsArgs& a) {
    auto measured = measureFeatureFiles(a.metric.settings);
    if (!measured) return failure("metrics: " + measured.error().message);
    const auto& m = *measured;
    if (auto ok = writeFeatureMetrics(m, a.out); !ok) return failure(ok.error().message);
    std::printf("%lld real, %lld fake samples of %lld features\n",
                static_cast<long long>(m.realCount), static_cast<long long>(m.fakeCount),
                static_cast<long long>(m.features));
    std::printf("%-10s %12.6g\n", "FID", m.fid);
    std::printf("%-10s %12.6g +/- %.3g (%d subsets of %lld)\n", "KID", m.kid.mean, m.kid.std,
                m.kid.subsets, static_cast<long long>(m.kid.subsetSize));
    std::printf("%-10s %12.4f (k = %d)\n", "precision", m.precisionRecall.precision, m.config.k);
    std::printf("%-10s %12.4f\n", "recall", m.precisionRecall.recall);
    std::printf("%-10s %12.4f (k = %d)\n", "density", m.densityCoverage.density, m.config.kDensity);
    std::printf("%-10s %12.4f\n", "coverage", m.densityCoverage.coverage);
    if (m.copying) {
        const auto kept = std::count_if(m.copying->cells.begin(), m.copying->cells.end(),
                                        [](const auto& c) { return c.kept; });
        std::printf("%-10s %12.4f (%lld of %zu cells; below 0: copies training data)\n", "C_T",
                    m.copying->ct, static_cast<long long>(kept), m.copying->cells.size());
    }
    std::fprintf(stderr, "wrote %s\n", a.out.c_str());
    return 0;
}

struct FeaturesArgs {
    DataArgs data;
    std::string run;
    std::int64_t count = 1000;
    std::vector<std::string> classes;
    std::string extractor;
    bool pixels = false;
    std::string out;
    SteerArgs steer;
};

// Features of real data (--dataset) or of a run's samples (--run) to a .npy file, so that any
// tool can check a score: `metrics` takes two of them.
int runFeatures(const FeaturesArgs& a) {
    if (a.data.dataset.empty() == a.run.empty())
        return failure("features: give either --dataset D (real data) or --run RUN (its samples)");
    if (!a.extractor.empty() && a.pixels)
        return failure("features: give --extractor or --pixels, not both");
    if (!a.out.ends_with(".npy")) return failure("features: --out must name a .npy file");
    if (!a.run.empty() && (a.count < 1 || a.count > 1000000))
        return failure("features: --count must lie in 1..1000000");
    // The data first: its name picks the default extractor.
    std::optional<Dataset> data;
    std::optional<LoadedRun> generator;
    if (!a.data.dataset.empty()) {
        auto loaded = loadDataset(a.data.spec());
        if (!loaded) return failure(loaded.error().message);
        data = std::move(*loaded);
    } else {
        auto opened = loadRun(a.run, a.steer.step());
        if (!opened) return failure(opened.error().message);
        generator = std::move(*opened);
    }
    std::string extractorDir;
    if (!a.pixels) {
        const auto name = data ? data->name : generator->data.datasetName;
        auto choice = chooseExtractor(a.extractor, name, defaultWorkspace());
        if (!choice)
            return failure((a.extractor.empty() ? "features: " : "extractor: ") +
                           choice.error().message);
        extractorDir = choice->dir.string();
    }
    std::optional<LoadedRun> extractor;
    if (!extractorDir.empty()) {
        auto opened = loadRun(extractorDir);
        if (!opened) return failure("extractor: " + opened.error().message);
        extractor = std::move(*opened);
        applyThreadSettings(extractor->model->workload());
    }
    GenerativeModel* model = extractor ? extractor->model.get() : nullptr;
    Result<torch::Tensor> features;
    if (data) {
        features = extractFeatures(model, data->x);
    } else {
        applyThreadSettings(generator->model->workload());
        auto steered = a.steer.request(generator->data.classNames);
        if (!steered) return failure("features: " + steered.error().message);
        SampleRequest request = *steered;
        auto classes = classIndices(a.classes, generator->data.classNames);
        if (!classes) return failure("features: --class: " + classes.error().message);
        for (int k : *classes) request.labels.push_back(k);
        features = sampleFeatures(*generator->model, model, request, a.count);
    }
    if (!features) return failure("features: " + features.error().message);
    if (auto ok = writeNpy(a.out, *features); !ok) return failure(ok.error().message);
    std::fprintf(stderr, "wrote %lld x %lld %s features to %s\n",
                 static_cast<long long>(features->size(0)),
                 static_cast<long long>(features->size(1)),
                 model ? ("classifier (" + extractorDir + ")").c_str() : "raw", a.out.c_str());
    return 0;
}

}  // namespace

Command addMetrics(CLI::App& app) {
    auto a = std::make_shared<MetricsArgs>();
    auto& s = a->metric.settings;
    auto* cmd = app.add_subcommand(
        "metrics",
        "Feature-space metrics (FID, KID, precision/recall, density/coverage, data-copying C_T) "
        "of two .npy feature arrays (samples x features, float32 or float64); writes JSON");
    cmd->add_option("--real", s.real, "Real features (.npy)")->required();
    cmd->add_option("--fake", s.fake, "Generated features (.npy)")->required();
    cmd->add_option("--train", s.train, "Training features (.npy), for the data-copying test C_T");
    cmd->add_option("--test", s.test, "Held-out features (.npy), for the data-copying test C_T");
    cmd->add_option("--out", a->out, "JSON file to write")->required();
    cmd->add_option("--seed", s.seed, "Seed of the KID subsets")->capture_default_str();
    a->metric.add(cmd);
    return {cmd, [a] { return runMetrics(*a); }};
}

Command addFeatures(CLI::App& app) {
    auto a = std::make_shared<FeaturesArgs>();
    auto* cmd = app.add_subcommand(
        "features",
        "Feature arrays (.npy, float32, one row per image) of real data or of a run's samples, "
        "for metrics or any other tool");
    a->data.add(cmd, DataArgs::Split | DataArgs::LabelColumn | DataArgs::Limit,
                "Real data: a dataset");
    cmd->add_option("--run", a->run, "Generated data: a run folder");
    cmd->add_option("--count", a->count, "Samples to draw from --run")->capture_default_str();
    cmd->add_option("--class", a->classes,
                    "Class of every sample, or a comma list to cycle, by name or number "
                    "(default: all in turn)")
        ->delimiter(',');
    cmd->add_option("--extractor", a->extractor,
                    "Classifier run whose penultimate layer gives the features");
    cmd->add_flag("--pixels", a->pixels, "Raw pixels (or rows) as the features");
    cmd->add_option("--out", a->out, ".npy file to write")->required();
    a->steer.add(cmd);
    return {cmd, [a] { return runFeatures(*a); }};
}

}  // namespace ll::cli
