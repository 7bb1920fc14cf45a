#include "run/runsampler.h"

#include <algorithm>

#include <torch/torch.h>

#include "common/cpu.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "image/grid.h"
#include "run/runloader.h"
#include "sample/classrows.h"
#include "sample/interpolate.h"

namespace ll {

struct RunSampler::Impl {
    LoadedRun run;
    std::optional<LoadedRun> classifier;
    std::filesystem::path classifierDir;
    std::optional<Dataset> dataset;  // the training data, loaded for the latent map

    SampleRequest withClassifier(SampleRequest r) const {
        // A live draw may turn classifier guidance on midway: it gets the classifier too.
        r.classifier =
            classifier && (r.classifierScale != 0 || r.live) ? classifier->model.get() : nullptr;
        return r;
    }
};

RunSampler::RunSampler() : m_impl(std::make_unique<Impl>()) {}
RunSampler::~RunSampler() = default;

Result<std::unique_ptr<RunSampler>> RunSampler::open(const std::filesystem::path& run,
                                                     std::optional<std::int64_t> step) {
    auto opened = loadRun(run, step);
    if (!opened) return tl::unexpected(opened.error());
    std::unique_ptr<RunSampler> sampler(new RunSampler());
    sampler->m_impl->run = std::move(*opened);
    return sampler;
}

const RunData& RunSampler::data() const {
    return m_impl->run.data;
}
const TrainConfig& RunSampler::config() const {
    return m_impl->run.config;
}
std::int64_t RunSampler::step() const {
    return m_impl->run.step;
}
std::string RunSampler::modelName() const {
    return m_impl->run.model->name();
}
bool RunSampler::generates() const {
    return m_impl->run.model->generates();
}
bool RunSampler::tabular() const {
    return m_impl->run.data.shape.tabular();
}

Result<void> RunSampler::setGuidingClassifier(const std::filesystem::path& run) {
    if (run.empty()) {
        m_impl->classifier.reset();
        m_impl->classifierDir.clear();
        return {};
    }
    if (m_impl->classifier && m_impl->classifierDir == run) return {};
    auto opened = loadRun(run);
    if (!opened) return tl::unexpected(opened.error());
    if (!opened->model->classifiesNoisy())
        return fail(run.string() + " is a " + opened->model->name() +
                    " run; classifier guidance needs a noisy-classifier run");
    m_impl->classifier = std::move(*opened);
    m_impl->classifierDir = run;
    return {};
}

bool RunSampler::hasGuidingClassifier() const {
    return m_impl->classifier.has_value();
}

namespace {

// Model errors (a bad class, guidance a model cannot do) arrive as exceptions.
template <typename F>
auto guarded(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const std::exception& e) {
        const std::string what = firstLine(e);
        return fail(what);
    }
}

// The latents a request starts from, with its locked tiles' latents put in.
torch::Tensor startLatents(GenerativeModel& model, const SampleRequest& r) {
    auto z = model.latents(r);
    if (r.pinned.empty()) return z;
    z = z.clone();
    for (const auto& pin : r.pinned) {
        if (pin.tile < 0 || pin.tile >= z.size(0)) continue;  // the grid has fewer tiles now
        if (pin.count < 1 || pin.count > 100000 || pin.index < 0 || pin.index >= pin.count)
            throw std::invalid_argument("a locked tile names sample " + std::to_string(pin.index) +
                                        " of a draw of " + std::to_string(pin.count));
        SampleRequest source = r;
        source.seed = pin.seed;
        source.count = pin.count;
        z[pin.tile].copy_(model.latents(source)[pin.index]);
    }
    return z;
}

// A request whose onStep hands the step's predictions on as a grid.
SampleRequest withStepGrids(SampleRequest r, const RunSampler::StepFn& onStep, int cols,
                            const std::vector<std::string>& rowLabels, std::int64_t step) {
    if (onStep)
        r.onStep = [&onStep, cols, &rowLabels, step](int done, int total,
                                                     const torch::Tensor& preview) {
            auto g = makeGrid(preview, cols, rowLabels);
            g.step = step;
            return onStep(g, done, total);
        };
    return r;
}

}  // namespace

Result<SampleGrid> RunSampler::grid(const SampleRequest& request, int cols,
                                    std::vector<std::string> rowLabels, const StepFn& onStep) {
    if (!generates()) return fail(modelName() + " runs have nothing to sample");
    if (tabular()) return fail("this run generates table rows, not images");
    if (request.count < 1) return fail("nothing to sample (count is 0)");
    // The cores go to the pool this model's work needs (a GAN's convolutions, a VAE's matrix
    // products); process-wide, like every thread setting.
    applyThreadSettings(m_impl->run.model->workload());
    cols = std::max(1, cols);
    const SampleRequest r =
        withStepGrids(m_impl->withClassifier(request), onStep, cols, rowLabels, step());
    return guarded([&]() -> Result<SampleGrid> {
        // Samples first: the step callback reads rowLabels while they are drawn.
        auto& model = *m_impl->run.model;
        const auto samples = r.pinned.empty() || !model.hasLatents()
                                 ? model.sample(r)
                                 : model.decodeLatents(startLatents(model, r), r);
        return makeGrid(samples, cols, std::move(rowLabels));
    });
}

Result<SampleGrid> RunSampler::classGrid(std::uint64_t seed, int cols, int maxRows,
                                         SampleRequest settings, const StepFn& onStep) {
    auto rows = classRows(modelName(), data().classNames, maxRows, cols);
    settings.count = std::int64_t(rows.labels.size());
    settings.seed = seed;
    settings.labels = std::move(rows.labels);
    auto out = grid(settings, cols, std::move(rows.names), onStep);
    if (out) out->step = step();
    return out;
}

Result<TableSamples> RunSampler::table(const SampleRequest& request) {
    if (!generates()) return fail(modelName() + " runs have nothing to sample");
    if (!tabular()) return fail("this run generates images, not table rows");
    if (request.count < 1) return fail("nothing to sample (count is 0)");
    return guarded([&]() -> Result<TableSamples> {
        const auto& d = data();
        auto rows = m_impl->run.model->sample(m_impl->withClassifier(request));
        std::vector<std::int64_t> labels;
        for (std::int64_t i = 0; i < request.count; ++i)
            labels.push_back(
                request.labels.empty()
                    ? i % d.shape.numClasses
                    : request.labels[static_cast<std::size_t>(i) % request.labels.size()]);
        auto t = makeTable(rows, torch::tensor(labels, torch::kInt64), d.featureNames, d.mean,
                           d.std, d.classNames, d.categorical, d.decimals);
        t.step = step();
        return t;
    });
}

bool RunSampler::hasLatents() const {
    return m_impl->run.model->hasLatents();
}

int RunSampler::latentDims() const {
    if (!hasLatents()) return 0;
    return int(m_impl->run.model->latents(SampleRequest{.count = 1}).numel());
}

Result<LatentMap> RunSampler::latentMap(std::int64_t count, std::uint64_t seed, int directions,
                                        SampleGrid* images, bool decodeDrawn) {
    if (tabular()) return fail("the latent browser shows images; this run generates table rows");
    auto& model = *m_impl->run.model;
    applyThreadSettings(model.workload());
    std::string note;
    if (model.encodes() && !m_impl->dataset) {
        // Without its data (moved, say) the map still shows what the model draws.
        auto loaded = loadDataset(config().dataset);
        if (!loaded)
            note = "The run's data could not be loaded (" + loaded.error().message +
                   "): drawn latents only.";
        else if (loaded->classNames != data().classNames)
            note = config().dataset.source +
                   " has other classes than the run's data now: drawn latents only.";
        else
            m_impl->dataset = std::move(*loaded);
    }
    const Dataset* dataset = model.encodes() && m_impl->dataset ? &*m_impl->dataset : nullptr;
    auto map = buildLatentMap(model, dataset, count, seed, directions);
    if (map) map->note = note;
    if (!map || !images) return map;
    return guarded([&]() -> Result<LatentMap> {
        const auto& shape = data().shape;
        const auto n = std::int64_t(map->x.size());
        auto all = torch::zeros({n, shape.channels, shape.height, shape.width});
        const auto z = torch::tensor(map->latents).view({n, map->dims});
        // Drawn points first, then the real ones (buildLatentMap's order).
        const auto drawn = std::int64_t(std::count(map->real.begin(), map->real.end(), 0));
        if (drawn < n) {
            std::vector<std::int64_t> rows(map->index.begin() + drawn, map->index.end());
            all.slice(0, drawn, n)
                .copy_(dataset->x.index_select(0, torch::tensor(rows))
                           .view({n - drawn, shape.channels, shape.height, shape.width}));
        }
        for (std::int64_t start = 0; start < drawn && (decodeDrawn || model.name() != "ddpm");
             start += 500) {
            const auto end = std::min(drawn, start + 500);
            SampleRequest r{.count = end - start, .seed = seed};
            for (auto i = start; i < end && map->label[std::size_t(start)] >= 0; ++i)
                r.labels.push_back(map->label[std::size_t(i)]);
            all.slice(0, start, end)
                .copy_(model.decodeLatents(z.slice(0, start, end), r).to(torch::kCPU));
        }
        *images = makeGrid(all, 64);
        return map;
    });
}

Result<std::vector<float>> RunSampler::latentOf(const SampleRequest& request, std::int64_t index) {
    if (!hasLatents()) return fail(modelName() + " has no latent space");
    if (index < 0 || index >= request.count) return fail("no sample " + std::to_string(index));
    return guarded([&]() -> Result<std::vector<float>> {
        const auto z = startLatents(*m_impl->run.model, request)[index]
                           .flatten()
                           .to(torch::kCPU, torch::kFloat32)
                           .contiguous();
        return std::vector<float>(z.data_ptr<float>(), z.data_ptr<float>() + z.numel());
    });
}

Result<SampleGrid> RunSampler::decode(const std::vector<float>& latents,
                                      const SampleRequest& request, int cols,
                                      const StepFn& onStep) {
    if (tabular()) return fail("this run generates table rows, not images");
    const int dims = latentDims();
    if (dims == 0) return fail(modelName() + " has no latent space");
    if (request.count < 1 || latents.size() != std::size_t(request.count) * std::size_t(dims))
        return fail("expected " + std::to_string(request.count) + " latents of " +
                    std::to_string(dims) + " numbers, got " + std::to_string(latents.size()) +
                    " numbers");
    applyThreadSettings(m_impl->run.model->workload());
    const std::vector<std::string> noLabels;
    const SampleRequest r =
        withStepGrids(m_impl->withClassifier(request), onStep, cols, noLabels, step());
    return guarded([&]() -> Result<SampleGrid> {
        const auto z = torch::tensor(latents).view({request.count, dims});
        auto g = makeGrid(m_impl->run.model->decodeLatents(z, r), std::max(1, cols));
        g.step = step();
        return g;
    });
}

Result<SampleGrid> RunSampler::interpolate(const LatentEnd& from, const LatentEnd& to, int steps,
                                           Interpolation mode, const SampleRequest& base,
                                           const std::filesystem::path& png,
                                           const std::filesystem::path& video) {
    if (tabular()) return fail("this run generates table rows, not images");
    applyThreadSettings(m_impl->run.model->workload());
    auto frames =
        interpolateSamples(*m_impl->run.model, from, to, steps, mode, m_impl->withClassifier(base));
    if (!frames) return tl::unexpected(frames.error());
    auto strip = makeGrid(*frames, steps);
    strip.step = step();
    if (!png.empty())
        if (auto ok = writePng(strip, png); !ok) return tl::unexpected(ok.error());
    if (!video.empty())
        if (auto ok = writeVideo(*frames, video, 12); !ok) return tl::unexpected(ok.error());
    return strip;
}

}  // namespace ll
