#pragma once

// The reverse process shared by every diffusion model: ancestral DDPM and deterministic DDIM
// over an epsilon-predicting function, with classifier-free and classifier guidance. The
// models only say how to predict the noise; the guidance arithmetic lives here once.

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <vector>

#include <torch/torch.h>

#include "models/request.h"
#include "models/schedule.h"

namespace ll {

class GenerativeModel;
struct ModelShape;

/// Predicts the noise in x_t at timesteps t (int64, N) for labels (int64, N); the label
/// `nullLabel` of DiffusionSampling means "no class" (the unconditional model).
using EpsFn = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& t,
                                          const torch::Tensor& labels)>;

/// The gradient of log p(labels | x_t) with respect to x_t (the sampler scales it); alphaBar
/// (N) is the signal level of x_t.
using GradientFn =
    std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& alphaBar)>;

struct DiffusionSampling {
    const NoiseSchedule* schedule = nullptr;
    std::vector<std::int64_t> shape;  // of the whole batch, N first
    torch::Tensor labels;             // int64 N, or mixture weights N x (K + 1); on the device
    std::int64_t nullLabel = 0;
    double guidance = 0;                      // classifier-free weight w
    double guidanceFrom = 0, guidanceTo = 1;  // guidance only while t / T lies in here
    int steps = 50;                           // respaced steps; >= T means every step
    Sampler sampler = Sampler::Ddim;
    double clip = 0;  // clamp predicted x_0 to [-clip, clip]; 0 leaves it
    std::uint64_t seed = 0;
    torch::Device device = torch::kCPU;
    GradientFn classifierGradient;             // empty: no classifier guidance
    double classifierScale = 0;                // times the gradient; 0: none
    std::shared_ptr<const LiveGuidance> live;  // read before every step when set
    torch::Tensor initial;  // x_T, else drawn from the seed (which DDPM still uses)
    /// After each step: steps done, total, the predicted x_0 (diffusion space); false stops.
    std::function<bool(int, int, const torch::Tensor&)> onStep;
};

/// Thrown when an onStep callback stopped the sampling.
struct SamplingStopped : std::runtime_error {
    SamplingStopped() : std::runtime_error("sampling stopped") {}
};

/// Runs the reverse process from seeded noise (drawn on the CPU, so a seed gives the same
/// result on every device) and returns x_0 on the device. Call without autograd.
torch::Tensor sampleDiffusion(const EpsFn& eps, const DiffusionSampling& s);

/// Classifier guidance (Dhariwal & Nichol 2021) from the request's noisy classifier for the
/// given labels, unscaled, or an empty function when the request has no classifier. Throws
/// std::invalid_argument when the classifier is not a noisy classifier or was trained on
/// other data. The classifier sees x_t in the diffusion space (images scaled to [-1, 1]).
GradientFn classifierGuidance(const SampleRequest& request, const ModelShape& shape,
                              const torch::Tensor& labels);

}  // namespace ll
