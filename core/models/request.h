#pragma once

// Torch-free, so the widgets can build sample requests.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace at {
class Tensor;
}

namespace ll {

class GenerativeModel;

/// Diffusion samplers: ancestral DDPM or deterministic DDIM.
enum class Sampler { Ddim, Ddpm };

/// Diffusion guidance that may change while a draw runs: the sampler reads it before every
/// denoising step, so a slider moved mid-run takes effect from the current step on, from the
/// latents the draw has reached. Written by another thread (the GUI), hence atomics.
struct LiveGuidance {
    std::atomic<double> guidance{0};
    std::atomic<double> classifierScale{0};
    std::atomic<double> guidanceFrom{0};
    std::atomic<double> guidanceTo{1};
};

/// A tile that keeps its latent when the rest of a grid reseeds: sample `tile` of a request
/// starts from latent `index` of the draw (`seed`, `count`) instead of its own.
struct PinnedLatent {
    std::int64_t tile = 0;
    std::uint64_t seed = 0;
    std::int64_t count = 1;
    std::int64_t index = 0;
};

/// One sampling call: how many, from which seed, for which classes, and how to steer them.
/// Every family reads the fields it understands and ignores the rest.
struct SampleRequest {
    std::int64_t count = 0;
    std::uint64_t seed = 0;
    /// One class per sample; empty cycles through the classes.
    std::vector<std::int64_t> labels;
    /// Conditional models: (class, weight) pairs; when given, every sample is conditioned on
    /// their weighted mix (weights normalised to sum 1) instead of `labels`: the mix of the
    /// classes' embeddings (diffusion, GANs) or of their one-hot codes (cvae).
    std::vector<std::pair<int, double>> mixture;
    /// VAE family: scales the prior's standard deviation.
    double temperature = 1.0;
    /// GAN family: latents resampled until every |z_i| <= truncation; 0 means no truncation.
    double truncation = 0;
    /// Diffusion: classifier-free guidance weight w (Ho & Salimans 2022):
    /// eps = (1 + w) eps(x, class) - w eps(x, none). 0 is the plain conditional model.
    double guidance = 0;
    /// Diffusion: guidance (both kinds) applies only while the noise level t / T lies in
    /// [guidanceFrom, guidanceTo] (Kynkaanniemi et al. 2024); [0, 1] is everywhere.
    double guidanceFrom = 0;
    double guidanceTo = 1;
    /// Diffusion: sampling steps (0: the model's default) and sampler.
    int steps = 0;
    Sampler sampler = Sampler::Ddim;
    /// Diffusion: classifier guidance (Dhariwal & Nichol 2021) with a noisy classifier's
    /// gradient of log p(class | x_t), scaled by classifierScale. Not owned.
    GenerativeModel* classifier = nullptr;
    double classifierScale = 0;
    /// Diffusion: called after each denoising step with the steps done, their number and
    /// the current prediction of the clean samples (as sample() returns them); returning
    /// false stops the sampling (sample() then throws SamplingStopped). For live previews.
    std::function<bool(int done, int total, const at::Tensor& preview)> onStep;
    /// Diffusion: when set, overrides guidance, classifierScale and the guidance interval at
    /// every step with its current values.
    std::shared_ptr<const LiveGuidance> live;
    /// Locked tiles (RunSampler::grid): their latents come from other draws.
    std::vector<PinnedLatent> pinned;
};

}  // namespace ll
