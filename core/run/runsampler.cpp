#include "run/runsampler.h"

#include <torch/torch.h>

#include "common/cpu.h"
#include "data/dataset.h"
#include "image/grid.h"
#include "run/runloader.h"

namespace ll {

struct RunSampler::Impl {
    OpenedRun run;
    std::optional<OpenedRun> classifier;
    std::filesystem::path classifierDir;

    SampleRequest withClassifier(SampleRequest r) const {
        r.classifier = classifier && r.classifierScale != 0 ? classifier->model.get() : nullptr;
        return r;
    }
};

RunSampler::RunSampler() : m_impl(std::make_unique<Impl>()) {}
RunSampler::~RunSampler() = default;

Result<std::unique_ptr<RunSampler>> RunSampler::open(const std::filesystem::path& run,
                                                     std::optional<std::int64_t> step) {
    auto opened = openRun(run, step);
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
    auto opened = openRun(run);
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
        std::string what = e.what();
        if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
        return fail(what);
    }
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
    SampleRequest r = m_impl->withClassifier(request);
    if (onStep)
        r.onStep = [&](int done, int total, const torch::Tensor& preview) {
            auto g = makeGrid(preview, cols, rowLabels);
            g.step = step();
            return onStep(g, done, total);
        };
    return guarded([&]() -> Result<SampleGrid> {
        // Samples first: the step callback reads rowLabels while they are drawn.
        const auto samples = m_impl->run.model->sample(r);
        return makeGrid(samples, cols, std::move(rowLabels));
    });
}

Result<SampleGrid> RunSampler::classGrid(std::uint64_t seed, int cols, int maxRows,
                                         SampleRequest settings, const StepFn& onStep) {
    const auto& names = data().classNames;
    const int rows = std::min<int>(static_cast<int>(names.size()), std::max(1, maxRows));
    settings.count = std::int64_t(rows) * std::max(1, cols);
    settings.seed = seed;
    settings.labels.clear();
    std::vector<std::string> labels;
    for (int r = 0; r < rows; ++r) {
        labels.push_back(names[static_cast<std::size_t>(r)]);
        for (int c = 0; c < std::max(1, cols); ++c) settings.labels.push_back(r);
    }
    auto out = grid(settings, cols, std::move(labels), onStep);
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
                           d.std, d.classNames);
        t.step = step();
        return t;
    });
}

}  // namespace ll
