#include "models/diffusionsampler.h"

#include <cmath>
#include <stdexcept>

#include "models/layers.h"
#include "models/model.h"

namespace ll {

namespace {

// Classifier-free guidance: the conditional and unconditional predictions in one batch.
torch::Tensor guidedEps(const EpsFn& eps, const torch::Tensor& x, const torch::Tensor& t,
                        const DiffusionSampling& s, double guidance) {
    if (guidance == 0) return eps(x, t, s.labels);
    auto none = nullCondition(s.labels, s.nullLabel);
    auto both = eps(torch::cat({x, x}), torch::cat({t, t}), torch::cat({s.labels, none}));
    auto parts = both.chunk(2, 0);
    return (1 + guidance) * parts[0] - guidance * parts[1];
}

// The guidance of one step: the request's, or the live values where a draw follows a slider.
struct StepGuidance {
    double guidance, classifierScale, from, to;
};
StepGuidance stepGuidance(const DiffusionSampling& s) {
    if (!s.live) return {s.guidance, s.classifierScale, s.guidanceFrom, s.guidanceTo};
    return {s.live->guidance.load(), s.live->classifierScale.load(), s.live->guidanceFrom.load(),
            s.live->guidanceTo.load()};
}

}  // namespace

torch::Tensor sampleDiffusion(const EpsFn& eps, const DiffusionSampling& s) {
    if (!s.schedule) throw std::logic_error("sampleDiffusion without a schedule");
    const NoiseSchedule& schedule = *s.schedule;
    const auto timesteps = schedule.respaced(s.steps);
    const auto n = s.shape.front();
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(s.seed);
    auto x = torch::randn(s.shape, gen).to(s.device);
    if (s.initial.defined()) x = s.initial.reshape(s.shape).to(s.device, x.scalar_type());
    const int total = static_cast<int>(timesteps.size());
    auto report = [&](const torch::Tensor& x0, std::size_t i) {
        if (s.onStep && !s.onStep(total - static_cast<int>(i), total, x0)) throw SamplingStopped();
    };
    for (std::size_t i = timesteps.size(); i-- > 0;) {
        const int step = timesteps[i];
        const double ab = schedule.alphaBar(step);
        const double abPrev = i > 0 ? schedule.alphaBar(timesteps[i - 1]) : 1.0;
        auto t = torch::full({n}, std::int64_t(step),
                             torch::TensorOptions(s.device).dtype(torch::kInt64));
        const double level = double(step) / double(schedule.timesteps());
        const StepGuidance g = stepGuidance(s);
        const bool guided = level >= g.from && level <= g.to;
        auto e = guidedEps(eps, x, t, s, guided ? g.guidance : 0.0);
        torch::Tensor gradient;
        if (s.classifierGradient && guided && g.classifierScale != 0)
            gradient =
                g.classifierScale *
                s.classifierGradient(x, torch::full({n}, ab, torch::TensorOptions(s.device)));
        if (s.sampler == Sampler::Ddim) {
            // eta = 0 (Song et al. 2021); classifier guidance shifts the noise estimate.
            if (gradient.defined()) e = e - std::sqrt(1 - ab) * gradient;
            auto x0 = (x - std::sqrt(1 - ab) * e) / std::sqrt(ab);
            if (s.clip > 0) {
                x0 = x0.clamp(-s.clip, s.clip);
                e = (x - std::sqrt(ab) * x0) / std::sqrt(1 - ab);
            }
            x = std::sqrt(abPrev) * x0 + std::sqrt(1 - abPrev) * e;
            report(x0, i);
            continue;
        }
        // Ancestral DDPM on the respaced chain: beta = 1 - abar_t / abar_prev, posterior
        // variance beta (1 - abar_prev) / (1 - abar_t) (Nichol & Dhariwal 2021).
        const double beta = 1 - ab / abPrev;
        auto x0 = (x - std::sqrt(1 - ab) * e) / std::sqrt(ab);
        if (s.clip > 0) x0 = x0.clamp(-s.clip, s.clip);
        const double variance = beta * (1 - abPrev) / (1 - ab);
        auto mean = (std::sqrt(abPrev) * beta / (1 - ab)) * x0 +
                    (std::sqrt(1 - beta) * (1 - abPrev) / (1 - ab)) * x;
        if (gradient.defined()) mean = mean + variance * gradient;
        x = i > 0 ? mean + std::sqrt(variance) * torch::randn(s.shape, gen).to(s.device) : mean;
        report(x0, i);
    }
    return x;
}

GradientFn classifierGuidance(const SampleRequest& request, const ModelShape& shape,
                              const torch::Tensor& labels) {
    if (!request.classifier) return {};
    GenerativeModel* classifier = request.classifier;
    if (!classifier->classifiesNoisy())
        throw std::invalid_argument("classifier guidance needs a noisy classifier; '" +
                                    classifier->name() + "' sees only clean data");
    const ModelShape& c = classifier->shape();
    if (c.tabular() != shape.tabular() || c.channels != shape.channels ||
        c.height != shape.height || c.width != shape.width || c.features != shape.features ||
        c.numClasses != shape.numClasses)
        throw std::invalid_argument(
            "the guiding classifier was trained on other data (its input shape or classes differ)");
    return [classifier, labels](const torch::Tensor& x, const torch::Tensor& alphaBar) {
        torch::AutoGradMode enable(true);
        auto input = x.detach().requires_grad_(true);
        auto logits = classifier->classifyNoisy(input, alphaBar);
        auto logP = torch::log_softmax(logits, 1);
        // A mixture pulls towards each class by its weight.
        auto chosen = labels.is_floating_point()
                          ? (logP * labels.to(logits.device()).slice(1, 0, logP.size(1))).sum()
                          : logP.gather(1, labels.to(logits.device()).unsqueeze(1)).sum();
        auto gradient = torch::autograd::grad({chosen}, {input})[0];
        return gradient.detach();
    };
}

}  // namespace ll
