// learning-curve: generative (naive Bayes, GDA, QDA) against discriminative (logistic
// regression, the CNN) classifiers as the training set grows (Ng and Jordan 2001).
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/console.h"
#include "cli/options.h"
#include "study/learningcurve.h"

namespace ll::cli {

namespace {

struct LearningCurveArgs {
    DataArgs data;
    std::string features;
    std::string methods = "nb,gda,qda,logistic";
    std::vector<std::int64_t> sizes;
    std::string out;
    DenoisingArgs denoising;
    LearningCurveRequest request;
};

Result<std::vector<std::string>> parseMethods(const std::string& text) {
    std::vector<std::string> methods;
    std::stringstream in(text);
    for (std::string m; std::getline(in, m, ',');)
        if (!m.empty()) methods.push_back(m);
    if (methods.empty()) return fail("--methods names no method");
    return methods;
}

int runLearningCurveCommand(LearningCurveArgs& a) {
    LearningCurveRequest& r = a.request;
    r.data = a.data.spec();
    r.sizes = a.sizes;
    r.out = a.out;
    if (!a.features.empty()) {
        auto f = parseCurveFeatures(a.features);
        if (!f) return failure("learning-curve: " + f.error().message);
        r.features = *f;
    }
    auto methods = parseMethods(a.methods);
    if (!methods) return failure("learning-curve: " + methods.error().message);
    r.methods = *methods;
    // A diffusion run given is a method asked for.
    if (!r.diffusionRun.empty() &&
        std::find(r.methods.begin(), r.methods.end(), "diffusion") == r.methods.end())
        r.methods.push_back("diffusion");
    auto denoising = a.denoising.options();
    if (!denoising) return failure("learning-curve: diffusion: " + denoising.error().message);
    r.diffusionOptions = *denoising;
    if (auto ok = checkLearningCurve(r); !ok) return failure(ok.error().message);

    StageProgress progress;
    auto result = runLearningCurve(r, std::ref(progress));
    progress.endLine();
    if (!result) return failure(result.error().message);
    for (const auto& note : result->notes) std::printf("note: %s\n", note.c_str());
    std::printf(
        "learning curves on %s (%s, %lld features): %lld training rows, %lld held out "
        "(%s); sizes per class, %zu of %zu parts reused\n",
        r.data.source.c_str(), result->features.c_str(), static_cast<long long>(result->featureDim),
        static_cast<long long>(result->trainRows), static_cast<long long>(result->heldOutRows),
        result->heldOut.c_str(), static_cast<std::size_t>(result->partsReused),
        result->curves.size() * static_cast<std::size_t>(r.seeds));
    std::printf("  %-9s %8s %8s %7s\n", "method", "size", "mean", "sd");
    for (const auto& c : result->curves) {
        std::printf("  %-9s %8lld %8.4f %7.4f", c.method.c_str(), static_cast<long long>(c.size),
                    c.mean, c.sd);
        if (c.method == "diffusion")
            std::printf("  (the run's size; %lld images, %.0f evaluations each)",
                        static_cast<long long>(c.images), c.evaluationsPerImage);
        std::printf("\n");
    }
    for (const auto& c : result->crossings)
        if (c.found)
            std::printf("  crossing: %s = %s at about %.0f per class (accuracy %.4f)\n",
                        c.generative.c_str(), c.discriminative.c_str(), c.size, c.accuracy);
        else
            std::printf("  crossing: none (%s)\n", c.note.c_str());
    std::printf("  %s\n", result->json.c_str());
    if (!result->chart.empty()) std::printf("  %s\n", result->chart.c_str());
    return 0;
}

}  // namespace

Command addLearningCurve(CLI::App& app) {
    auto a = std::make_shared<LearningCurveArgs>();
    auto& r = a->request;
    auto* cmd = app.add_subcommand(
        "learning-curve",
        "Generative vs discriminative classifiers (Ng and Jordan 2001): held-out accuracy of "
        "naive Bayes, GDA, QDA, logistic regression (and the CNN) as the training set grows, "
        "over seeds; writes OUT/result.json (key curves: method, size per class, mean, sd) and "
        "OUT/learning-curve.png, and resumes from OUT/parts/");
    a->data.add(
        cmd,
        DataArgs::Split | DataArgs::LabelColumn | DataArgs::Image | DataArgs::Classes |
            DataArgs::Limit,
        "fashion-mnist, an IDX folder or file, an image folder or a CSV (any table of text)");
    cmd->add_option("--features", a->features,
                    "extractor (the dataset's domain classifier, as evaluation uses), pixels or "
                    "columns (default: extractor for images, columns for a CSV)");
    cmd->add_option("--methods", a->methods,
                    "nb, gda, qda, logistic, cnn, diffusion, comma-separated")
        ->capture_default_str();
    cmd->add_option("--sizes", a->sizes,
                    "Training rows PER CLASS, e.g. 10,30,100 (default: 10, 30, 100, 300, ... up "
                    "to the smallest class's rows)")
        ->delimiter(',');
    cmd->add_option("--seeds", r.seeds, "Repeats; each draws its own class-balanced subsets")
        ->capture_default_str();
    cmd->add_option("--seed", r.seed, "Base seed (repeat s uses seed + s)")->capture_default_str();
    cmd->add_option("--out", a->out, "Output folder (a rerun with the same options resumes)")
        ->required();
    cmd->add_option("--held-out", r.heldOutFraction,
                    "CSV and image folders: the stratified fraction held out for scoring")
        ->capture_default_str();
    cmd->add_option("--held-out-limit", r.heldOutLimit,
                    "Score on at most this many held-out rows (0: all)");
    cmd->add_option("--shrinkage", r.settings.shrinkage,
                    "gda: sklearn's LDA shrinkage; qda: sklearn's reg_param, in [0, 1]")
        ->capture_default_str();
    cmd->add_option("--var-smoothing", r.settings.varSmoothing, "nb: sklearn's var_smoothing")
        ->capture_default_str();
    cmd->add_option("--logistic-c", r.settings.c, "logistic: inverse L2 strength, sklearn's C")
        ->capture_default_str();
    cmd->add_option("--iterations", r.settings.maxIterations, "logistic: L-BFGS iterations")
        ->capture_default_str();
    cmd->add_option("--extractor", r.extractor,
                    "Feature extractor (extractor folder or classifier run; default: the "
                    "dataset's own)");
    cmd->add_option("--workspace", r.workspace, "Workspace to find the dataset's extractor in");
    cmd->add_option("--cnn-preset", r.cnnPreset, "cnn: a classifier preset (classifier-cpu)");
    cmd->add_option("--cnn-steps-per-row", r.cnnStepsPerRow,
                    "cnn: training steps per training row, within --cnn-min-steps and "
                    "--cnn-max-steps")
        ->capture_default_str();
    cmd->add_option("--cnn-min-steps", r.cnnMinSteps, "cnn: fewest steps")->capture_default_str();
    cmd->add_option("--cnn-max-steps", r.cnnMaxSteps, "cnn: most steps")->capture_default_str();
    cmd->add_option("--cnn-batch", r.cnnBatch, "cnn: batch size")->capture_default_str();
    auto* diffusion = cmd->add_option_group(
        "diffusion",
        "The diffusion classifier of a ddpm or latent-ddpm run, as a point at the "
        "run's own training size (scored on the same held-out images)");
    diffusion->add_option("--diffusion-run", r.diffusionRun,
                          "A ddpm or latent-ddpm run of this data's training split (adds the "
                          "diffusion method)");
    diffusion
        ->add_option("--diffusion-images", r.diffusionImages,
                     "Score the run on at most this many held-out images, spread over them "
                     "(0: all)")
        ->capture_default_str();
    a->denoising.add(diffusion, "diffusion-");
    return {cmd, [a] { return runLearningCurveCommand(*a); }};
}

}  // namespace ll::cli
