#pragma once

#include <memory>

#include <torch/torch.h>

#include "models/categories.h"
#include "models/layers.h"
#include "models/precision.h"
#include "models/spectralnorm.h"

namespace ll {

/// The generator of every GAN in the family. Images: DCGAN-style (Radford et al. 2016), but
/// each 2x step is a nearest upsample and a 3x3 convolution instead of a transposed
/// convolution (no fast path for that in LibTorch 1.13), starting from H/4 x W/4 with batch
/// norm; `refine` more 3x3 convolutions (width/2 channels) at full resolution before the
/// output, where a lone convolution after a nearest upsample draws streaks. Tabular rows: an MLP
/// that sees the one-hot class beside every layer's input. A conditional generator gets the class
/// as an embedding beside z.
struct GanGeneratorImpl : torch::nn::Module {
    GanGeneratorImpl(const ModelShape& shape, int latent, int width, const std::vector<int>& hidden,
                     bool conditional, int refine = 0);
    /// Images: logits N x C x H x W (sigmoid gives pixels); tabular: rows N x D.
    torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& labels);

    ModelShape shape;
    int latent;
    bool conditional;
    std::int64_t top;  // channels at H/4 x W/4
    torch::nn::Embedding embed{nullptr};
    torch::nn::Linear project{nullptr};
    SyncBatchNorm2d norm{nullptr};
    torch::nn::Sequential body{nullptr};
    ConditionalMlp mlp{nullptr};
};
TORCH_MODULE(GanGenerator);

/// What a discriminator says about a batch: the real/fake score (logit, or the critic's value)
/// and, for AC-GAN, class logits.
struct GanScores {
    torch::Tensor adversarial;  // N
    torch::Tensor classes;      // N x classes, undefined without an auxiliary head
};

/// How a discriminator uses the class: either, both or neither.
struct GanCondition {
    bool projection = false;  // score + <embed(y), features> (Miyato & Koyama 2018)
    bool auxiliary = false;   // an extra class head, trained with cross-entropy (AC-GAN, Odena
                              // et al. 2017)
};

/// How a discriminator keeps itself in check ("d_norm").
enum class GanNorm {
    Batch,     // batch norm on the second convolution (DCGAN)
    Spectral,  // every layer but the class embedding and AC-GAN's class head normalised (SNGAN)
    Layer,     // layer norm (each sample over channels and positions) on the second convolution
    None,      // neither: a WGAN-GP critic must not couple the samples of a batch
};

/// The discriminator (or WGAN critic). Images: two stride-2 4x4 convolutions with
/// LeakyReLU(0.2); rows: an MLP with LeakyReLU. Then the heads. `norm` as above (batch norm
/// applies to images only).
struct GanDiscriminatorImpl : torch::nn::Module {
    GanDiscriminatorImpl(const ModelShape& shape, int width, const std::vector<int>& hidden,
                         GanCondition condition, GanNorm norm);
    GanScores forward(const torch::Tensor& x, const torch::Tensor& labels);

    torch::nn::Sequential body{nullptr};
    torch::nn::Linear head{nullptr};
    SpectralLinear spectralHead{nullptr};  // instead of head under GanNorm::Spectral
    torch::nn::Embedding embed{nullptr};
    torch::nn::Linear classHead{nullptr};
};
TORCH_MODULE(GanDiscriminator);

/// The GAN family (Goodfellow et al. 2014): DCGAN (unconditional), cGAN (class in the
/// generator, projection discriminator; images and tabular rows), AC-GAN (class in the
/// generator, auxiliary classifier in the discriminator; with "projection" 1 its real/fake
/// score is projected as cGAN's too) and WGAN-GP (Gulrajani et al. 2017;
/// unconditional). The non-saturating loss for all but WGAN-GP; two Adam optimisers, the
/// discriminator's learning rate d_lr_ratio times the generator's. All but WGAN-GP add the
/// mode-seeking term of Mao et al. 2019 to the generator's loss.
///
/// With "ema" above 0, samples come from an exponential moving average of the generator's
/// weights (warmed up as in the diffusion family), which smooths over the oscillation of long
/// adversarial runs. Off by default: on the CPU presets' 4,000 steps of dcgan the average
/// lagged a generator still improving (FID 249 against 230 without it).
///
/// With "lookahead" k above 0, every k-th step pulls both networks' weights back to slow
/// copies moved "lookahead_alpha" of the way towards them (Lookahead-minmax, Chavdarova et
/// al. 2021); the copies and the count of steps live in checkpoints. Off by default: on
/// wgan-gp-cpu's 5,000 steps it slowed learning more than it damped (bench/PRESETS.md).
///
/// trainStep's losses: "generator" (without the mode-seeking term), "mode_seeking",
/// "discriminator" (for WGAN-GP the critic loss including the penalty), "gp" and
/// "wasserstein" (WGAN-GP), "aux" (AC-GAN: the discriminator's class cross-entropy on real
/// data); "loss" is everything the generator and discriminator minimise. One WGAN-GP step is
/// critic_steps critic updates on the batch (fresh fakes each time) and one generator update.
/// With gp_every k above 1, only every k-th critic update (counted across steps and kept in
/// checkpoints) computes the penalty, at k times its weight; "gp" and "discriminator" then
/// report the latest penalty computed.
class Gan final : public ModelBase {
public:
    enum class Kind { Dcgan, Cgan, Acgan, WganGp };
    Gan(Kind kind, const ModelShape& shape, const Settings& settings);

    Workload workload() const override {
        return m_shape.tabular() ? Workload::Mlp : Workload::Conv;
    }
    /// A table's categories take the data's levels (setting "categories").
    void fitToData(const Dataset& data) override;
    LossMap trainStep(const torch::Tensor& x, const torch::Tensor& y) override;
    /// Reads count, seed, labels (conditional models) and truncation; a table's categories
    /// are drawn from the generator's softmax at the temperature (the most likely at 0).
    torch::Tensor sample(const SampleRequest& request) override;
    bool hasLatents() const override { return true; }
    torch::Tensor latents(const SampleRequest& request) override;
    torch::Tensor decodeLatents(const torch::Tensor& z, const SampleRequest& request) override;
    /// The generator's learning rate; the discriminator's is d_lr_ratio times it.
    double learningRate() const override { return adamLearningRate(*m_generatorOptimizer); }
    void setLearningRate(double lr) override;

    int latentSize() const { return m_latent; }
    bool conditional() const { return m_kind == Kind::Cgan || m_kind == Kind::Acgan; }

protected:
    std::vector<std::pair<std::string, torch::nn::Module*>> modules() override;
    std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override;
    /// Checkpoints from before the weight average lack it: it starts from the generator.
    bool isOptionalModule(const std::string& key) const override;
    void restoreMissingModule(const std::string& key) override;

private:
    LossMap adversarialStep(const torch::Tensor& x, const torch::Tensor& y);
    LossMap wassersteinStep(const torch::Tensor& x, const torch::Tensor& y);
    /// Pixels (images) or rows from `net` (the trained generator or its average).
    torch::Tensor generate(GanGenerator& net, const torch::Tensor& z, const torch::Tensor& y);
    torch::Tensor generate(const torch::Tensor& z, const torch::Tensor& y) {
        return generate(m_generator, z, y);
    }
    /// The end of every step: the lookahead pull (every k-th step), then the weight average.
    void afterGeneratorUpdate();
    void setDiscriminatorTrainable(bool trainable);

    Kind m_kind;
    int m_latent;
    double m_lrRatio;
    double m_auxWeight = 0;
    double m_modeSeeking = 0;
    double m_gp = 0;
    int m_criticSteps = 1;
    int m_gpEvery = 1;
    StepCount m_criticUpdates{nullptr};  // critic updates so far; null at gp_every 1
    double m_latestPenalty = 0;          // for the losses between penalised updates
    double m_ema = 0;
    int m_lookahead = 0;  // steps between lookahead pulls; 0: off
    double m_lookaheadAlpha = 0.5;
    Precision m_precision = Precision::Float32;
    GanGenerator m_generator{nullptr};
    GanGenerator m_average{nullptr};  // the weight average samples come from; null at ema 0
    StepCount m_averageSteps{nullptr};
    GanDiscriminator m_discriminator{nullptr};
    // A table's categorical columns: the generator's logits for each, relaxed to a
    // Gumbel-softmax in training, drawn when it samples; levels a buffer of every generator.
    CategoryColumns m_categories;
    GanGenerator m_slowGenerator{nullptr};  // lookahead's slow weights; null at lookahead 0
    GanDiscriminator m_slowDiscriminator{nullptr};
    StepCount m_lookaheadSteps{nullptr};
    std::unique_ptr<torch::optim::Adam> m_generatorOptimizer;
    std::unique_ptr<torch::optim::Adam> m_discriminatorOptimizer;
};

}  // namespace ll
