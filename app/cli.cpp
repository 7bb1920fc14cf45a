// latentlab-cli: every computing feature of LatentLab, headless. Thin wiring over core.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include <unistd.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/cpu.h"
#include "common/format.h"
#include "common/npy.h"
#include "common/table.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "eval/agreement.h"
#include "eval/evaluate.h"
#include "eval/extractor.h"
#include "eval/features.h"
#include "eval/metrics.h"
#include "image/grid.h"
#include "image/labelled.h"
#include "models/catalog.h"
#include "run/runfolder.h"
#include "run/runloader.h"
#include "sample/interpolate.h"
#include "sample/latentmap.h"
#include "sample/sweep.h"
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
    int evalEvery = 0;
    std::int64_t evalCount = 2000;
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
        config.resumeLearningRate = a.lr;  // 0 keeps the run's own
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
    }

    ProgressBar bar;
    std::string guardMessage;
    std::atomic<bool> guardTripped{false};
    ll::Trainer trainer(config, [&](const ll::TrainEvent& event) {
        if (auto* p = std::get_if<ll::TrainProgress>(&event)) bar.update(*p);
        // Nobody can resume a paused run from here: the NaN guard's pause ends it instead.
        if (auto* p = std::get_if<ll::TrainPaused>(&event); p && !p->message.empty()) {
            guardMessage = p->message;
            guardTripped = true;
        }
        if (auto* e = std::get_if<ll::TrainEvaluated>(&event)) {
            bar.endLine();
            if (!e->message.empty()) {
                std::fprintf(stderr, "step %lld: %s\n", static_cast<long long>(e->step),
                             e->message.c_str());
            } else if (auto r = ll::readEvaluation(e->file)) {
                std::string line;
                for (const auto& s : r->scores)
                    line += "  " + ll::scoreLabel(s.name) + " " + ll::formatNumber(s.value) +
                            " (floor " + ll::formatNumber(s.floor) + ")";
                std::fprintf(stderr, "step %lld:%s\n", static_cast<long long>(e->step),
                             line.c_str());
            }
        }
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
            if (g_interrupted || guardTripped) worker.request_stop();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    bar.endLine();
    if (result.outcome == ll::TrainFinished::Outcome::Failed) return fail(result.message);
    if (guardTripped)
        return fail(guardMessage + " Resume with: latentlab-cli train --resume " + result.runDir +
                    " --lr <lower>");
    std::fprintf(stderr, "%s: %s\n", result.runDir.c_str(), result.message.c_str());
    return result.outcome == ll::TrainFinished::Outcome::Completed ? 0 : 130;
}

// Sampling settings shared by sample and evaluate.
struct SteerArgs {
    std::uint64_t seed = 0;
    std::int64_t checkpoint = -1;
    double temperature = 1.0;
    double truncation = 0;
    double guidance = 0;
    int steps = 0;
    std::string sampler = "ddim";
    std::string classifier;
    double classifierScale = 0;
    std::string interval;
    std::string mix;
    // The guiding classifier, opened by request() and kept while its requests live.
    mutable std::shared_ptr<ll::OpenedRun> classifierRun;

    void add(CLI::App* cmd) {
        cmd->add_option("--seed", seed, "Sampling seed")->capture_default_str();
        cmd->add_option("--checkpoint", checkpoint, "Checkpoint step (default: latest)");
        cmd->add_option("--temperature", temperature, "Prior scale (VAE family)")
            ->capture_default_str();
        cmd->add_option("--truncation", truncation, "Truncate latents to |z| <= T (GANs; 0 = off)")
            ->capture_default_str();
        cmd->add_option("--guidance", guidance, "Classifier-free guidance weight (diffusion)")
            ->capture_default_str();
        cmd->add_option("--steps", steps, "Sampling steps (diffusion; default: the model's)");
        cmd->add_option("--sampler", sampler, "Diffusion sampler")
            ->check(CLI::IsMember({"ddim", "ddpm"}))
            ->capture_default_str();
        cmd->add_option("--classifier", classifier,
                        "Noisy-classifier run for classifier guidance (ddpm)");
        cmd->add_option("--classifier-scale", classifierScale,
                        "Classifier guidance scale (needs --classifier)")
            ->capture_default_str();
        cmd->add_option("--guidance-interval", interval,
                        "LO:HI: guide only while the noise level t/T lies in [LO, HI] (diffusion)");
        cmd->add_option("--mix", mix,
                        "Condition every sample on a class mixture, e.g. 3:0.5,5:0.5");
    }
    /// The request these options ask for, or why they are wrong.
    ll::Result<ll::SampleRequest> request() const {
        ll::SampleRequest r{.seed = seed,
                            .temperature = temperature,
                            .truncation = truncation,
                            .guidance = guidance,
                            .steps = steps,
                            .sampler = sampler == "ddpm" ? ll::Sampler::Ddpm : ll::Sampler::Ddim};
        if (!interval.empty()) {
            double lo = 0, hi = 0;
            char colon = 0;
            std::istringstream in(interval);
            if (!(in >> lo >> colon >> hi) || colon != ':' || !(in >> std::ws).eof() || lo < 0 ||
                hi > 1 || lo >= hi)
                return ll::fail("--guidance-interval expects LO:HI with 0 <= LO < HI <= 1, got '" +
                                interval + "'");
            r.guidanceFrom = lo;
            r.guidanceTo = hi;
        }
        if (!mix.empty()) {
            std::istringstream in(mix);
            for (std::string part; std::getline(in, part, ',');) {
                int k = 0;
                double w = 0;
                char colon = 0;
                std::istringstream item(part);
                if (!(item >> k >> colon >> w) || colon != ':' || !(item >> std::ws).eof() ||
                    !(w >= 0))
                    return ll::fail("--mix expects CLASS:WEIGHT pairs such as 3:0.5,5:0.5, got '" +
                                    part + "'");
                r.mixture.emplace_back(k, w);
            }
        }
        if (classifierScale != 0 && classifier.empty())
            return ll::fail("--classifier-scale needs --classifier NOISY_CLASSIFIER_RUN");
        if (!classifier.empty()) {
            auto opened = ll::openRun(classifier);
            if (!opened) return ll::fail("classifier: " + opened.error().message);
            classifierRun = std::make_shared<ll::OpenedRun>(std::move(*opened));
            r.classifier = classifierRun->model.get();
            r.classifierScale = classifierScale;
        }
        return r;
    }
    std::optional<std::int64_t> step() const {
        return checkpoint >= 0 ? std::optional(checkpoint) : std::nullopt;
    }
};

struct SampleArgs {
    std::string run;
    std::string out;
    std::int64_t count = 64;
    std::vector<int> classes;
    int cols = 0;
    SteerArgs steer;
};

// Model failures (a guidance setting a family cannot do) arrive as exceptions: one line each.
std::string firstLine(const std::exception& e) {
    std::string what = e.what();
    if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    return what;
}

std::string settingsColumns(const ll::SampleRequest& r) {
    char text[192];
    std::snprintf(text, sizeof text, "%g,%g,%g,%d,%s,%g,%g:%g,", r.temperature, r.truncation,
                  r.guidance, r.steps, r.sampler == ll::Sampler::Ddim ? "ddim" : "ddpm",
                  r.classifier ? r.classifierScale : 0.0, r.guidanceFrom, r.guidanceTo);
    std::string out = text;
    for (std::size_t i = 0; i < r.mixture.size(); ++i)  // "3:0.5 5:0.5": no commas in a cell
        out += (i ? " " : "") + std::to_string(r.mixture[i].first) + ":" +
               ll::formatNumber(r.mixture[i].second);
    return out;
}

int runSample(const SampleArgs& a) {
    namespace fs = std::filesystem;
    if (a.count < 1 || a.count > 100000) return fail("sample: --count must lie in 1..100000");
    {
        const auto ext = std::filesystem::path(a.out).extension().string();
        std::error_code ec;
        if (!ext.empty() && ext != ".png" && ext != ".csv" &&
            !std::filesystem::is_directory(a.out, ec))
            return fail("sample: --out must name a .png file, a .csv file or a folder, not '" +
                        a.out + "'");
    }
    auto steered = a.steer.request();
    if (!steered) return fail("sample: " + steered.error().message);
    auto opened = ll::openRun(a.run, a.steer.step());
    if (!opened) return fail(opened.error().message);
    auto& model = *opened->model;
    if (!model.generates())
        return fail("sample: " + a.run + " is a " + model.name() +
                    " run, which has nothing to sample");
    const auto& shape = model.shape();
    const bool png = a.out.ends_with(".png");
    const bool csv = a.out.ends_with(".csv");
    if (shape.tabular() && !csv)
        return fail("sample: " + a.run + " generates tabular rows: give --out a .csv file");
    if (!shape.tabular() && csv)
        return fail("sample: " + a.run + " generates images: give --out a .png file or a folder");
    ll::SampleRequest request = *steered;
    request.count = a.count;
    for (int k : a.classes) {
        if (k < 0 || k >= shape.numClasses)
            return fail("sample: no class " + std::to_string(k) + " (the run has classes 0.." +
                        std::to_string(shape.numClasses - 1) + ")");
        request.labels.push_back(k);
    }
    torch::Tensor samples;
    try {
        samples = model.sample(request);
    } catch (const std::exception& e) {
        return fail("sample: " + firstLine(e));
    }
    auto classOf = [&](std::int64_t i) {
        return request.labels.empty()
                   ? i % shape.numClasses
                   : request.labels[static_cast<std::size_t>(i) % request.labels.size()];
    };
    if (csv) {
        std::vector<std::int64_t> labels;
        for (std::int64_t i = 0; i < a.count; ++i) labels.push_back(classOf(i));
        const auto& d = opened->data;
        auto table = ll::makeTable(samples, torch::tensor(labels), d.featureNames, d.mean, d.std,
                                   d.classNames);
        if (auto ok = ll::writeTableCsv(table, a.out); !ok) return fail(ok.error().message);
    } else if (png) {
        const int cols =
            a.cols > 0 ? a.cols : static_cast<int>(std::ceil(std::sqrt(double(a.count))));
        if (auto ok = ll::writePng(ll::makeGrid(samples, cols), a.out); !ok)
            return fail(ok.error().message);
    } else {
        // A folder: one PNG per sample and a manifest that says how each was made.
        const fs::path dir = a.out;
        std::error_code ec;
        if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
            return fail("sample: " + a.out +
                        " exists and is not a folder (name a .png for a grid)");
        fs::create_directories(dir, ec);
        if (ec) return fail("sample: cannot create " + a.out + " (" + ec.message() + ")");
        std::string manifest =
            "file,class,class_name,seed,index,step,temperature,truncation,guidance,steps,sampler,"
            "classifier_scale,guidance_interval,mixture\n";
        const auto& names = opened->data.classNames;
        for (std::int64_t i = 0; i < a.count; ++i) {
            char file[32];
            std::snprintf(file, sizeof file, "sample-%06lld.png", static_cast<long long>(i));
            if (auto ok = ll::writePng(ll::makeGrid(samples.slice(0, i, i + 1), 1), dir / file);
                !ok)
                return fail(ok.error().message);
            const auto k = classOf(i);
            std::string name = names[static_cast<std::size_t>(k)];
            if (name.find_first_of(",\"") != std::string::npos) {
                std::string quoted = "\"";
                for (char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
                name = quoted + "\"";
            }
            manifest += std::string(file) + "," + std::to_string(k) + "," + name + "," +
                        std::to_string(a.steer.seed) + "," + std::to_string(i) + "," +
                        std::to_string(opened->step) + "," + settingsColumns(request) + "\n";
        }
        if (auto ok = ll::writeFileAtomic(dir / "manifest.csv", manifest); !ok)
            return fail(ok.error().message);
    }
    std::fprintf(stderr, "wrote %lld samples of %s (step %lld) to %s\n",
                 static_cast<long long>(a.count), a.run.c_str(),
                 static_cast<long long>(opened->step), a.out.c_str());
    return 0;
}

struct EvaluateArgs {
    std::string run;
    std::string extractor;
    bool pixels = false;
    std::int64_t count = 2000;
    std::string metrics;
    std::string workspace;
    bool allCheckpoints = false;
    std::vector<double> sweep;
    int k = 3;
    int kDensity = 5;
    int kidSubsets = 100;
    std::int64_t kidSize = 1000;
    int cells = 10;
    std::int64_t tstrSteps = 600;
    SteerArgs steer;
};

// Stage progress on stderr: redrawn in place on a terminal, a line per stage on a pipe.
class StageProgress {
public:
    bool operator()(const std::string& stage, double fraction) {
        if (g_interrupted) return false;
        if (m_tty) {
            std::fprintf(stderr, "\r%s %3.0f%%\x1b[K", stage.c_str(), 100 * fraction);
        } else if (stage != m_stage) {
            std::fprintf(stderr, "%s...\n", stage.c_str());
        }
        m_stage = stage;
        return true;
    }
    void endLine() {
        if (m_tty && !m_stage.empty()) std::fputc('\n', stderr);
        m_stage.clear();
    }

private:
    bool m_tty = isatty(STDERR_FILENO) != 0;
    std::string m_stage;
};

void printEvaluation(const ll::EvalRecord& r) {
    std::printf("step %lld: %s\n", static_cast<long long>(r.step), r.protocol.c_str());
    std::printf("%-28s %12s %12s\n", "metric", "value", "floor");
    for (const auto& s : r.scores) {
        char value[48];
        if (std::isnan(s.std))
            std::snprintf(value, sizeof value, "%.4g", s.value);
        else
            std::snprintf(value, sizeof value, "%.4g+-%.2g", s.value, s.std);
        std::printf("%-28s %12s %12.4g\n", ll::scoreLabel(s.name).c_str(), value, s.floor);
    }
    for (const auto& [name, why] : r.errors)
        std::printf("%-28s %12s  (%s)\n", ll::scoreLabel(name).c_str(), "-", why.c_str());
    if (!r.generatedClasses.empty()) {
        std::printf("\n%-20s %10s %10s\n", "predicted class", "generated", "real");
        for (std::size_t k = 0; k < r.classNames.size() && k < r.generatedClasses.size(); ++k)
            std::printf("%-20.20s %10lld %10lld\n", r.classNames[k].c_str(),
                        static_cast<long long>(r.generatedClasses[k]),
                        static_cast<long long>(k < r.realClasses.size() ? r.realClasses[k] : 0));
    }
}

int runEvaluate(const EvaluateArgs& a) {
    auto metrics = ll::parseEvalMetrics(a.metrics);
    if (!metrics) return fail("evaluate: " + metrics.error().message);
    if (a.count < 2 || a.count > 1000000) return fail("evaluate: --count must lie in 2..1000000");
    if (!a.extractor.empty() && a.pixels)
        return fail("evaluate: give --extractor or --pixels, not both");
    if (a.allCheckpoints && a.steer.step())
        return fail("evaluate: give --checkpoint STEP or --all-checkpoints, not both");
    ll::EvalOptions options{.metrics = *metrics,
                            .count = a.count,
                            .request = {},
                            .extractor = a.extractor,
                            .pixels = a.pixels,
                            .workspace = a.workspace,
                            .k = a.k,
                            .kDensity = a.kDensity,
                            .kidSubsets = a.kidSubsets,
                            .kidSize = a.kidSize,
                            .cells = a.cells,
                            .tstrSteps = a.tstrSteps};
    auto steered = a.steer.request();
    if (!steered) return fail("evaluate: " + steered.error().message);
    options.request = *steered;
    std::vector<std::optional<std::int64_t>> steps{a.steer.step()};
    if (a.allCheckpoints) {
        steps.clear();
        for (auto s : ll::listCheckpoints(a.run)) steps.push_back(s);
        if (steps.empty()) return fail("evaluate: " + a.run + " has no checkpoints");
    }
    const std::vector<double> guidances = a.sweep.empty() ? std::vector{a.steer.guidance} : a.sweep;
    for (const auto& step : steps)
        for (double g : guidances) {
            options.request.guidance = g;
            StageProgress progress;
            ll::Result<std::filesystem::path> file;
            try {
                file = ll::evaluateRun(a.run, step, options, std::ref(progress));
            } catch (const std::exception& e) {
                progress.endLine();
                return fail("evaluate: " + firstLine(e));
            }
            progress.endLine();
            if (!file) return fail("evaluate: " + file.error().message);
            auto record = ll::readEvaluation(*file);
            if (!record) return fail(record.error().message);
            printEvaluation(*record);
            std::fprintf(stderr, "wrote %s\n", file->string().c_str());
        }
    if (guidances.size() > 1) {
        // The sweep as one table: fidelity against diversity, weight by weight.
        std::printf("\n%-10s", "guidance");
        const auto records = ll::listEvaluations(a.run);
        for (const char* m : {"fid", "precision", "recall", "agreement"}) std::printf(" %10s", m);
        std::printf("\n");
        for (const auto& r : records) {
            if (std::find(guidances.begin(), guidances.end(), r.guidance) == guidances.end())
                continue;
            std::printf("%-10g", r.guidance);
            for (const char* m : {"fid", "precision", "recall", "agreement"})
                std::printf(" %10.4g", r.score(m) ? r.score(m)->value : ll::kNoValue);
            std::printf("\n");
        }
    }
    return 0;
}

struct SweepArgs {
    std::string run;
    std::string x;
    std::string y;
    int defaultClass = 0;
    std::string out;
    SteerArgs steer;
};

int runSweep(const SweepArgs& a) {
    auto x = ll::parseSweepAxis(a.x);
    if (!x) return fail("sweep: --x: " + x.error().message);
    auto y = ll::parseSweepAxis(a.y);
    if (!y) return fail("sweep: --y: " + y.error().message);
    auto base = a.steer.request();
    if (!base) return fail("sweep: " + base.error().message);
    if (auto opened = ll::openRun(a.run, a.steer.step()))
        ll::applyThreadSettings(opened->model->workload());
    const auto cells = x->values.size() * y->values.size();
    std::size_t done = 0;
    auto file = ll::runSweep({.run = a.run,
                              .step = a.steer.step(),
                              .x = *x,
                              .y = *y,
                              .base = *base,
                              .defaultClass = a.defaultClass},
                             a.out, [&](int, int, const ll::SampleGrid&) {
                                 std::fprintf(stderr, "\rcell %zu of %zu", ++done, cells);
                                 return !g_interrupted;
                             });
    std::fputc('\n', stderr);
    if (!file) return fail("sweep: " + file.error().message);
    std::printf("wrote %s and %s.json (%zu x %zu cells)\n", file->c_str(), file->c_str(),
                y->values.size(), x->values.size());
    return 0;
}

struct InterpolateArgs {
    std::string run;
    std::string from;
    std::string to;
    int steps = 10;
    std::string mode = "slerp";
    std::string out;
    std::string video;
    double fps = 12;
    SteerArgs steer;
};

// Latents from a .npy file (N x dims, as `latents --latents-out` writes them), checked.
ll::Result<torch::Tensor> readLatents(const std::string& path, std::int64_t dims) {
    auto array = ll::readNpy(path);
    if (!array) return tl::unexpected(array.error());
    auto z = array->to(torch::kFloat32);
    if (z.dim() == 1) z = z.unsqueeze(0);
    if (z.dim() != 2 || z.size(0) < 1 || z.size(1) != dims) {
        std::string shape;
        for (auto n : z.sizes()) shape += (shape.empty() ? "" : " x ") + std::to_string(n);
        return ll::fail(path + ": expected rows of " + std::to_string(dims) +
                        " numbers (this run's latents), got an array of shape " + shape);
    }
    if (!torch::isfinite(z).all().item<bool>())
        return ll::fail(path + ": the latents hold NaN or infinite numbers");
    return z;
}

// "SEED", "SEED:CLASS", "FILE.npy@ROW" or "FILE.npy@ROW:CLASS" (a row of saved latents, read
// by loadEnd once the run is open).
struct EndSpec {
    ll::LatentEnd end;
    std::string path;
    long long row = 0;
};

ll::Result<EndSpec> parseEnd(const std::string& text, const char* option) {
    EndSpec spec;
    std::string rest = text;
    if (const auto npy = text.find(".npy@"); npy != std::string::npos) {
        spec.path = text.substr(0, npy + 4);
        rest = text.substr(npy + 5);
    }
    long long number = 0;
    int label = -1;
    char colon = 0;
    std::istringstream in(rest);
    if (!(in >> number) || ((in >> colon) && (colon != ':' || !(in >> label))) ||
        !(in >> std::ws).eof() || rest.empty() || rest[0] == '-')
        return ll::fail(std::string(option) +
                        " expects SEED or SEED:CLASS, or a row of saved latents "
                        "FILE.npy@ROW[:CLASS], got '" +
                        text + "'");
    spec.end.label = label;
    if (spec.path.empty())
        spec.end.seed = static_cast<std::uint64_t>(number);
    else
        spec.row = number;
    return spec;
}

ll::Result<ll::LatentEnd> loadEnd(EndSpec spec, const char* option, ll::GenerativeModel& model) {
    if (spec.path.empty()) return spec.end;
    const auto dims = model.latents(ll::SampleRequest{.count = 1}).numel();
    auto z = readLatents(spec.path, dims);
    if (!z) return ll::fail(std::string(option) + ": " + z.error().message);
    if (spec.row >= z->size(0))
        return ll::fail(std::string(option) + ": " + spec.path + " has rows 0 to " +
                        std::to_string(z->size(0) - 1) + ", not " + std::to_string(spec.row));
    const auto r = (*z)[spec.row].contiguous();
    spec.end.latent.assign(r.data_ptr<float>(), r.data_ptr<float>() + r.numel());
    return spec.end;
}

int runInterpolate(const InterpolateArgs& a) {
    auto fromSpec = parseEnd(a.from, "--from");
    if (!fromSpec) return fail("interpolate: " + fromSpec.error().message);
    auto toSpec = parseEnd(a.to, "--to");
    if (!toSpec) return fail("interpolate: " + toSpec.error().message);
    if (!a.out.ends_with(".png")) return fail("interpolate: --out must name a .png file");
    auto base = a.steer.request();
    if (!base) return fail("interpolate: " + base.error().message);
    auto opened = ll::openRun(a.run, a.steer.step());
    if (!opened) return fail(opened.error().message);
    auto& model = *opened->model;
    if (model.shape().tabular()) return fail("interpolate: the run generates rows, not images");
    if (!model.hasLatents()) return fail("interpolate: " + model.name() + " has no latent space");
    auto from = loadEnd(*fromSpec, "--from", model);
    if (!from) return fail("interpolate: " + from.error().message);
    auto to = loadEnd(*toSpec, "--to", model);
    if (!to) return fail("interpolate: " + to.error().message);
    if (opened->data.shape.numClasses > 0 && ll::findModel(model.name()) &&
        ll::findModel(model.name())->conditional) {
        if (from->label < 0) from->label = 0;
        if (to->label < 0) to->label = from->label;
    }
    ll::applyThreadSettings(model.workload());
    auto frames = ll::interpolateSamples(
        model, *from, *to, a.steps,
        a.mode == "lerp" ? ll::Interpolation::Linear : ll::Interpolation::Spherical, *base);
    if (!frames) return fail("interpolate: " + frames.error().message);
    std::vector<std::string> labels;
    for (int i = 0; i < a.steps; ++i) labels.push_back(ll::formatNumber(double(i) / (a.steps - 1)));
    const auto& names = opened->data.classNames;
    auto endName = [&](const EndSpec& spec, const ll::LatentEnd& e) {
        return (spec.path.empty() ? "seed " + std::to_string(e.seed)
                                  : std::filesystem::path(spec.path).filename().string() + " row " +
                                        std::to_string(spec.row)) +
               (e.label >= 0 && e.label < int(names.size()) ? " " + names[std::size_t(e.label)]
                                                            : std::string());
    };
    const std::string title =
        a.mode + " from " + endName(*fromSpec, *from) + " to " + endName(*toSpec, *to);
    if (auto ok = ll::writeLabelledGrid(*frames, 1, a.steps, labels, {}, title, a.out); !ok)
        return fail(ok.error().message);
    std::printf("wrote %s (%d frames)\n", a.out.c_str(), a.steps);
    if (!a.video.empty()) {
        if (auto ok = ll::writeVideo(*frames, a.video, a.fps); !ok) return fail(ok.error().message);
        std::printf("wrote %s\n", a.video.c_str());
    }
    return 0;
}

struct LatentsArgs {
    std::string run;
    std::string dataset;
    std::int64_t count = 2000;
    std::uint64_t seed = 0;
    int directions = 8;
    std::string out;
    std::string directionsOut;
    std::string latentsOut;
    std::int64_t checkpoint = -1;
};

int runLatents(const LatentsArgs& a) {
    if (!a.out.ends_with(".csv")) return fail("latents: --out must name a .csv file");
    if (!a.directionsOut.empty() && !a.directionsOut.ends_with(".npy"))
        return fail("latents: --directions-out must name a .npy file");
    if (!a.latentsOut.empty() && !a.latentsOut.ends_with(".npy"))
        return fail("latents: --latents-out must name a .npy file");
    auto opened =
        ll::openRun(a.run, a.checkpoint >= 0 ? std::optional(a.checkpoint) : std::nullopt);
    if (!opened) return fail(opened.error().message);
    auto& model = *opened->model;
    std::optional<ll::Dataset> data;
    if (model.encodes()) {
        ll::DatasetSpec spec = opened->config.dataset;
        if (!a.dataset.empty()) spec = {.source = a.dataset};
        auto loaded = ll::loadDataset(spec);
        if (!loaded) return fail("latents: " + loaded.error().message);
        if (loaded->classNames != opened->data.classNames)
            return fail("latents: " + spec.source + " has other classes than the run's data");
        data = std::move(*loaded);
    }
    ll::applyThreadSettings(model.workload());
    auto map = ll::buildLatentMap(model, data ? &*data : nullptr, a.count, a.seed, a.directions);
    if (!map) return fail("latents: " + map.error().message);
    if (auto ok = ll::writeLatentMapCsv(*map, opened->data.classNames, a.out); !ok)
        return fail(ok.error().message);
    if (!a.directionsOut.empty()) {
        std::vector<float> flat;
        for (const auto& d : map->directions) flat.insert(flat.end(), d.begin(), d.end());
        auto t = torch::tensor(flat).view({std::int64_t(map->directions.size()), map->dims});
        if (auto ok = ll::writeNpy(a.directionsOut, t); !ok) return fail(ok.error().message);
    }
    if (!a.latentsOut.empty()) {
        auto t = torch::tensor(map->latents).view({std::int64_t(map->x.size()), map->dims});
        if (auto ok = ll::writeNpy(a.latentsOut, t); !ok) return fail(ok.error().message);
    }
    std::printf(
        "wrote %s: %zu points (%s) in a %d-dimensional latent space; spread along the "
        "leading directions:",
        a.out.c_str(), map->x.size(), data ? "drawn and encoded" : "drawn", map->dims);
    for (float s : map->spread) std::printf(" %.3g", s);
    std::printf("\n");
    return 0;
}

struct DecodeArgs {
    std::string run;
    std::string latents;
    std::vector<std::int64_t> rows;
    std::vector<std::int64_t> arithmetic;
    std::string directions;
    std::string along;
    int label = -1;
    int cols = 0;
    std::string out;
    SteerArgs steer;
};

int runDecode(const DecodeArgs& a) {
    if (!a.out.ends_with(".png")) return fail("decode: --out must name a .png file");
    if (!a.arithmetic.empty() && a.arithmetic.size() != 3)
        return fail("decode: --arithmetic expects three rows A,B,C");
    if (!a.along.empty() && a.directions.empty()) return fail("decode: --along needs --directions");
    auto base = a.steer.request();
    if (!base) return fail("decode: " + base.error().message);
    auto opened = ll::openRun(a.run, a.steer.step());
    if (!opened) return fail(opened.error().message);
    auto& model = *opened->model;
    if (model.shape().tabular()) return fail("decode: the run generates rows, not images");
    if (!model.hasLatents()) return fail("decode: " + model.name() + " has no latent space");
    const auto dims = model.latents(ll::SampleRequest{.count = 1}).numel();
    auto z = readLatents(a.latents, dims);
    if (!z) return fail("decode: " + z.error().message);
    auto row = [&](std::int64_t i) -> ll::Result<torch::Tensor> {
        if (i < 0 || i >= z->size(0))
            return ll::fail(a.latents + " has rows 0 to " + std::to_string(z->size(0) - 1) +
                            ", not " + std::to_string(i));
        return (*z)[i];
    };
    std::vector<torch::Tensor> chosen;
    if (!a.arithmetic.empty()) {
        std::vector<torch::Tensor> abc;
        for (auto i : a.arithmetic) {
            auto r = row(i);
            if (!r) return fail("decode: " + r.error().message);
            abc.push_back(*r);
        }
        chosen.push_back(abc[0] - abc[1] + abc[2]);
    } else if (!a.rows.empty()) {
        for (auto i : a.rows) {
            auto r = row(i);
            if (!r) return fail("decode: " + r.error().message);
            chosen.push_back(*r);
        }
    } else {
        for (std::int64_t i = 0; i < z->size(0); ++i) chosen.push_back((*z)[i]);
    }
    auto latents = torch::stack(chosen);
    if (!a.along.empty()) {
        int k = 0;
        double amount = 0;
        char colon = 0;
        std::istringstream in(a.along);
        if (!(in >> k >> colon >> amount) || colon != ':' || !(in >> std::ws).eof() || k < 0)
            return fail("decode: --along expects K:S (direction K, S units), got '" + a.along +
                        "'");
        auto directions = readLatents(a.directions, dims);
        if (!directions) return fail("decode: --directions: " + directions.error().message);
        if (k >= directions->size(0))
            return fail("decode: " + a.directions + " has " + std::to_string(directions->size(0)) +
                        " directions, not " + std::to_string(k + 1));
        latents = latents + amount * (*directions)[k];
    }
    auto request = *base;
    request.count = latents.size(0);
    const int classes = opened->data.shape.numClasses;
    if (a.label >= classes) return fail("decode: no class " + std::to_string(a.label));
    if (a.label >= 0) request.labels = {a.label};
    ll::applyThreadSettings(model.workload());
    try {
        const auto images = model.decodeLatents(latents, request);
        const int cols =
            a.cols > 0 ? a.cols : static_cast<int>(std::ceil(std::sqrt(double(request.count))));
        if (auto ok = ll::writePng(ll::makeGrid(images, cols), a.out); !ok)
            return fail(ok.error().message);
    } catch (const std::exception& e) {
        return fail("decode: " + firstLine(e));
    }
    std::printf("wrote %s (%lld images)\n", a.out.c_str(), static_cast<long long>(request.count));
    return 0;
}

struct TrainExtractorArgs {
    std::string dataset = "fashion-mnist";
    std::string split = "train";
    std::string labelColumn;
    int imageSize = 28;
    bool rgb = false;
    std::vector<int> classes;
    std::uint64_t seed = 1;
    std::int64_t steps = 3000;
    int threads = 2;
    std::string out;
};

int runTrainExtractor(const TrainExtractorArgs& a) {
    const ll::ExtractorTraining t{.dataset = {.source = a.dataset,
                                              .split = a.split,
                                              .labelColumn = a.labelColumn,
                                              .imageSize = a.imageSize,
                                              .grayscale = !a.rgb,
                                              .keepClasses = a.classes},
                                  .out = a.out,
                                  .seed = a.seed,
                                  .steps = a.steps,
                                  .threads = a.threads};
    ProgressBar bar;
    std::optional<ll::Result<ll::ExtractorInfo>> result;
    std::atomic<bool> done{false};
    {
        std::jthread worker([&](std::stop_token stop) {
            result = ll::trainExtractor(t, stop, [&](const ll::TrainEvent& event) {
                if (auto* p = std::get_if<ll::TrainProgress>(&event)) bar.update(*p);
            });
            done = true;
        });
        while (!done) {
            if (g_interrupted) worker.request_stop();
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    const auto& info = *result;
    bar.endLine();
    if (!info) return fail(info.error().message);
    std::printf("extractor %s: %s accuracy %.4f after %lld steps (seed %llu, %d threads)\n",
                info->dir.c_str(), info->accuracySplit.c_str(), info->accuracy,
                static_cast<long long>(info->steps), static_cast<unsigned long long>(info->seed),
                info->threads);
    std::printf("sha256 %s  %s\n", info->sha256.c_str(), info->weights.c_str());
    // Against the shipped weights of the same data, if any: the bit-for-bit check.
    const auto shipped = ll::shippedExtractorsDir() / info->dataset;
    if (std::error_code ec; std::filesystem::exists(shipped / ll::kExtractorFile, ec) &&
                            !std::filesystem::equivalent(shipped, info->dir, ec)) {
        if (auto theirs = ll::readExtractor(shipped))
            std::printf("%s the shipped weights (%s)\n",
                        theirs->sha256 == info->sha256 ? "identical to" : "differ from",
                        theirs->dir.c_str());
    }
    return 0;
}

struct ClassifyArgs {
    std::string run;
    std::string dataset = "fashion-mnist";
    std::string split = "test";
    std::string labelColumn;
    std::int64_t limit = 0;
};

int runClassify(const ClassifyArgs& a) {
    auto opened = ll::openRun(a.run);
    if (!opened) return fail(opened.error().message);
    auto data = ll::loadDataset(
        {.source = a.dataset, .split = a.split, .labelColumn = a.labelColumn, .limit = a.limit});
    if (!data) return fail(data.error().message);
    if (data->classNames != opened->data.classNames)
        return fail("classify: " + a.dataset + " has other classes than the classifier's data");
    auto accuracy = ll::classifierAccuracy(*opened->model, *data);
    if (!accuracy) return fail("classify: " + accuracy.error().message);
    for (std::size_t k = 0; k < data->classNames.size(); ++k)
        std::printf("%-20.20s %8.4f\n", data->classNames[k].c_str(), accuracy->perClass[k]);
    std::printf("accuracy %.4f on %lld samples of %s (%s)\n", accuracy->accuracy,
                static_cast<long long>(accuracy->count), data->name.c_str(), a.split.c_str());
    return 0;
}

struct MetricsArgs {
    std::string real;
    std::string fake;
    std::string train;
    std::string test;
    std::string out;
    int k = 3;
    int kDensity = 5;
    std::uint64_t seed = 0;
    int kidSubsets = 100;
    std::int64_t kidSize = 1000;
    int cells = 10;
};

nlohmann::json cellsJson(const std::vector<ll::CopyingCell>& cells) {
    auto out = nlohmann::json::array();
    for (const auto& c : cells)
        out.push_back({{"cell", c.id},
                       {"train", c.train},
                       {"test", c.test},
                       {"generated", c.generated},
                       {"z", c.z},
                       {"kept", c.kept}});
    return out;
}

// Every metric is computed before anything is written or printed, so a refusal leaves one line.
int runMetrics(const MetricsArgs& a) {
    if (a.train.empty() != a.test.empty())
        return fail("metrics: the data-copying test needs both --train and --test");
    auto real = ll::readNpy(a.real);
    if (!real) return fail("metrics: " + real.error().message);
    auto fake = ll::readNpy(a.fake);
    if (!fake) return fail("metrics: " + fake.error().message);
    const auto fid = ll::frechetDistance(*real, *fake);
    if (!fid) return fail("metrics: " + fid.error().message);
    const auto kid = ll::kernelInceptionDistance(
        *real, *fake,
        ll::KidConfig{.subsets = a.kidSubsets, .subsetSize = a.kidSize, .seed = a.seed});
    if (!kid) return fail("metrics: " + kid.error().message);
    const auto pr = ll::precisionRecall(*real, *fake, a.k);
    if (!pr) return fail("metrics: " + pr.error().message);
    const auto dc = ll::densityCoverage(*real, *fake, a.kDensity);
    if (!dc) return fail("metrics: " + dc.error().message);

    nlohmann::json protocol{{"real", a.real},
                            {"fake", a.fake},
                            {"real_count", real->size(0)},
                            {"fake_count", fake->size(0)},
                            {"features", real->size(1)},
                            {"k_precision_recall", a.k},
                            {"k_density_coverage", a.kDensity},
                            {"seed", a.seed},
                            {"kid_subsets", kid->subsets},
                            {"kid_subset_size", kid->subsetSize}};
    nlohmann::json result{{"fid", *fid},
                          {"kid", kid->mean},
                          {"kid_std", kid->std},
                          {"precision", pr->precision},
                          {"recall", pr->recall},
                          {"density", dc->density},
                          {"coverage", dc->coverage}};
    std::optional<ll::DataCopying> copying;
    if (!a.train.empty()) {
        auto train = ll::readNpy(a.train);
        if (!train) return fail("metrics: " + train.error().message);
        auto test = ll::readNpy(a.test);
        if (!test) return fail("metrics: " + test.error().message);
        const ll::DataCopyingConfig config{.cells = a.cells};
        auto ct = ll::dataCopying(*train, *test, *fake, config);
        if (!ct) return fail("metrics: " + ct.error().message);
        copying = std::move(*ct);
        result["ct"] = copying->ct;
        result["ct_cells"] = cellsJson(copying->cells);
        protocol.update({{"train", a.train},
                         {"test", a.test},
                         {"train_count", train->size(0)},
                         {"test_count", test->size(0)},
                         {"cells", config.cells},
                         {"min_generated", config.minGenerated}});
    }
    result["protocol"] = protocol;
    if (auto ok = ll::writeFileAtomic(a.out, result.dump(2) + "\n"); !ok)
        return fail(ok.error().message);

    std::printf("%lld real, %lld fake samples of %lld features\n",
                static_cast<long long>(real->size(0)), static_cast<long long>(fake->size(0)),
                static_cast<long long>(real->size(1)));
    std::printf("%-10s %12.6g\n", "FID", *fid);
    std::printf("%-10s %12.6g +/- %.3g (%d subsets of %lld)\n", "KID", kid->mean, kid->std,
                kid->subsets, static_cast<long long>(kid->subsetSize));
    std::printf("%-10s %12.4f (k = %d)\n", "precision", pr->precision, a.k);
    std::printf("%-10s %12.4f\n", "recall", pr->recall);
    std::printf("%-10s %12.4f (k = %d)\n", "density", dc->density, a.kDensity);
    std::printf("%-10s %12.4f\n", "coverage", dc->coverage);
    if (copying) {
        const auto kept = std::count_if(copying->cells.begin(), copying->cells.end(),
                                        [](const auto& c) { return c.kept; });
        std::printf("%-10s %12.4f (%lld of %zu cells; below 0: copies training data)\n", "C_T",
                    copying->ct, static_cast<long long>(kept), copying->cells.size());
    }
    std::fprintf(stderr, "wrote %s\n", a.out.c_str());
    return 0;
}

struct FeaturesArgs {
    std::string dataset;
    std::string split = "train";
    std::string labelColumn;
    std::int64_t limit = 0;
    std::string run;
    std::int64_t count = 1000;
    std::vector<int> classes;
    std::string extractor;
    bool pixels = false;
    std::string out;
    SteerArgs steer;
};

// Features of real data (--dataset) or of a run's samples (--run) to a .npy file, so that any
// tool can check a score: `metrics` takes two of them.
int runFeatures(const FeaturesArgs& a) {
    if (a.dataset.empty() == a.run.empty())
        return fail("features: give either --dataset D (real data) or --run RUN (its samples)");
    if (!a.extractor.empty() && a.pixels)
        return fail("features: give --extractor or --pixels, not both");
    if (!a.out.ends_with(".npy")) return fail("features: --out must name a .npy file");
    if (a.run.empty() && a.dataset.empty()) return fail("features: nothing to take features of");
    if (!a.run.empty() && (a.count < 1 || a.count > 1000000))
        return fail("features: --count must lie in 1..1000000");
    // The data first: its name picks the default extractor.
    std::optional<ll::Dataset> data;
    std::optional<ll::OpenedRun> generator;
    if (!a.dataset.empty()) {
        auto loaded = ll::loadDataset({.source = a.dataset,
                                       .split = a.split,
                                       .labelColumn = a.labelColumn,
                                       .limit = a.limit});
        if (!loaded) return fail(loaded.error().message);
        data = std::move(*loaded);
    } else {
        auto opened = ll::openRun(a.run, a.steer.step());
        if (!opened) return fail(opened.error().message);
        generator = std::move(*opened);
    }
    std::string extractorDir = a.extractor;
    if (extractorDir.empty() && !a.pixels) {
        const auto name = data ? data->name : generator->data.datasetName;
        auto found = ll::findExtractor(name, ll::defaultWorkspace());
        if (!found) return fail("features: " + found.error().message);
        extractorDir = found->dir.string();
    } else if (std::error_code ec;
               !extractorDir.empty() &&
               std::filesystem::exists(std::filesystem::path(extractorDir) / ll::kExtractorFile,
                                       ec)) {
        if (auto checked = ll::readExtractor(extractorDir); !checked)
            return fail("extractor: " + checked.error().message);
    }
    std::optional<ll::OpenedRun> extractor;
    if (!extractorDir.empty()) {
        auto opened = ll::openRun(extractorDir);
        if (!opened) return fail("extractor: " + opened.error().message);
        extractor = std::move(*opened);
        ll::applyThreadSettings(extractor->model->workload());
    }
    ll::GenerativeModel* model = extractor ? extractor->model.get() : nullptr;
    ll::Result<torch::Tensor> features;
    if (data) {
        features = ll::extractFeatures(model, data->x);
    } else {
        ll::applyThreadSettings(generator->model->workload());
        auto steered = a.steer.request();
        if (!steered) return fail("features: " + steered.error().message);
        ll::SampleRequest request = *steered;
        for (int k : a.classes) request.labels.push_back(k);
        features = ll::sampleFeatures(*generator->model, model, request, a.count);
    }
    if (!features) return fail("features: " + features.error().message);
    if (auto ok = ll::writeNpy(a.out, *features); !ok) return fail(ok.error().message);
    std::fprintf(stderr, "wrote %lld x %lld %s features to %s\n",
                 static_cast<long long>(features->size(0)),
                 static_cast<long long>(features->size(1)),
                 model ? ("classifier (" + extractorDir + ")").c_str() : "raw", a.out.c_str());
    return 0;
}

int runModels() {
    for (const auto& m : ll::modelCatalog()) {
        std::printf("%-18s %s\n", m.name.c_str(), m.description.c_str());
        for (const auto& [k, v] : m.defaults) {
            const auto help = m.help.find(k);
            std::printf("%-18s   --set %s=%s%s%s\n", "", k.c_str(), v.c_str(),
                        help == m.help.end() ? "" : "  ",
                        help == m.help.end() ? "" : help->second.c_str());
        }
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
    trainCmd
        ->add_option("--eval-every", train.evalEvery,
                     "Steps between metrics during training (FID, precision, recall, agreement "
                     "into eval/; 0: none)")
        ->capture_default_str();
    trainCmd->add_option("--eval-count", train.evalCount, "Samples of each metrics run")
        ->capture_default_str();

    SampleArgs sample;
    auto* sampleCmd = app.add_subcommand(
        "sample",
        "Sample a trained run: a .png grid, a folder of PNGs with manifest.csv, or a .csv");
    sampleCmd->add_option("--run", sample.run, "Run folder")->required();
    sampleCmd
        ->add_option("--out", sample.out,
                     "A .png grid, a folder (one PNG per sample plus manifest.csv) or, for "
                     "tabular runs, a .csv")
        ->required();
    sampleCmd->add_option("--count", sample.count, "Number of samples")->capture_default_str();
    sampleCmd
        ->add_option(
            "--class", sample.classes,
            "Class of every sample, or a comma list to cycle (default: all classes in turn)")
        ->delimiter(',');
    sampleCmd->add_option("--cols", sample.cols, "Grid columns (default: square)");
    sample.steer.add(sampleCmd);

    EvaluateArgs evaluate;
    auto* evaluateCmd = app.add_subcommand(
        "evaluate",
        "Score a run's samples against real data, each score beside its real-vs-real floor; "
        "writes eval/step-NNNNNN-gW.json (+ PNGs) into the run and prints a table");
    evaluateCmd->add_option("--run", evaluate.run, "Run folder")->required();
    evaluateCmd->add_option("--count", evaluate.count, "Samples to generate")
        ->capture_default_str();
    evaluateCmd->add_option(
        "--metrics", evaluate.metrics,
        "Comma list of fid, kid, precision, recall, density, coverage, is, "
        "agreement, classes, neighbours, ct, tstr, or all (default: all but tstr)");
    evaluateCmd->add_option(
        "--extractor", evaluate.extractor,
        "Feature extractor folder or classifier run (default: the dataset's own, from the "
        "workspace or shipped)");
    evaluateCmd->add_flag("--pixels", evaluate.pixels,
                          "Raw pixels (or standardised rows) as the feature space");
    evaluateCmd->add_option("--workspace", evaluate.workspace,
                            "Where to look for extractors (default: the run's workspace)");
    evaluateCmd->add_flag("--all-checkpoints", evaluate.allCheckpoints,
                          "Evaluate every saved checkpoint (metrics over training steps)");
    evaluateCmd
        ->add_option("--guidance-sweep", evaluate.sweep,
                     "Evaluate at each of these guidance weights (comma list)")
        ->delimiter(',');
    evaluateCmd->add_option("--k", evaluate.k, "Neighbours for precision/recall")
        ->capture_default_str();
    evaluateCmd->add_option("--k-density", evaluate.kDensity, "Neighbours for density/coverage")
        ->capture_default_str();
    evaluateCmd->add_option("--kid-subsets", evaluate.kidSubsets, "KID subsets")
        ->capture_default_str();
    evaluateCmd->add_option("--kid-size", evaluate.kidSize, "Samples per KID subset")
        ->capture_default_str();
    evaluateCmd->add_option("--cells", evaluate.cells, "k-means cells of the data-copying test")
        ->capture_default_str();
    evaluateCmd
        ->add_option("--tstr-steps", evaluate.tstrSteps,
                     "Training steps of the train-on-synthetic classifiers")
        ->capture_default_str();
    evaluate.steer.add(evaluateCmd);

    SweepArgs sweep;
    auto* sweepCmd = app.add_subcommand(
        "sweep",
        "An X/Y grid of samples over two settings; writes a labelled PNG and a JSON "
        "sidecar with every cell's settings");
    sweepCmd->add_option("--run", sweep.run, "Run folder")->required();
    sweepCmd
        ->add_option("--x", sweep.x,
                     "Columns: AXIS=V1,V2,... with AXIS one of guidance, classifier-scale, "
                     "steps, class, seed, checkpoint, truncation, temperature")
        ->required();
    sweepCmd->add_option("--y", sweep.y, "Rows: AXIS=V1,V2,...")->required();
    sweepCmd->add_option("--class", sweep.defaultClass, "Class of every cell unless an axis is")
        ->capture_default_str();
    sweepCmd->add_option("--out", sweep.out, ".png file to write")->required();
    sweep.steer.add(sweepCmd);

    InterpolateArgs interp;
    auto* interpCmd = app.add_subcommand(
        "interpolate", "Samples along a path between two latents: a PNG strip and a video");
    interpCmd->add_option("--run", interp.run, "Run folder")->required();
    interpCmd
        ->add_option("--from", interp.from,
                     "Start: SEED, SEED:CLASS, or a row of saved latents FILE.npy@ROW[:CLASS]")
        ->required();
    interpCmd->add_option("--to", interp.to, "End: as --from")->required();
    interpCmd->add_option("--frames", interp.steps, "Frames, both ends included")
        ->check(CLI::Range(2, 1000))
        ->capture_default_str();
    interpCmd->add_option("--mode", interp.mode, "slerp (great circle) or lerp (straight line)")
        ->check(CLI::IsMember({"slerp", "lerp"}))
        ->capture_default_str();
    interpCmd->add_option("--out", interp.out, ".png strip to write")->required();
    interpCmd->add_option("--video", interp.video, "Also a video: .mp4 or .avi");
    interpCmd->add_option("--fps", interp.fps, "Video frames per second")->capture_default_str();
    interp.steer.add(interpCmd);

    LatentsArgs latents;
    auto* latentsCmd = app.add_subcommand(
        "latents",
        "A run's latent space on its two leading principal axes: drawn latents and, "
        "for the VAE family, encoded data; CSV, and the principal directions (.npy)");
    latentsCmd->add_option("--run", latents.run, "Run folder")->required();
    latentsCmd->add_option("--dataset", latents.dataset, "Data to encode (default: the run's)");
    latentsCmd->add_option("--count", latents.count, "Points of each kind")->capture_default_str();
    latentsCmd->add_option("--seed", latents.seed, "Seed")->capture_default_str();
    latentsCmd->add_option("--checkpoint", latents.checkpoint, "Checkpoint step (default: latest)");
    latentsCmd->add_option("--directions", latents.directions, "Principal directions to find")
        ->capture_default_str();
    latentsCmd->add_option("--out", latents.out, ".csv of the points")->required();
    latentsCmd->add_option("--directions-out", latents.directionsOut,
                           ".npy of the principal directions (one row each)");
    latentsCmd->add_option("--latents-out", latents.latentsOut,
                           ".npy of every point's latent, rows in the CSV's order (for decode "
                           "and interpolate)");

    DecodeArgs decode;
    auto* decodeCmd = app.add_subcommand(
        "decode",
        "Images from given latents (a .npy of rows, as latents --latents-out writes): chosen "
        "rows, moved along principal directions, or the arithmetic A - B + C");
    decodeCmd->add_option("--run", decode.run, "Run folder")->required();
    decodeCmd->add_option("--latents", decode.latents, ".npy of latents, one row each")->required();
    decodeCmd->add_option("--rows", decode.rows, "Rows to decode (default: all), e.g. 0,5,9")
        ->delimiter(',');
    decodeCmd
        ->add_option("--arithmetic", decode.arithmetic,
                     "A,B,C: decode row A - row B + row C instead")
        ->delimiter(',');
    decodeCmd->add_option("--directions", decode.directions,
                          ".npy of principal directions (latents --directions-out)");
    decodeCmd->add_option("--along", decode.along,
                          "K:S: move every latent S units along direction K (needs --directions)");
    decodeCmd->add_option("--class", decode.label, "Class of every image (conditional models)");
    decodeCmd->add_option("--cols", decode.cols, "Grid columns (default: square)");
    decodeCmd->add_option("--out", decode.out, ".png grid to write")->required();
    decode.steer.add(decodeCmd);

    TrainExtractorArgs extractorArgs;
    auto* extractorCmd = app.add_subcommand(
        "train-extractor",
        "Train the feature extractor of a dataset (a clean classifier), reproducibly: the same "
        "options give the same weights, byte for byte, on the same build and CPU");
    extractorCmd->add_option("--dataset", extractorArgs.dataset, "Dataset")->capture_default_str();
    extractorCmd->add_option("--split", extractorArgs.split, "IDX data: train or test")
        ->check(CLI::IsMember({"train", "test"}))
        ->capture_default_str();
    extractorCmd->add_option("--label-column", extractorArgs.labelColumn, "CSV label column");
    extractorCmd
        ->add_option("--image-size", extractorArgs.imageSize, "Image folders: resize to this size")
        ->capture_default_str();
    extractorCmd->add_flag("--rgb", extractorArgs.rgb, "Image folders: keep colour");
    extractorCmd->add_option("--classes", extractorArgs.classes, "Keep only these classes")
        ->delimiter(',');
    extractorCmd->add_option("--seed", extractorArgs.seed, "Seed")->capture_default_str();
    extractorCmd->add_option("--steps", extractorArgs.steps, "Training steps")
        ->capture_default_str();
    extractorCmd
        ->add_option("--threads", extractorArgs.threads,
                     "Intra-op threads (fixed, so that other machines repeat the bits)")
        ->capture_default_str();
    extractorCmd->add_option("--out", extractorArgs.out, "Folder to create")->required();

    ClassifyArgs classify;
    auto* classifyCmd = app.add_subcommand("classify", "Accuracy of a classifier run on a dataset");
    classifyCmd->add_option("--run", classify.run, "Classifier run folder")->required();
    classifyCmd->add_option("--dataset", classify.dataset, "Dataset")->capture_default_str();
    classifyCmd->add_option("--split", classify.split, "IDX data: train or test")
        ->check(CLI::IsMember({"train", "test"}))
        ->capture_default_str();
    classifyCmd->add_option("--label-column", classify.labelColumn, "CSV label column");
    classifyCmd->add_option("--limit", classify.limit, "Use at most this many samples");

    MetricsArgs metrics;
    auto* metricsCmd = app.add_subcommand(
        "metrics",
        "Feature-space metrics (FID, KID, precision/recall, density/coverage, data-copying C_T) "
        "of two .npy feature arrays (samples x features, float32 or float64); writes JSON");
    metricsCmd->add_option("--real", metrics.real, "Real features (.npy)")->required();
    metricsCmd->add_option("--fake", metrics.fake, "Generated features (.npy)")->required();
    metricsCmd->add_option("--train", metrics.train,
                           "Training features (.npy), for the data-copying test C_T");
    metricsCmd->add_option("--test", metrics.test,
                           "Held-out features (.npy), for the data-copying test C_T");
    metricsCmd->add_option("--out", metrics.out, "JSON file to write")->required();
    metricsCmd->add_option("--k", metrics.k, "Neighbours for precision/recall")
        ->capture_default_str();
    metricsCmd->add_option("--k-density", metrics.kDensity, "Neighbours for density/coverage")
        ->capture_default_str();
    metricsCmd->add_option("--seed", metrics.seed, "Seed of the KID subsets")
        ->capture_default_str();
    metricsCmd->add_option("--kid-subsets", metrics.kidSubsets, "KID subsets")
        ->capture_default_str();
    metricsCmd
        ->add_option("--kid-size", metrics.kidSize,
                     "Samples per KID subset (capped at the smaller set)")
        ->capture_default_str();
    metricsCmd->add_option("--cells", metrics.cells, "k-means cells of the data-copying test")
        ->capture_default_str();

    FeaturesArgs feats;
    auto* featuresCmd = app.add_subcommand(
        "features",
        "Feature arrays (.npy, float32, one row per image) of real data or of a run's samples, "
        "for metrics or any other tool");
    featuresCmd->add_option("--dataset", feats.dataset, "Real data: a dataset");
    featuresCmd->add_option("--split", feats.split, "IDX data: train or test")
        ->capture_default_str();
    featuresCmd->add_option("--label-column", feats.labelColumn, "CSV label column");
    featuresCmd->add_option("--limit", feats.limit, "Use at most this many samples");
    featuresCmd->add_option("--run", feats.run, "Generated data: a run folder");
    featuresCmd->add_option("--count", feats.count, "Samples to draw from --run")
        ->capture_default_str();
    featuresCmd
        ->add_option("--class", feats.classes,
                     "Class of every sample, or a comma list to cycle (default: all in turn)")
        ->delimiter(',');
    featuresCmd->add_option("--extractor", feats.extractor,
                            "Classifier run whose penultimate layer gives the features");
    featuresCmd->add_flag("--pixels", feats.pixels, "Raw pixels (or rows) as the features");
    featuresCmd->add_option("--out", feats.out, ".npy file to write")->required();
    feats.steer.add(featuresCmd);

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
        if (evaluateCmd->parsed()) return runEvaluate(evaluate);
        if (extractorCmd->parsed()) return runTrainExtractor(extractorArgs);
        if (sweepCmd->parsed()) return runSweep(sweep);
        if (interpCmd->parsed()) return runInterpolate(interp);
        if (latentsCmd->parsed()) return runLatents(latents);
        if (decodeCmd->parsed()) return runDecode(decode);
        if (classifyCmd->parsed()) return runClassify(classify);
        if (metricsCmd->parsed()) return runMetrics(metrics);
        if (featuresCmd->parsed()) return runFeatures(feats);
        return runModels();
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}
