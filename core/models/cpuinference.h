#pragma once

// Inference-only fast paths of the convolutional networks on the CPU: what a forward without
// gradients may do that autograd would not allow. Measured in bench_sample's ddpm rows.

#include <ATen/core/Tensor.h>

namespace ll {

/// True when a forward may take the paths below: no gradients are recorded, no autocast is
/// on, and `x` is a float32 CPU tensor.
bool cpuInferencePath(const at::Tensor& x);

/// silu(group_norm(x + channelBias, groups, gamma, beta, eps)) in one pass per sample, as
/// torch::silu over torch::group_norm computes it (to float rounding). `x` is N x C x H x W;
/// `channelBias`, when defined, is N x C, added to every pixel of its sample's channel before
/// the statistics are taken (the U-Net's embedding, added after its first convolution).
/// Fused for a float32 CPU `x` in channels-last memory, the layout the inference forward keeps;
/// any other `x` takes ATen's operators. The result has `x`'s memory layout. No autograd.
at::Tensor groupNormSiLU(const at::Tensor& x, std::int64_t groups, const at::Tensor& gamma,
                         const at::Tensor& beta, double eps, const at::Tensor& channelBias);

}  // namespace ll
