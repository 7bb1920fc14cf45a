#include "eval/extractor.h"

#include <cstdlib>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/sha256.h"
#include "data/loader.h"
#include "eval/agreement.h"
#include "models/catalog.h"
#include "run/runfolder.h"
#include "run/runloader.h"
#include "train/trainer.h"

namespace ll {
namespace fs = std::filesystem;
using nlohmann::json;

fs::path shippedExtractorsDir() {
    if (const char* env = std::getenv("LATENTLAB_RESOURCES"); env && *env)
        return fs::path(env) / "extractors";
    return fs::path(LATENTLAB_RESOURCE_DIR) / "extractors";
}

fs::path workspaceExtractorDir(const fs::path& workspace, const std::string& dataset) {
    return workspace / "extractors" / dataset;
}

Result<ExtractorInfo> readExtractor(const fs::path& dir) {
    const fs::path file = dir / kExtractorFile;
    auto text = readFile(file);
    if (!text) return fail(dir.string() + ": not a feature extractor (no " + kExtractorFile + ")");
    ExtractorInfo info;
    try {
        const json j = json::parse(*text);
        info.dir = dir;
        info.dataset = j.at("dataset").get<std::string>();
        info.weights = dir / j.at("weights").get<std::string>();
        info.sha256 = j.at("sha256").get<std::string>();
        info.steps = j.value("steps", std::int64_t{0});
        info.seed = j.value("seed", std::uint64_t{0});
        info.threads = j.value("threads", 0);
        info.accuracy = j.value("accuracy", -1.0);
        info.accuracySplit = j.value("accuracy_split", "");
        info.command = j.value("command", "");
    } catch (const json::exception& e) {
        return fail(file.string() + ": malformed (" + e.what() + ")");
    }
    auto sum = sha256File(info.weights);
    if (!sum) return tl::unexpected(sum.error());
    if (*sum != info.sha256)
        return fail(info.weights.string() + ": SHA-256 " + *sum + " differs from the " +
                    info.sha256 + " recorded in " + file.string() +
                    " (the weights were changed or damaged; retrain with: " + info.command + ")");
    std::error_code ec;
    info.shipped = fs::equivalent(dir.parent_path(), shippedExtractorsDir(), ec);
    return info;
}

Result<ExtractorInfo> findExtractor(const std::string& dataset, const fs::path& workspace) {
    std::error_code ec;
    for (const fs::path& dir :
         {workspaceExtractorDir(workspace, dataset), shippedExtractorsDir() / dataset})
        if (fs::exists(dir / kExtractorFile, ec)) return readExtractor(dir);
    return fail("no feature extractor for '" + dataset +
                "': train one (Inspect mode, or latentlab-cli train-extractor --dataset ... "
                "--out " +
                workspaceExtractorDir(workspace, dataset).string() +
                "), or use raw pixels (--pixels)");
}

std::string extractorCommand(const ExtractorTraining& t) {
    std::ostringstream out;
    out << "latentlab-cli train-extractor --dataset " << t.dataset.source;
    if (t.dataset.split != "train") out << " --split " << t.dataset.split;
    if (!t.dataset.labelColumn.empty()) out << " --label-column " << t.dataset.labelColumn;
    if (t.dataset.imageSize != 28) out << " --image-size " << t.dataset.imageSize;
    if (!t.dataset.grayscale) out << " --rgb";
    if (!t.dataset.keepClasses.empty()) {
        out << " --classes ";
        for (std::size_t i = 0; i < t.dataset.keepClasses.size(); ++i)
            out << (i ? "," : "") << t.dataset.keepClasses[i];
    }
    out << " --seed " << t.seed << " --steps " << t.steps << " --threads " << t.threads << " --out "
        << t.out.string();
    return out.str();
}

namespace {

Result<ExtractorInfo> finish(const ExtractorTraining& t, const std::string& dataset) {
    // Keep the last weights alone: no optimiser state, no earlier checkpoints.
    auto opened = openRun(t.out);
    if (!opened) return tl::unexpected(opened.error());
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(t.out / "checkpoints", ec))
        if (e.path().extension() == ".pt") fs::remove(e.path(), ec);
    fs::remove(t.out / "samples", ec);  // a classifier draws none; empty
    const fs::path weights = runfiles::checkpoint(t.out, opened->step);
    if (auto ok = opened->model->save(weights, /*weightsOnly=*/true); !ok)
        return tl::unexpected(ok.error());
    if (auto ok = writeLatest(t.out, opened->step); !ok) return tl::unexpected(ok.error());

    ExtractorInfo info{.dir = t.out,
                       .dataset = dataset,
                       .weights = weights,
                       .steps = opened->step,
                       .seed = t.seed,
                       .threads = t.threads,
                       .command = extractorCommand(t)};
    auto heldOut = loadHeldOut(t.dataset);
    info.accuracySplit = heldOut ? (t.dataset.split == "test" ? "train" : "test") : "train";
    auto data = heldOut ? std::move(heldOut) : loadDataset(t.dataset);
    if (!data) return tl::unexpected(data.error());
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
