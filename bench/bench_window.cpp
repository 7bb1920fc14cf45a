// bench_window: the window's cost. Training steps per second with the main window open (its
// Vulkan sample grid visible and refreshing, the loss chart and the Train panel following the
// run) against the headless `latentlab-cli train`, for the same preset, seed, steps, sample and
// checkpoint intervals. Prints a table; asserts nothing. Target: the window costs at most 5 %.
//
// Every run is a process of its own, started from here one after another so that no two share
// the cores: `bench_window --worker cli` starts latentlab-cli and reads its progress lines,
// `bench_window --worker window` is the app (MainWindow, QVulkanInstance, the preset chosen in
// the Train panel, training started as the Train button does), under xvfb-run when there is no
// display. Both time the same points of their run: the progress report at 10 % of the steps
// (the CLI's first decile line, after the data loading and warm-up) and the one at the last
// step, with the sample grids and checkpoints between them. The rounds interleave the two
// sides; each row reports min / median / max over the rounds. Both runs' config.json and last
// logged losses are compared: the same run, step for step.

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <QApplication>
#include <QComboBox>
#include <QSpinBox>
#include <QTimer>
#include <QVulkanInstance>

#include "benchrows.h"
#include "common/cpu.h"
#include "data/datapanel.h"
#include "gridview/gridview.h"
#include "models/catalog.h"
#include "pythonrun.h"
#include "run/runfolder.h"
#include "train/trainingjob.h"
#include "train/trainpanel.h"
#include "window/mainwindow.h"

#ifndef LATENTLAB_CLI
#define LATENTLAB_CLI "latentlab-cli"
#endif

namespace {

namespace fs = std::filesystem;
using bench::quote;
using bench::Row;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Options {
    std::vector<std::string> presets;
    int rounds = 3;
    std::int64_t steps = 0;  // 0: the preset's default below
    int often = 20;          // the second row's sample interval
    int checkpointEvery = ll::TrainConfig{}.checkpointEvery;
    std::string cli = LATENTLAB_CLI;
    std::string markdown;
    std::string worker;   // "cli" or "window": one run in this process
    int sampleEvery = 0;  // the worker's
};

// Steps that keep one process to 20-30 s on a quiet 2-core machine (about 12 steps/s for the
// conv VAE, 10 for the convolutional GAN) with at least one grid at the app's interval; other
// presets take --steps.
std::int64_t defaultSteps(const std::string& preset) {
    static const std::map<std::string, std::int64_t> steps{{"cvae-cpu", 300}, {"dcgan-cpu", 300}};
    const auto it = steps.find(preset);
    return it == steps.end() ? 500 : it->second;
}

// --- what both workers measure ------------------------------------------------------------------

// CPU seconds (user and system, every thread) a process has used so far: /proc/PID/stat.
double cpuSeconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The command name may hold spaces: the numbered fields start after its closing ')'.
    const auto close = text.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(text.substr(close + 1));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

// The X server the window draws to (Xvfb on $DISPLAY), whose CPU time the window costs too;
// 0 when there is none (another server, or no display).
pid_t xServer() {
    const char* display = std::getenv("DISPLAY");
    if (!display) return 0;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        std::ifstream in(entry.path() / "cmdline");
        std::string program, first;
        std::getline(in, program, '\0');
        std::getline(in, first, '\0');
        if (fs::path(program).filename() == "Xvfb" && first == display)
            return static_cast<pid_t>(std::atoi(entry.path().filename().c_str()));
    }
    return 0;
}

// The progress reports of one run as its worker sees them: time and CPU (of the run's process,
// and of the X server where there is one) from the first report at or past the warm-up to the
// report of the last step.
class Timeline {
public:
    Timeline(std::int64_t steps, pid_t pid, pid_t xServer = 0)
        : m_warmup(steps / 10), m_steps(steps), m_pid(pid), m_xServer(xServer) {}

    void mark(std::int64_t step) {
        if (step < m_warmup) return;
        const Mark m{step, Clock::now(), cpuSeconds(m_pid), m_xServer ? cpuSeconds(m_xServer) : 0};
        if (!m_first) m_first = m;
        m_last = m;
    }
    /// Between the first and the last mark: what happens now counts.
    bool measuring() const { return m_first && m_last.step < m_steps; }
    bool complete() const { return m_first && m_last.step == m_steps && m_steps > m_first->step; }
    double seconds() const {
        return complete() ? std::chrono::duration<double>(m_last.time - m_first->time).count() : 0;
    }
    json result() const {
        const double steps = double(m_last.step - m_first->step);
        json out = {{"steps_per_s", steps / seconds()},
                    {"cpu_ms_per_step", 1000.0 * (m_last.cpu - m_first->cpu) / steps},
                    {"measured_steps", m_last.step - m_first->step},
                    {"measured_s", seconds()}};
        if (m_xServer) out["x_cpu_ms_per_step"] = 1000.0 * (m_last.xCpu - m_first->xCpu) / steps;
        return out;
    }

private:
    struct Mark {
        std::int64_t step = 0;
        Clock::time_point time;
        double cpu = 0, xCpu = 0;
    };
    std::int64_t m_warmup, m_steps;
    pid_t m_pid, m_xServer;
    std::optional<Mark> m_first;
    Mark m_last;
};

// What makes two runs the same run: their config.json (the model's settings completed with its
// defaults: the panel writes every setting, the CLI only the preset's) and the last losses
// they logged.
json runFacts(const fs::path& run) {
    json facts = json::object();
    if (auto c = ll::readRunConfig(run)) {
        ll::Settings settings = ll::modelInfo(c->model).defaults;
        for (const auto& [k, v] : c->settings) settings[k] = v;
        facts["config"] = {{"model", c->model},
                           {"preset", c->preset},
                           {"dataset", c->dataset.source},
                           {"limit", c->dataset.limit},
                           {"steps", c->steps},
                           {"lr", c->learningRate},
                           {"batch", c->batchSize},
                           {"seed", c->seed},
                           {"log_every", c->logEvery},
                           {"sample_every", c->sampleEvery},
                           {"checkpoint_every", c->checkpointEvery},
                           {"eval_every", c->evalEvery},
                           {"settings", settings}};
    }
    if (const auto log = ll::readLossLog(run); !log.empty()) facts["losses"] = log.back().second;
    return facts;
}

// A fresh folder under /tmp for one run, removed with everything in it.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string name = (fs::temp_directory_path() / "bench_window.XXXXXX").string();
        if (mkdtemp(name.data())) path = name;
    }
    ~TempDir() {
        std::error_code ignored;
        if (!path.empty()) fs::remove_all(path, ignored);
    }
};

// --- the CLI worker: latentlab-cli train, its progress lines read from a pipe ------------------

int runCliWorker(const Options& opt) {
    TempDir dir;
    const std::vector<std::string> args{opt.cli,
                                        "train",
                                        "--preset",
                                        opt.presets.front(),
                                        "--out",
                                        (dir.path / "run").string(),
                                        "--steps",
                                        std::to_string(opt.steps),
                                        "--seed",
                                        "1",
                                        "--sample-every",
                                        std::to_string(opt.sampleEvery),
                                        "--checkpoint-every",
                                        std::to_string(opt.checkpointEvery)};
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    // Its stderr (the progress bar: a line every 10 % on a pipe) comes here; stdout is not read.
    int fds[2];
    if (dir.path.empty() || pipe(fds) != 0) return 1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    const int spawned =
        posix_spawnp(&pid, opt.cli.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (spawned != 0) {
        std::fprintf(stderr, "bench_window: cannot start %s: %s\n", opt.cli.c_str(),
                     std::strerror(spawned));
        close(fds[0]);
        return 1;
    }
    Timeline timeline(opt.steps, pid);
    std::string messages;
    FILE* in = fdopen(fds[0], "r");
    char line[1024];
    while (std::fgets(line, sizeof line, in)) {
        // "[####......] 150/1500  loss ...": the time is the moment the line arrives.
        long long step = 0, total = 0;
        const char* bar = line[0] == '[' ? std::strchr(line, ']') : nullptr;
        if (bar && std::sscanf(bar + 1, " %lld/%lld", &step, &total) == 2)
            timeline.mark(step);
        else
            messages += line;
    }
    std::fclose(in);
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !timeline.complete()) {
        std::fprintf(stderr, "bench_window: latentlab-cli train failed:\n%s", messages.c_str());
        return 1;
    }
    json out = timeline.result();
    out["side"] = "cli";
    out["run"] = runFacts(dir.path / "run");
    out["peak_rss_mib"] = usage.ru_maxrss / 1024.0;
    std::printf("%s\n", out.dump().c_str());
    return 0;
}

// --- the window worker: the app, trained from its Train panel ----------------------------------

// Chooses the preset in the panel as a user would (model, then preset: its settings, learning
// rate and batch size), then the steps and intervals. False when the panel lacks it.
bool choosePreset(ll::widgets::TrainPanel& panel, const ll::ModelPreset& preset,
                  const Options& opt) {
    auto* model = panel.findChild<QComboBox*>(QStringLiteral("modelCombo"));
    auto* presets = panel.findChild<QComboBox*>(QStringLiteral("presetCombo"));
    if (!model || !presets) return false;
    model->setCurrentIndex(model->findData(QString::fromStdString(preset.model)));
    presets->setCurrentIndex(presets->findText(QString::fromStdString(preset.name)));
    panel.findChild<QSpinBox*>(QStringLiteral("stepsSpin"))->setValue(int(opt.steps));
    panel.findChild<QSpinBox*>(QStringLiteral("sampleEverySpin"))->setValue(opt.sampleEvery);
    panel.findChild<QSpinBox*>(QStringLiteral("checkpointEverySpin"))
        ->setValue(opt.checkpointEvery);
    return panel.config().preset == preset.name;
}

int runWindowWorker(const Options& opt) {
    ll::applyCpuSettings();  // as the app's main() does
    int argc = 1;
    char name[] = "bench_window";
    char* argv[] = {name, nullptr};
    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("LatentLabBench"));  // not the user's
    QVulkanInstance vulkan;
    vulkan.setApiVersion(QVersionNumber(1, 0));
    const bool haveVulkan = vulkan.create();

    TempDir workspace;
    ll::widgets::MainWindow window(haveVulkan ? &vulkan : nullptr, workspace.path);
    window.resize(1400, 900);  // the app's size
    window.show();
    window.dataPanel()->setSpec(ll::DatasetSpec{});  // all of Fashion-MNIST, as the CLI's
    if (!choosePreset(*window.trainPanel(), *ll::findPreset(opt.presets.front()), opt)) {
        std::fprintf(stderr, "bench_window: the Train panel has no preset '%s'\n",
                     opt.presets.front().c_str());
        return 2;
    }

    Timeline timeline(opt.steps, getpid(), xServer());
    int grids = 0, frames = 0;
    std::string runDir;
    ll::TrainFinished result{.outcome = ll::TrainFinished::Outcome::Failed,
                             .message = "no result in 15 minutes"};
    auto* job = window.trainingJob();
    QObject::connect(job, &ll::widgets::TrainingJob::started,
                     [&](const ll::TrainStarted& s) { runDir = s.runDir; });
    QObject::connect(job, &ll::widgets::TrainingJob::progress,
                     [&](const ll::TrainProgress& p) { timeline.mark(p.step); });
    QObject::connect(job, &ll::widgets::TrainingJob::samples,
                     [&] { grids += timeline.measuring(); });
    QObject::connect(window.gridView(), &ll::widgets::GridView::frameRendered,
                     [&] { frames += timeline.measuring(); });
    QObject::connect(job, &ll::widgets::TrainingJob::finished, [&](const ll::TrainFinished& r) {
        result = r;
        app.quit();
    });
    QTimer::singleShot(15 * 60 * 1000, &app, &QApplication::quit);
    QTimer::singleShot(0, &window, &ll::widgets::MainWindow::startTraining);  // as --train does
    app.exec();

    if (result.outcome != ll::TrainFinished::Outcome::Completed || !timeline.complete()) {
        std::fprintf(stderr, "bench_window: the window's run failed: %s\n", result.message.c_str());
        return 1;
    }
    json out = timeline.result();
    out["side"] = "window";
    out["grids_per_s"] = grids / timeline.seconds();
    out["frames_per_s"] = frames / timeline.seconds();
    out["renderer"] = window.gridView()->rendererName().toStdString();
    out["run"] = runFacts(runDir);
    out["peak_rss_mib"] = bench::peakRssMib();
    std::printf("%s\n", out.dump().c_str());
    return 0;
}

// --- the orchestrator ---------------------------------------------------------------------------

constexpr const char* kCliFirst[] = {"cli", "window"};
constexpr const char* kWindowFirst[] = {"window", "cli"};

struct Case {
    std::string preset;
    int sampleEvery = 0;
    std::int64_t steps = 0;
    Row cli, window;
};

std::optional<json> runSide(const std::string& self, const std::string& side, const Case& c,
                            const Options& opt) {
    std::string cmd = quote(self) + " --worker " + side + " --preset " + quote(c.preset) +
                      " --steps " + std::to_string(c.steps) + " --sample-every " +
                      std::to_string(c.sampleEvery) + " --checkpoint-every " +
                      std::to_string(opt.checkpointEvery) + " --cli " + quote(opt.cli);
    if (side == "window") {
        // The grid is a Vulkan window on X (lavapipe on Xvfb here), as the GUI tests run it.
        cmd = "QT_QPA_PLATFORM=xcb " + cmd;
        // Xvfb's allocator off mmap for large requests, as scripts/xvfb.sh sets it: else
        // every frame lavapipe presents page-faults a fresh 6.4 MB buffer in.
        if (!std::getenv("DISPLAY"))
            cmd = std::string(bench::kMallocEnv) + " xvfb-run -a -s " +
                  quote("-screen 0 1600x1000x24") + " env " + cmd;
    }
    return bench::runPythonJson(cmd, ("bench_window (" + side + " worker)").c_str(), "steps_per_s");
}

// The same run on both sides, every round: equal configs and equal last losses.
std::string sameRun(const Case& c) {
    if (c.cli.empty() || c.window.empty()) return "-";
    const json& first = c.cli.runs.front().at("run");
    for (const Row* row : {&c.cli, &c.window})
        for (const auto& r : row->runs) {
            if (r.at("run").value("config", json()) != first.value("config", json()))
                return "NO: configs differ";
            if (r.at("run").value("losses", json()) != first.value("losses", json()))
                return "NO: last losses differ";
        }
    return "yes";
}

// 1 - window / CLI of the medians, and min / median / max of the rounds' own costs (each
// round's two runs follow one another: the machine's drift between rounds cancels).
std::string cost(const Case& c) {
    if (c.cli.empty() || c.window.empty()) return "-";
    const double median = 1 - c.window.median("steps_per_s") / c.cli.median("steps_per_s");
    Row rounds;
    for (std::size_t i = 0; i < std::min(c.cli.runs.size(), c.window.runs.size()); ++i)
        rounds.runs.push_back(
            {{"cost", 100 * (1 - c.window.runs[i].at("steps_per_s").get<double>() /
                                     c.cli.runs[i].at("steps_per_s").get<double>())}});
    char buf[128];
    std::snprintf(buf, sizeof buf, "%.1f %% (rounds %s %%): %s", 100 * median,
                  rounds.stats("cost").c_str(), median <= 0.05 ? "met" : "missed");
    return buf;
}

std::string fixed(double v, int decimals) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string loadAverage() {
    std::ifstream in("/proc/loadavg");
    std::string one, five;
    in >> one >> five;
    return one + " (1 min), " + five + " (5 min)";
}

/// The results as a Markdown table: the same text goes to stdout and to --markdown.
std::string table(const std::vector<Case>& cases, const Options& opt, const std::string& before) {
    std::string out =
        "| preset | sample every | CLI steps/s (min / median / max) | window steps/s | cost "
        "(target <= 5 %) | CPU ms/step CLI / window | window grids/s, frames/s | peak MiB CLI "
        "/ window | same run |\n"
        "|---|---|---|---|---|---|---|---|---|\n";
    std::string renderer = "-";
    for (const auto& c : cases) {
        std::string shown = "-";
        if (!c.window.empty()) {
            renderer = c.window.runs.front().value("renderer", "-");
            shown = fixed(c.window.median("grids_per_s"), 2) + ", " +
                    fixed(c.window.median("frames_per_s"), 2);
        }
        const auto cpu = [](const Row& r) {
            if (r.empty()) return std::string("-");
            std::string text = fixed(r.median("cpu_ms_per_step"), 2);
            if (r.runs.front().contains("x_cpu_ms_per_step"))
                text += " (+" + fixed(r.median("x_cpu_ms_per_step"), 2) + " X)";
            return text;
        };
        out += "| " + c.preset + " | " + std::to_string(c.sampleEvery) + " steps | " +
               c.cli.stats("steps_per_s") + " | " + c.window.stats("steps_per_s") + " | " +
               cost(c) + " | " + cpu(c.cli) + " / " + cpu(c.window) + " | " + shown + " | " +
               c.cli.peakMib() + " / " + c.window.peakMib() + " | " + sameRun(c) + " |\n";
    }
    std::string steps;
    for (const auto& p : opt.presets)
        steps += (steps.empty() ? "" : ", ") + p + " " +
                 std::to_string(opt.steps > 0 ? opt.steps : defaultSteps(p));
    out +=
        "\n" + std::to_string(opt.rounds) +
        " interleaved rounds per row (each side first in every other), every run a fresh process "
        "(steps: " +
        steps + "; seed 1; checkpoint every " + std::to_string(opt.checkpointEvery) +
        " steps). Steps/s from the progress report at 10 % of the steps to the last step's, "
        "samples and checkpoints included; cost: 1 - window / CLI of the medians (in brackets: "
        "min / median / max of each round's own, its two runs one after the other). CPU: the "
        "process's user + system time per step over the same span (+ X: Xvfb's). Grid renderer: " +
        renderer + ". Load average before: " + before + "; after: " + loadAverage() + ".\n";
    return out;
}

int usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--preset NAME]... [--rounds N] [--steps N] [--often N]\n"
                 "          [--checkpoint-every N] [--cli PATH] [--markdown FILE]\n"
                 "Training steps/s with the main window open against latentlab-cli train\n"
                 "(cvae-cpu and dcgan-cpu by default), at the app's sample interval and every\n"
                 "--often steps (20; 0: the app's interval alone).\n",
                 argv0);
    return 2;
}

bool parseArgs(int argc, char** argv, Options& opt) {
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const char* v = argv[i + 1];
        if (a == "--preset")
            opt.presets.emplace_back(v);
        else if (a == "--rounds")
            opt.rounds = std::atoi(v);
        else if (a == "--steps")
            opt.steps = std::atoll(v);
        else if (a == "--often")
            opt.often = std::atoi(v);
        else if (a == "--checkpoint-every")
            opt.checkpointEvery = std::atoi(v);
        else if (a == "--cli")
            opt.cli = v;
        else if (a == "--markdown")
            opt.markdown = v;
        else if (a == "--worker")
            opt.worker = v;
        else if (a == "--sample-every")
            opt.sampleEvery = std::atoi(v);
        else
            return false;
    }
    const bool worker = opt.worker == "cli" || opt.worker == "window";
    return argc % 2 == 1 && opt.rounds >= 1 && opt.steps >= 0 && opt.often >= 0 &&
           opt.checkpointEvery >= 1 && (opt.worker.empty() || worker) &&
           (!worker || (opt.presets.size() == 1 && opt.steps >= 10 && opt.sampleEvery >= 1));
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    if (!parseArgs(argc, argv, opt)) return usage(argv[0]);
    if (opt.presets.empty()) opt.presets = {"cvae-cpu", "dcgan-cpu"};
    for (const auto& p : opt.presets)
        if (!ll::findPreset(p)) {
            std::fprintf(stderr, "bench_window: no preset '%s'\n", p.c_str());
            return 2;
        }
    if (opt.worker == "cli") return runCliWorker(opt);
    if (opt.worker == "window") return runWindowWorker(opt);

    const std::string before = loadAverage();
    const std::string self = bench::selfPath();
    std::vector<Case> cases;
    for (const auto& p : opt.presets)
        for (int every : {ll::TrainConfig{}.sampleEvery, opt.often})
            if (every > 0)
                cases.push_back({.preset = p,
                                 .sampleEvery = every,
                                 .steps = opt.steps > 0 ? opt.steps : defaultSteps(p)});
    for (auto& c : cases)
        for (int round = 1; round <= opt.rounds; ++round) {
            std::printf("%s, sample every %d: round %d of %d\n", c.preset.c_str(), c.sampleEvery,
                        round, opt.rounds);
            std::fflush(stdout);
            // Each side goes first in every other round: whatever the first process of a round
            // leaves behind (page cache, a warm X server, the machine's drift) touches both.
            for (const char* side : round % 2 ? kCliFirst : kWindowFirst)
                if (auto j = runSide(self, side, c, opt)) {
                    std::printf("  %-6s %.1f steps/s\n", side, j->at("steps_per_s").get<double>());
                    (std::string_view(side) == "cli" ? c.cli : c.window).runs.push_back(*j);
                }
        }
    const std::string text = table(cases, opt, before);
    std::printf("\n%s", text.c_str());
    if (!opt.markdown.empty()) std::ofstream(opt.markdown) << text;
    return 0;
}
