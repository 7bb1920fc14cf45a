#include "models/syncbatchnorm.h"

#include <torch/torch.h>

#include "models/collectives.h"

namespace ll {

namespace {

// A sum over every rank that autograd can go back through: the gradient of a rank's
// contribution is the sum of every rank's gradient of the total.
struct AllReduceSum : torch::autograd::Function<AllReduceSum> {
    static torch::Tensor forward(torch::autograd::AutogradContext* context, torch::Tensor x,
                                 Collectives* collectives) {
        context->saved_data["collectives"] = reinterpret_cast<std::int64_t>(collectives);
        std::vector<torch::Tensor> sums{x.clone()};
        collectives->allReduceSum(sums);
        return sums[0];
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                   torch::autograd::variable_list grads) {
        auto* collectives =
            reinterpret_cast<Collectives*>(context->saved_data["collectives"].toInt());
        std::vector<torch::Tensor> sums{grads[0].contiguous().clone()};
        collectives->allReduceSum(sums);
        return {sums[0], torch::Tensor()};
    }
};

}  // namespace

SyncBatchNorm2dImpl::SyncBatchNorm2dImpl(std::int64_t channels, double momentum, double eps)
    : m_momentum(momentum), m_eps(eps) {
    weight = register_parameter("weight", torch::ones({channels}));
    bias = register_parameter("bias", torch::zeros({channels}));
    running_mean = register_buffer("running_mean", torch::zeros({channels}));
    running_var = register_buffer("running_var", torch::ones({channels}));
    num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
}

torch::Tensor SyncBatchNorm2dImpl::forward(const torch::Tensor& x) {
    if (is_training()) {
        torch::NoGradGuard noGrad;
        num_batches_tracked += 1;
    }
    if (is_training() && m_collectives && m_collectives->worldSize() > 1)
        return forwardAcrossRanks(x);
    return torch::batch_norm(x, weight, bias, running_mean, running_var, is_training(), m_momentum,
                             m_eps, at::globalContext().userEnabledCuDNN());
}

torch::Tensor SyncBatchNorm2dImpl::forwardAcrossRanks(const torch::Tensor& input) {
    // In fp32 whatever the layer before computed in (bf16 under "precision"): E[x^2] - E[x]^2
    // cancels, and the count must be exact.
    const auto x = input.to(torch::kFloat);
    const std::int64_t channels = x.size(1);
    // One all-reduce for the count, the sums and the sums of squares of every channel.
    const auto count = torch::full({1}, static_cast<double>(x.numel() / channels), x.options());
    auto totals = AllReduceSum::apply(torch::cat({x.sum({0, 2, 3}), (x * x).sum({0, 2, 3}), count}),
                                      m_collectives);
    const auto n = totals.slice(0, 2 * channels, 2 * channels + 1);
    const auto mean = totals.slice(0, 0, channels) / n;
    const auto variance = (totals.slice(0, channels, 2 * channels) / n - mean * mean).clamp_min(0);
    {
        torch::NoGradGuard noGrad;
        const double total = n.item<double>();
        running_mean.mul_(1 - m_momentum).add_(mean.detach(), m_momentum);
        running_var.mul_(1 - m_momentum)
            .add_(variance.detach() * (total / std::max(1.0, total - 1)), m_momentum);
    }
    const auto scale = (weight * torch::rsqrt(variance + m_eps)).view({1, channels, 1, 1});
    return (x - mean.view({1, channels, 1, 1})) * scale + bias.view({1, channels, 1, 1});
}

}  // namespace ll
