// bench_soak: the window over a long session. The real MainWindow trains a preset (cgan-cpu) on
// Fashion-MNIST for --minutes (30), its sample grid refreshing every 50 steps; every few seconds
// the Steer mode takes the live run and redraws (a reseed or a truncation drag), then the window
// goes back to Train. Every --sample-every-s (60): this process's resident memory, malloc's heap
// in use, open descriptors, threads, and the X server's memory (where the frames go). The
// summary: RSS growth from the warm-up to the end (the limit: 5 %), open files from start
// to end. Figures only; exits 1 only when the app failed (no data, training ended, a Steer error).

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <QApplication>
#include <QComboBox>
#include <QFileInfo>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTimer>
#include <QVulkanInstance>

#include "common/cpu.h"
#include "data/datapanel.h"
#include "gridview/gridview.h"
#include "models/catalog.h"
#include "steer/steerpanel.h"
#include "train/trainingjob.h"
#include "train/trainpanel.h"
#include "window/mainwindow.h"
#include "window/runsbrowser.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ll::widgets::MainWindow;

struct Options {
    fs::path workspace;  // empty: a temporary folder, removed at the end
    double minutes = 30, warmupMin = 5, sampleEverySec = 60, steerEverySec = 5;
    std::string preset = "cgan-cpu";
    int steps = 10'000'000;  // the Train panel's most: the run outlasts any soak
    int sampleEvery = 50;    // training grids: the centre keeps refreshing
    int reopenEvery = 12;    // Steer cycles between reopenings of the run; 0: never
    std::string markdown;
};

// A number field of /proc/PID/status (kB for memory), 0 when absent.
long long statusField(const std::string& pid, const std::string& name) {
    std::ifstream in("/proc/" + pid + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(name + ":", 0) == 0) return std::atoll(line.c_str() + name.size() + 1);
    return 0;
}

// This process's open descriptors by kind: "socket", "pipe", "anon_inode:[eventfd]", a device
// path, "file"; the kinds say where a leak is when the count grows.
std::map<std::string, int> openFiles() {
    const std::string own = "/proc/" + std::to_string(getpid()) + "/fd";  // the listing's own
    std::map<std::string, int> kinds;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc/self/fd", ec)) {
        const std::string target = fs::read_symlink(entry.path(), ec).string();
        if (ec || target == own) continue;
        std::string kind = target.rfind("/dev/", 0) == 0 ? target
                           : target.rfind('/', 0) == 0   ? std::string("file")
                                                         : target.substr(0, target.find(':'));
        if (kind == "anon_inode") kind = target;  // [eventfd], inotify, sync_file: no inode
        ++kinds[kind];
    }
    return kinds;
}

// This process's resident memory by mapping (/proc/self/smaps), MiB: "[heap]" (the main malloc
// arena), "arenas" (malloc's thread arenas), "anon rw-" (other anonymous memory: OpenBLAS's
// buffers, thread stacks, blocks mapped apart), "anon r-x" (JIT code: oneDNN's kernels,
// lavapipe's shaders), and each mapped file by its name (libtorch_cpu.so, ...). The
// parts that grow say what RSS holds on to.
std::map<std::string, double> rssByMapping() {
    std::ifstream in("/proc/self/smaps");
    std::map<std::string, double> parts;
    std::string kind;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("Rss:", 0) == 0) {
            parts[kind] += std::atof(line.c_str() + 4) / 1024;
            continue;
        }
        // A mapping's header: "start-end perms offset dev inode [path]"; fields are "Name: ...".
        const auto colon = line.find(':'), space = line.find(' ');
        if (colon != std::string::npos && colon < space) continue;
        char perms[8] = {};
        int pathAt = 0;
        if (std::sscanf(line.c_str(), "%*s %7s %*s %*s %*s %n", perms, &pathAt) < 1) continue;
        const std::string path = pathAt > 0 ? line.substr(std::size_t(pathAt)) : "";
        // glibc's thread arenas: heaps of up to 64 MiB, each at a 64 MiB-aligned address.
        const bool arena = std::strtoull(line.c_str(), nullptr, 16) % (64ull << 20) == 0;
        if (path.empty() || path.rfind("[anon", 0) == 0)
            kind = perms[2] == 'x' ? "anon r-x" : arena ? "arenas" : "anon rw-";
        else if (path[0] == '[')
            kind = path;
        else
            kind = fs::path(path).filename().string();
    }
    return parts;
}

// Each key of either map with its values in both (0 where a map lacks it): warm-up and end.
template <typename Value>
std::map<std::string, std::pair<Value, Value>> pairUp(const std::map<std::string, Value>& from,
                                                      const std::map<std::string, Value>& to) {
    std::map<std::string, std::pair<Value, Value>> both;
    for (const auto& [key, value] : from) both[key].first = value;
    for (const auto& [key, value] : to) both[key].second = value;
    return both;
}

// The Xvfb serving $DISPLAY: the window's frames and pixmaps live there too. "" when none.
std::string xServer() {
    const char* display = std::getenv("DISPLAY");
    if (!display) return {};
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        std::ifstream in(entry.path() / "cmdline");
        std::string program, first;
        std::getline(std::getline(in, program, '\0'), first, '\0');
        if (fs::path(program).filename() == "Xvfb" && first == display)
            return entry.path().filename().string();
    }
    return {};
}

struct Sample {
    double seconds = 0;  // since training started
    std::int64_t step = 0;
    // The heap's bytes in use tell a leak from RSS's high-water mark (cpu.h: freed memory stays).
    double rssMib = 0, heapMib = 0, xRssMib = 0;
    int files = 0, threads = 0, grids = 0, steerDraws = 0;
    std::map<std::string, int> fileKinds;
    std::map<std::string, double> mappings;  // RSS MiB by mapping (rssByMapping)
};

class Soak {
public:
    Soak(QApplication& app, MainWindow& window, const Options& opt)
        : m_app(app), m_window(window), m_opt(opt), m_xServer(xServer()) {}

    // Loads Fashion-MNIST as the Data panel's Load button does; the rest follows its signals.
    void start() {
        auto* data = m_window.dataPanel();
        QObject::connect(
            data, &ll::widgets::DataPanel::previewReady, &m_app, [this] { train(); },
            Qt::SingleShotConnection);
        QObject::connect(
            data, &ll::widgets::DataPanel::loadFailed, &m_app,
            [this](const QString& why) { fail("loading the data: " + why.toStdString()); });
        data->setSpec(ll::DatasetSpec{});  // all 60,000 training images, as the preset trains
        data->load();
        QTimer::singleShot(5 * 60 * 1000, &m_app, [this] {
            if (m_samples.empty()) fail("no training after 5 minutes");
        });
    }
    int exitCode() const { return m_failure.empty() && m_steerErrors == 0 ? 0 : 1; }

private:
    // The preset chosen in the Train panel as a user would (model, then preset), the soak's
    // steps and grid interval, then the Train button.
    void train() {
        const ll::ModelPreset* preset = ll::findPreset(m_opt.preset);
        auto* panel = m_window.trainPanel();
        auto* model = panel->findChild<QComboBox*>(QStringLiteral("modelCombo"));
        auto* presets = panel->findChild<QComboBox*>(QStringLiteral("presetCombo"));
        model->setCurrentIndex(model->findData(QString::fromStdString(preset->model)));
        presets->setCurrentIndex(presets->findText(QString::fromStdString(preset->name)));
        panel->findChild<QSpinBox*>(QStringLiteral("stepsSpin"))->setValue(m_opt.steps);
        panel->findChild<QSpinBox*>(QStringLiteral("sampleEverySpin"))->setValue(m_opt.sampleEvery);
        if (panel->config().preset != preset->name)
            return fail("the Train panel has no preset " + preset->name);

        auto* job = m_window.trainingJob();
        // Connected after the window's own handlers, which refresh the runs browser first.
        QObject::connect(job, &ll::widgets::TrainingJob::started, &m_app,
                         [this](const ll::TrainStarted& s) { started(s); });
        QObject::connect(job, &ll::widgets::TrainingJob::progress, &m_app,
                         [this](const ll::TrainProgress& p) { m_step = p.step; });
        QObject::connect(job, &ll::widgets::TrainingJob::samples, &m_app, [this] { ++m_grids; });
        QObject::connect(job, &ll::widgets::TrainingJob::finished, &m_app,
                         [this](const ll::TrainFinished& r) {
                             if (!m_stopping) fail("training ended by itself: " + r.message);
                             m_app.quit();
                         });
        QObject::connect(m_window.steerPanel(), &ll::widgets::SteerPanel::message, &m_app,
                         [this](const QString& text) {
                             ++m_steerErrors;
                             std::fprintf(stderr, "bench_soak: Steer: %s\n", qPrintable(text));
                         });
        m_window.findChild<QPushButton*>(QStringLiteral("trainButton"))->click();
    }

    void started(const ll::TrainStarted& s) {
        m_t0 = Clock::now();
        // The runs browser's choice is what the Steer mode takes: the live run.
        auto* runs = m_window.runsBrowser();
        for (const QString& run : runs->runs())
            if (QFileInfo(run) == QFileInfo(QString::fromStdString(s.runDir)))
                runs->selectRuns({run});
        std::printf("training %s in the window: %s\n\n", m_opt.preset.c_str(), s.runDir.c_str());
        const std::string reopen =
            "reopened every " + std::to_string(m_opt.reopenEvery) + " cycles";
        report(
            "%s, a grid every %d steps, Steer every %.0f s, %s; grid renderer %s\n\n| minute | "
            "step | RSS MiB | heap in use MiB | X server RSS MiB | open files | threads | grids "
            "| steer draws |\n|---|---|---|---|---|---|---|---|---|\n",
            m_opt.preset.c_str(), m_opt.sampleEvery, m_opt.steerEverySec,
            m_opt.reopenEvery > 0 ? reopen.c_str() : "never reopened",
            qPrintable(m_window.gridView()->rendererName()));
        sample();
        auto* steer = new QTimer(&m_app);
        QObject::connect(steer, &QTimer::timeout, &m_app, [this] { steerCycle(); });
        steer->start(int(m_opt.steerEverySec * 1000));
        scheduleSample();
    }

    double elapsed() const { return std::chrono::duration<double>(Clock::now() - m_t0).count(); }

    // The next sample after the last one's time: the warm-up's end, every --sample-every-s or
    // the end, whichever comes first; timed from the start so that the samples do not drift
    // (and precisely: a coarse timer may fire early and sample the same minute twice).
    void scheduleSample() {
        const double warmup = m_opt.warmupMin * 60, end = m_opt.minutes * 60;
        double next = (std::floor(m_at / m_opt.sampleEverySec + 1e-6) + 1) * m_opt.sampleEverySec;
        if (m_at < warmup) next = std::min(next, warmup);
        m_at = std::min(next, end);
        QTimer::singleShot(int(std::max(0.0, m_at - elapsed()) * 1000), Qt::PreciseTimer, &m_app,
                           [this, end] {
                               sample();
                               m_at < end ? scheduleSample() : finish();
                           });
    }

    void sample() {
        Sample s{.seconds = elapsed(),
                 .step = m_step,
                 .rssMib = statusField("self", "VmRSS") / 1024.0,
                 .heapMib = double(mallinfo2().uordblks) / (1 << 20),  // every arena
                 .xRssMib = m_xServer.empty() ? 0 : statusField(m_xServer, "VmRSS") / 1024.0,
                 .threads = int(statusField("self", "Threads")),
                 .grids = m_grids,
                 .steerDraws = m_window.steerPanel()->drawCount(),
                 .fileKinds = openFiles(),
                 .mappings = rssByMapping()};
        for (const auto& [kind, n] : s.fileKinds) s.files += n;
        const bool warmup = m_warmup < 0 && m_at >= m_opt.warmupMin * 60;
        if (warmup) m_warmup = int(m_samples.size());
        report("| %.1f%s | %lld | %.1f | %.1f | %.1f | %d | %d | %d | %d |\n", s.seconds / 60,
               warmup ? " (warm-up)" : "", (long long)s.step, s.rssMib, s.heapMib, s.xRssMib,
               s.files, s.threads, s.grids, s.steerDraws);
        // The largest parts, as the soak goes (the summary compares them).
        std::vector<std::pair<double, std::string>> parts;
        for (const auto& [kind, mib] : s.mappings) parts.emplace_back(mib, kind);
        std::sort(parts.rbegin(), parts.rend());
        std::fprintf(stderr, "bench_soak: RSS parts:");
        for (std::size_t i = 0; i < std::min<std::size_t>(parts.size(), 6); ++i)
            std::fprintf(stderr, " %s %.1f", parts[i].second.c_str(), parts[i].first);
        std::fprintf(stderr, "\n");
        m_samples.push_back(std::move(s));
    }

    // Steer takes the run and redraws; half a period later the window is back in Train.
    void steerCycle() {
        if (m_stopping) return;
        auto* steer = m_window.steerPanel();
        ++m_cycles;
        // Now and then the panel lets go of the run and takes it again, as choosing another
        // run and then this one does: the sampler closes and reopens at the newest checkpoint.
        const bool reopen = m_opt.reopenEvery > 0 && m_cycles % m_opt.reopenEvery == 0;
        if (reopen) steer->setRun({});
        const bool takesRun = steer->runDir().isEmpty();
        m_window.setMode(MainWindow::Mode::Steer);  // a run taken anew draws by itself
        if (!takesRun) {
            auto* truncation = steer->findChild<QSlider*>(QStringLiteral("truncationSlider"));
            if (m_cycles % 2 == 0 && truncation && truncation->isVisible()) {
                // A drag: previews while held, the full grid on release.
                truncation->setSliderDown(true);
                truncation->setValue((truncation->value() + 50) % (truncation->maximum() + 1));
                truncation->setSliderDown(false);
            } else {
                steer->findChild<QPushButton*>(QStringLiteral("steerReseed"))->click();
            }
        }
        QTimer::singleShot(int(m_opt.steerEverySec * 500), &m_app, [this] {
            if (!m_stopping) m_window.setMode(MainWindow::Mode::Train);
        });
    }

    void finish() {
        m_stopping = true;
        summary();
        m_window.trainPanel()->findChild<QPushButton*>(QStringLiteral("stopButton"))->click();
        QTimer::singleShot(120 * 1000, &m_app, [this] { fail("training did not stop in 2 min"); });
    }

    void fail(const std::string& why) {
        std::fprintf(stderr, "bench_soak: %s\n", why.c_str());
        if (m_failure.empty()) m_failure = why;
        if (!m_stopping && !m_samples.empty()) summary();
        m_stopping = true;
        m_app.quit();
    }

    void summary() {
        if (m_warmup < 0) m_warmup = int(m_samples.size()) - 1;  // cut short: the last one
        const Sample &first = m_samples.front(), &warm = m_samples[std::size_t(m_warmup)],
                     &last = m_samples.back();
        // Least squares over the samples from the warm-up on: a slope, less at the mercy of
        // where the last sample falls in the allocator's rhythm than the two end points.
        double n = 0, st = 0, sr = 0, stt = 0, str = 0;
        for (std::size_t i = std::size_t(m_warmup); i < m_samples.size(); ++i) {
            const double t = m_samples[i].seconds / 3600, r = m_samples[i].rssMib;
            n += 1, st += t, sr += r, stt += t * t, str += t * r;
        }
        const double slope = n * stt > st * st ? (n * str - st * sr) / (n * stt - st * st) : 0;
        const auto kinds = pairUp(warm.fileKinds, last.fileKinds);
        std::string changed;
        for (const auto& [kind, counts] : kinds)
            if (counts.first != counts.second)
                changed += (changed.empty() ? "" : ", ") + kind + " " +
                           std::to_string(counts.first) + " -> " + std::to_string(counts.second);

        report(
            "\n- RSS: %.1f MiB after warm-up (%.1f min), %.1f MiB at end (%.1f min); trend "
            "from the warm-up on %+.1f MiB/h; heap in use %.1f -> %.1f MiB; X server RSS %.1f -> "
            "%.1f MiB\n",
            warm.rssMib, warm.seconds / 60, last.rssMib, last.seconds / 60, slope, warm.heapMib,
            last.heapMib, warm.xRssMib, last.xRssMib);
        report(
            "- open files (start, warm-up, end): %d, %d, %d; by kind from the warm-up to the "
            "end: %s; threads: %d, %d, %d\n",
            first.files, warm.files, last.files, changed.empty() ? "no change" : changed.c_str(),
            first.threads, warm.threads, last.threads);
        report(
            "- training: step %lld after warm-up, %lld at end (%.2f steps/s); %d grids "
            "received; Steer: %d draws in %d cycles (%d reopened the run), %d errors\n",
            (long long)warm.step, (long long)last.step,
            double(last.step - warm.step) / std::max(1.0, last.seconds - warm.seconds), last.grids,
            last.steerDraws, m_cycles, m_opt.reopenEvery > 0 ? m_cycles / m_opt.reopenEvery : 0,
            m_steerErrors);
        report(
            "- RSS by mapping from the warm-up to the end (parts that changed by 1 MiB or more): "
            "%s\n",
            mappingChanges(warm, last).c_str());
        // A sample lands anywhere in the work's rhythm (a grid, a Steer draw: tens of MiB that
        // come and go), so the ends are also compared as the lowest of five samples each.
        const auto lowest = [&](std::size_t from, std::size_t to) {
            double low = m_samples[from].rssMib;
            for (std::size_t i = from; i < to; ++i) low = std::min(low, m_samples[i].rssMib);
            return low;
        };
        const std::size_t w = std::size_t(m_warmup),
                          n5 = std::min<std::size_t>(5, m_samples.size() - w);
        const double floorWarm = lowest(w, w + n5),
                     floorEnd = lowest(m_samples.size() - n5, m_samples.size());
        report(
            "- RSS floor (the lowest of five samples) from the warm-up on: %.1f MiB, over the last "
            "five: %.1f MiB (%+.2f %%)\n",
            floorWarm, floorEnd, 100 * (floorEnd - floorWarm) / floorWarm);
        report("- RSS grew %.2f %% from the warm-up to the end (limit 5 %%); open files %d -> %d\n",
               100 * (last.rssMib - warm.rssMib) / warm.rssMib, warm.files, last.files);
        if (!m_opt.markdown.empty()) std::ofstream(m_opt.markdown) << m_report;
    }

    // "anon rw- 310.2 -> 352.0, [heap] 80.1 -> 79.3, ...": the largest changes first.
    static std::string mappingChanges(const Sample& from, const Sample& to) {
        const auto both = pairUp(from.mappings, to.mappings);
        std::vector<std::pair<std::string, std::pair<double, double>>> changed;
        for (const auto& entry : both)
            if (std::abs(entry.second.second - entry.second.first) >= 1) changed.push_back(entry);
        std::sort(changed.begin(), changed.end(), [](const auto& a, const auto& b) {
            return std::abs(a.second.second - a.second.first) >
                   std::abs(b.second.second - b.second.first);
        });
        std::string text;
        char buf[160];
        for (const auto& [kind, mib] : changed) {
            std::snprintf(buf, sizeof buf, "%s%s %.1f -> %.1f", text.empty() ? "" : ", ",
                          kind.c_str(), mib.first, mib.second);
            text += buf;
        }
        return text.empty() ? "none" : text;
    }

    // A line of the report: printed now (the table grows as the soak goes) and kept for
    // --markdown, whose file is the same text.
    __attribute__((format(printf, 2, 3))) void report(const char* format, ...) {
        char buf[4096];
        va_list args;
        va_start(args, format);
        std::vsnprintf(buf, sizeof buf, format, args);
        va_end(args);
        std::fputs(buf, stdout);
        std::fflush(stdout);
        m_report += buf;
    }

    QApplication& m_app;
    MainWindow& m_window;
    const Options& m_opt;
    const std::string m_xServer;
    Clock::time_point m_t0;
    double m_at = 0;  // seconds: when the last sample was due
    bool m_stopping = false;
    std::int64_t m_step = 0;
    int m_grids = 0, m_cycles = 0, m_steerErrors = 0;
    int m_warmup = -1;  // the index of the first sample after the warm-up
    std::vector<Sample> m_samples;
    std::string m_failure;
    std::string m_report;
};

int usage(const char* self) {
    std::fprintf(stderr,
                 "usage: %s [--minutes 30] [--warmup-min 5] [--sample-every-s 60] [--steer-every 5]"
                 "\n  [--workspace DIR] [--preset cgan-cpu] [--steps 10000000] [--sample-every 50]"
                 "\n  [--reopen-every 12 (Steer cycles; 0: never)] [--markdown FILE]\n",
                 self);
    return 2;
}

bool parseArgs(int argc, char** argv, Options& opt) {
    const std::map<std::string, std::function<void(const char*)>> take{
        {"--minutes", [&](const char* v) { opt.minutes = std::atof(v); }},
        {"--warmup-min", [&](const char* v) { opt.warmupMin = std::atof(v); }},
        {"--sample-every-s", [&](const char* v) { opt.sampleEverySec = std::atof(v); }},
        {"--steer-every", [&](const char* v) { opt.steerEverySec = std::atof(v); }},
        {"--workspace", [&](const char* v) { opt.workspace = v; }},
        {"--preset", [&](const char* v) { opt.preset = v; }},
        {"--steps", [&](const char* v) { opt.steps = std::atoi(v); }},
        {"--sample-every", [&](const char* v) { opt.sampleEvery = std::atoi(v); }},
        {"--reopen-every", [&](const char* v) { opt.reopenEvery = std::atoi(v); }},
        {"--markdown", [&](const char* v) { opt.markdown = v; }}};
    for (int i = 1; i < argc; i += 2) {
        const auto it = take.find(argv[i]);
        if (it == take.end() || i + 1 >= argc) return false;
        it->second(argv[i + 1]);
    }
    return opt.minutes > 0 && opt.warmupMin >= 0 && opt.warmupMin < opt.minutes &&
           opt.sampleEverySec >= 1 && opt.steerEverySec >= 0.2 && opt.steps >= 1 &&
           opt.sampleEvery >= 1 && opt.reopenEvery >= 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    if (!parseArgs(argc, argv, opt)) return usage(argv[0]);
    if (!ll::findPreset(opt.preset)) {
        std::fprintf(stderr, "bench_soak: no preset '%s'\n", opt.preset.c_str());
        return 2;
    }
    ll::applyCpuSettings();  // as the app's main() does
    int qtArgc = 1;
    QApplication app(qtArgc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("LatentLabBench"));  // not the user's
    QVulkanInstance vulkan;
    vulkan.setApiVersion(QVersionNumber(1, 0));
    const bool haveVulkan = vulkan.create();

    QTemporaryDir scratch;  // the default workspace, removed with the run in it
    if (opt.workspace.empty()) opt.workspace = scratch.path().toStdString();
    fs::create_directories(opt.workspace);
    MainWindow window(haveVulkan ? &vulkan : nullptr, opt.workspace);
    window.resize(1400, 900);  // the app's size
    window.show();
    Soak soak(app, window, opt);
    QTimer::singleShot(0, &app, [&soak] { soak.start(); });
    app.exec();
    return soak.exitCode();
}
