#pragma once

#include <memory>

#include <torch/torch.h>

#include "models/categories.h"
#include "models/layers.h"
#include "models/precision.h"
#include "models/vaeparts.h"

namespace ll {

/// The logistic map x(n+1) = r x(n) (1 - x(n)) as a noise source: one seeded sequence per
/// latent unit, standardised to zero mean and unit variance with the map's own statistics,
/// or (inverseNormal) sent through the map's invariant CDF and then the inverse normal CDF,
/// which makes the values standard normal in distribution, not only in their first moments.
/// Its state is a buffer, so a checkpoint resumes the sequences where they were.
struct ChaoticNoiseImpl : torch::nn::Module, CollectiveLayer {
    ChaoticNoiseImpl(int units, double r, torch::Tensor initial, bool inverseNormal = false);
    /// Start values for `units` sequences from one start value x0 in (0, 1): unit j starts
    /// where the orbit of x0 is after 64 + 17 j steps (so the units do not move in lockstep).
    static torch::Tensor startsFrom(int units, double r, double x0);
    /// The next `n` values of every sequence: n x units, float32, standardised. In
    /// data-parallel training every rank steps the sequences through the global batch and
    /// keeps its own rows of it.
    torch::Tensor next(std::int64_t n);
    void setCollectives(Collectives* collectives) override { m_collectives = collectives; }
    /// Fresh sequences from a seed, not touching the training state (for sampling).
    torch::Tensor fresh(std::int64_t n, std::uint64_t seed) const;

    double r;
    double mean = 0.5;
    double stddev = 0.35355339059327373;  // the r = 4 invariant density: variance 1/8
    bool inverseNormal = false;
    /// inverseNormal with r < 4: the map's empirical quantiles (r = 4 uses its arcsine CDF).
    std::vector<double> quantiles;
    torch::Tensor state;  // float64, one value per unit

private:
    float transform(double x) const;
    Collectives* m_collectives = nullptr;
};
TORCH_MODULE(ChaoticNoise);

/// The VAE family (Kingma & Welling 2014): plain, class-conditional (Sohn et al. 2015, with
/// the class at every decoder layer), and chaotic, whose reparameterisation noise comes from
/// the logistic map instead of a Gaussian ("Chaotic Variational Auto Encoder based One Class
/// Classifier for Insurance Fraud Detection"). Images use a Bernoulli likelihood on [0, 1]
/// pixels, tabular rows a unit-variance Gaussian, a table's categorical columns (setting
/// "categories", models/model.h) a softmax each: trained by cross-entropy and drawn from it,
/// so that a value one row in twenty takes comes out in about one sample in twenty, not
/// never as the mode of a Gaussian would have it. The chaotic VAE's settings: "r", "start"
/// (the map's start value, empty or "random" to draw one per unit from the run's seed) and
/// "transform" ("standardise" or "inverse-normal").
class Vae final : public ModelBase {
public:
    enum class Kind { Plain, Conditional, Chaotic };
    Vae(Kind kind, const ModelShape& shape, const Settings& settings);

    void fitToData(const Dataset& data) override;
    LossMap trainStep(const torch::Tensor& x, const torch::Tensor& y) override;
    torch::Tensor sample(const SampleRequest& request) override;
    bool hasLatents() const override { return true; }
    bool encodes() const override { return true; }
    Workload workload() const override { return m_conv ? Workload::Conv : Workload::Mlp; }
    torch::Tensor encodeLatents(const torch::Tensor& x, const torch::Tensor& y) override;
    torch::Tensor latents(const SampleRequest& request) override;
    torch::Tensor decodeLatents(const torch::Tensor& z, const SampleRequest& request) override;
    double learningRate() const override { return adamLearningRate(*m_optimizer); }
    void setLearningRate(double lr) override { setAdamLearningRate(*m_optimizer, lr); }

    /// Posterior means and log-variances of data x (N x latent each).
    std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x, const torch::Tensor& y);
    /// Data-space output for latents z (images in [0, 1] or tabular rows, each category at
    /// its most likely value).
    torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& y);
    int latentSize() const { return m_net->latent; }
    /// The network and its optimiser, for a model that owns a VAE and checkpoints it under
    /// its own names (latent-ddpm).
    torch::nn::Module& network() { return *m_net; }
    torch::optim::Optimizer& optimizer() { return *m_optimizer; }
    /// Per row, the negative ELBO (reconstruction + beta KL, in the training loss's units)
    /// with its reconstruction term averaged over `draws` latent draws from the posterior
    /// (Gaussian draws, whatever noise trained the model: the score asks how well q(z|x)
    /// explains x), seeded by `seed`; and the reconstruction error of the posterior mean
    /// alone. N each, on the CPU, no gradients.
    std::pair<torch::Tensor, torch::Tensor> anomalyScores(const torch::Tensor& x,
                                                          const torch::Tensor& y, int draws,
                                                          std::uint64_t seed);

protected:
    std::vector<std::pair<std::string, torch::nn::Module*>> modules() override;
    std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override;

private:
    enum class Likelihood { Bernoulli, UnitGaussian, Gaussian };
    torch::Tensor condition(const torch::Tensor& y) const;
    // The decoder's mean for its output `out` (pixels in [0, 1] for images).
    torch::Tensor outputMean(const torch::Tensor& out) const;
    // Per-row reconstruction error of decoder output `out` for flat data `flat` (N); with
    // `logSigma`, that deviation in place of the model's own (training with one per column
    // takes the batch's best).
    torch::Tensor rowError(const torch::Tensor& out, const torch::Tensor& flat,
                           const torch::Tensor& logSigma = {}) const;
    // decode, with each category drawn at `temperature` with `seed` (CategoryColumns::draw).
    torch::Tensor decodeDrawn(const torch::Tensor& z, const torch::Tensor& y, double temperature,
                              std::uint64_t seed);

    Kind m_kind;
    bool m_conv = false;  // net=conv
    Likelihood m_likelihood = Likelihood::Bernoulli;
    double m_beta;
    Precision m_precision = Precision::Float32;
    std::shared_ptr<VaeNetImpl> m_net;
    // Likelihood::Gaussian: "log_sigma" of m_net, one learned parameter shared by every value,
    // or a buffer of one per column (setting sigma = columns), each the running mean of the
    // deviation that fits the decoder best on each batch.
    torch::Tensor m_logSigma;
    bool m_sigmaPerColumn = false;
    // A table's categorical columns; their levels are a buffer of m_net ("category_levels").
    CategoryColumns m_categories;
    FittedPrior m_prior{nullptr};
    ChaoticNoise m_noise{nullptr};
    std::unique_ptr<torch::optim::Adam> m_optimizer;
};

}  // namespace ll
