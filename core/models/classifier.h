#pragma once

#include <memory>

#include <torch/torch.h>

#include "models/layers.h"

namespace ll {

/// A small CNN (images) or MLP (tabular rows) classifier. Its penultimate layer is the
/// feature space the evaluation metrics use.
struct ClassifierNetImpl : torch::nn::Module {
    ClassifierNetImpl(const ModelShape& shape, int width, int features, double dropout);
    torch::Tensor features(torch::Tensor x);
    torch::Tensor forward(torch::Tensor x);

    bool tabular;
    torch::nn::Sequential body;
    torch::nn::Dropout dropout{nullptr};
    torch::nn::Linear head{nullptr};
};
TORCH_MODULE(ClassifierNet);

/// The clean classifier: trained on real data with cross-entropy; it measures the classifier
/// agreement of generated samples, and its penultimate layer is the feature space of the
/// metrics (eval/extractor.h).
class Classifier final : public ModelBase {
public:
    Classifier(const ModelShape& shape, const Settings& settings);

    Workload workload() const override {
        return m_shape.tabular() ? Workload::Mlp : Workload::Conv;
    }
    LossMap trainStep(const torch::Tensor& x, const torch::Tensor& y) override;
    bool generates() const override { return false; }
    torch::Tensor sample(const SampleRequest& request) override;
    torch::Tensor classify(const torch::Tensor& x) override;
    torch::Tensor features(const torch::Tensor& x) override;
    double learningRate() const override { return adamLearningRate(*m_optimizer); }
    void setLearningRate(double lr) override { setAdamLearningRate(*m_optimizer, lr); }

protected:
    std::vector<std::pair<std::string, torch::nn::Module*>> modules() override;
    std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override;

private:
    ClassifierNet m_net{nullptr};
    std::unique_ptr<torch::optim::Adam> m_optimizer;
};

}  // namespace ll
