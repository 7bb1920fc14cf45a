#pragma once

// The VAE family's parts: its encoder-decoder networks (an MLP for any data, a convolutional
// net for images) and the fitted prior it can sample from. Torch-heavy: include from model
// sources only.

#include <torch/torch.h>

#include "models/catalog.h"
#include "models/collectives.h"
#include "models/layers.h"

namespace ll {

/// What the VAE family asks of a network: flat data (N x D) and a condition (N x K, K may be
/// 0) in, the posterior's (mu, logvar) out; latents and a condition in, the flat decoder
/// output (logits for images, means for tabular rows) out.
struct VaeNetImpl : torch::nn::Module, CollectiveLayer {
    explicit VaeNetImpl(int latent) : latent(latent) {}
    virtual std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x,
                                                           const torch::Tensor& condition) = 0;
    virtual torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& condition) = 0;
    /// The run's processes in data-parallel training (nullptr: this one alone): a table's
    /// deviation per column is fitted to the global batch's errors (Vae::trainStep).
    void setCollectives(Collectives* c) override { collectives = c; }
    int latent;
    Collectives* collectives = nullptr;
};

/// Encoder and decoder as MLPs. A conditional net gives both the one-hot class (the decoder
/// at every layer); an unconditional one passes an empty condition.
struct CvaeNetImpl : VaeNetImpl {
    CvaeNetImpl(std::int64_t dataDim, int conditionDim, int latent, const std::vector<int>& hidden);
    std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x,
                                                   const torch::Tensor& condition) override;
    torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& condition) override;

    Mlp encoder{nullptr};
    ConditionalMlp decoder{nullptr};
};
TORCH_MODULE(CvaeNet);

/// Encoder and decoder for images of any size (at least 4 x 4): the encoder halves the image
/// with 4x4 stride-2 convolutions (channels width, 2 width, ... up to 256) until it is at most
/// 8 pixels on its longer side (at least twice), then one fully connected layer of `fc`
/// units; the decoder mirrors it with nearest-neighbour upsampling to the encoder's sizes and
/// 3x3 convolutions, ending at width / 2 channels and a 3x3 convolution to the image's. The
/// class (when conditional) joins the encoder's fully connected layer and every decoder
/// layer, as one-hot maps beside the convolutions' inputs.
struct ConvVaeNetImpl : VaeNetImpl {
    ConvVaeNetImpl(const ModelShape& shape, int conditionDim, int latent, int width, int fc);
    std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x,
                                                   const torch::Tensor& condition) override;
    torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& condition) override;

    ModelShape shape;
    /// The image's size at each level: sizes[0] the input, sizes.back() the smallest.
    std::vector<std::pair<std::int64_t, std::int64_t>> sizes;
    std::int64_t top;  // channels at the smallest size
    torch::nn::Sequential down{nullptr}, encoderFc{nullptr}, decoderFc{nullptr};
    std::vector<torch::nn::Conv2d> up;  // up[i] works at sizes[sizes.size() - 2 - i]
    torch::nn::Conv2d out{nullptr};

private:
    torch::Tensor withClassMaps(const torch::Tensor& h, const torch::Tensor& condition) const;
};
TORCH_MODULE(ConvVaeNet);

/// A Gaussian with full covariance per class, fitted to the posterior means the encoder gives
/// the training data (running averages over the last few thousand rows of each class, kept as
/// buffers so that a checkpoint has them). Sampling a VAE from it instead of N(0, I) draws
/// latents where the decoder was trained, which is where the standard prior misses: the
/// aggregate posterior of a trained VAE is not N(0, I) (Bauer and Mnih 2019; Ghosh et al.
/// 2020 fit a Gaussian mixture after training, as here per class).
struct FittedPriorImpl : torch::nn::Module, CollectiveLayer {
    FittedPriorImpl(int components, int latent);
    /// Folds a batch of posterior means (N x latent) of rows of class `labels` (N) in; in
    /// data-parallel training, the global batch's.
    void setCollectives(Collectives* collectives) override { m_collectives = collectives; }
    void update(const torch::Tensor& mu, const torch::Tensor& labels);
    /// Latents of components `components` (N) from unit noise `noise` (N x latent): mean +
    /// L noise, L the covariance's Cholesky factor. A component never seen draws from N(0, I).
    torch::Tensor draw(const torch::Tensor& components, const torch::Tensor& noise) const;
    /// Components for N unlabelled draws, in proportion to the rows each has seen.
    torch::Tensor pick(std::int64_t n, std::uint64_t seed) const;
    /// The centre of each row's distribution: its component's mean (labels, N), the weighted
    /// mean of the means (class weights, N x K or more; extra columns ignored), or for an
    /// undefined tensor the mean over every row seen.
    torch::Tensor centre(const torch::Tensor& condition, std::int64_t n) const;

    torch::Tensor mean;    // components x latent
    torch::Tensor second;  // components x latent x latent: the running E[z z^T]
    torch::Tensor count;   // components: rows seen (float64)

private:
    Collectives* m_collectives = nullptr;
};
TORCH_MODULE(FittedPrior);

}  // namespace ll
