// oneclass: one class of a dataset as normal, vae and chaotic-vae trained on it alone and a
// Mahalanobis baseline, over recorded seeds, with a t-test of chaotic-vae against vae.
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>

#include "cli/commands.h"
#include "cli/console.h"
#include "cli/options.h"
#include "study/oneclass.h"

namespace ll::cli {

namespace {

struct OneClassArgs {
    DataArgs data;
    std::string normal;
    std::string models = "vae,chaotic-vae,mahalanobis";
    std::string out;
    std::string headline = "reconstruction";
    std::string transform = "standardise";
    std::string start;
    std::string extractor;
    std::string workspace;
    std::vector<int> hidden;
    OneClassRequest request;
};

int runOneClassCommand(OneClassArgs& a) {
    OneClassRequest& r = a.request;
    r.data = a.data.spec();
    r.normal = a.normal;
    r.out = a.out;
    r.hidden = a.hidden;
    r.extractor = a.extractor;
    r.workspace = a.workspace;
    auto models = parseOneClassModels(a.models);
    if (!models) return failure("oneclass: " + models.error().message);
    r.models = *models;
    auto headline = parseOneClassScore(a.headline);
    if (!headline) return failure("oneclass: " + headline.error().message);
    r.headline = *headline;
    auto transform = parseChaoticTransform(a.transform);
    if (!transform) return failure("oneclass: " + transform.error().message);
    r.transform = *transform;
    if (!a.start.empty() && a.start != "random") {
        char* end = nullptr;
        const double v = std::strtod(a.start.c_str(), &end);
        if (end == a.start.c_str() || *end != '\0')
            return failure("oneclass: --chaotic-start '" + a.start + "' is not a number");
        r.chaoticStart = v;
    }
    if (auto ok = checkOneClass(r); !ok) return failure("oneclass: " + ok.error().message);

    StageProgress progress;
    auto result = runOneClass(r, std::ref(progress));
    progress.endLine();
    if (!result) return failure("oneclass: " + result.error().message);
    std::printf(
        "one-class detection of %s (normal) against %zu other classes: %lld training, "
        "%lld validation, %lld + %lld test rows\n",
        result->normalClass.c_str(), result->classes.size() - 1,
        static_cast<long long>(result->trainRows), static_cast<long long>(result->validationRows),
        static_cast<long long>(result->testNormal), static_cast<long long>(result->testAnomalous));
    for (const auto& m : result->models)
        std::printf("  %-12s AUROC %.4f +- %.4f  rate %.4f +- %.4f  (%s, %zu seeds)\n",
                    oneClassModelName(m.model).c_str(), m.aurocMean, m.aurocSd, m.rateMean,
                    m.rateSd, m.headline.c_str(), m.seeds.size());
    if (result->ttest)
        std::printf("  chaotic-vae vs vae: t = %.4f, df = %g, p = %.4g\n", result->ttest->t,
                    result->ttest->df, result->ttest->p);
    if (!result->features.empty())
        std::printf("  mahalanobis features: %s\n", result->features.c_str());
    if (result->restarted)
        std::printf("  %s/parts held parts of other options: started over\n", a.out.c_str());
    if (result->resumedParts > 0)
        std::printf("  resumed %d finished parts\n", result->resumedParts);
    std::printf("  result: %s/result.json\n", a.out.c_str());
    return 0;
}

}  // namespace

Command addOneClass(CLI::App& app) {
    auto a = std::make_shared<OneClassArgs>();
    auto* cmd = app.add_subcommand(
        "oneclass",
        "One-class detection: train vae and chaotic-vae on one class, score held-out rows "
        "(reconstruction, ELBO, latent Mahalanobis) beside Mahalanobis on classifier features; "
        "AUROC, rate at a validation threshold, a t-test over seeds");
    a->data.add(
        cmd, DataArgs::LabelColumn | DataArgs::Image | DataArgs::Limit,
        "Dataset: fashion-mnist, an IDX folder, an image folder or a CSV (any table of text)");
    cmd->get_option("--dataset")->required();
    OneClassRequest& r = a->request;
    cmd->add_option("--normal", a->normal, "The normal class: a class name or number")->required();
    cmd->add_option("--models", a->models, "Detectors: vae, chaotic-vae, mahalanobis")
        ->capture_default_str();
    cmd->add_option("--seeds", r.seeds, "Seeds to repeat over (the paper: 10)")
        ->capture_default_str();
    cmd->add_option("--first-seed", r.firstSeed, "The first seed; the others follow it")
        ->capture_default_str();
    cmd->add_option("--out", a->out, "Folder for result.json, charts, anomalies and parts/")
        ->required();
    cmd->add_option("--steps", r.steps, "Training steps of each VAE")->capture_default_str();
    cmd->add_option("--batch-size", r.batchSize, "Training batch size")->capture_default_str();
    cmd->add_option("--lr", r.learningRate, "Learning rate")->capture_default_str();
    cmd->add_option("--latent", r.latent, "Latent units")->capture_default_str();
    cmd->add_option("--hidden", a->hidden,
                    "Encoder widths, e.g. 512,256 (default: 512,256 images, 64,32 tables)")
        ->delimiter(',');
    cmd->add_option("--beta", r.beta, "Weight of the KL term")->capture_default_str();
    cmd->add_option("--r", r.r, "Chaotic VAE: the logistic map's r, in (3.57, 4]")
        ->capture_default_str();
    cmd->add_option("--chaotic-start", a->start,
                    "Chaotic VAE: the map's start value in (0, 1) (default: drawn from the seed)");
    cmd->add_option("--transform", a->transform, "Chaotic VAE noise: standardise or inverse-normal")
        ->capture_default_str();
    cmd->add_option("--score", a->headline,
                    "The VAEs' headline score: reconstruction, elbo or latent")
        ->capture_default_str();
    cmd->add_option("--elbo-samples", r.elboSamples, "Latent draws in the ELBO score")
        ->capture_default_str();
    cmd->add_option("--percentile", r.percentile,
                    "Threshold: this percentile of the validation normals' scores")
        ->capture_default_str();
    cmd->add_option("--validation-fraction", r.validationFraction,
                    "Share of the normal training rows held back for the threshold")
        ->capture_default_str();
    cmd->add_option("--test-fraction", r.testFraction,
                    "Data without a test split: share of the normal rows tested")
        ->capture_default_str();
    cmd->add_option("--test-limit", r.testLimit, "Test rows at most (seeded subset; 0: all)")
        ->capture_default_str();
    cmd->add_option("--top", r.topAnomalies, "Most anomalous test rows shown")
        ->capture_default_str();
    cmd->add_option("--extractor", a->extractor,
                    "Classifier for the Mahalanobis baseline (default: the dataset's own; "
                    "tables use their standardised columns)");
    cmd->add_option("--workspace", a->workspace, "Workspace to find the dataset's extractor in");
    return {cmd, [a] { return runOneClassCommand(*a); }};
}

}  // namespace ll::cli
