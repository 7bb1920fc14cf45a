#include "models/spectralnorm.h"

namespace ll {

namespace {

constexpr double kEps = 1e-12;  // PyTorch's, for normalize()

torch::Tensor unit(const torch::Tensor& t) {
    return t / t.norm().clamp_min(kEps);
}

/// One power-iteration step on the weight as a matrix: v from u, then u from v.
void powerStep(const torch::Tensor& matrix, torch::Tensor& u, torch::Tensor& v) {
    v = unit(torch::mv(matrix.t(), u));
    u = unit(torch::mv(matrix, v));
}

}  // namespace

torch::Tensor spectralNormalised(const torch::Tensor& weight, torch::Tensor& u, torch::Tensor& v,
                                 bool iterate) {
    const auto matrix = weight.reshape({weight.size(0), -1});
    // Fresh tensors for this forward's graph, never the buffers themselves: they change in
    // place at the next training forward, which must not touch a graph still waiting for its
    // backward. A power step makes fresh ones; without it, copies.
    torch::Tensor left = u, right;
    if (iterate) {
        torch::NoGradGuard noGrad;
        powerStep(matrix.detach(), left, right);
        u.copy_(left);
        v.copy_(right);
    } else {
        left = u.clone();
        right = v.clone();
    }
    const auto sigma = torch::dot(left, torch::mv(matrix, right));
    return weight / sigma;
}

void registerPowerIteration(torch::nn::Module& owner, const torch::Tensor& weight, torch::Tensor& u,
                            torch::Tensor& v) {
    torch::NoGradGuard noGrad;
    const auto matrix = weight.reshape({weight.size(0), -1});
    torch::Tensor left = unit(torch::ones({matrix.size(0)}, matrix.options()));
    torch::Tensor right;
    for (int i = 0; i < 15; ++i) powerStep(matrix, left, right);
    u = owner.register_buffer("u", left);
    v = owner.register_buffer("v", right);
}

SpectralConv2dImpl::SpectralConv2dImpl(std::int64_t in, std::int64_t out, std::int64_t kernel,
                                       std::int64_t stride, std::int64_t padding, bool bias)
    : stride(stride), padding(padding) {
    conv = register_module(
        "conv",
        torch::nn::Conv2d(
            torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(bias)));
    registerPowerIteration(*this, conv->weight, u, v);
}

torch::Tensor SpectralConv2dImpl::forward(const torch::Tensor& x) {
    const auto weight = spectralNormalised(conv->weight, u, v, is_training());
    return torch::conv2d(x, weight, conv->bias, {stride, stride}, {padding, padding});
}

SpectralLinearImpl::SpectralLinearImpl(std::int64_t in, std::int64_t out) {
    linear = register_module("linear", torch::nn::Linear(in, out));
    registerPowerIteration(*this, linear->weight, u, v);
}

torch::Tensor SpectralLinearImpl::forward(const torch::Tensor& x) {
    return torch::linear(x, spectralNormalised(linear->weight, u, v, is_training()), linear->bias);
}

}  // namespace ll
