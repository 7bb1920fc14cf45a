#pragma once

#include <memory>
#include <optional>

#include <torch/torch.h>

#include "models/diffusion.h"
#include "models/encodingcache.h"
#include "models/vae.h"

namespace ll {

/// One residual block of the latent denoiser: LayerNorm - SiLU - Linear, the embedding added,
/// SiLU - Linear, back onto the residual stream. With `rows` defined, `embedding` holds
/// distinct rows and row i of the batch takes the projection of embedding[rows[i]].
struct ResidualMlpBlockImpl : torch::nn::Module {
    ResidualMlpBlockImpl(int hidden, int embedding);
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& embedding,
                          const torch::Tensor& rows = {});

    torch::nn::LayerNorm norm{nullptr};
    torch::nn::Linear fc1{nullptr}, project{nullptr}, fc2{nullptr};
};
TORCH_MODULE(ResidualMlpBlock);

/// The distinct (t, condition) pairs of a batch at inference: `first` holds one row of each
/// pair, `rows` each row's pair. A sampling step has one t and, with guidance, a class label
/// and the null label; the diffusion classifier a few t per class. Nothing (the plain path)
/// while gradients are recorded, or where fewer than half the rows repeat a pair.
struct DistinctConditions {
    torch::Tensor first, rows;
};
std::optional<DistinctConditions> distinctConditions(const torch::Tensor& t,
                                                     const torch::Tensor& labels);

/// The largest |value| of the scaled latents the denoiser has trained on. The samplers clip
/// their estimate of the clean latent to it, as ddpm clips pixels to [-1, 1]: where alphaBar
/// is near 0 (the cosine schedule's last steps: 2.4e-9 at t = 999 of 1,000) that estimate
/// divides the denoiser's error by sqrt(alphaBar), and unclipped it threw the samples far
/// off the data (FID 293 against 86.5 with the linear schedule).
struct LatentRangeImpl : torch::nn::Module {
    LatentRangeImpl();
    torch::Tensor bound;  // float32 scalar; 0 (no clip) until the denoiser's first step
};
TORCH_MODULE(LatentRange);

/// Predicts the noise in a latent vector from t and the class (class `numClasses`: none).
struct LatentDenoiserImpl : torch::nn::Module {
    LatentDenoiserImpl(int latent, int hidden, int depth, int numClasses);
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t,
                          const torch::Tensor& labels);

    int hidden;
    torch::nn::Linear time1{nullptr}, time2{nullptr}, stem{nullptr}, out{nullptr};
    torch::nn::Embedding classes{nullptr};
    torch::nn::ModuleList blocks;
    torch::nn::LayerNorm outNorm{nullptr};
};
TORCH_MODULE(LatentDenoiser);

/// Class-conditional diffusion over a VAE's latent space (a small latent diffusion model,
/// Rombach et al. 2022): the VAE's posterior means, scaled to unit variance, are diffused
/// and denoised by a residual MLP, then decoded. The first vae_steps training steps train a
/// plain VAE of its own (ll::Vae, from the vae_* settings: vae_net, vae_width, vae_hidden,
/// vae_likelihood); the rest train the denoiser on the frozen encoder. With the setting
/// autoencoder=RUN it uses a trained vae/cvae run instead, opened by the run loader and handed
/// in as `autoencoder` (that run must stay where it is: its weights are read from there, not
/// copied into this model's checkpoints). Sampling
/// shares the schedule, samplers and classifier-free guidance of ddpm; classifier guidance
/// is refused (a noisy classifier sees images, not latents).
class LatentDdpm final : public ModelBase, public DenoisingClassifiable {
public:
    LatentDdpm(const ModelShape& shape, const Settings& settings,
               std::shared_ptr<GenerativeModel> autoencoder = nullptr);
    static Settings defaults();

    LossMap trainStep(const torch::Tensor& x, const torch::Tensor& y) override;
    torch::Tensor sample(const SampleRequest& request) override;
    bool hasLatents() const override { return true; }
    torch::Tensor latents(const SampleRequest& request) override;
    torch::Tensor decodeLatents(const torch::Tensor& z, const SampleRequest& request) override;
    double learningRate() const override { return adamLearningRate(*m_optimizer); }
    void setLearningRate(double lr) override;
    /// Its own VAE's kind while that VAE trains; after, an MLP's: the denoiser's steps, and
    /// sampling, which is mostly the denoiser (the Trainer hands the cores over midway).
    Workload workload() const override;
    const NoiseSchedule& diffusionSchedule() const override { return m_diffusion.schedule; }
    /// Posterior means times the latent scale training measured.
    torch::Tensor diffusionSpace(const torch::Tensor& images) override;
    torch::Tensor denoisingErrors(const torch::Tensor& x0, const torch::Tensor& labels,
                                  const torch::Tensor& t, const torch::Tensor& noise,
                                  bool l1) override;
    std::int64_t denoisingBatch() const override { return 16384; }

protected:
    std::vector<std::pair<std::string, torch::nn::Module*>> modules() override;
    std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override;
    void weightsReplaced() override { m_encodings.clear(); }
    /// Runs from before the latent range sample without a clip, as they did.
    bool isOptionalModule(const std::string& key) const override { return key == "range"; }
    void restoreMissingModule(const std::string& key) override;

private:
    bool ownsVae() const { return m_ownVae != nullptr; }
    /// Posterior means (N x latent) on this model's device, without gradients.
    torch::Tensor encodeMean(const torch::Tensor& x, const torch::Tensor& y);
    torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& y);

    DiffusionSettings m_diffusion;
    std::int64_t m_vaeSteps;
    int m_latent;
    std::shared_ptr<Vae> m_ownVae;  // empty with 'autoencoder'
    std::shared_ptr<GenerativeModel> m_externalRun;
    Vae* m_external = nullptr;
    LatentDenoiser m_net{nullptr};
    LatentDenoiser m_emaNet{nullptr};
    DiffusionState m_state{nullptr};
    LatentRange m_range{nullptr};
    std::unique_ptr<torch::optim::Adam> m_optimizer;
    /// The frozen encoder's means by image, for the denoiser's steps.
    EncodingCache m_encodings;
};

}  // namespace ll
