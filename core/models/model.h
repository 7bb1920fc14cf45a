#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/error.h"
#include "models/catalog.h"

namespace torch::nn {
class Module;
}
namespace torch::optim {
class Optimizer;
}

namespace ll {

/// One sampling call: how many, from which seed, for which classes.
struct SampleRequest {
    std::int64_t count = 0;
    std::uint64_t seed = 0;
    /// One class per sample; empty cycles through the classes.
    std::vector<std::int64_t> labels;
    /// Scales the prior's standard deviation (VAE family).
    double temperature = 1.0;
};

using LossMap = std::map<std::string, double>;

/// The interface every generative family implements. Data tensors are float32 on the CPU:
/// images N x C x H x W in [0, 1], tabular rows N x D standardised.
class GenerativeModel {
public:
    virtual ~GenerativeModel() = default;
    virtual std::string name() const = 0;
    virtual const ModelShape& shape() const = 0;
    virtual Settings settings() const = 0;

    /// One optimisation step on a batch; returns the losses to log (the first is the total).
    virtual LossMap trainStep(const torch::Tensor& x, const torch::Tensor& y) = 0;
    /// Samples in data space, deterministic for a given request.
    virtual torch::Tensor sample(const SampleRequest& request) = 0;

    virtual double learningRate() const = 0;
    virtual void setLearningRate(double lr) = 0;

    /// Saves weights and optimiser state with the model's name and shape, so that loading
    /// into another model or shape fails with a clear message.
    Result<void> save(const std::filesystem::path& path);
    Result<void> load(const std::filesystem::path& path);

protected:
    /// The modules and optimisers to checkpoint, by archive key.
    virtual std::vector<std::pair<std::string, torch::nn::Module*>> modules() = 0;
    virtual std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() = 0;
};

/// Builds a model by registry name; unknown names and bad settings are errors.
Result<std::unique_ptr<GenerativeModel>> createModel(const std::string& name,
                                                     const ModelShape& shape,
                                                     const Settings& settings);

/// Reads a setting with a default; throws std::invalid_argument naming the setting if the
/// value does not parse (createModel turns that into an error).
double settingNumber(const Settings& s, const std::string& key, double fallback);
std::vector<int> settingInts(const Settings& s, const std::string& key, std::vector<int> fallback);

}  // namespace ll
