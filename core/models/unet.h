#pragma once

// Networks of the diffusion family: the noise-predicting U-Net and the time-conditioned
// classifier that guides it. Torch-heavy: include from model sources only.

#include <torch/torch.h>

namespace ll {

/// Transformer-style sinusoidal features of `values` (float or int, N): N x dim.
torch::Tensor sinusoidalEmbedding(const torch::Tensor& values, int dim);

/// GroupNorm - SiLU - conv, twice, with the embedding added between (Ho et al. 2020), and a
/// 1x1 skip where the channel count changes.
struct ResBlockImpl : torch::nn::Module {
    ResBlockImpl(int in, int out, int embedding);
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& embedding);

    torch::nn::GroupNorm norm1{nullptr}, norm2{nullptr};
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, skip{nullptr};
    torch::nn::Linear project{nullptr};
};
TORCH_MODULE(ResBlock);

/// A three-level U-Net (width, 2 width, 4 width channels at H, H/2, H/4) that predicts the
/// noise in x_t from t and the class; class `numClasses` is "no class", the unconditional
/// model that classifier-free guidance needs. H and W must be multiples of 4. Resolution
/// changes by strided convolution down and convolution plus nearest upsampling up
/// (ConvTranspose2d has no fast CPU path in LibTorch 1.13).
struct UNetImpl : torch::nn::Module {
    UNetImpl(int channels, int width, int numClasses);
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t,
                          const torch::Tensor& labels);

    int width;
    torch::nn::Linear time1{nullptr}, time2{nullptr};
    torch::nn::Embedding classes{nullptr};
    torch::nn::Conv2d stem{nullptr}, down1{nullptr}, down2{nullptr};
    ResBlock enc0{nullptr}, enc1{nullptr}, enc2{nullptr}, mid1{nullptr}, mid2{nullptr};
    ResBlock dec2{nullptr}, dec1{nullptr}, dec0{nullptr};
    torch::nn::Conv2d up1{nullptr}, up0{nullptr};
    torch::nn::GroupNorm outNorm{nullptr};
    torch::nn::Conv2d out{nullptr};
};
TORCH_MODULE(UNet);

/// A small ResNet classifier of noisy images. It sees the noise level as log-SNR
/// log(alphaBar / (1 - alphaBar)), not as a timestep, so it guides models with any schedule.
struct NoisyClassifierNetImpl : torch::nn::Module {
    NoisyClassifierNetImpl(int channels, int width, int numClasses);
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& alphaBar);

    int width;
    torch::nn::Linear level1{nullptr}, level2{nullptr};
    torch::nn::Conv2d stem{nullptr}, down1{nullptr}, down2{nullptr};
    ResBlock block0{nullptr}, block1{nullptr}, block2{nullptr};
    torch::nn::GroupNorm outNorm{nullptr};
    torch::nn::Linear head{nullptr};
};
TORCH_MODULE(NoisyClassifierNet);

}  // namespace ll
