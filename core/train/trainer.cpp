#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/cpu.h"
#include "common/format.h"
#include "data/loader.h"
#include "eval/evaluate.h"
#include "image/grid.h"
#include "models/model.h"
#include "run/runfolder.h"
#include "run/runloader.h"
#include "run/runlock.h"

namespace ll {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Trainer::Impl {
    TrainConfig config;
    Observer observer;

    mutable std::mutex mutex;
    std::condition_variable_any wake;
    bool paused = false;
    std::string pauseMessage;
    // Changes asked from other threads, applied at the next step; 0: none asked.
    double pendingLearningRate = 0;
    int pendingSampleEvery = 0;
    int pendingCheckpointEvery = 0;
    int restores = 0;

    std::unique_ptr<GenerativeModel> model;
    Dataset data;
    fs::path run;
    std::optional<RunLock> lock;  // held while this trainer may write the run
    std::string resumeWarning;    // an older checkpoint was resumed from: why
    std::int64_t savedStep = -1;  // the step of the last checkpoint on disk
    std::int64_t step = 0;
    std::int64_t parameters = 0;      // the model's, counted when it is built
    std::uint64_t trainingBytes = 0;  // what its training holds: weights, gradients, Adam

    void emit(const TrainEvent& e) {
        if (observer) observer(e);
    }
    Result<void> prepare();
    Result<void> checkpoint();
    void publishSamples();
    // Metrics of the model as it is now (config.evalEvery); turns them off if they fail.
    void evaluateNow();
    void applyPendingChanges();
    // Restores the last checkpoint after a non-finite loss and pauses; false if that fails.
    Result<void> restoreAfterNan(const std::string& what);
    TrainFinished loop(std::stop_token stop);
    // Blocks while paused; false if a stop came meanwhile.
    bool waitWhilePaused(std::stop_token stop);
};

namespace {

// Why a sample grid or table was not saved, and what that means for the run.
std::string samplesNotSaved(const std::string& why) {
    return "samples not saved: " + why +
           ". Training goes on; its next checkpoint needs space too, so free some.";
}

// A process killed mid-write leaves its temporary (".name.NNN.tmp", never the real file):
// clear them away before continuing the run.
void removeStaleTemporaries(const fs::path& run) {
    std::error_code ec;
    for (const fs::path& dir :
         {run, runfiles::checkpointsDir(run), runfiles::samplesDir(run), runfiles::evalDir(run)})
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            const std::string name = e.path().filename().string();
            if (name.starts_with(".") && name.ends_with(".tmp")) fs::remove(e.path(), ec);
        }
}

// Checkpoints past `step` that did not load (or that latest.json never named): renamed to
// step-N.pt.damaged, kept for a look but out of the way of the run's own.
void setAsideNewerCheckpoints(const fs::path& run, std::int64_t step) {
    std::error_code ec;
    for (const auto newer : listCheckpoints(run))
        if (newer > step) {
            const auto path = runfiles::checkpoint(run, newer);
            fs::rename(path, fs::path(path.string() + ".damaged"), ec);
        }
}

}  // namespace

Result<void> Trainer::Impl::prepare() {
    if (config.resume) {
        if (config.runDir.empty()) return fail("resume needs a run folder");
        auto saved = readRunConfig(config.runDir);
        if (!saved) return tl::unexpected(saved.error());
        // The run's own config wins, except for the step budget the caller asks for (0 keeps
        // the run's own) and a new learning rate (after the NaN guard, a lower one is the
        // usual fix).
        const auto steps = config.steps > 0 ? config.steps : saved->steps;
        const double lr = config.resumeLearningRate;
        const auto injectNan = config.injectNanAtStep;
        config = *saved;
        config.steps = steps;
        if (lr > 0) config.learningRate = lr;
        config.injectNanAtStep = injectNan;
        config.resume = true;
    }
    if (config.steps < 1) return fail("steps must be at least 1");
    if (config.evalEvery < 0 || (config.evalEvery > 0 && config.evalCount < 50))
        return fail(
            "metrics during training need an interval of at least 1 step and at least "
            "50 samples");
    if (config.threads < 0 || config.threads > 1024) return fail("threads must lie in 0..1024");
    if (config.batchSize < 1 || config.batchSize > 65536)
        return fail("batch size must lie in 1..65536");
    if (!(config.learningRate > 0 && config.learningRate < 10))
        return fail("learning rate must lie in (0, 10)");
    config.logEvery = std::max(1, config.logEvery);
    config.sampleEvery = std::max(1, config.sampleEvery);
    config.checkpointEvery = std::max(1, config.checkpointEvery);

    auto loaded = loadDataset(config.dataset);
    if (!loaded) return tl::unexpected(loaded.error());
    data = std::move(*loaded);
    if (data.numClasses() < 1) return fail(config.dataset.source + ": the dataset has no classes");
    // Data no model can learn from is refused before a model is built for it.
    if (data.size() < 2)
        return fail(config.dataset.source + ": " + std::to_string(data.size()) +
                    " row; a model needs at least two to learn from");
    if (data.size() < data.numClasses())
        return fail(config.dataset.source + ": " + std::to_string(data.size()) + " rows for " +
                    std::to_string(data.numClasses()) +
                    " classes; fewer rows than classes leaves some class nothing to learn from");
    // An image folder that the run follows (its size, its colour) is kept as what it resolved
    // to, so that the run reloads at the same shape even after the folder gains other images.
    if (!data.imageNote.empty()) {
        config.dataset.imageSize = static_cast<int>(data.x.size(2));
        config.dataset.colour = data.x.size(1) == 3 ? ImageColour::Rgb : ImageColour::Gray;
    }

    ModelShape shape{.numClasses = data.numClasses()};
    if (data.modality == Modality::Tabular) {
        shape.features = static_cast<int>(data.x.size(1));
    } else {
        shape.channels = static_cast<int>(data.x.size(1));
        shape.height = static_cast<int>(data.x.size(2));
        shape.width = static_cast<int>(data.x.size(3));
    }
    torch::manual_seed(config.seed);
    // The learning rate travels as a number: the model is built with its settings alone and
    // given the run's rate below (setLearningRate), never through a formatted string.
    auto built = buildModel(config.model, shape, config.settings);
    if (!built) return tl::unexpected(built.error());
    model = std::move(*built);
    config.settings = model->settings();
    // What training will hold (a very wide table makes a very large first layer): refused
    // when it cannot fit in this machine's memory, else said when training starts.
    parameters = model->parameterCount();
    trainingBytes = static_cast<std::uint64_t>(parameters) * 4 * 4;
    if (const auto memory = physicalMemoryBytes(); memory > 0 && trainingBytes > memory * 3 / 4) {
        return fail(config.dataset.source + ": " + config.model + " on " +
                    std::to_string(shape.features > 0 ? shape.features : shape.height) +
                    (shape.features > 0 ? " columns" : " pixels a side") + " has " +
                    std::to_string(parameters) + " parameters, about " +
                    formatBytes(static_cast<double>(trainingBytes)) + " to train, more than " +
                    "three quarters of this machine's " + formatBytes(static_cast<double>(memory)) +
                    ": use fewer columns or smaller settings");
    }
    applyThreadSettings(model->workload());
    if (config.threads > 0) torch::set_num_threads(config.threads);

    if (config.resume) {
        run = config.runDir;
        auto locked = RunLock::acquire(run);
        if (!locked) return tl::unexpected(locked.error());
        lock = std::move(*locked);
        removeStaleTemporaries(run);
        auto loaded = loadNewestCheckpoint(*model, run);
        if (!loaded) return tl::unexpected(loaded.error());
        step = loaded->step;
        savedStep = step;
        if (!loaded->warning.empty()) {
            resumeWarning = loaded->warning;
            setAsideNewerCheckpoints(run, step);
            if (auto ok = writeLatest(run, step); !ok) return ok;
        }
        if (step >= config.steps)
            return fail("the run is at step " + std::to_string(step) +
                        " already; ask for more steps than that to continue it");
        if (auto ok = truncateLog(run, step); !ok) return ok;
        // Fresh noise after a resume, but reproducible for the same checkpoint.
        torch::manual_seed(config.seed + static_cast<std::uint64_t>(step));
    } else {
        run = config.runDir.empty()
                  ? newRunFolder(config.workspace.empty() ? defaultWorkspace() : config.workspace,
                                 config.model, data.name)
                  : config.runDir;
        std::error_code ec;
        if (fs::exists(run / runfiles::kConfig, ec))
            return fail(run.string() +
                        ": already holds a run (resume it, or choose another folder)");
        fs::create_directories(runfiles::checkpointsDir(run), ec);
        fs::create_directories(runfiles::samplesDir(run), ec);
        if (ec) return fail(run.string() + ": cannot create the run folder (" + ec.message() + ")");
        auto locked = RunLock::acquire(run);
        if (!locked) return tl::unexpected(locked.error());
        lock = std::move(*locked);
    }
    config.runDir = run;
    if (auto ok = writeRunData(run, RunData{data.name, shape, data.classNames, data.featureNames,
                                            data.meanVector(), data.stdVector()});
        !ok)
        return ok;
    model->setLearningRate(config.learningRate);
    if (auto ok = writeRunConfig(run, config, "running", data.name, step); !ok) return ok;
    // A fresh run keeps its initial weights, so the NaN guard always has something to restore.
    if (!config.resume) return checkpoint();
    return {};
}

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
    applyThreadSettings(model->workload());
    if (config.threads > 0) torch::set_num_threads(config.threads);
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
            .generated = makeTable(model->sample(request), realLabels, data.featureNames,
                                   data.meanVector(), data.stdVector(), data.classNames),
            .real = makeTable(data.x.index_select(0, idx), realLabels, data.featureNames,
                              data.meanVector(), data.stdVector(), data.classNames)};
        table.generated.step = step;
        if (auto saved = writeTableCsv(table.generated, runfiles::sampleTable(run, step)); !saved)
            table.saveError = samplesNotSaved(saved.error().message);
        emit(std::move(table));
        return;
    }
    const int rows = std::min(data.numClasses(), std::max(1, config.maxGridRows));
    const int cols = std::max(1, config.samplesPerClass);
    SampleRequest request{.count = std::int64_t(rows) * cols, .seed = config.seed + 7919};
    std::vector<std::string> labels;
    for (int r = 0; r < rows; ++r) {
        labels.push_back(data.classNames[static_cast<std::size_t>(r)]);
        for (int c = 0; c < cols; ++c) request.labels.push_back(r);
    }
    SampleGrid grid = makeGrid(model->sample(request), cols, std::move(labels));
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

TrainFinished Trainer::Impl::loop(std::stop_token stop) {
    emit(TrainStarted{.runDir = run.string(),
                      .startStep = step,
                      .totalSteps = config.steps,
                      .dataset = data.summary(),
                      .device = model->deviceName() == "cpu" ? "CPU" : model->deviceName(),
                      .parameters = parameters,
                      .trainingBytes = trainingBytes,
                      .warning = resumeWarning});
    const std::int64_t n = data.size();
    const std::int64_t batch = std::min<std::int64_t>(config.batchSize, n);
    const std::int64_t perEpoch = n / batch;
    torch::Tensor order;
    std::int64_t orderEpoch = -1;
    auto lastLog = Clock::now();
    std::int64_t lastLogStep = step;
    double stepsPerSecond = 0;
    if (model->generates()) publishSamples();

    auto finish = [&](TrainFinished::Outcome outcome, std::string message) {
        const char* status = outcome == TrainFinished::Outcome::Completed   ? "completed"
                             : outcome == TrainFinished::Outcome::Cancelled ? "cancelled"
                                                                            : "failed";
        (void)writeRunConfig(run, config, status, data.name, step);
        return TrainFinished{.outcome = outcome,
                             .step = step,
                             .message = std::move(message),
                             .runDir = run.string()};
    };

    while (step < config.steps) {
        if (!waitWhilePaused(stop)) break;
        applyPendingChanges();
        // The data order is a function of (seed, epoch): a resumed run sees the same batches.
        const std::int64_t epoch = step / perEpoch;
        if (epoch != orderEpoch) {
            auto gen = torch::make_generator<torch::CPUGeneratorImpl>(
                config.seed * 1000003 + static_cast<std::uint64_t>(epoch));
            order = torch::randperm(n, gen, torch::kInt64);
            orderEpoch = epoch;
        }
        const auto idx = order.slice(0, (step % perEpoch) * batch, (step % perEpoch + 1) * batch);
        LossMap losses = model->trainStep(data.x.index_select(0, idx), data.y.index_select(0, idx));
        ++step;
        if (step == config.injectNanAtStep) {
            losses["loss"] = std::nan("");
            config.injectNanAtStep = 0;  // once
        }

        std::string bad;
        for (const auto& [name, value] : losses)
            if (!std::isfinite(value) && bad.empty())
                bad = name + " loss became " + (std::isnan(value) ? "NaN" : "infinite");
        if (!bad.empty()) {
            if (auto ok = restoreAfterNan(bad); !ok)
                return finish(
                    TrainFinished::Outcome::Failed,
                    "the " + bad + " at step " + std::to_string(step) +
                        " and the last checkpoint cannot be restored: " + ok.error().message);
            continue;
        }

        if (step % config.logEvery == 0 || step == config.steps) {
            const auto now = Clock::now();
            const double seconds = std::chrono::duration<double>(now - lastLog).count();
            const double rate = seconds > 0 ? double(step - lastLogStep) / seconds : 0;
            stepsPerSecond = stepsPerSecond == 0 ? rate : 0.7 * stepsPerSecond + 0.3 * rate;
            lastLog = now;
            lastLogStep = step;
            (void)appendLogLine(run, nlohmann::json{{"step", step},
                                                    {"losses", losses},
                                                    {"lr", config.learningRate},
                                                    {"steps_per_s", stepsPerSecond}}
                                         .dump());
            emit(TrainProgress{.step = step,
                               .totalSteps = config.steps,
                               .losses = losses,
                               .learningRate = config.learningRate,
                               .stepsPerSecond = stepsPerSecond,
                               .secondsLeft = stepsPerSecond > 0
                                                  ? double(config.steps - step) / stepsPerSecond
                                                  : 0});
        }
        if (step % config.sampleEvery == 0 && model->generates()) publishSamples();
        if (step % config.checkpointEvery == 0)
            if (auto ok = checkpoint(); !ok)
                return finish(TrainFinished::Outcome::Failed, ok.error().message);
        if (config.evalEvery > 0 && step % config.evalEvery == 0 && model->generates())
            evaluateNow();
    }
    const bool done = step >= config.steps;
    if (done && step % config.sampleEvery != 0 && model->generates()) publishSamples();
    if (step % config.checkpointEvery != 0)
        if (auto ok = checkpoint(); !ok)
            return finish(TrainFinished::Outcome::Failed, ok.error().message);
    return done ? finish(TrainFinished::Outcome::Completed,
                         "trained " + std::to_string(step) + " steps")
                : finish(TrainFinished::Outcome::Cancelled,
                         "stopped at step " + std::to_string(step));
}

Trainer::Trainer(TrainConfig config, Observer observer) : m_impl(std::make_unique<Impl>()) {
    m_impl->config = std::move(config);
    m_impl->observer = std::move(observer);
}

Trainer::~Trainer() = default;

TrainFinished Trainer::run(std::stop_token stop) {
    TrainFinished result;
    const ThreadSettingsLease lease;  // draws and evaluations elsewhere leave the pools alone
    // Catch at the thread boundary: nothing escapes into the caller's thread loop.
    try {
        if (auto ok = m_impl->prepare(); !ok) {
            result = TrainFinished{.outcome = TrainFinished::Outcome::Failed,
                                   .message = ok.error().message,
                                   .runDir = m_impl->run.string()};
        } else {
            result = m_impl->loop(stop);
        }
    } catch (const std::exception& e) {
        const std::string what = firstLine(e);
        result = TrainFinished{.outcome = TrainFinished::Outcome::Failed,
                               .step = m_impl->step,
                               .message = "training failed: " + what,
                               .runDir = m_impl->run.string()};
    }
    // Done writing the run: whoever hears of its end may train it next.
    m_impl->lock.reset();
    m_impl->emit(result);
    return result;
}

void Trainer::pause() {
    std::lock_guard lock(m_impl->mutex);
    m_impl->paused = true;
}

void Trainer::resume() {
    {
        std::lock_guard lock(m_impl->mutex);
        m_impl->paused = false;
    }
    m_impl->wake.notify_all();
}

bool Trainer::isPaused() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->paused;
}

void Trainer::setLearningRate(double lr) {
    if (!(lr > 0 && lr < 10)) return;
    std::lock_guard lock(m_impl->mutex);
    m_impl->pendingLearningRate = lr;
}

void Trainer::setSampleEvery(int steps) {
    if (steps < 1) return;
    std::lock_guard lock(m_impl->mutex);
    m_impl->pendingSampleEvery = steps;
}

void Trainer::setCheckpointEvery(int steps) {
    if (steps < 1) return;
    std::lock_guard lock(m_impl->mutex);
    m_impl->pendingCheckpointEvery = steps;
}

}  // namespace ll
