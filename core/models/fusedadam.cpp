#include "models/fusedadam.h"

#include <cmath>
#include <cstdint>

#include <ATen/Parallel.h>
#include <ATen/ops/_foreach_add.h>
#include <ATen/ops/_foreach_addcdiv.h>
#include <ATen/ops/_foreach_addcmul.h>
#include <ATen/ops/_foreach_div.h>
#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/_foreach_sqrt.h>

#include "common/vectorloop.h"
#include "models/collectives.h"

namespace ll {

namespace {

struct AdamScalars {
    float beta1, oneMinusBeta1, beta2, oneMinusBeta2, sqrtBiasCorrection2, eps, stepSize;
};

LL_VECTOR_LOOP void adamRange(float* __restrict p, const float* __restrict g, float* __restrict m,
                              float* __restrict v, std::int64_t n, AdamScalars s) {
    for (std::int64_t i = 0; i < n; ++i) {
        const float gi = g[i];
        // LibTorch's order: exp_avg.mul_(b1).add_(g, 1 - b1); exp_avg_sq.mul_(b2)
        // .addcmul_(g, g, 1 - b2); denom = sqrt(exp_avg_sq) / sqrt(bc2) + eps;
        // p.addcdiv_(exp_avg, denom, -lr / bc1).
        const float mi = m[i] * s.beta1 + s.oneMinusBeta1 * gi;
        const float vi = v[i] * s.beta2 + s.oneMinusBeta2 * (gi * gi);
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] - s.stepSize * (mi / (__builtin_sqrtf(vi) / s.sqrtBiasCorrection2 + s.eps));
    }
}

LL_VECTOR_LOOP void emaRange(float* __restrict t, const float* __restrict s, std::int64_t n,
                             float decay, float rest) {
    for (std::int64_t i = 0; i < n; ++i) t[i] = t[i] * decay + rest * s[i];
}

bool fusable(const torch::Tensor& t) {
    return t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat32 &&
           t.is_contiguous() && !t.is_sparse();
}

// Big enough that a thread's share outweighs waking it.
constexpr std::int64_t kGrain = 1 << 15;

}  // namespace

void FusedAdam::averageGradients() {
    std::vector<torch::Tensor> grads;
    for (const auto& group : param_groups_)
        for (const auto& p : group.params())
            if (p.grad().defined()) grads.push_back(p.grad());
    if (grads.empty()) return;
    m_collectives->allReduceSum(grads);
    // The sums come back in new tensors (or the same ones): the mean goes into the gradients.
    torch::NoGradGuard noGrad;
    const double scale = 1.0 / m_collectives->worldSize();
    std::size_t i = 0;
    for (const auto& group : param_groups_)
        for (const auto& p : group.params())
            if (p.grad().defined()) {
                auto& sum = grads[i++];
                if (sum.is_same(p.grad())) {
                    p.grad().mul_(scale);
                } else {
                    p.grad().copy_(sum).mul_(scale);
                }
            }
}

FusedAdam::Path FusedAdam::choosePath() const {
    bool allFusable = true;
    for (const auto& group : param_groups_) {
        const auto& options = static_cast<const torch::optim::AdamOptions&>(group.options());
        if (options.weight_decay() != 0 || options.amsgrad()) return Path::LibTorch;
        for (const auto& p : group.params()) {
            const auto& g = p.grad();
            if (!g.defined()) continue;
            if (g.is_sparse() || !p.is_floating_point() || g.sizes() != p.sizes() ||
                g.scalar_type() != p.scalar_type() || g.device() != p.device())
                return Path::LibTorch;
            allFusable = allFusable && fusable(p) && fusable(g);
        }
    }
    return allFusable ? Path::Fused : Path::MultiTensor;
}

torch::optim::AdamParamState& FusedAdam::stateOf(const torch::Tensor& p) {
    const auto key = optimizerStateKey(state_, p);
    auto found = state_.find(key);
    if (found == state_.end()) {
        auto fresh = std::make_unique<torch::optim::AdamParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        found = state_.emplace(key, std::move(fresh)).first;
    }
    return static_cast<torch::optim::AdamParamState&>(*found->second);
}

torch::Tensor FusedAdam::step(LossClosure closure) {
    if (m_collectives && m_collectives->worldSize() > 1) averageGradients();
    const Path path = choosePath();
    if (path == Path::LibTorch) return torch::optim::Adam::step(std::move(closure));
    torch::NoGradGuard noGrad;
    torch::Tensor loss;
    if (closure != nullptr) {
        at::AutoGradMode enableGrad(true);
        loss = closure();
    }
    for (auto& group : param_groups_) {
        if (path == Path::Fused)
            fusedStep(group);
        else
            multiTensorStep(group);
    }
    return loss;
}

void FusedAdam::fusedStep(torch::optim::OptimizerParamGroup& group) {
    auto& options = static_cast<torch::optim::AdamOptions&>(group.options());
    const double beta1 = std::get<0>(options.betas());
    const double beta2 = std::get<1>(options.betas());
    for (auto& p : group.params()) {
        if (!p.grad().defined()) continue;
        auto& state = stateOf(p);
        auto& m = state.exp_avg();
        auto& v = state.exp_avg_sq();
        if (!fusable(m) || !fusable(v)) {  // a loaded state in another layout
            m = m.contiguous().to(torch::kFloat32);
            v = v.contiguous().to(torch::kFloat32);
        }
        state.step(state.step() + 1);
        const double bc1 = 1 - std::pow(beta1, static_cast<double>(state.step()));
        const double bc2 = 1 - std::pow(beta2, static_cast<double>(state.step()));
        const AdamScalars s{static_cast<float>(beta1),
                            static_cast<float>(1 - beta1),
                            static_cast<float>(beta2),
                            static_cast<float>(1 - beta2),
                            static_cast<float>(std::sqrt(bc2)),
                            static_cast<float>(options.eps()),
                            static_cast<float>(options.lr() / bc1)};
        float* pp = p.data_ptr<float>();
        const float* gp = p.grad().data_ptr<float>();
        float* mp = m.data_ptr<float>();
        float* vp = v.data_ptr<float>();
        at::parallel_for(0, p.numel(), kGrain, [&](std::int64_t begin, std::int64_t end) {
            adamRange(pp + begin, gp + begin, mp + begin, vp + begin, end - begin, s);
        });
    }
}

void FusedAdam::multiTensorStep(torch::optim::OptimizerParamGroup& group) {
    auto& options = static_cast<torch::optim::AdamOptions&>(group.options());
    const double beta1 = std::get<0>(options.betas());
    const double beta2 = std::get<1>(options.betas());
    std::vector<torch::Tensor> params, grads, ms, vs;
    std::vector<c10::Scalar> sqrtBc2, negStepSize;
    for (auto& p : group.params()) {
        if (!p.grad().defined()) continue;
        auto& state = stateOf(p);
        for (auto* moment : {&state.exp_avg(), &state.exp_avg_sq()})
            if (moment->scalar_type() != p.scalar_type() || moment->device() != p.device())
                *moment = moment->to(p.options());  // a state loaded on the CPU, say
        state.step(state.step() + 1);
        const double bc1 = 1 - std::pow(beta1, static_cast<double>(state.step()));
        const double bc2 = 1 - std::pow(beta2, static_cast<double>(state.step()));
        params.push_back(p);
        grads.push_back(p.grad());
        ms.push_back(state.exp_avg());
        vs.push_back(state.exp_avg_sq());
        sqrtBc2.emplace_back(std::sqrt(bc2));
        negStepSize.emplace_back(-options.lr() / bc1);
    }
    if (params.empty()) return;
    // LibTorch's formula and order, a handful of launches for the whole group.
    at::_foreach_mul_(ms, beta1);
    at::_foreach_add_(ms, grads, 1 - beta1);
    at::_foreach_mul_(vs, beta2);
    at::_foreach_addcmul_(vs, grads, grads, 1 - beta2);
    auto denom = at::_foreach_sqrt(vs);
    at::_foreach_div_(denom, sqrtBc2);
    at::_foreach_add_(denom, options.eps());
    at::_foreach_addcdiv_(params, ms, denom, negStepSize);
}

void fusedEma(const std::vector<torch::Tensor>& target, const std::vector<torch::Tensor>& source,
              double decay) {
    torch::NoGradGuard noGrad;
    const auto d = static_cast<float>(decay);
    const auto rest = static_cast<float>(1 - decay);
    for (std::size_t i = 0; i < target.size(); ++i) {
        const auto& t = target[i];
        const auto& s = source[i];
        if (!fusable(t) || !fusable(s) || t.sizes() != s.sizes()) {
            t.mul_(decay).add_(s, 1 - decay);
            continue;
        }
        float* tp = t.data_ptr<float>();
        const float* sp = s.data_ptr<float>();
        at::parallel_for(0, t.numel(), kGrain, [&](std::int64_t begin, std::int64_t end) {
            emaRange(tp + begin, sp + begin, end - begin, d, rest);
        });
    }
}

}  // namespace ll
