#include "train/extractortraining.h"

#include <sstream>

#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/classnames.h"
#include "common/sha256.h"
#include "common/text.h"
#include "data/loader.h"
#include "eval/agreement.h"
#include "models/catalog.h"
#include "run/runfolder.h"
#include "run/runloader.h"
#include "train/trainer.h"

namespace ll {
namespace fs = std::filesystem;
using nlohmann::json;

std::string extractorCommand(const ExtractorTraining& t) {
    std::ostringstream out;
    out << "latentlab-cli train-extractor --dataset " << t.dataset.source;
    // Only the options the data takes (a config may keep a field its kind ignores), and of
    // those only choices: image folders follow their images unless told.
    const SourceKind kind = sourceKind(t.dataset.source);
    const bool images = kind == SourceKind::ImageFolder || kind == SourceKind::SplitImageFolder;
    if (t.dataset.split != "train" && hasSplit(t.dataset.source, t.dataset.split))
        out << " --split " << t.dataset.split;
    if (!t.dataset.labelColumn.empty() && kind == SourceKind::Table)
        out << " --label-column " << t.dataset.labelColumn;
    if (t.dataset.imageSize != 0 && images) out << " --image-size " << t.dataset.imageSize;
    if (t.dataset.colour != ImageColour::FollowData && images)
        out << (t.dataset.colour == ImageColour::Rgb ? " --rgb" : " --gray");
    // The classes as the spec names them: typed names, else numbers.
    std::string classes;
    for (const auto& name : t.dataset.keepClassNames)
        classes += (classes.empty() ? "" : ",") + name;
    for (int k : t.dataset.keepClasses) classes += (classes.empty() ? "" : ",") + std::to_string(k);
    if (!classes.empty()) out << " --classes " << shellWord(classes);
    out << " --seed " << t.seed << " --steps " << t.steps << " --threads " << t.threads << " --out "
        << t.out.string();
    return out.str();
}

namespace {

Result<ExtractorInfo> finish(const ExtractorTraining& t, const std::string& dataset) {
    // Keep the last weights alone: no optimiser state, no earlier checkpoints.
    auto opened = loadRun(t.out);
    if (!opened) return tl::unexpected(opened.error());
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(runfiles::checkpointsDir(t.out), ec))
        if (e.path().extension() == ".pt") fs::remove(e.path(), ec);
    fs::remove(runfiles::samplesDir(t.out), ec);  // a classifier draws none; empty
    const fs::path weights = runfiles::checkpoint(t.out, opened->step);
    if (auto ok = opened->model->save(weights, /*weightsOnly=*/true); !ok)
        return tl::unexpected(ok.error());
    if (auto ok = writeLatest(t.out, opened->step); !ok) return tl::unexpected(ok.error());

    auto whole = loadWholeDataset(t.dataset);
    if (!whole) return tl::unexpected(whole.error());
    const std::vector<std::string> wholeNames = whole->classNames;
    auto trained = shapeDataset(std::move(*whole), t.dataset);
    if (!trained) return tl::unexpected(trained.error());
    // The window keeps classes by number; the command names them, as the CLI reads a name
    // first (the number 1 of a table labelled 1, 2, 3 is its class "2").
    ExtractorTraining named = t;
    if (!t.dataset.keepClasses.empty()) {
        named.dataset.keepClasses.clear();
        for (int k : t.dataset.keepClasses)
            named.dataset.keepClassNames.push_back(classToken(k, wholeNames));
    }
    ExtractorInfo info{.dir = t.out,
                       .dataset = dataset,
                       .weights = weights,
                       .steps = opened->step,
                       .seed = t.seed,
                       .threads = t.threads,
                       .command = extractorCommand(named)};
    auto heldOut = loadHeldOut(t.dataset, *trained);
    info.accuracySplit = heldOut ? (t.dataset.split == "test" ? "train" : "test") : "train";
    auto data = heldOut ? std::move(heldOut) : std::move(trained);
    auto accuracy = classifierAccuracy(*opened->model, *data);
    if (!accuracy) return tl::unexpected(accuracy.error());
    info.accuracy = accuracy->accuracy;
    auto sum = sha256File(weights);
    if (!sum) return tl::unexpected(sum.error());
    info.sha256 = *sum;
    const json j{{"format", "latentlab-extractor-1"},
                 {"dataset", info.dataset},
                 {"model", "classifier"},
                 {"feature_layer", "penultimate"},
                 {"weights", fs::relative(weights, t.out).string()},
                 {"sha256", info.sha256},
                 {"steps", info.steps},
                 {"seed", info.seed},
                 {"threads", info.threads},
                 {"accuracy", info.accuracy},
                 {"accuracy_split", info.accuracySplit},
                 {"accuracy_count", accuracy->count},
                 {"command", info.command}};
    if (auto ok = writeFileAtomic(t.out / kExtractorFile, j.dump(2) + "\n"); !ok)
        return tl::unexpected(ok.error());
    return info;
}

}  // namespace

Result<ExtractorInfo> trainExtractor(const ExtractorTraining& t, std::stop_token stop,
                                     const std::function<void(const TrainEvent&)>& observer) {
    if (t.out.empty()) return fail("train-extractor: no output folder given");
    if (t.threads < 1 || t.threads > 1024)
        return fail(
            "train-extractor: threads must lie in 1..1024 (a fixed count keeps the "
            "weights reproducible)");
    std::error_code ec;
    if (fs::exists(t.out, ec) && !fs::is_empty(t.out, ec))
        return fail(t.out.string() + ": exists and is not empty (choose another folder)");
    const ModelPreset* preset = findPreset("classifier-cpu");
    if (!preset) return fail("train-extractor: the classifier-cpu preset is missing");
    TrainConfig config{
        .dataset = t.dataset,
        .model = preset->model,
        .preset = preset->name,
        .settings = preset->settings,
        .steps = t.steps,
        .learningRate = preset->learningRate,
        .batchSize = preset->batchSize,
        .seed = t.seed,
        .threads = t.threads,
        .logEvery = 50,
        .sampleEvery = static_cast<int>(std::min<std::int64_t>(t.steps, 1 << 30)),
        .checkpointEvery = static_cast<int>(std::min<std::int64_t>(t.steps, 1 << 30)),
        .runDir = t.out};
    config.dataset.seed = t.seed;
    std::string dataset;
    Trainer trainer(config, [&](const TrainEvent& event) {
        if (auto* s = std::get_if<TrainStarted>(&event)) dataset = s->dataset.name;
        if (observer) observer(event);
    });
    const TrainFinished done = trainer.run(stop);
    Result<ExtractorInfo> info = done.outcome == TrainFinished::Outcome::Completed
                                     ? finish(t, dataset)
                                     : fail(done.outcome == TrainFinished::Outcome::Cancelled
                                                ? std::string("train-extractor: cancelled")
                                                : "train-extractor: " + done.message);
    if (!info) fs::remove_all(t.out, ec);
    return info;
}

}  // namespace ll
