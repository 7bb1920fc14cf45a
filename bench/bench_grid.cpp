// bench_grid: frames per second and upload time of the live sample-grid view
// (ll::widgets::GridView) in a 1600x1000 view, with Vulkan (lavapipe under Xvfb) and with the
// QPainter fallback, for a new grid every frame and for pan-only redraws (issue 15).
//
//   bash scripts/xvfb.sh ./build/bench/bench_grid

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <QApplication>
#include <QEventLoop>
#include <QPointer>
#include <QScreen>
#include <QTimer>
#include <QVulkanInstance>
#include <QWindow>

#include "benchstats.h"
#include "common/samplegrid.h"
#include "gridview/gridview.h"
#include "gridview/vulkangridwindow.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using ll::widgets::GridView;

const QSize kViewSize(1600, 1000);
constexpr double kTargetFps = 60;
// Distinct grids cycled through by the new-grid loop, as a training run sends one per interval.
constexpr int kVariants = 4;
// As a training run's grids reach the view: made shared once on the run's thread (TrainingJob),
// then passed on by pointer, so that setGrid keeps the grid without copying its pixels.
using Grids = std::vector<std::shared_ptr<const ll::SampleGrid>>;
constexpr int kFrameTimeoutMs = 10000;

struct Workload {
    std::string name;
    std::string what;
    int rows = 0;
    int cols = 0;
    int tile = 0;
    bool grey = false;
};

const std::vector<Workload>& workloads() {
    static const std::vector<Workload> all = {
        {"grey28", "4,096 tiles of 28x28, grey (64 x 64)", 64, 64, 28, true},
        {"rgb32", "1,024 tiles of 32x32, RGB (32 x 32)", 32, 32, 32, false},
        // Next to nothing to draw or upload: the ceiling of the view itself (clear, present).
        {"tile1", "1 tile of 1x1, RGB (the view's own cost)", 1, 1, 1, false},
    };
    return all;
}

struct RendererChoice {
    std::string name;
    bool vulkan = false;
};

const std::vector<RendererChoice>& renderers() {
    static const std::vector<RendererChoice> all = {{"vulkan", true}, {"painter", false}};
    return all;
}

/// Grey tiles carry R = G = B, as a Fashion-MNIST grid from the trainer does; every variant
/// has other bytes, so each new grid is a real upload of new content.
ll::SampleGrid makeGrid(const Workload& w, int variant) {
    ll::SampleGrid grid;
    grid.rows = w.rows;
    grid.cols = w.cols;
    grid.tileWidth = grid.tileHeight = w.tile;
    grid.step = variant;
    grid.rgba.resize(std::size_t(grid.atlasWidth()) * grid.atlasHeight() * 4);
    std::uint8_t* p = grid.rgba.data();
    for (int y = 0; y < grid.atlasHeight(); ++y) {
        for (int x = 0; x < grid.atlasWidth(); ++x, p += 4) {
            const auto v = std::uint8_t(x * 7 + y * 3 + variant * 41);
            p[0] = v;
            p[1] = w.grey ? v : std::uint8_t(x * 5 + variant * 13);
            p[2] = w.grey ? v : std::uint8_t(y * 11 + variant * 29);
            p[3] = 255;
        }
    }
    return grid;
}

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Options {
    double seconds = 3;
    double warmup = 1;
    int rounds = 3;
    std::vector<std::string> workloads;  // empty: all
    std::vector<std::string> renderers;  // empty: both
    std::string markdown;
};

/// One round of one workload on one renderer, in a fresh view: frames/s with a new grid every
/// frame and with pan-only frames, the mean upload (Vulkan) and setGrid times. `rendererName`
/// is what the view rendered with at the end (a Vulkan failure switches it to QPainter).
json measure(QVulkanInstance* instance, const Grids& grids, const Options& opt,
             QString& rendererName) {
    GridView view(instance);
    view.resize(kViewSize);

    int frames = 0;
    QEventLoop loop;
    QTimer watchdog;
    watchdog.setSingleShot(true);
    watchdog.setInterval(kFrameTimeoutMs);
    QObject::connect(&view, &GridView::frameRendered, &loop, [&] {
        ++frames;
        loop.quit();
    });
    QObject::connect(&watchdog, &QTimer::timeout, &loop, [&] { loop.exit(1); });
    // Returns once a frame showing the latest change has been presented (or painted).
    const auto waitFrame = [&] {
        const int target = frames + 1;
        watchdog.start();
        while (frames < target)
            if (loop.exec() != 0) throw std::runtime_error("no frame within 10 s");
        watchdog.stop();
    };
    // Runs `frame` (a change and waitFrame()) again and again for `seconds`; returns frames/s.
    const auto framesPerSecond = [](double seconds, const auto& frame) {
        const Clock::time_point start = Clock::now();
        int n = 0;
        double elapsed = 0;
        do {
            frame();
            ++n;
            elapsed = secondsSince(start);
        } while (elapsed < seconds);
        return n / elapsed;
    };

    view.setGrid(grids.front());
    view.show();
    waitFrame();  // exposed, swapchain and texture created
    if (view.size() != kViewSize)
        throw std::runtime_error("the view is " + std::to_string(view.width()) + "x" +
                                 std::to_string(view.height()) + ", not 1600x1000");
    // The Vulkan window is a child of the top-level QWindow once embedded; null for QPainter,
    // and nulled if a Vulkan failure replaces it.
    const QPointer<ll::widgets::VulkanGridWindow> window =
        view.windowHandle()->findChild<ll::widgets::VulkanGridWindow*>();

    // A new grid every frame: the training and steering case.
    std::size_t next = 1;
    double setGridUs = 0;
    double uploadUs = 0;
    const auto newGrid = [&] {
        const Clock::time_point start = Clock::now();
        view.setGrid(grids[next++ % grids.size()]);
        setGridUs += secondsSince(start) * 1e6;
        waitFrame();
        // Read after the frame: it showed this grid, so the last upload was this grid's.
        if (window) uploadUs += double(window->lastUploadMicroseconds());
    };
    framesPerSecond(opt.warmup, newGrid);
    setGridUs = uploadUs = 0;
    const std::size_t firstGrid = next;
    const double newFps = framesPerSecond(opt.seconds, newGrid);
    const auto newFrames = double(next - firstGrid);

    // The same grid redrawn: a one-pixel pan back and forth, no upload.
    int pan = 0;
    const auto panOnly = [&] {
        view.setPan(QPointF(++pan % 2, 0));
        waitFrame();
    };
    framesPerSecond(opt.warmup, panOnly);
    const double sameFps = framesPerSecond(opt.seconds, panOnly);

    rendererName = view.rendererName();
    json record = {
        {"new_fps", newFps}, {"same_fps", sameFps}, {"set_grid_us", setGridUs / newFrames}};
    if (window && view.renderer() == GridView::Renderer::Vulkan)
        record["upload_us"] = uploadUs / newFrames;
    return record;
}

std::string fpsVerdict(const bench::Row& row, const char* key) {
    if (row.empty()) return "-";
    return row.median(key) >= kTargetFps ? "met" : "missed";
}

struct Result {
    const Workload* workload = nullptr;
    const RendererChoice* renderer = nullptr;
    const Grids* grids = nullptr;  // kVariants of them
    std::string rendererName;      // as the view reports it
    bench::Row row;
};

std::string table(const std::vector<Result>& results, const Options& opt) {
    std::string out =
        "| workload | renderer | new grid every frame, frames/s (min / median / max) | same grid, "
        "pan only, frames/s | upload µs per new grid | setGrid µs | 60 frames/s (new / same) "
        "|\n|---|---|---|---|---|---|---|\n";
    for (const auto& r : results) {
        // Every round on Vulkan: a round that fell back to QPainter uploaded nothing.
        const bool upload = !r.row.empty() &&
                            std::all_of(r.row.runs.begin(), r.row.runs.end(),
                                        [](const json& run) { return run.contains("upload_us"); });
        out += "| " + r.workload->what + " | " +
               (r.rendererName.empty() ? r.renderer->name : r.rendererName) + " | " +
               r.row.stats("new_fps") + " | " + r.row.stats("same_fps") + " | " +
               (upload ? r.row.stats("upload_us", "%.0f") : std::string("-")) + " | " +
               r.row.stats("set_grid_us", "%.0f") + " | " + fpsVerdict(r.row, "new_fps") + " / " +
               fpsVerdict(r.row, "same_fps") + " |\n";
    }
    char foot[800];
    std::snprintf(
        foot, sizeof foot,
        "\n%d interleaved rounds, each a fresh %dx%d view: %g s of warm-up, then %g s of frames "
        "with a new grid each (setGrid, then wait for frameRendered), then the same for a "
        "one-pixel pan back and forth (no upload). Upload: the Vulkan renderer's copy of the "
        "atlas into its staging buffer plus recording the transfer, on the GUI thread; the "
        "QPainter fallback has none, it redraws the whole view on the CPU every frame. setGrid: "
        "GridView::setGrid with a shared grid, as a training run's grids reach it (no copy of the "
        "pixels on the GUI thread). Target: %g frames/s (the median).\n",
        opt.rounds, kViewSize.width(), kViewSize.height(), opt.warmup, opt.seconds, kTargetFps);
    return out + foot;
}

int usage(const char* argv0) {
    std::fprintf(
        stderr,
        "usage: %s [--seconds S] [--warmup S] [--rounds N] [--workload grey28|rgb32|tile1]...\n"
        "          [--renderer vulkan|painter]... [--markdown FILE]\n"
        "Frames/s and upload time of GridView at 1600x1000; run it under\n"
        "  bash scripts/xvfb.sh (xvfb-run, with Xvfb's allocator set for large frames)\n",
        argv0);
    return 2;
}

bool parseArgs(int argc, char** argv, Options& opt) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) return false;
        const char* v = argv[++i];
        if (a == "--seconds")
            opt.seconds = std::atof(v);
        else if (a == "--warmup")
            opt.warmup = std::atof(v);
        else if (a == "--rounds")
            opt.rounds = std::atoi(v);
        else if (a == "--workload")
            opt.workloads.emplace_back(v);
        else if (a == "--renderer")
            opt.renderers.emplace_back(v);
        else if (a == "--markdown")
            opt.markdown = v;
        else
            return false;
    }
    return opt.rounds >= 1 && opt.seconds > 0 && opt.warmup >= 0;
}

// The entries of `all` named in `names`, or all of them when `names` is empty; false for an
// unknown name.
template <class T>
bool select(const std::vector<T>& all, const std::vector<std::string>& names,
            std::vector<const T*>& out) {
    for (const T& item : all)
        if (names.empty() || std::find(names.begin(), names.end(), item.name) != names.end())
            out.push_back(&item);
    for (const std::string& name : names)
        if (std::none_of(all.begin(), all.end(), [&](const T& item) { return item.name == name; }))
            return false;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    std::vector<const Workload*> chosenWorkloads;
    std::vector<const RendererChoice*> chosenRenderers;
    if (!parseArgs(argc, argv, opt) || !select(workloads(), opt.workloads, chosenWorkloads) ||
        !select(renderers(), opt.renderers, chosenRenderers))
        return usage(argv[0]);

    QApplication app(argc, argv);
    const QSize screen = QGuiApplication::primaryScreen()->size();
    if (screen.width() < kViewSize.width() || screen.height() < kViewSize.height())
        std::fprintf(stderr, "bench_grid: the screen is %dx%d, smaller than the 1600x1000 view\n",
                     screen.width(), screen.height());

    // Outlives every view, as in the app.
    QVulkanInstance instance;
    const bool wantVulkan = std::any_of(chosenRenderers.begin(), chosenRenderers.end(),
                                        [](const RendererChoice* r) { return r->vulkan; });
    if (wantVulkan && !instance.create())
        std::fprintf(stderr, "bench_grid: no Vulkan instance (%d): the Vulkan rows fall back\n",
                     int(instance.errorCode()));

    // Built before the rounds (and before `results` points into it).
    std::vector<Grids> grids(chosenWorkloads.size());
    for (std::size_t i = 0; i < chosenWorkloads.size(); ++i)
        for (int variant = 0; variant < kVariants; ++variant)
            grids[i].push_back(
                std::make_shared<const ll::SampleGrid>(makeGrid(*chosenWorkloads[i], variant)));
    std::vector<Result> results;
    for (std::size_t i = 0; i < chosenWorkloads.size(); ++i)
        for (const RendererChoice* r : chosenRenderers)
            results.push_back({chosenWorkloads[i], r, &grids[i], {}, {}});

    for (int round = 1; round <= opt.rounds; ++round) {
        for (Result& res : results) {
            std::printf("%s, %s: round %d of %d\n", res.workload->name.c_str(),
                        res.renderer->name.c_str(), round, opt.rounds);
            std::fflush(stdout);
            QString name;
            try {
                res.row.runs.push_back(
                    measure(res.renderer->vulkan ? &instance : nullptr, *res.grids, opt, name));
                res.rendererName = name.toStdString();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "bench_grid: %s, %s: %s\n", res.workload->name.c_str(),
                             res.renderer->name.c_str(), e.what());
            }
        }
    }

    const std::string text = table(results, opt);
    std::printf("\n%s", text.c_str());
    if (!opt.markdown.empty()) std::ofstream(opt.markdown) << text;
    return 0;
}
