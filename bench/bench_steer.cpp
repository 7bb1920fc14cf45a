// bench_steer: the time from a slider change to the first preview of a 10x10 grid, per run.
// The Steer mode draws on a worker through ll::RunSampler exactly as timed here; what the
// GUI adds (a queued signal, the grid's upload) is a millisecond. Pixel-space DDPM previews
// at 10 steps as the Steer mode does; latent diffusion at its full step count.
//
//   build/bench/bench_steer RUN...           e.g. the preset runs of bench/presets.sh
//
// Prints, per run: the preview and the full-quality grid (median of --repeats draws, after a
// warm-up draw), whether the preview meets the 300 ms target, and for the latent browser
// (the Latent mode) one latent decoded as a direction slider moves (median) and the map of
// 2,000 drawn (and, for the VAE family, 2,000 encoded) points with their images.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "common/cpu.h"
#include "models/request.h"
#include "run/runsampler.h"

namespace {

constexpr int kPreviewSteps = 10;  // SteerPanel's kPreviewSteps

bool isDiffusion(const std::string& m) {
    return m == "ddpm" || m == "latent-ddpm";
}

double medianMs(ll::RunSampler& sampler, const ll::SampleRequest& request, int repeats) {
    std::vector<double> ms;
    for (int i = 0; i <= repeats; ++i) {
        auto r = request;
        r.seed = request.seed + std::uint64_t(i);  // a slider change redraws; new work each time
        const auto start = std::chrono::steady_clock::now();
        auto grid = sampler.grid(r, 10);
        const auto end = std::chrono::steady_clock::now();
        if (!grid) {
            std::fprintf(stderr, "  %s\n", grid.error().message.c_str());
            return -1;
        }
        if (i > 0) ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

// The latent browser: a direction slider moved decodes one latent.
double decodeMs(ll::RunSampler& sampler, int repeats) {
    const int dims = sampler.latentDims();
    if (dims == 0) return -1;
    std::vector<double> ms;
    for (int i = 0; i <= repeats; ++i) {
        std::vector<float> z(std::size_t(dims), 0.1f * float(i));
        const auto start = std::chrono::steady_clock::now();
        auto grid = sampler.decode(z, {.count = 1, .guidance = 2.0}, 1);
        const auto end = std::chrono::steady_clock::now();
        if (!grid) return -1;
        if (i > 0) ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

double mapSeconds(ll::RunSampler& sampler) {
    ll::SampleGrid images;
    const auto start = std::chrono::steady_clock::now();
    auto map = sampler.latentMap(2000, 0, 8, &images, false);
    const auto end = std::chrono::steady_clock::now();
    return map ? std::chrono::duration<double>(end - start).count() : -1;
}

}  // namespace

int main(int argc, char** argv) {
    ll::applyCpuSettings();
    int repeats = 5;
    std::vector<std::string> runs;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--repeats" && i + 1 < argc)
            repeats = std::max(1, std::atoi(argv[++i]));
        else
            runs.push_back(a);
    }
    if (runs.empty()) {
        std::fprintf(stderr, "usage: bench_steer [--repeats N] RUN...\n");
        return 2;
    }
    std::printf("%-28s %-12s %12s %12s  %-16s %12s %10s\n", "run", "model", "preview ms", "full ms",
                "preview < 300 ms", "decode 1 ms", "map s");
    for (const auto& run : runs) {
        auto opened = ll::RunSampler::open(run);
        if (!opened) {
            std::fprintf(stderr, "%s: %s\n", run.c_str(), opened.error().message.c_str());
            continue;
        }
        auto& sampler = **opened;
        if (!sampler.generates() || sampler.tabular()) continue;
        const std::string model = sampler.modelName();
        ll::SampleRequest full{.count = 100, .seed = 1, .guidance = isDiffusion(model) ? 2.0 : 0};
        auto preview = full;
        if (model == "ddpm") preview.steps = kPreviewSteps;
        const double p = medianMs(sampler, preview, repeats);
        const double f = model == "ddpm" ? medianMs(sampler, full, 1) : p;
        const double d = decodeMs(sampler, repeats);
        const double m = mapSeconds(sampler);
        std::printf("%-28.28s %-12s %12.1f %12.1f  %-16s %12.1f %10.2f\n",
                    std::filesystem::path(run).filename().c_str(), model.c_str(), p, f,
                    p < 0     ? "error"
                    : p < 300 ? "yes"
                              : "no",
                    d, m);
        std::fflush(stdout);
    }
    return 0;
}
