#include "models/unet.h"

#include "models/cpufused.h"
#include "models/layers.h"

#include <cmath>

namespace ll {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {

nn::GroupNorm groupNorm(int channels) {
    return nn::GroupNorm(nn::GroupNormOptions(channels % 8 == 0 ? 8 : 1, channels));
}

nn::Conv2d conv3(int in, int out, int stride = 1) {
    return nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).stride(stride));
}

torch::Tensor upsample(const torch::Tensor& h) {
    return F::interpolate(
        h,
        F::InterpolateFuncOptions().scale_factor(std::vector<double>{2, 2}).mode(torch::kNearest));
}

// The forward's two paths share one description. `fast` (cpuChannelsLastPath: fp32 on the CPU
// outside autocast, with or without gradients) keeps the activations in channels-last memory,
// where oneDNN convolves without reordering them (the weight is made channels-last to match: a
// small copy per call, always of the current weights, through which gradients flow back), and
// fuses GroupNorm and SiLU (cpufused.h): 1.1-1.5x the images/s of pixel ddpm sampling and
// about 1.1-1.3x the training steps/s (bench/README.md). Otherwise (bf16, the GPU) LibTorch's
// modules.
torch::Tensor convolve(nn::Conv2d& conv, const torch::Tensor& x, bool fast) {
    const auto& o = conv->options;
    const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
    if (!fast || !padding || !c10::holds_alternative<torch::enumtype::kZeros>(o.padding_mode()))
        return conv->forward(x);
    // Input and filter channels-last (strides included, even for one input channel), so the
    // result is too; the outer call only makes it dense.
    return channelsLast(torch::conv2d(x, channelsLast(conv->weight), conv->bias, o.stride(),
                                      *padding, o.dilation(), o.groups()));
}

// silu(norm(x + bias)), bias (N x C) added to every pixel of its channel when defined.
torch::Tensor normSiLU(nn::GroupNorm& norm, const torch::Tensor& x, const torch::Tensor& bias,
                       bool fast) {
    if (fast) {
        const auto& o = norm->options;
        return groupNormSiLU(x, o.num_groups(), norm->weight, norm->bias, o.eps(), bias);
    }
    return torch::silu(norm->forward(bias.defined() ? x + bias.unsqueeze(-1).unsqueeze(-1) : x));
}

}  // namespace

torch::Tensor sinusoidalEmbedding(const torch::Tensor& values, int dim) {
    const int half = dim / 2;
    auto options = torch::TensorOptions(values.device()).dtype(torch::kFloat32);
    auto frequencies = torch::exp(torch::arange(half, options) * (-std::log(10000.0) / half));
    auto angles = values.to(torch::kFloat32).unsqueeze(1) * frequencies.unsqueeze(0);
    auto out = torch::cat({angles.sin(), angles.cos()}, 1);
    if (dim % 2) out = F::pad(out, F::PadFuncOptions({0, 1}));
    return out;
}

ResBlockImpl::ResBlockImpl(int in, int out, int embedding) {
    norm1 = register_module("norm1", groupNorm(in));
    conv1 = register_module("conv1", conv3(in, out));
    project = register_module("project", nn::Linear(embedding, out));
    norm2 = register_module("norm2", groupNorm(out));
    conv2 = register_module("conv2", conv3(out, out));
    if (in != out) skip = register_module("skip", nn::Conv2d(nn::Conv2dOptions(in, out, 1)));
}

torch::Tensor ResBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& embedding) {
    const bool fast = cpuChannelsLastPath(x);
    auto h = convolve(conv1, normSiLU(norm1, x, {}, fast), fast);
    h = convolve(conv2, normSiLU(norm2, h, project->forward(embedding), fast), fast);
    auto s = skip ? convolve(skip, x, fast) : x;
    return cpuInferencePath(x) ? h.add_(s) : s + h;
}

UNetImpl::UNetImpl(int channels, int width, int numClasses) : width(width) {
    const int e = 4 * width;
    time1 = register_module("time1", nn::Linear(width, e));
    time2 = register_module("time2", nn::Linear(e, e));
    classes = register_module("classes", nn::Embedding(numClasses + 1, e));
    stem = register_module("stem", conv3(channels, width));
    enc0 = register_module("enc0", ResBlock(width, width, e));
    down1 = register_module("down1", conv3(width, width, 2));
    enc1 = register_module("enc1", ResBlock(width, 2 * width, e));
    down2 = register_module("down2", conv3(2 * width, 2 * width, 2));
    enc2 = register_module("enc2", ResBlock(2 * width, 4 * width, e));
    mid1 = register_module("mid1", ResBlock(4 * width, 4 * width, e));
    mid2 = register_module("mid2", ResBlock(4 * width, 4 * width, e));
    dec2 = register_module("dec2", ResBlock(8 * width, 4 * width, e));
    up1 = register_module("up1", conv3(4 * width, 2 * width));
    dec1 = register_module("dec1", ResBlock(4 * width, 2 * width, e));
    up0 = register_module("up0", conv3(2 * width, width));
    dec0 = register_module("dec0", ResBlock(2 * width, width, e));
    outNorm = register_module("out_norm", groupNorm(width));
    out = register_module("out", conv3(width, channels));
    // Start as "predict no noise": the first steps then refine instead of undoing noise.
    torch::NoGradGuard noGrad;
    out->weight.zero_();
    out->bias.zero_();
}

torch::Tensor UNetImpl::forward(const torch::Tensor& x, const torch::Tensor& t,
                                const torch::Tensor& labels) {
    // In the weights' precision (float, or double where a test compares against one).
    const auto features = sinusoidalEmbedding(t, width).to(time1->weight.scalar_type());
    auto emb = time2->forward(torch::silu(time1->forward(features)));
    emb = torch::silu(emb + embedClasses(classes, labels));
    const bool fast = cpuChannelsLastPath(x);
    auto h0 = enc0->forward(convolve(stem, fast ? channelsLast(x) : x, fast), emb);
    auto h1 = enc1->forward(convolve(down1, h0, fast), emb);
    auto h2 = enc2->forward(convolve(down2, h1, fast), emb);
    auto h = mid2->forward(mid1->forward(h2, emb), emb);
    h = dec2->forward(torch::cat({h, h2}, 1), emb);
    // Convolve before upsampling: a quarter of the cost of convolving after, same receptive
    // field for what the nearest upsampling copies.
    h = dec1->forward(torch::cat({upsample(convolve(up1, h, fast)), h1}, 1), emb);
    h = dec0->forward(torch::cat({upsample(convolve(up0, h, fast)), h0}, 1), emb);
    auto y = convolve(out, normSiLU(outNorm, h, {}, fast), fast);
    return fast ? y.contiguous() : y;
}

NoisyClassifierNetImpl::NoisyClassifierNetImpl(int channels, int width, int numClasses)
    : width(width) {
    const int e = 4 * width;
    level1 = register_module("level1", nn::Linear(width, e));
    level2 = register_module("level2", nn::Linear(e, e));
    stem = register_module("stem", conv3(channels, width));
    block0 = register_module("block0", ResBlock(width, width, e));
    down1 = register_module("down1", conv3(width, width, 2));
    block1 = register_module("block1", ResBlock(width, 2 * width, e));
    down2 = register_module("down2", conv3(2 * width, 2 * width, 2));
    block2 = register_module("block2", ResBlock(2 * width, 4 * width, e));
    outNorm = register_module("out_norm", groupNorm(4 * width));
    head = register_module("head", nn::Linear(4 * width, numClasses));
}

torch::Tensor NoisyClassifierNetImpl::forward(const torch::Tensor& x,
                                              const torch::Tensor& alphaBar) {
    // log-SNR in [-12, 12] mapped onto the 0..1000 range a timestep embedding expects.
    auto ab = alphaBar.to(x.device(), torch::kFloat32).clamp(1e-6, 1 - 1e-6);
    auto level = ((ab / (1 - ab)).log().clamp(-12, 12) + 12) * (1000.0 / 24);
    const auto features = sinusoidalEmbedding(level, width).to(level1->weight.scalar_type());
    auto emb = level2->forward(torch::silu(level1->forward(features)));
    emb = torch::silu(emb);
    const bool fast = cpuChannelsLastPath(x);
    auto h = block0->forward(convolve(stem, fast ? channelsLast(x) : x, fast), emb);
    h = block1->forward(convolve(down1, h, fast), emb);
    h = block2->forward(convolve(down2, h, fast), emb);
    return head->forward(normSiLU(outNorm, h, {}, fast).mean({2, 3}));
}

}  // namespace ll
