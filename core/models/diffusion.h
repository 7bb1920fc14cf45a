#pragma once

#include <functional>
#include <memory>

#include <torch/torch.h>

#include "models/layers.h"
#include "models/schedule.h"
#include "models/unet.h"

namespace ll {

/// Training state a diffusion checkpoint carries besides weights: the step count (for the
/// EMA warm-up) and, for latent models, the latent scale.
struct DiffusionStateImpl : torch::nn::Module {
    DiffusionStateImpl();
    torch::Tensor step;   // int64 scalar
    torch::Tensor scale;  // float32 scalar; 0 until measured
};
TORCH_MODULE(DiffusionState);

/// Reads a string setting with a default (settings are strings; this one needs no parsing).
std::string settingText(const Settings& s, const std::string& key, const std::string& fallback);

/// The settings ddpm and latent-ddpm share: timesteps, schedule, label_dropout, ema and
/// sample_steps. Throws std::invalid_argument naming a bad one; records the effective values.
struct DiffusionSettings {
    NoiseSchedule schedule;
    double labelDropout;
    double ema;
    int sampleSteps;
};
DiffusionSettings readDiffusionSettings(const Settings& s, Settings& effective);

/// The schedule's alphaBar as a float32 tensor (T) on `device`, for indexing by timestep.
torch::Tensor alphaBarTensor(const NoiseSchedule& schedule, torch::Device device);

/// One draw of the denoising objective (Ho et al. 2020) for clean data x0 (N x ...): random
/// timesteps t, the noise to predict, x_t = sqrt(alphaBar_t) x0 + sqrt(1 - alphaBar_t) noise,
/// and the labels with label_dropout of them replaced by `nullLabel` ("no class").
struct NoisedBatch {
    torch::Tensor xt, t, noise, labels;
};
NoisedBatch noiseBatch(const torch::Tensor& x0, const torch::Tensor& labels,
                       const DiffusionSettings& diffusion, std::int64_t nullLabel);

/// What the diffusion classifier (study/diffusionclassifier.h, Li et al. 2023) asks of a
/// class-conditional diffusion model: its clean data as it diffuses them, and the EMA
/// network's (the sampling network's) error at predicting the noise of x_t under a label.
/// Ddpm and LatentDdpm derive from it; the study finds it by dynamic_cast.
class DenoisingClassifiable {
public:
    virtual ~DenoisingClassifiable() = default;
    virtual const NoiseSchedule& diffusionSchedule() const = 0;
    /// Images (N x C x H x W in [0, 1], any device) as the model diffuses them, on its
    /// device: [-1, 1] pixels (ddpm), scaled posterior means (latent-ddpm). Throws
    /// std::logic_error when the model cannot yet (a latent model still training its VAE).
    virtual torch::Tensor diffusionSpace(const torch::Tensor& images) = 0;
    /// Per row b: mean over its elements of |eps(x_t, t_b, label_b) - noise_b| (l1) or its
    /// square, x_t = sqrt(alphaBar_t) x0_b + sqrt(1 - alphaBar_t) noise_b, by the EMA
    /// network, without gradients. x0 and noise are B x ... in the diffusion space, labels and
    /// t int64 (B); the result is float32 (B) on the model's device. One network call.
    virtual torch::Tensor denoisingErrors(const torch::Tensor& x0, const torch::Tensor& labels,
                                          const torch::Tensor& t, const torch::Tensor& noise,
                                          bool l1) = 0;
    /// Rows per call that keep memory modest (a U-Net's activations are large, an MLP's small).
    virtual std::int64_t denoisingBatch() const = 0;
};

/// The shared body of denoisingErrors, for a network `eps(x_t, t, labels)`.
torch::Tensor denoisingErrorsOf(
    const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&,
                                      const torch::Tensor&)>& eps,
    const NoiseSchedule& schedule, const torch::Tensor& x0, const torch::Tensor& labels,
    const torch::Tensor& t, const torch::Tensor& noise, bool l1);

/// Class-conditional DDPM (Ho et al. 2020) with a small U-Net predicting the noise. Labels are
/// dropped at rate label_dropout so that the same network is also the unconditional model of
/// classifier-free guidance (Ho & Salimans 2022). Samples come from an exponential moving
/// average of the weights, by DDIM or ancestral DDPM (models/diffusionsampler.h). Images are
/// diffused in [-1, 1].
class Ddpm final : public ModelBase, public DenoisingClassifiable {
public:
    Ddpm(const ModelShape& shape, const Settings& settings);

    Workload workload() const override { return Workload::Conv; }
    LossMap trainStep(const torch::Tensor& x, const torch::Tensor& y) override;
    torch::Tensor sample(const SampleRequest& request) override;
    bool hasLatents() const override { return true; }
    torch::Tensor latents(const SampleRequest& request) override;
    torch::Tensor decodeLatents(const torch::Tensor& z, const SampleRequest& request) override;
    double learningRate() const override { return adamLearningRate(*m_optimizer); }
    void setLearningRate(double lr) override { setAdamLearningRate(*m_optimizer, lr); }

    const NoiseSchedule& schedule() const { return m_diffusion.schedule; }
    const NoiseSchedule& diffusionSchedule() const override { return m_diffusion.schedule; }
    torch::Tensor diffusionSpace(const torch::Tensor& images) override;
    torch::Tensor denoisingErrors(const torch::Tensor& x0, const torch::Tensor& labels,
                                  const torch::Tensor& t, const torch::Tensor& noise,
                                  bool l1) override;
    std::int64_t denoisingBatch() const override { return 256; }

protected:
    std::vector<std::pair<std::string, torch::nn::Module*>> modules() override;
    std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override;

private:
    DiffusionSettings m_diffusion;
    UNet m_net{nullptr};
    UNet m_emaNet{nullptr};
    DiffusionState m_state{nullptr};
    std::unique_ptr<torch::optim::Adam> m_optimizer;
};

/// A classifier of noisy images x_t = sqrt(alphaBar) x + sqrt(1 - alphaBar) noise, x the
/// image scaled to [-1, 1], trained at noise levels drawn from a schedule; it sees the level
/// as log-SNR, so it guides diffusion models with any schedule (classifier guidance).
class NoisyClassifier final : public ModelBase {
public:
    NoisyClassifier(const ModelShape& shape, const Settings& settings);

    Workload workload() const override { return Workload::Conv; }
    LossMap trainStep(const torch::Tensor& x, const torch::Tensor& y) override;
    bool generates() const override { return false; }
    torch::Tensor sample(const SampleRequest& request) override;
    /// Clean images in [0, 1]: classifyNoisy at alphaBar = 1 - 1e-4.
    torch::Tensor classify(const torch::Tensor& x) override;
    bool classifiesNoisy() const override { return true; }
    /// Logits on x's device; x_t in the diffusion space ([-1, 1] scale). Differentiable in x.
    torch::Tensor classifyNoisy(const torch::Tensor& x, const torch::Tensor& alphaBar) override;
    double learningRate() const override { return adamLearningRate(*m_optimizer); }
    void setLearningRate(double lr) override { setAdamLearningRate(*m_optimizer, lr); }

protected:
    std::vector<std::pair<std::string, torch::nn::Module*>> modules() override;
    std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override;

private:
    NoiseSchedule m_schedule;
    NoisyClassifierNet m_net{nullptr};
    std::unique_ptr<torch::optim::Adam> m_optimizer;
};

}  // namespace ll
