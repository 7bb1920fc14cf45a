// classify: a classifier run's accuracy on a dataset, or a diffusion run as a classifier
// (Li et al. 2023: the class whose denoising error is lowest), with the confusion matrix and
// the charts that explain it.
#include <cstdio>
#include <functional>
#include <memory>

#include "cli/commands.h"
#include "cli/console.h"
#include "cli/options.h"
#include "models/catalog.h"
#include "study/diffusionclassifier.h"

namespace ll::cli {

namespace {

struct ClassifyArgs {
    std::string run;
    std::int64_t checkpoint = -1;
    DataArgs data;
    std::string out;
    DenoisingArgs denoising;
    std::vector<int> budgets;
    std::int64_t partSize = 64;
    int explain = 4;
    bool noUnpruned = false;
    bool noBaseline = false;
    std::string extractor;
    std::string workspace;
};

void printConfusion(const DiffusionClassifyResult& r) {
    std::printf("%-20s %8s %8s\n", "class", "images", "accuracy");
    for (std::size_t k = 0; k < r.classes.size() && k < r.confusion.size(); ++k) {
        std::int64_t row = 0;
        for (auto v : r.confusion[k]) row += v;
        std::printf("%-20.20s %8lld %8.4f\n", r.classes[k].c_str(), static_cast<long long>(row),
                    row ? double(r.confusion[k][k]) / double(row) : 0.0);
    }
}

int runClassifier(const ClassifyArgs& a, const DiffusionClassifyRequest& r) {
    StageProgress progress;
    auto result = classifyWithClassifier(r, std::ref(progress));
    progress.endLine();
    if (!result) return failure("classify: " + result.error().message);
    printConfusion(*result);
    std::printf("accuracy %.4f on %lld samples of %s (%s)\n", result->accuracy,
                static_cast<long long>(result->count), a.data.dataset.c_str(),
                a.data.split.c_str());
    if (!r.out.empty()) std::fprintf(stderr, "wrote %s\n", (r.out / "result.json").c_str());
    return 0;
}

int runDiffusion(const DiffusionClassifyRequest& r) {
    StageProgress progress;
    auto result = classifyWithDiffusion(r, std::ref(progress));
    progress.endLine();
    if (!result && result.error().message == "cancelled") {
        const auto out = r.out.empty() ? diffusionClassifierFolder(r.run) : r.out;
        return failure("classify: cancelled; the same command goes on from " +
                       (out / "parts").string());
    }
    if (!result) return failure("classify: " + result.error().message);
    printConfusion(*result);
    std::printf("accuracy %.4f on %lld images, %.0f network evaluations per image (%s)\n",
                result->accuracy, static_cast<long long>(result->count),
                result->evaluationsPerImage, result->settings.c_str());
    if (result->unprunedAccuracy && !r.options.stages.empty())
        std::printf("unpruned %.4f at %.0f evaluations per image\n", *result->unprunedAccuracy,
                    result->unprunedEvaluationsPerImage);
    if (result->baselineAccuracy)
        std::printf("clean classifier %.4f (%s)\n", *result->baselineAccuracy,
                    result->baselineName.c_str());
    if (result->imagesPerSecond > 0) std::printf("%.2f images/s", result->imagesPerSecond);
    if (result->unprunedImagesPerSecond > 0 && !r.options.stages.empty())
        std::printf(" (unpruned %.2f images/s)", result->unprunedImagesPerSecond);
    std::printf("\n");
    for (const auto& note : result->notes) std::fprintf(stderr, "note: %s\n", note.c_str());
    std::fprintf(stderr, "wrote %s\n", (result->out / "result.json").c_str());
    return 0;
}

int runClassify(const ClassifyArgs& a) {
    DiffusionClassifyRequest r{.run = a.run,
                               .data = a.data.spec(),
                               .unpruned = !a.noUnpruned,
                               .budgets = a.budgets,
                               .partSize = a.partSize,
                               .explain = a.explain,
                               .baseline = !a.noBaseline,
                               .extractor = a.extractor,
                               .workspace = a.workspace,
                               .out = a.out};
    if (a.checkpoint >= 0) r.step = a.checkpoint;
    auto config = readRunConfig(a.run);
    if (!config) return failure("classify: " + config.error().message);
    const ModelInfo* info = findModel(config->model);
    if (info && !info->generates) return runClassifier(a, r);
    auto options = a.denoising.options();
    if (!options) return failure("classify: " + options.error().message);
    r.options = *options;
    return runDiffusion(r);
}

}  // namespace

Command addClassify(CLI::App& app) {
    auto a = std::make_shared<ClassifyArgs>();
    auto* cmd = app.add_subcommand(
        "classify",
        "Accuracy of a classifier run on a dataset, or a ddpm / latent-ddpm run as a classifier "
        "(the class with the lowest denoising error; Li et al. 2023) beside the clean "
        "classifier; writes DIR/result.json with the confusion matrix and charts");
    cmd->add_option("--run", a->run, "Classifier, ddpm or latent-ddpm run folder")->required();
    cmd->add_option("--checkpoint", a->checkpoint, "Checkpoint step (default: the latest)");
    a->data.dataset = "fashion-mnist";
    a->data.split = "test";
    a->data.add(cmd, DataArgs::CheckedSplit | DataArgs::LabelColumn | DataArgs::Limit, "Dataset");
    cmd->add_option("--out", a->out,
                    "Folder for result.json and the charts (diffusion runs default to the run's "
                    "studies/diffusion-classifier; a classifier run writes nothing without it)");
    auto* group = cmd->add_option_group("diffusion runs");
    a->denoising.add(group);
    group
        ->add_option("--budgets", a->budgets,
                     "Pair counts of the accuracy-vs-evaluations curve (default: 1,2,5,10,...)")
        ->delimiter(',');
    group->add_option("--part-size", a->partSize, "Images per resumable part")
        ->capture_default_str();
    group->add_option("--explain", a->explain, "Explain the first N images (bars and curves)")
        ->capture_default_str();
    group->add_flag("--no-unpruned", a->noUnpruned,
                    "With pruning, skip the unpruned pass (no curve, no unpruned accuracy)");
    group->add_flag("--no-baseline", a->noBaseline, "Skip the clean classifier beside it");
    group->add_option("--extractor", a->extractor,
                      "Clean classifier (extractor folder or classifier run; default: the "
                      "dataset's own)");
    group->add_option("--workspace", a->workspace, "Workspace to find the extractor in");
    return {cmd, [a] { return runClassify(*a); }};
}

}  // namespace ll::cli
