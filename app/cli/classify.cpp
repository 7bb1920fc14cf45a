// classify: a classifier run's accuracy on a dataset, or a diffusion run as a classifier
// (Li et al. 2023: the class whose denoising error is lowest), with the confusion matrix and
// the charts that explain it.
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>

#include "cli/commands.h"
#include "cli/console.h"
#include "cli/options.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "models/catalog.h"
#include "study/diffusionclassifier.h"

namespace ll::cli {

namespace {

namespace fs = std::filesystem;

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
    bool splitGiven = false;
};

// Rows of a table, images of the rest: what the counts count.
const char* unitOf(const DatasetSpec& data) {
    return sourceKind(data.source) == SourceKind::Table ? "rows" : "images";
}

void printConfusion(const DiffusionClassifyResult& r, const char* unit) {
    std::printf("%-20s %8s %8s\n", "class", unit, "accuracy");
    for (std::size_t k = 0; k < r.classes.size() && k < r.confusion.size(); ++k) {
        std::int64_t row = 0;
        for (auto v : r.confusion[k]) row += v;
        if (row == 0)  // a class the data holds none of: no accuracy to give
            std::printf("%-20.20s %8d %8s\n", r.classes[k].c_str(), 0, "-");
        else
            std::printf("%-20.20s %8lld %8.4f\n", r.classes[k].c_str(), static_cast<long long>(row),
                        double(r.confusion[k][k]) / double(row));
    }
}

// " (test split)" where the data has splits; a file of its own has none to name.
std::string splitNamed(const DatasetSpec& data) {
    return hasSplit(data.source, data.split) ? " (" + data.split + " split)" : "";
}

int runClassifier(const DiffusionClassifyRequest& r) {
    StageProgress progress;
    auto result = classifyWithClassifier(r, std::ref(progress));
    progress.endLine();
    if (!result) return failure("classify: " + result.error().message);
    printConfusion(*result, unitOf(r.data));
    std::printf("accuracy %.4f on %lld %s of %s%s\n", result->accuracy,
                static_cast<long long>(result->count), unitOf(r.data), r.data.source.c_str(),
                splitNamed(r.data).c_str());
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
    printConfusion(*result, unitOf(r.data));
    std::printf("accuracy %.4f on %lld %s, %.0f network evaluations per image (%s)\n",
                result->accuracy, static_cast<long long>(result->count), unitOf(r.data),
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

// The data to classify: --dataset as given, else the run's own, its held-out split where it
// has one (the test split, an IDX file's t10k partner), else the data it trained on, which
// `seen` then names: an accuracy on it says little.
Result<DatasetSpec> dataToClassify(const ClassifyArgs& a, const TrainConfig& config,
                                   std::string& seen) {
    const DatasetSpec& trained = config.dataset;
    DatasetSpec data = a.data.spec();
    if (a.data.dataset.empty()) {
        if (!a.splitGiven && hasSplits(trained.source)) {
            data = heldOutSpec(trained, Dataset{});
            data.limit = a.data.limit;
        } else {
            data.source = trained.source;
            data.split = a.splitGiven ? a.data.split : trained.split;
        }
        if (data.labelColumn.empty()) data.labelColumn = trained.labelColumn;
        if (a.splitGiven && !hasSplit(data.source, data.split))
            return fail("--split " + data.split + ": the run's data (" + data.source + ") has no " +
                        data.split + " split; give held-out data as --dataset");
    }
    std::error_code mine, theirs;
    const auto given = fs::weakly_canonical(data.source, mine);
    const auto source = fs::weakly_canonical(trained.source, theirs);
    const bool sameSource = mine || theirs ? data.source == trained.source : given == source;
    if (sameSource && (data.split == trained.split || !hasSplit(data.source, data.split)))
        seen = data.source + " is the data the run trained on: the accuracy is on " + unitOf(data) +
               " it has seen (give held-out data as --dataset)";
    return data;
}

int runClassify(const ClassifyArgs& a) {
    auto config = readRunConfig(a.run);
    if (!config) return failure("classify: " + config.error().message);
    std::string seen;
    auto data = dataToClassify(a, *config, seen);
    if (!data) return failure("classify: " + data.error().message);
    DiffusionClassifyRequest r{.run = a.run,
                               .data = *data,
                               .unpruned = !a.noUnpruned,
                               .budgets = a.budgets,
                               .partSize = a.partSize,
                               .explain = a.explain,
                               .baseline = !a.noBaseline,
                               .extractor = a.extractor,
                               .workspace = a.workspace,
                               .out = a.out};
    if (a.checkpoint >= 0) r.step = a.checkpoint;
    const ModelInfo* info = findModel(config->model);
    int status = 0;
    if (info && !info->generates) {
        status = runClassifier(r);
    } else {
        auto options = a.denoising.options();
        if (!options) return failure("classify: " + options.error().message);
        r.options = *options;
        status = runDiffusion(r);
    }
    if (status == 0 && !seen.empty()) std::fprintf(stderr, "note: %s\n", seen.c_str());
    return status;
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
    a->data.split = "test";
    a->data.add(cmd, DataArgs::CheckedSplit | DataArgs::LabelColumn | DataArgs::Limit,
                "Dataset (default: the run's own data, its test split where it has one)");
    cmd->get_option("--split")->each([a](const std::string&) { a->splitGiven = true; });
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
