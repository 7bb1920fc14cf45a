#pragma once

// Spectral normalisation (Miyato et al. 2018): a layer whose weight is divided by its largest
// singular value, estimated by one step of power iteration per training forward, so that the
// layer is roughly 1-Lipschitz (for a convolution the weight as a matrix bounds it only up to
// the kernel's overlap). A GAN discriminator built of such layers cannot sharpen its verdict
// without bound, which keeps its gradients useful to the generator. Torch-heavy: include from
// model sources only.

#include <torch/torch.h>

namespace ll {

/// The weight divided by its spectral norm. `u` (out) and `v` (in) are the power iteration's
/// vectors, updated in place when `iterate` is true (a training forward); the returned
/// weight's gradient flows through both the weight and the norm, not through u and v.
torch::Tensor spectralNormalised(const torch::Tensor& weight, torch::Tensor& u, torch::Tensor& v,
                                 bool iterate);

/// Buffers u and v for `weight` (out x anything), refined by 15 power iterations as in
/// PyTorch's parametrisation, but started from a unit vector of ones where PyTorch draws a
/// random one: building the layer leaves the random stream as a plain layer leaves it.
void registerPowerIteration(torch::nn::Module& owner, const torch::Tensor& weight, torch::Tensor& u,
                            torch::Tensor& v);

/// A square-kernel Conv2d ("conv": its weight and bias, initialised as torch::nn::Conv2d) with a
/// spectrally normalised weight.
struct SpectralConv2dImpl : torch::nn::Module {
    SpectralConv2dImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                       std::int64_t padding, bool bias = true);
    torch::Tensor forward(const torch::Tensor& x);

    torch::nn::Conv2d conv{nullptr};
    std::int64_t stride, padding;
    torch::Tensor u, v;
};
TORCH_MODULE(SpectralConv2d);

/// A Linear ("linear") with a spectrally normalised weight.
struct SpectralLinearImpl : torch::nn::Module {
    SpectralLinearImpl(std::int64_t in, std::int64_t out);
    torch::Tensor forward(const torch::Tensor& x);

    torch::nn::Linear linear{nullptr};
    torch::Tensor u, v;
};
TORCH_MODULE(SpectralLinear);

}  // namespace ll
