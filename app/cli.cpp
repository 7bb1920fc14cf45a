// latentlab-cli: every computing feature of LatentLab, headless. Thin wiring over core.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include <unistd.h>
#include <CLI/CLI.hpp>

#include "common/cpu.h"
#include "common/format.h"
#include "image/grid.h"
#include "models/catalog.h"
#include "run/runloader.h"
#include "train/trainer.h"

namespace {

std::atomic<bool> g_interrupted{false};

void onSignal(int) {
    g_interrupted = true;
}

// One line, redrawn in place on a terminal; on a pipe a line every 10% so logs stay short.
class ProgressBar {
public:
    void update(const ll::TrainProgress& p) {
        const double fraction = p.totalSteps > 0 ? double(p.step) / double(p.totalSteps) : 0;
        const int decile = static_cast<int>(fraction * 10);
        if (!m_tty && decile == m_lastDecile && p.step != p.totalSteps) return;
        m_lastDecile = decile;
        constexpr int kWidth = 28;
        const int filled = static_cast<int>(fraction * kWidth);
        std::string bar(static_cast<std::size_t>(filled), '#');
        bar.resize(kWidth, '.');
        const double loss = p.losses.contains("loss") ? p.losses.at("loss")
                            : p.losses.empty()        ? 0.0
                                                      : p.losses.begin()->second;
        char line[256];
        std::snprintf(line, sizeof line, "[%s] %lld/%lld  loss %.4g  %.1f steps/s  %s left",
                      bar.c_str(), static_cast<long long>(p.step),
                      static_cast<long long>(p.totalSteps), loss, p.stepsPerSecond,
                      ll::formatDuration(p.secondsLeft).c_str());
        std::fprintf(stderr, m_tty ? "\r%s\x1b[K" : "%s\n", line);
        m_drawn = m_tty;
    }
    void endLine() {
        if (m_drawn) std::fputc('\n', stderr);
        m_drawn = false;
    }

private:
    bool m_tty = isatty(STDERR_FILENO) != 0;
    bool m_drawn = false;
    int m_lastDecile = -1;
};

// Options shared by train's fresh and resumed runs.
struct TrainArgs {
    std::string dataset = "fashion-mnist";
    std::string model;
    std::string preset;
    std::string out;
    std::string resume;
    std::string labelColumn;
    std::string split = "train";
    std::vector<int> classes;
    std::vector<std::string> sets;
    double longTail = 1;
    std::int64_t limit = 0;
    std::int64_t steps = 0;
    double lr = 0;
    int batch = 0;
    std::uint64_t seed = 1;
    int imageSize = 28;
    bool rgb = false;
    int sampleEvery = 250;
    int checkpointEvery = 1000;
    int logEvery = 10;
};

int fail(const std::string& message) {
    std::fprintf(stderr, "latentlab-cli: %s\n", message.c_str());
    return 1;
}

int runTrain(const TrainArgs& a) {
    ll::TrainConfig config;
    if (!a.resume.empty()) {
        config.runDir = a.resume;
        config.resume = true;
        config.steps = a.steps;
    } else {
        if (a.out.empty()) return fail("train: --out RUN is required (the run folder to create)");
        const ll::ModelPreset* preset = nullptr;
        if (!a.preset.empty() && !(preset = ll::findPreset(a.preset)))
            return fail("train: unknown preset '" + a.preset + "' (see latentlab-cli models)");
        std::string model = !a.model.empty() ? a.model : preset ? preset->model : "cvae";
        if (!preset)
            for (const auto& p : ll::modelPresets())
                if (p.model == model) {
                    preset = &p;
                    break;
                }
        if (preset && preset->model != model)
            return fail("train: preset '" + preset->name + "' is for model '" + preset->model +
                        "', not '" + model + "'");
        config = ll::TrainConfig{
            .dataset = {.source = a.dataset,
                        .split = a.split,
                        .labelColumn = a.labelColumn,
                        .imageSize = a.imageSize,
                        .grayscale = !a.rgb,
                        .keepClasses = a.classes,
                        .longTailRatio = a.longTail,
                        .limit = a.limit,
                        .seed = a.seed},
            .model = model,
            .preset = preset ? preset->name : "",
            .settings = preset ? preset->settings : ll::Settings{},
            .steps = a.steps > 0 ? a.steps
                     : preset    ? preset->steps
                                 : 5000,
            .learningRate = a.lr > 0 ? a.lr
                            : preset ? preset->learningRate
                                     : 1e-3,
            .batchSize = a.batch > 0 ? a.batch
                         : preset    ? preset->batchSize
                                     : 128,
            .seed = a.seed,
            .logEvery = a.logEvery,
            .sampleEvery = a.sampleEvery,
            .checkpointEvery = a.checkpointEvery,
            .runDir = a.out,
        };
        for (const auto& s : a.sets) {
            const auto eq = s.find('=');
            if (eq == std::string::npos || eq == 0)
                return fail("train: --set expects name=value, got '" + s + "'");
            config.settings[s.substr(0, eq)] = s.substr(eq + 1);
        }
    }

    ProgressBar bar;
    ll::Trainer trainer(config, [&](const ll::TrainEvent& event) {
        if (auto* p = std::get_if<ll::TrainProgress>(&event)) bar.update(*p);
        if (auto* s = std::get_if<ll::TrainStarted>(&event)) {
            std::fprintf(stderr, "run %s: %s, %lld samples, %zu classes, from step %lld on %s\n",
                         s->runDir.c_str(), s->dataset.name.c_str(),
                         static_cast<long long>(s->dataset.count), s->dataset.classNames.size(),
                         static_cast<long long>(s->startStep), ll::cpuSummary().c_str());
        }
    });
    ll::TrainFinished result;
    std::atomic<bool> done{false};
    {
        std::jthread worker([&](std::stop_token stop) {
            result = trainer.run(stop);
            done = true;
        });
        // Ctrl-C stops the run cleanly: the trainer saves a checkpoint before it returns.
        while (!done) {
            if (g_interrupted) worker.request_stop();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    bar.endLine();
    if (result.outcome == ll::TrainFinished::Outcome::Failed) return fail(result.message);
    std::fprintf(stderr, "%s: %s\n", result.runDir.c_str(), result.message.c_str());
    return result.outcome == ll::TrainFinished::Outcome::Completed ? 0 : 130;
}

struct SampleArgs {
    std::string run;
    std::string out;
    std::int64_t count = 64;
    std::vector<int> classes;
    std::uint64_t seed = 0;
    std::int64_t checkpoint = -1;
    double temperature = 1.0;
    int cols = 0;
};

int runSample(const SampleArgs& a) {
    if (!a.out.ends_with(".png"))
        return fail("sample: --out must name a .png file, got '" + a.out + "'");
    if (a.count < 1 || a.count > 100000) return fail("sample: --count must lie in 1..100000");
    auto opened =
        ll::openRun(a.run, a.checkpoint >= 0 ? std::optional(a.checkpoint) : std::nullopt);
    if (!opened) return fail(opened.error().message);
    const auto& shape = opened->model->shape();
    if (shape.tabular())
        return fail("sample: " + a.run + " generates tabular rows, which a .png cannot hold");
    ll::SampleRequest request{.count = a.count, .seed = a.seed, .temperature = a.temperature};
    for (int k : a.classes) {
        if (k < 0 || k >= shape.numClasses)
            return fail("sample: no class " + std::to_string(k) + " (the run has classes 0.." +
                        std::to_string(shape.numClasses - 1) + ")");
        request.labels.push_back(k);
    }
    auto images = opened->model->sample(request);
    const int cols = a.cols > 0 ? a.cols : static_cast<int>(std::ceil(std::sqrt(double(a.count))));
    if (auto ok = ll::writePng(ll::makeGrid(images, cols), a.out); !ok)
        return fail(ok.error().message);
    std::fprintf(stderr, "wrote %lld samples of %s (step %lld) to %s\n",
                 static_cast<long long>(a.count), a.run.c_str(),
                 static_cast<long long>(opened->step), a.out.c_str());
    return 0;
}

int runModels() {
    for (const auto& m : ll::modelCatalog()) {
        std::printf("%-18s %s\n", m.name.c_str(), m.description.c_str());
        std::string settings;
        for (const auto& [k, v] : m.defaults) settings += " " + k + "=" + v;
        std::printf("%-18s settings:%s\n", "", settings.c_str());
        for (const auto& p : ll::modelPresets())
            if (p.model == m.name)
                std::printf("%-18s preset %s: %lld steps, lr %g, batch %d. %s\n", "",
                            p.name.c_str(), static_cast<long long>(p.steps), p.learningRate,
                            p.batchSize, p.description.c_str());
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    ll::applyCpuSettings();
    CLI::App app{"LatentLab: train, sample and inspect generative models, headless"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Help for every command");
    // One line on a usage error too, like every other failure.
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return std::string("latentlab-cli: ") + e.what() + " (see --help)\n";
    });

    TrainArgs train;
    auto* trainCmd = app.add_subcommand("train", "Train a model; writes a run folder");
    trainCmd
        ->add_option(
            "--dataset", train.dataset,
            "fashion-mnist, a folder of IDX files, an IDX images file, an image folder or a .csv")
        ->capture_default_str();
    trainCmd->add_option("--model", train.model, "Model name (latentlab-cli models lists them)");
    trainCmd->add_option("--preset", train.preset,
                         "Preset name; defaults to the model's CPU preset");
    auto* outOption = trainCmd->add_option("--out", train.out, "Run folder to create");
    trainCmd
        ->add_option("--resume", train.resume, "Continue this run folder from its last checkpoint")
        ->excludes(outOption);
    trainCmd->add_option("--steps", train.steps, "Training steps (default: the preset's)");
    trainCmd->add_option("--lr", train.lr, "Learning rate (default: the preset's)");
    trainCmd->add_option("--batch", train.batch, "Batch size (default: the preset's)");
    trainCmd->add_option("--seed", train.seed, "Seed for weights, data order and samples")
        ->capture_default_str();
    trainCmd->add_option("--label-column", train.labelColumn,
                         "CSV: label column by name or 0-based number (default: last)");
    trainCmd->add_option("--split", train.split, "IDX data: train or test")
        ->check(CLI::IsMember({"train", "test"}))
        ->capture_default_str();
    trainCmd->add_option("--image-size", train.imageSize, "Image folders: resize to this size")
        ->capture_default_str();
    trainCmd->add_flag("--rgb", train.rgb, "Image folders: keep colour (default grayscale)");
    trainCmd->add_option("--classes", train.classes, "Keep only these classes (0-based)")
        ->delimiter(',');
    trainCmd->add_option("--long-tail", train.longTail,
                         "Long-tail subset with this imbalance ratio");
    trainCmd->add_option("--limit", train.limit, "Use at most this many samples (seeded subset)");
    trainCmd->add_option("--set", train.sets, "Model setting name=value (repeatable)");
    trainCmd->add_option("--sample-every", train.sampleEvery, "Steps between sample grids")
        ->capture_default_str();
    trainCmd->add_option("--checkpoint-every", train.checkpointEvery, "Steps between checkpoints")
        ->capture_default_str();
    trainCmd->add_option("--log-every", train.logEvery, "Steps between log lines")
        ->capture_default_str();

    SampleArgs sample;
    auto* sampleCmd = app.add_subcommand("sample", "Sample a trained run into a PNG grid");
    sampleCmd->add_option("--run", sample.run, "Run folder")->required();
    sampleCmd->add_option("--out", sample.out, "Output .png")->required();
    sampleCmd->add_option("--count", sample.count, "Number of samples")->capture_default_str();
    sampleCmd
        ->add_option(
            "--class", sample.classes,
            "Class of every sample, or a comma list to cycle (default: all classes in turn)")
        ->delimiter(',');
    sampleCmd->add_option("--seed", sample.seed, "Sampling seed")->capture_default_str();
    sampleCmd->add_option("--checkpoint", sample.checkpoint, "Checkpoint step (default: latest)");
    sampleCmd->add_option("--temperature", sample.temperature, "Prior scale (VAE family)")
        ->capture_default_str();
    sampleCmd->add_option("--cols", sample.cols, "Grid columns (default: square)");

    app.add_subcommand("models", "List models, their settings and presets");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    try {
        if (trainCmd->parsed()) return runTrain(train);
        if (sampleCmd->parsed()) return runSample(sample);
        return runModels();
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}
