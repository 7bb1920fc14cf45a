#pragma once

// Building blocks the model families share: MLP stacks, label helpers, seeded noise and the
// optimiser plumbing every family needs. Torch-heavy: include from model sources only.

#include <torch/torch.h>

#include "models/model.h"
#include "models/syncbatchnorm.h"

namespace ll {

/// An MLP stack with ReLU between layers (none after the last).
struct MlpImpl : torch::nn::Module {
    MlpImpl(std::int64_t in, const std::vector<int>& hidden, std::int64_t out);
    torch::Tensor forward(torch::Tensor x);
    torch::nn::Sequential layers;
};
TORCH_MODULE(Mlp);

/// An MLP that sees the condition (a one-hot class) beside the input of every layer, so that
/// no layer can lose it: with the class only at the first layer, a VAE decoder learns to
/// ignore it and reads the class from the latent instead.
struct ConditionalMlpImpl : torch::nn::Module {
    ConditionalMlpImpl(std::int64_t in, std::int64_t condition, const std::vector<int>& hidden,
                       std::int64_t out);
    torch::Tensor forward(torch::Tensor x, const torch::Tensor& condition);
    std::vector<torch::nn::Linear> layers;
};
TORCH_MODULE(ConditionalMlp);

/// The class of each requested sample (int64, CPU): the request's labels cycled, or all
/// classes in turn. Throws std::invalid_argument for a class the model does not have.
torch::Tensor requestLabels(const SampleRequest& request, int numClasses);

// Conditions: int64 labels (N), or with a class mixture float weights (N x (K + 1), the last
// column the "no class" slot of classifier-free guidance). The helpers below let every
// model take either.

/// The request's condition: labels, or the mixture's weights when it has one.
torch::Tensor requestCondition(const SampleRequest& request, int numClasses);
/// Class embeddings of a condition: a lookup for labels, the weighted sum for weights.
torch::Tensor embedClasses(torch::nn::Embedding& classes, const torch::Tensor& condition);
/// One-hot codes (N x K, float) of a condition; weights keep their mix.
torch::Tensor classCodes(const torch::Tensor& condition, int numClasses);
/// The "no class" condition of the same form and size.
torch::Tensor nullCondition(const torch::Tensor& condition, std::int64_t nullLabel);

/// Standard normal noise from the request's seed, drawn on the CPU so that a seed gives the
/// same samples on every device, then moved to `device`.
torch::Tensor seededNormal(at::IntArrayRef shape, std::uint64_t seed, torch::Device device);

/// Normal noise with every entry resampled until |z| <= limit (the truncation trick of
/// BigGAN, Brock et al. 2019); limit <= 0 means plain normal noise.
torch::Tensor truncatedNormal(at::IntArrayRef shape, std::uint64_t seed, double limit,
                              torch::Device device);

/// Learning rate of the first parameter group / of every group, for Adam optimisers.
double adamLearningRate(torch::optim::Adam& optimizer);
void setAdamLearningRate(torch::optim::Adam& optimizer, double lr);

/// Drops the gradients instead of zeroing them: saves a memset per parameter, and backward
/// then writes them fresh instead of accumulating into zeros.
void dropGradients(torch::nn::Module& module);

/// One cross-entropy step of a classifier whose `logits` came from `net`: backward, an
/// optimiser step, and the losses to log ("loss" and the batch's "accuracy").
LossMap classifierStep(torch::nn::Module& net, torch::optim::Optimizer& optimizer,
                       const torch::Tensor& logits, const torch::Tensor& target);

/// Image batches and filters (4-D) laid out channels-last with strides that say so, oneDNN's
/// faster path for the conv VAE, the GANs and the classifier (10-20 % a step; the U-Net's
/// group norms gained nothing unfused); anything else as it is.
torch::Tensor channelsLast(const torch::Tensor& x);

/// Images in [0, 1] from N x C x H x W or flat N x D logits/values, back on the CPU.
torch::Tensor toImages(const torch::Tensor& values, const ModelShape& shape);

/// Copies `source`'s parameters into `target` as an exponential moving average:
/// target = decay * target + (1 - decay) * source. Both modules must have the same layout.
void updateEma(torch::nn::Module& target, torch::nn::Module& source, double decay);

/// The EMA decay after `step` updates: `decay`, warmed up as (1 + step) / (10 + step) so that
/// a short run's average does not still remember the random initial weights.
double emaDecay(double decay, std::int64_t step);

/// A step count that checkpoints carry beside the weights (an average's warm-up).
struct StepCountImpl : torch::nn::Module {
    StepCountImpl();
    torch::Tensor step;  // int64 scalar
};
TORCH_MODULE(StepCount);

}  // namespace ll
