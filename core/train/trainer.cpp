#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/cpu.h"
#include "common/format.h"
#include "common/text.h"
#include "data/loader.h"
#include "models/allocationbudget.h"
#include "models/catalog.h"
#include "run/runfolder.h"
#include "run/runloader.h"
#include "train/trainerimpl.h"

namespace ll {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

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
    if (config.worldSize <= 1) return prepareRun();
    if (auto joined = joinParallel(); !joined) return joined;
    bool rankZeroFailed = false;
    auto own = rank() == 0 ? prepareRun() : prepareFollower(rankZeroFailed);
    return startTogether(std::move(own), rankZeroFailed);
}

Result<void> Trainer::Impl::loadDataAndBuildModel() {
    auto loaded = loadDataset(config.dataset);
    if (!loaded) return tl::unexpected(loaded.error());
    data = std::move(*loaded);
    if (data.numClasses() < 1) return fail(config.dataset.source + ": the dataset has no classes");
    // Data no model can learn from is refused before a model is built for it, naming the
    // limit where it was the limit that left too little.
    const bool images = data.modality == Modality::Image;
    const std::string limited = config.dataset.limit > 0 && config.dataset.limit <= data.size()
                                    ? " (--limit " + std::to_string(config.dataset.limit) + ")"
                                    : "";
    if (data.size() < 2)
        return fail(config.dataset.source + ": " + std::to_string(data.size()) +
                    (images ? " image" : " row") + (data.size() == 1 ? "" : "s") + limited +
                    "; a model needs at least two to learn from");
    if (data.size() < data.numClasses())
        return fail(config.dataset.source + ": " + std::to_string(data.size()) +
                    (images ? " images" : " rows") + limited + " for " +
                    std::to_string(data.numClasses()) + " classes; fewer " +
                    (images ? "images" : "rows") +
                    " than classes leaves some class nothing to learn from");
    // One class leaves a classifier nothing to tell apart: its loss would reach 0 at once.
    if (const ModelInfo* info = findModel(config.model);
        info && !info->generates && data.numClasses() < 2)
        return fail(config.dataset.source + ": 1 class ('" + clipped(data.classNames.at(0), 60) +
                    "'); a classifier needs two or more to tell apart");
    if (data.size() < config.worldSize)
        return fail(config.dataset.source + ": " + std::to_string(data.size()) +
                    " rows cannot be shared among " + std::to_string(config.worldSize) +
                    " processes");
    // An image folder that the run follows (its size, its colour) is kept as what it resolved
    // to, so that the run reloads at the same shape even after the folder gains other images.
    if (data.modality == Modality::Image && !data.note.empty()) {
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
    // A table's categorical columns are named to the models that learn them as categories
    // (their softmax needs to know which features are one column's); a new run's only, as a
    // resumed one keeps the settings it was built with, and by rank 0 (the other ranks of a
    // data-parallel run take its settings).
    // Likewise a new table run's standard deviations are the columns' own (setting "sigma";
    // older runs shared one, and keep it).
    if (!config.resume && config.rank == 0) {
        const Settings& defaults = modelInfo(config.model).defaults;
        const auto unset = [&](const std::string& key) {
            const auto given = config.settings.find(key);
            return defaults.contains(key) &&
                   (given == config.settings.end() || given->second.empty());
        };
        if (!data.categorical.empty() && unset("categories"))
            config.settings["categories"] = categoriesSetting(data.categorical);
        if (data.modality == Modality::Tabular && unset("sigma"))
            config.settings["sigma"] = "columns";
    }
    torch::manual_seed(config.seed);
    // The learning rate travels as a number: the model is built with its settings alone and
    // given the run's rate below (setLearningRate), never through a formatted string.
    // What training will hold: the weights four times over (with their gradients and Adam's two
    // moments). A model that cannot fit so in this machine's memory (a very wide table makes a
    // very large first layer) is refused while it is built, before it fills the memory.
    const auto memory = physicalMemoryBytes();
    auto built = [&] {
        const std::string remedy = shape.features > 0
                                       ? "use smaller settings or fewer columns (the table has " +
                                             std::to_string(shape.features) + ")"
                                       : "use smaller settings";
        const AllocationBudget budget(
            modelBuildLimit() / 4,
            "four times that to train (weights, gradients and Adam's two moments), more than "
            "three quarters of this machine's " +
                formatBytes(static_cast<double>(memory)) + ": " + remedy);
        return buildModel(config.model, shape, config.settings);
    }();
    if (!built) return tl::unexpected(built.error());
    model = std::move(*built);
    model->fitToData(data);
    config.settings = model->settings();
    parameters = model->parameterCount();
    trainingBytes = static_cast<std::uint64_t>(parameters) * 4 * 4;
    // The processes of a data-parallel run on one machine share its cores.
    if (config.worldSize > 1 && config.threads > 0) limitCores(config.threads);
    applyThreadSettings(model->workload(), config.threads);
    return {};
}

Result<void> Trainer::Impl::prepareRun() {
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
        const TrainConfig caller = config;
        config = *saved;
        config.steps = steps;
        // How many processes train it now is the caller's choice.
        config.worldSize = caller.worldSize;
        config.rank = caller.rank;
        config.master = caller.master;
        config.parallelTimeoutSeconds = caller.parallelTimeoutSeconds;
        if (caller.threads > 0) config.threads = caller.threads;
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
    // A hand-edited config must not make the sample grid or the metrics ask for gigabytes.
    if (config.samplesPerClass < 1 || config.samplesPerClass > 64 || config.maxGridRows < 1 ||
        config.maxGridRows > 100)
        return fail("the sample grid must have 1..64 samples per class and 1..100 rows");
    if (config.evalCount > 100000)
        return fail("metrics during training take at most 100,000 samples");
    config.logEvery = std::max(1, config.logEvery);
    config.sampleEvery = std::max(1, config.sampleEvery);
    config.checkpointEvery = std::max(1, config.checkpointEvery);

    // A run's files are JSON, whose text is UTF-8: a path in another encoding (a Latin-1 name
    // from an old archive) could not be written into them, so it is refused before anything
    // is made.
    for (const auto& path : {config.dataset.source, config.runDir.string()}) {
        try {
            (void)nlohmann::json(path).dump();
        } catch (const nlohmann::json::exception&) {
            // Said with the bytes replaced, so the message itself is JSON's to carry (a
            // data-parallel rank 0 sends it to the others).
            const auto shown =
                nlohmann::json(path).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            return fail(shown.substr(1, shown.size() - 2) +
                        ": the name holds bytes that are not UTF-8; rename it");
        }
    }
    if (auto ok = loadDataAndBuildModel(); !ok) return ok;

    if (config.resume) {
        run = config.runDir;
        auto locked = RunLock::acquire(run);
        if (!locked) return tl::unexpected(locked.error());
        lock = std::move(*locked);
        removeStaleTemporaries(run);
        if (auto ok = sameDataAsBefore(); !ok) return ok;
        auto loaded = loadNewestCheckpoint(*model, run);
        if (!loaded) return tl::unexpected(loaded.error());
        step = loaded->step;
        savedStep = step;
        // What the model takes from the data follows the data as it reads now (data.json is
        // written from it below), not as the checkpoint's step saw it.
        model->fitToData(data);
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
        // A folder this start makes (or finds empty) is taken away again if the run cannot
        // start, so that the same command can be given again; a folder with files of the
        // user's keeps them.
        const bool existed = fs::exists(run, ec);
        const bool ours = !existed || fs::is_empty(run, ec);
        // What it made goes while the lock is held (another start waits on it), the lock's
        // file last; a folder that was not there before goes too.
        const auto takeAway = [&] {
            if (!ours) return;
            std::error_code removeError;
            for (const auto& entry : fs::directory_iterator(run, removeError))
                if (entry.path().filename() != runfiles::kLock)
                    fs::remove_all(entry.path(), removeError);
            lock.reset();
            fs::remove(run / runfiles::kLock, removeError);
            if (!existed) fs::remove(run, removeError);
        };
        fs::create_directories(runfiles::checkpointsDir(run), ec);
        fs::create_directories(runfiles::samplesDir(run), ec);
        if (ec) {
            takeAway();
            return fail(run.string() + ": cannot create the run folder (" + ec.message() + ")");
        }
        auto locked = RunLock::acquire(run);
        if (!locked) {
            // Another process holds it: what is there is its.
            return tl::unexpected(locked.error());
        }
        lock = std::move(*locked);
        config.runDir = run;
        Result<void> started;
        try {
            started = writeRunFiles();
            // A fresh run keeps its initial weights, so the NaN guard always has something to
            // restore.
            if (started) started = checkpoint();
        } catch (const std::exception& e) {
            started = fail(run.string() + ": cannot start the run (" + firstLine(e) + ")");
        }
        if (!started) takeAway();
        return started;
    }
    config.runDir = run;
    return writeRunFiles();
}

Result<void> Trainer::Impl::writeRunFiles() {
    if (auto ok = writeRunData(run, RunData{data.name, model->shape(), data.classNames,
                                            data.featureNames, data.meanVector(), data.stdVector(),
                                            data.categorical, data.decimal, data.decimals});
        !ok)
        return ok;
    model->setLearningRate(config.learningRate);
    return writeRunConfig(run, config, "running", data.name, step);
}

Result<void> Trainer::Impl::sameDataAsBefore() const {
    // Runs from before data.json have nothing to compare with.
    auto before = readRunData(run);
    if (!before) return {};
    // Numeric labels were named with six decimals before ("0.500000"): the same number is the
    // same class.
    const auto same = [](const std::string& a, const std::string& b) {
        if (a == b) return true;
        char* endA = nullptr;
        char* endB = nullptr;
        const double x = std::strtod(a.c_str(), &endA), y = std::strtod(b.c_str(), &endB);
        return !a.empty() && !b.empty() && *endA == '\0' && *endB == '\0' && x == y;
    };
    const auto differ = [&](const std::vector<std::string>& was,
                            const std::vector<std::string>& now) -> std::string {
        for (std::size_t i = 0; i < std::max(was.size(), now.size()); ++i)
            if (i >= was.size() || i >= now.size() || !same(was[i], now[i]))
                return "'" + (i < was.size() ? was[i] : std::string("(none)")) + "' is now '" +
                       (i < now.size() ? now[i] : std::string("(none)")) + "'";
        return {};
    };
    // The checkpoint's classes are numbers: under other names they would train and sample
    // the wrong class silently.
    std::string what;
    if (auto d = differ(before->classNames, data.classNames); !d.empty())
        what = "class " + d;
    else if (auto f = differ(before->featureNames, data.featureNames); !f.empty())
        what = "column " + f;
    if (what.empty()) return {};
    return fail(config.dataset.source + " changed since the run started (" + what +
                "): resume it on the data it started with, or start a new run");
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
    // Every rank draws the same order of the epoch; a step's global batch is `world`
    // consecutive batches of it, and each rank takes its own: one process with the global
    // batch would see the same rows.
    const std::int64_t n = data.size();
    const std::int64_t world = worldSize();
    const std::int64_t batch = std::min<std::int64_t>(config.batchSize, n / world);
    const std::int64_t perEpoch = n / (batch * world);
    torch::Tensor order;
    std::int64_t orderEpoch = -1;
    auto lastLog = Clock::now();
    std::int64_t lastLogStep = step;
    double stepsPerSecond = 0;
    if (writes() && model->generates()) publishSamples();

    auto finish = [&](TrainFinished::Outcome outcome, std::string message) {
        const char* status = outcome == TrainFinished::Outcome::Completed   ? "completed"
                             : outcome == TrainFinished::Outcome::Cancelled ? "cancelled"
                                                                            : "failed";
        if (writes()) (void)writeRunConfig(run, config, status, data.name, step);
        return TrainFinished{.outcome = outcome,
                             .step = step,
                             .message = std::move(message),
                             .runDir = run.string()};
    };

    bool stopAsked = false;  // data-parallel: by any rank, so that all stop at the same step
    std::optional<Workload> threadsFor;
    while (step < config.steps && !stopAsked) {
        // The cores go to the pool that suits the model's work, which can change kind midway
        // (latent-ddpm: its conv VAE's steps, then an MLP denoiser's).
        if (const Workload w = model->workload(); w != threadsFor) {
            applyThreadSettings(w, config.threads);
            threadsFor = w;
        }
        // A data-parallel run neither pauses nor changes course midway: every rank would
        // have to (its CLI processes are asked nothing but to stop).
        if (!parallel) {
            if (!waitWhilePaused(stop)) break;
            applyPendingChanges();
        }
        // The data order is a function of (seed, epoch): a resumed run sees the same batches.
        const std::int64_t epoch = step / perEpoch;
        if (epoch != orderEpoch) {
            auto gen = torch::make_generator<torch::CPUGeneratorImpl>(
                config.seed * 1000003 + static_cast<std::uint64_t>(epoch));
            order = torch::randperm(n, gen, torch::kInt64);
            orderEpoch = epoch;
        }
        const std::int64_t first = ((step % perEpoch) * world + rank()) * batch;
        const auto idx = order.slice(0, first, first + batch);
        LossMap losses = model->trainStep(data.x.index_select(0, idx), data.y.index_select(0, idx));
        ++step;
        if (step == config.injectNanAtStep) {
            losses["loss"] = std::nan("");
            config.injectNanAtStep = 0;  // once
        }
        if (parallel) {
            auto agreed = agreeOnStep(stop.stop_requested(), losses);
            losses = std::move(agreed.losses);
            stopAsked = agreed.stop;
        }

        std::string bad;
        for (const auto& [name, value] : losses)
            if (!std::isfinite(value) && bad.empty())
                bad = name + " loss became " + (std::isnan(value) ? "NaN" : "infinite");
        if (!bad.empty() && parallel)
            return finish(TrainFinished::Outcome::Failed,
                          "the " + bad + " at step " + std::to_string(step) +
                              ": training diverged. The run is at its checkpoint of step " +
                              std::to_string(savedStep) +
                              "; resume it with a lower learning rate (--lr)");
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
            nlohmann::json line{{"step", step},
                                {"losses", losses},
                                {"lr", config.learningRate},
                                {"steps_per_s", stepsPerSecond}};
            if (parallel) line["ranks"] = rankRates(rate, step - lastLogStep);
            lastLog = now;
            lastLogStep = step;
            if (writes()) (void)appendLogLine(run, line.dump());
            emit(TrainProgress{.step = step,
                               .totalSteps = config.steps,
                               .losses = losses,
                               .learningRate = config.learningRate,
                               .stepsPerSecond = stepsPerSecond,
                               .secondsLeft = stepsPerSecond > 0
                                                  ? double(config.steps - step) / stepsPerSecond
                                                  : 0});
        }
        if (step % config.checkpointEvery == 0)
            if (auto ok = checkRanksInStep(); !ok)
                return finish(TrainFinished::Outcome::Failed, ok.error().message);
        if (!writes()) continue;
        if (step % config.sampleEvery == 0 && model->generates()) publishSamples();
        if (step % config.checkpointEvery == 0)
            if (auto ok = checkpoint(); !ok)
                return finish(TrainFinished::Outcome::Failed, ok.error().message);
        if (config.evalEvery > 0 && step % config.evalEvery == 0 && model->generates())
            evaluateNow();
    }
    const bool done = step >= config.steps;
    if (done && writes() && step % config.sampleEvery != 0 && model->generates()) publishSamples();
    if (writes() && step % config.checkpointEvery != 0)
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
        auto& impl = *m_impl;
        if (impl.lock)
            (void)writeRunConfig(impl.run, impl.config, "failed", impl.data.name, impl.step);
        result = TrainFinished{
            .outcome = TrainFinished::Outcome::Failed,
            .step = impl.step,
            .message = "training failed: " + what +
                       (impl.savedStep < 0 ? std::string()
                                           : ". The run is at its checkpoint of step " +
                                                 std::to_string(impl.savedStep) + ": resume it"),
            .runDir = impl.run.string()};
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
