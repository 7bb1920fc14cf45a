#pragma once

#include <memory>

#include <torch/torch.h>

#include "models/model.h"

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

/// Encoder and decoder of a conditional VAE: both see the one-hot class.
struct CvaeNetImpl : torch::nn::Module {
    CvaeNetImpl(std::int64_t dataDim, int numClasses, int latent, const std::vector<int>& hidden);
    /// Returns (mu, logvar).
    std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x,
                                                   const torch::Tensor& onehot);
    /// Returns decoder logits (images) or means (tabular), flat N x dataDim.
    torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& onehot);

    Mlp encoder{nullptr};
    ConditionalMlp decoder{nullptr};
    int latent;
};
TORCH_MODULE(CvaeNet);

/// Class-conditional VAE (Kingma et al. 2014, M2's generative half; Sohn et al. 2015).
/// Images use a Bernoulli likelihood on [0, 1] pixels, tabular rows a unit-variance Gaussian.
class Cvae final : public GenerativeModel {
public:
    Cvae(const ModelShape& shape, const Settings& settings);

    std::string name() const override { return "cvae"; }
    const ModelShape& shape() const override { return m_shape; }
    Settings settings() const override { return m_settings; }
    LossMap trainStep(const torch::Tensor& x, const torch::Tensor& y) override;
    torch::Tensor sample(const SampleRequest& request) override;
    double learningRate() const override;
    void setLearningRate(double lr) override;

protected:
    std::vector<std::pair<std::string, torch::nn::Module*>> modules() override;
    std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override;

private:
    ModelShape m_shape;
    Settings m_settings;
    double m_beta;
    CvaeNet m_net{nullptr};
    std::unique_ptr<torch::optim::Adam> m_optimizer;
};

}  // namespace ll
