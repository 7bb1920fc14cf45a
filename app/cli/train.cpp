// train, train-extractor and models: what makes a run, and what a run can be made of.
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <tuple>

#include "cli/commands.h"
#include "cli/console.h"
#include "cli/options.h"
#include "cli/parallel.h"
#include "common/atomicfile.h"
#include "common/cpu.h"
#include "common/format.h"
#include "eval/evaluate.h"
#include "eval/extractorchoice.h"
#include "models/catalog.h"
#include "models/settingnames.h"
#include "run/runfolder.h"
#include "train/extractortraining.h"
#include "train/trainer.h"

namespace ll::cli {

namespace {

// Options shared by train's fresh and resumed runs.
struct TrainArgs {
    DataArgs data;
    std::string model;
    std::string preset;
    std::string out;
    std::string resume;
    std::string config;  // a config.json to start from
    std::vector<std::string> sets;
    std::int64_t steps = 0;
    double lr = 0;
    int batch = 0;
    std::uint64_t seed = 1;
    int sampleEvery = 250;
    int checkpointEvery = 1000;
    int logEvery = 10;
    int evalEvery = 0;
    std::int64_t evalCount = 2000;
    int threads = 0;
    // Data-parallel: local processes, or this process's place in a run across machines.
    int nproc = 0;
    int worldSize = 0;
    int rank = -1;
    std::string master;
    int parallelTimeout = 600;
};

// A fresh run like the one a config.json describes (another run's, or the window's request),
// with the step budget, learning rate and batch given here instead of its own.
Result<TrainConfig> configFromFile(const TrainArgs& a) {
    if (!a.model.empty() || !a.preset.empty() || !a.sets.empty())
        return fail(
            "train: --config gives the model and its settings; drop --model, --preset "
            "and --set, or --config");
    auto text = readFile(a.config);
    if (!text) return tl::unexpected(text.error());
    auto config = parseRunConfig(*text, a.config);
    if (!config) return tl::unexpected(config.error());
    if (a.steps > 0) config->steps = a.steps;
    if (a.lr > 0) config->learningRate = a.lr;
    if (a.batch > 0) config->batchSize = a.batch;
    config->runDir = a.out;
    return config;
}

// The config of a fresh run: the preset (named, or the model's first), overridden by options.
Result<TrainConfig> freshConfig(const TrainArgs& a) {
    if (a.out.empty()) return fail("train: --out RUN is required (the run folder to create)");
    if (!a.config.empty()) return configFromFile(a);
    const ModelPreset* preset = nullptr;
    if (!a.preset.empty() && !(preset = findPreset(a.preset)))
        return fail("train: unknown preset '" + a.preset + "' (see latentlab-cli models)");
    std::string model = !a.model.empty() ? a.model : preset ? preset->model : "cvae";
    if (!preset)
        for (const auto& p : modelPresets())
            if (p.model == model) {
                preset = &p;
                break;
            }
    if (preset && preset->model != model)
        return fail("train: preset '" + preset->name + "' is for model '" + preset->model +
                    "', not '" + model + "'");
    DatasetSpec dataset = a.data.spec();
    dataset.seed = a.seed;
    const auto given = [](auto option, auto fallback) { return option > 0 ? option : fallback; };
    TrainConfig config{
        .dataset = dataset,
        .model = model,
        .preset = preset ? preset->name : "",
        .settings = preset ? preset->settings : Settings{},
        .steps = given(a.steps, preset ? preset->steps : 5000),
        .learningRate = given(a.lr, preset ? preset->learningRate : 1e-3),
        .batchSize = given(a.batch, preset ? preset->batchSize : 128),
        .seed = a.seed,
        .logEvery = a.logEvery,
        .sampleEvery = a.sampleEvery,
        .checkpointEvery = a.checkpointEvery,
        .evalEvery = a.evalEvery,
        .evalCount = a.evalCount,
        .runDir = a.out,
    };
    for (const auto& s : a.sets) {
        const auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0)
            return fail("train: --set expects name=value, got '" + s + "'");
        config.settings[s.substr(0, eq)] = s.substr(eq + 1);
    }
    return config;
}

// What the trainer tells, on stderr: the start, the progress bar, evaluations, and samples
// it could not save (the first of a series: a full disk fails every one after it).
void report(const TrainEvent& event, ProgressBar& bar, bool& samplesFailing) {
    if (auto* p = std::get_if<TrainProgress>(&event)) bar.update(*p);
    const std::string* saveError = nullptr;
    if (auto* s = std::get_if<TrainSamples>(&event)) saveError = &s->saveError;
    if (auto* t = std::get_if<TrainTable>(&event)) saveError = &t->saveError;
    if (saveError) {
        if (!saveError->empty() && !samplesFailing) {
            bar.endLine();
            std::fprintf(stderr, "warning: %s\n", saveError->c_str());
        }
        samplesFailing = !saveError->empty();
    }
    if (auto* e = std::get_if<TrainEvaluated>(&event)) {
        bar.endLine();
        if (!e->message.empty()) {
            std::fprintf(stderr, "step %lld: %s\n", static_cast<long long>(e->step),
                         e->message.c_str());
        } else if (auto r = readEvaluation(e->file)) {
            std::string line;
            for (const auto& s : r->scores)
                line += "  " + scoreLabel(s.name) + " " + formatNumber(s.value) + " (floor " +
                        formatNumber(s.floor) + ")";
            std::fprintf(stderr, "step %lld:%s\n", static_cast<long long>(e->step), line.c_str());
        }
    }
    if (auto* s = std::get_if<TrainStarted>(&event)) {
        // On the training thread, whose pools the run has sized.
        std::fprintf(stderr, "run %s: %s, %lld samples, %zu classes, from step %lld on %s (%s)\n",
                     s->runDir.c_str(), s->dataset.name.c_str(),
                     static_cast<long long>(s->dataset.count), s->dataset.classNames.size(),
                     static_cast<long long>(s->startStep), cpuSummary().c_str(),
                     threadSummary().c_str());
        if (s->parameters > 0)
            std::fprintf(stderr,
                         "model: %.2f million parameters; training holds about %s (weights, "
                         "gradients, Adam's moments)\n",
                         static_cast<double>(s->parameters) / 1e6,
                         formatBytes(static_cast<double>(s->trainingBytes)).c_str());
        if (!s->warning.empty()) std::fprintf(stderr, "warning: %s\n", s->warning.c_str());
        if (!s->dataset.note.empty())
            std::fprintf(stderr, "%s: %s\n",
                         s->dataset.modality == Modality::Image ? "images" : "table",
                         s->dataset.note.c_str());
    }
}

// How many processes train, and this one's place among them: --nproc N starts the others
// here; --world-size, --rank and --master join a run across machines.
Result<void> placeInRun(const TrainArgs& a, TrainConfig& config, std::optional<LocalRanks>& ranks) {
    const bool acrossMachines = a.worldSize > 0 || a.rank >= 0 || !a.master.empty();
    if (a.nproc > 0 && acrossMachines)
        return fail(
            "train: --nproc starts its processes on this machine; --world-size, --rank and "
            "--master join a run across machines: give one or the other");
    if (a.parallelTimeout < 1) return fail("train: --parallel-timeout must be at least 1 second");
    int nproc = a.nproc;
    if (!a.resume.empty() && nproc == 0 && !acrossMachines)
        if (auto saved = readRunConfig(a.resume); saved && saved->worldSize > 1) {
            nproc = saved->worldSize;
            std::fprintf(stderr,
                         "resuming with %d processes, as the run trained (--nproc 1: alone)\n",
                         nproc);
        }
    if (a.nproc < 0 || nproc > 64) return fail("train: --nproc must lie in 1..64");
    if (nproc > 1) {
        auto port = freeLoopbackPort();
        if (!port) return tl::unexpected(port.error());
        config.worldSize = nproc;
        config.master = "127.0.0.1:" + std::to_string(*port);
        config.parallelTimeoutSeconds = a.parallelTimeout;
        // The cores this process may use, shared.
        config.threads = a.threads > 0 ? a.threads : std::max(1, usableCores() / nproc);
        auto started = LocalRanks::start(nproc, config.master, a.parallelTimeout);
        if (!started) return tl::unexpected(started.error());
        ranks.emplace(std::move(*started));
        return {};
    }
    if (!acrossMachines) return {};
    if (a.worldSize < 1 || a.rank < 0 || a.master.empty())
        return fail("train: a run across machines needs --world-size, --rank and --master");
    if (a.rank >= a.worldSize)
        return fail("train: --rank must lie in 0.." + std::to_string(a.worldSize - 1));
    config.worldSize = a.worldSize;
    config.rank = a.rank;
    config.master = a.master;
    config.parallelTimeoutSeconds = a.parallelTimeout;
    return {};
}

int runTrain(const TrainArgs& a) {
    TrainConfig config;
    // Ranks > 0 take the run's config from rank 0.
    const bool follower = a.rank > 0;
    if (follower) {
    } else if (!a.resume.empty()) {
        config.runDir = a.resume;
        config.resume = true;
        config.steps = a.steps;
        config.resumeLearningRate = a.lr;  // 0 keeps the run's own
    } else {
        auto fresh = freshConfig(a);
        if (!fresh) return failure(fresh.error().message);
        // Refused before the data is read (seconds for a large set), not after.
        if (auto fault = settingNamesFault(fresh->model, fresh->settings); !fault.empty())
            return failure(fault);
        config = std::move(*fresh);
    }
    config.threads = a.threads;
    std::optional<LocalRanks> ranks;
    if (auto placed = placeInRun(a, config, ranks); !placed) return failure(placed.error().message);
    ProgressBar bar;
    bool samplesFailing = false;
    std::string guardMessage;
    std::atomic<bool> guardTripped{false};
    Trainer trainer(config, [&](const TrainEvent& event) {
        if (follower) return;  // rank 0 speaks for the run
        report(event, bar, samplesFailing);
        // Nobody can resume a paused run from here: the NaN guard's pause ends it instead.
        if (auto* p = std::get_if<TrainPaused>(&event); p && !p->message.empty()) {
            guardMessage = p->message;
            guardTripped = true;
        }
    });
    TrainFinished result;
    // Ctrl-C stops the run cleanly: the trainer saves a checkpoint before it returns.
    runStoppable([&](std::stop_token stop) { result = trainer.run(stop); },
                 [&] { return guardTripped.load(); });
    bar.endLine();
    if (follower) {
        if (result.outcome == TrainFinished::Outcome::Failed)
            return failure("rank " + std::to_string(a.rank) + ": " + result.message);
        return result.outcome == TrainFinished::Outcome::Completed ? 0 : 130;
    }
    if (ranks && result.outcome != TrainFinished::Outcome::Failed)
        for (const auto& line : ranks->wait(60))
            std::fprintf(stderr, "warning: %s\n", line.c_str());
    if (result.outcome == TrainFinished::Outcome::Failed) return failure(result.message);
    if (guardTripped)
        return failure(guardMessage + " Resume with: latentlab-cli train --resume " +
                       result.runDir + " --lr <lower>");
    std::fprintf(stderr, "%s: %s\n", result.runDir.c_str(), result.message.c_str());
    return result.outcome == TrainFinished::Outcome::Completed ? 0 : 130;
}

struct TrainExtractorArgs {
    DataArgs data;
    std::uint64_t seed = 1;
    std::int64_t steps = 3000;
    int threads = 2;
    std::string out;
};

int runTrainExtractor(const TrainExtractorArgs& a) {
    const ExtractorTraining t{.dataset = a.data.spec(),
                              .out = a.out,
                              .seed = a.seed,
                              .steps = a.steps,
                              .threads = a.threads};
    ProgressBar bar;
    std::optional<Result<ExtractorInfo>> result;
    runStoppable([&](std::stop_token stop) {
        result = trainExtractor(t, stop, [&](const TrainEvent& event) {
            if (auto* p = std::get_if<TrainProgress>(&event)) bar.update(*p);
        });
    });
    const auto& info = *result;
    bar.endLine();
    if (!info) return failure(info.error().message);
    std::printf("extractor %s: %s accuracy %.4f after %lld steps (seed %llu, %d threads)\n",
                info->dir.c_str(), info->accuracySplit.c_str(), info->accuracy,
                static_cast<long long>(info->steps), static_cast<unsigned long long>(info->seed),
                info->threads);
    std::printf("sha256 %s  %s\n", info->sha256.c_str(), info->weights.c_str());
    // Against the shipped weights of the same data, if any: the bit-for-bit check.
    if (const auto theirs = shippedTwin(*info))
        std::printf("%s the shipped weights (%s)\n",
                    theirs->sha256 == info->sha256 ? "identical to" : "differ from",
                    theirs->dir.c_str());
    return 0;
}

int runModels() {
    for (const auto& m : modelCatalog()) {
        std::printf("%-18s %s\n", m.name.c_str(), m.description.c_str());
        for (const auto& [k, v] : m.defaults) {
            const auto help = m.help.find(k);
            std::printf("%-18s   --set %s=%s%s%s\n", "", k.c_str(), v.c_str(),
                        help == m.help.end() ? "" : "  ",
                        help == m.help.end() ? "" : help->second.c_str());
        }
        for (const auto& p : modelPresets())
            if (p.model == m.name)
                std::printf("%-18s preset %s: %lld steps, lr %g, batch %d. %s\n", "",
                            p.name.c_str(), static_cast<long long>(p.steps), p.learningRate,
                            p.batchSize, p.description.c_str());
    }
    return 0;
}

}  // namespace

Command addTrain(CLI::App& app) {
    auto a = std::make_shared<TrainArgs>();
    auto* cmd = app.add_subcommand("train", "Train a model; writes a run folder");
    a->data.dataset = "fashion-mnist";
    a->data.add(cmd,
                DataArgs::CheckedSplit | DataArgs::LabelColumn | DataArgs::Image |
                    DataArgs::Classes | DataArgs::LongTail | DataArgs::Limit,
                "fashion-mnist, a folder of IDX files, an IDX images file, an image folder or a "
                "CSV (any table of text)");
    cmd->add_option("--model", a->model, "Model name (latentlab-cli models lists them)");
    cmd->add_option("--preset", a->preset, "Preset name; defaults to the model's CPU preset");
    auto* outOption = cmd->add_option("--out", a->out, "Run folder to create");
    cmd->add_option("--resume", a->resume, "Continue this run folder from its last checkpoint")
        ->excludes(outOption);
    cmd->add_option("--config", a->config,
                    "Start a fresh run like the one this config.json describes (model, "
                    "settings, data, intervals); --steps, --lr and --batch override it");
    const auto positive = positiveNumber();
    cmd->add_option("--steps", a->steps, "Training steps (default: the preset's)")->check(positive);
    cmd->add_option("--lr", a->lr, "Learning rate (default: the preset's)")->check(positive);
    cmd->add_option("--batch", a->batch, "Batch size (default: the preset's)")->check(positive);
    cmd->add_option("--seed", a->seed, "Seed for weights, data order and samples")
        ->capture_default_str();
    cmd->add_option("--set", a->sets, "Model setting name=value (repeatable)");
    for (auto [name, value, help] :
         {std::tuple{"--sample-every", &a->sampleEvery, "Steps between sample grids"},
          std::tuple{"--checkpoint-every", &a->checkpointEvery, "Steps between checkpoints"},
          std::tuple{"--log-every", &a->logEvery, "Steps between log lines"}})
        cmd->add_option(name, *value, help)->check(positive)->capture_default_str();
    cmd->add_option("--eval-every", a->evalEvery,
                    "Steps between metrics during training (FID, precision, recall, agreement "
                    "into eval/; 0: none)")
        ->capture_default_str();
    cmd->add_option("--eval-count", a->evalCount, "Samples of each metrics run")
        ->capture_default_str();
    cmd->add_option("--threads", a->threads,
                    "Threads of each process (default: every core, shared among --nproc "
                    "processes), in the pool the model computes with: torch's for "
                    "convolutions, OpenBLAS's for MLPs");
    cmd->add_option("--nproc", a->nproc,
                    "Train data-parallel with this many processes on this machine (each takes "
                    "--batch rows of a step; a resumed run keeps its count)");
    cmd->add_option("--world-size", a->worldSize,
                    "Processes of a data-parallel run across machines (with --rank, --master)");
    cmd->add_option("--rank", a->rank,
                    "This process's rank: 0 writes the run (give it the run's options), the "
                    "others take the run's config from rank 0");
    cmd->add_option("--master", a->master, "HOST:PORT where rank 0 meets the others");
    cmd->add_option("--parallel-timeout", a->parallelTimeout,
                    "Seconds a process waits for its peers, at the start and at every exchange")
        ->capture_default_str();
    return {cmd, [a] { return runTrain(*a); }};
}

Command addTrainExtractor(CLI::App& app) {
    auto a = std::make_shared<TrainExtractorArgs>();
    auto* cmd = app.add_subcommand(
        "train-extractor",
        "Train the feature extractor of a dataset (a clean classifier), reproducibly: the same "
        "options give the same weights, byte for byte, on the same build and CPU");
    a->data.dataset = "fashion-mnist";
    a->data.add(
        cmd, DataArgs::CheckedSplit | DataArgs::LabelColumn | DataArgs::Image | DataArgs::Classes,
        "Dataset");
    cmd->add_option("--seed", a->seed, "Seed")->capture_default_str();
    cmd->add_option("--steps", a->steps, "Training steps")
        ->check(positiveNumber())
        ->capture_default_str();
    cmd->add_option("--threads", a->threads,
                    "Intra-op threads (fixed, so that other machines repeat the bits)")
        ->capture_default_str();
    cmd->add_option("--out", a->out, "Folder to create")->required();
    return {cmd, [a] { return runTrainExtractor(*a); }};
}

Command addModels(CLI::App& app) {
    return {app.add_subcommand("models", "List models, their settings and presets"), runModels};
}

}  // namespace ll::cli
