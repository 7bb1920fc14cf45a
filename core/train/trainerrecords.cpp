// What a Trainer writes into its run while it trains: checkpoints, sample grids and tables,
// metrics, and the changes asked from other threads; and the NaN guard's restore.
#include <cstdio>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "eval/evaluate.h"
#include "image/grid.h"
#include "run/runfolder.h"
#include "run/runloader.h"
#include "sample/classrows.h"
#include "train/trainerimpl.h"

namespace ll {
namespace fs = std::filesystem;

namespace {

// Why a sample grid or table was not saved, and what that means for the run.
std::string samplesNotSaved(const std::string& why) {
    return "samples not saved: " + why +
           ". Training goes on; its next checkpoint needs space too, so free some.";
}

}  // namespace

void Trainer::Impl::applyPendingChanges() {
    std::lock_guard lock(mutex);
    auto record = [&](const char* event, double value) {
        (void)appendLogLine(
            run, nlohmann::json{{"step", step}, {"event", event}, {"value", value}}.dump());
    };
    bool changed = false;
    if (pendingLearningRate > 0) {
        config.learningRate = pendingLearningRate;
        model->setLearningRate(pendingLearningRate);
        pendingLearningRate = 0;
        record("learning_rate", config.learningRate);
        changed = true;
    }
    if (pendingSampleEvery > 0) {
        config.sampleEvery = pendingSampleEvery;
        pendingSampleEvery = 0;
        record("sample_every", config.sampleEvery);
        changed = true;
    }
    if (pendingCheckpointEvery > 0) {
        config.checkpointEvery = pendingCheckpointEvery;
        pendingCheckpointEvery = 0;
        record("checkpoint_every", config.checkpointEvery);
        changed = true;
    }
    // A resumed run continues with the settings it had when it stopped.
    if (changed) (void)writeRunConfig(run, config, "running", data.name, step);
}

Result<void> Trainer::Impl::restoreAfterNan(const std::string& what) {
    const std::int64_t badStep = step;
    auto loaded = loadNewestCheckpoint(*model, run);
    if (!loaded) return tl::unexpected(loaded.error());
    step = loaded->step;
    model->setLearningRate(config.learningRate);
    (void)truncateLog(run, step);
    (void)appendLogLine(
        run,
        nlohmann::json{
            {"step", step}, {"event", "nan_guard"}, {"bad_step", badStep}, {"loss", what}}
            .dump());
    // Fresh noise for the retry: the same noise at the same rate would fail the same way.
    torch::manual_seed(config.seed + static_cast<std::uint64_t>(step) + 7919u * ++restores);
    char lr[32];
    std::snprintf(lr, sizeof lr, "%.3g", config.learningRate);
    char lower[32];
    std::snprintf(lower, sizeof lower, "%.3g", config.learningRate / 3);
    std::lock_guard lock(mutex);
    paused = true;
    pauseMessage = "The " + what + " at step " + std::to_string(badStep) +
                   ": training diverged. Restored the checkpoint of step " + std::to_string(step) +
                   " and paused. Lower the learning rate (now " + lr + ", try " + lower +
                   ") and resume.";
    return {};
}

Result<void> Trainer::Impl::checkpoint() {
    const fs::path path = runfiles::checkpoint(run, step);
    auto kept = [&](const Error& e) {
        // A full disk or a quota: what was lost, and that the last checkpoint was not.
        return fail(e.message + (savedStep < 0
                                     ? std::string()
                                     : ". The checkpoint of step " + std::to_string(savedStep) +
                                           " is intact: free some space, then "
                                           "resume the run"));
    };
    if (auto ok = model->save(path); !ok) return kept(ok.error());
    if (auto ok = writeLatest(run, step); !ok) return kept(ok.error());
    savedStep = step;
    // Keep the last three checkpoints: enough to step back, not enough to fill a disk.
    std::vector<fs::path> all;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(runfiles::checkpointsDir(run), ec))
        if (e.path().extension() == ".pt") all.push_back(e.path());
    std::sort(all.begin(), all.end());
    for (std::size_t i = 0; i + 3 < all.size(); ++i) fs::remove(all[i], ec);
    emit(TrainCheckpoint{.step = step, .path = path.string()});
    return {};
}

void Trainer::Impl::evaluateNow() {
    const ModelInfo* info = findModel(config.model);
    EvalOptions options{.metrics = {"fid", "precision", "recall"},
                        .count = config.evalCount,
                        .request = {.seed = config.seed},
                        .workspace = config.workspace};
    if (info && info->conditional) options.metrics.push_back("agreement");
    // Sampling must not change the noise the training draws next.
    auto cpu = at::detail::getDefaultCPUGenerator();
    const auto state = cpu.get_state();
    Result<fs::path> file;
    try {
        file = evaluateModel(*model, run, step, options);
    } catch (const std::exception& e) {
        file = fail(e.what());
    }
    cpu.set_state(state);
    applyThreadSettings(model->workload(), config.threads);
    if (!file) {
        config.evalEvery = 0;
        const std::string message =
            "metrics during training are off for this run: " + file.error().message;
        (void)appendLogLine(
            run,
            nlohmann::json{{"step", step}, {"event", "eval_off"}, {"message", message}}.dump());
        emit(TrainEvaluated{.step = step, .message = message});
        return;
    }
    nlohmann::json scores = nlohmann::json::object();
    if (auto record = readEvaluation(*file))
        for (const auto& s : record->scores) scores[s.name] = s.value;
    (void)appendLogLine(run, nlohmann::json{{"step", step}, {"eval", scores}}.dump());
    emit(TrainEvaluated{.step = step, .file = file->string()});
}

void Trainer::Impl::publishSamples() {
    if (data.modality == Modality::Tabular) {
        // A fixed set of real rows (the same every time) beside fresh generated ones.
        const std::int64_t n = std::min<std::int64_t>(500, data.size());
        auto gen = torch::make_generator<torch::CPUGeneratorImpl>(config.seed + 104729);
        auto idx = torch::randperm(data.size(), gen, torch::kInt64).slice(0, 0, n);
        auto realLabels = data.y.index_select(0, idx);
        SampleRequest request{.count = n, .seed = config.seed + 7919};
        for (std::int64_t i = 0; i < n; ++i)
            request.labels.push_back(realLabels[i].item<std::int64_t>());
        TrainTable table{
            .generated =
                makeTable(model->sample(request), realLabels, data.featureNames, data.meanVector(),
                          data.stdVector(), data.classNames, data.categorical, data.decimals),
            .real = makeTable(data.x.index_select(0, idx), realLabels, data.featureNames,
                              data.meanVector(), data.stdVector(), data.classNames,
                              data.categorical, data.decimals)};
        table.generated.step = step;
        if (auto saved = writeTableCsv(table.generated, runfiles::sampleTable(run, step)); !saved)
            table.saveError = samplesNotSaved(saved.error().message);
        emit(std::move(table));
        return;
    }
    const int cols = std::max(1, config.samplesPerClass);
    auto rows = classRows(model->name(), data.classNames, config.maxGridRows, cols);
    SampleRequest request{.count = std::int64_t(rows.labels.size()),
                          .seed = config.seed + 7919,
                          .labels = std::move(rows.labels)};
    SampleGrid grid = makeGrid(model->sample(request), cols, std::move(rows.names));
    grid.step = step;
    // A full disk does not stop training by itself: the next checkpoint says what it costs.
    TrainSamples samples{.grid = std::move(grid)};
    if (auto saved = writePng(samples.grid, runfiles::samples(run, step)); !saved)
        samples.saveError = samplesNotSaved(saved.error().message);
    emit(std::move(samples));
}

bool Trainer::Impl::waitWhilePaused(std::stop_token stop) {
    std::unique_lock lock(mutex);
    if (!paused) return !stop.stop_requested();
    std::string message = std::exchange(pauseMessage, {});
    lock.unlock();
    emit(TrainPaused{.paused = true, .step = step, .message = std::move(message)});
    (void)writeRunConfig(run, config, "paused", data.name, step);
    lock.lock();
    wake.wait(lock, stop, [&] { return !paused; });
    lock.unlock();
    if (stop.stop_requested()) return false;
    emit(TrainPaused{.paused = false, .step = step});
    (void)writeRunConfig(run, config, "running", data.name, step);
    return true;
}

}  // namespace ll
