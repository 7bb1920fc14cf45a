#pragma once

// Fused paths of the convolutional networks on the CPU: GroupNorm + SiLU as one kernel in
// channels-last memory, for the forward and, under autograd, its backward. LibTorch 1.13's own
// channels-last GroupNorm is 14x slower than its contiguous one, which is why these networks
// gained nothing from channels-last before. Measured in bench_sample's ddpm rows and
// bench_train's ddpm and noisy-classifier rows.

#include <ATen/core/Tensor.h>

namespace ll {

/// True when a forward may keep its activations channels-last and fuse its group norms: no
/// autocast is on and `x` is a float32 CPU tensor (with or without gradients).
bool cpuChannelsLastPath(const at::Tensor& x);

/// True when a forward may also do what autograd would not allow (add in place): the above,
/// and no gradients are recorded.
bool cpuInferencePath(const at::Tensor& x);

/// silu(group_norm(x + channelBias, groups, gamma, beta, eps)), as torch::silu over
/// torch::group_norm computes it (to float rounding). `x` is N x C x H x W; `channelBias`, when
/// defined, is N x C, added to every pixel of its sample's channel before the statistics are
/// taken (the U-Net's embedding, added after its first convolution). Fused for a float32 CPU
/// `x` in channels-last memory outside autocast, differentiable in x, gamma, beta and the bias
/// (once: the backward itself is not differentiated); any other `x` takes ATen's operators.
/// The result has `x`'s memory layout.
at::Tensor groupNormSiLU(const at::Tensor& x, std::int64_t groups, const at::Tensor& gamma,
                         const at::Tensor& beta, double eps, const at::Tensor& channelBias);

}  // namespace ll
