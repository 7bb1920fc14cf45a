#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/cpu.h"
#include "common/error.h"
#include "common/table.h"
#include "models/catalog.h"
#include "models/request.h"

namespace torch::nn {
class Module;
}
namespace torch::serialize {
class InputArchive;
}
namespace torch::optim {
class Optimizer;
}

namespace ll {

struct Dataset;

class Collectives;

/// The interface every model the workbench trains implements: the generative families and
/// the classifiers that guide and judge them. Data tensors given to and returned by a model
/// are float32 on the CPU: images N x C x H x W in [0, 1], tabular rows N x D standardised,
/// labels int64. A model on CUDA moves them itself.
class GenerativeModel {
public:
    virtual ~GenerativeModel() = default;
    virtual std::string name() const = 0;
    virtual const ModelShape& shape() const = 0;
    virtual Settings settings() const = 0;
    /// Which thread pool should own the cores while this model trains (common/cpu.h).
    virtual Workload workload() const { return Workload::Mlp; }
    /// Where the model computes ("cpu" or "cuda").
    virtual std::string deviceName() const { return "cpu"; }

    /// What a model takes from its training data before it trains: the trainer calls it on
    /// every start, new or resumed, before a checkpoint is loaded. A VAE keeps the two values
    /// each one-hot feature of a table takes once standardised; most models take nothing.
    virtual void fitToData(const Dataset& data) { (void)data; }
    /// One optimisation step on a batch; returns the losses to log, "loss" the total.
    virtual LossMap trainStep(const torch::Tensor& x, const torch::Tensor& y) = 0;

    /// False for classifiers, which have nothing to sample.
    virtual bool generates() const { return true; }
    /// Samples in data space, deterministic for a given request.
    virtual torch::Tensor sample(const SampleRequest& request) = 0;

    /// Classifiers: class logits (N x classes) for clean data.
    virtual torch::Tensor classify(const torch::Tensor& x);
    /// Classifiers: their penultimate layer (N x F) for clean data, the feature space of the
    /// evaluation metrics.
    virtual torch::Tensor features(const torch::Tensor& x);
    /// Noisy classifiers: class logits for x_t = sqrt(alphaBar) x + sqrt(1 - alphaBar) noise,
    /// alphaBar (N) the cumulative signal level of each sample. Differentiable in x_t. For
    /// images x_t lives in the diffusion space: x is the image scaled to [-1, 1], not [0, 1].
    virtual bool classifiesNoisy() const { return false; }
    virtual torch::Tensor classifyNoisy(const torch::Tensor& x, const torch::Tensor& alphaBar);

    /// Latent spaces: the VAE family's z, a GAN's z, a diffusion model's initial noise x_T
    /// (flattened). latents() gives the latents `request` starts from (request.count rows,
    /// from its seed); decodeLatents() draws from given latents under the request's
    /// condition and steering, so that decodeLatents(latents(r), r) == sample(r).
    virtual bool hasLatents() const { return false; }
    /// Models with an encoder (the VAE family): the posterior means of x (labels y), in the
    /// space decodeLatents() takes.
    virtual bool encodes() const { return false; }
    virtual torch::Tensor encodeLatents(const torch::Tensor& x, const torch::Tensor& y);
    virtual torch::Tensor latents(const SampleRequest& request);
    virtual torch::Tensor decodeLatents(const torch::Tensor& z, const SampleRequest& request);

    virtual double learningRate() const = 0;
    virtual void setLearningRate(double lr) = 0;

    /// Saves weights and (unless `weightsOnly`) optimiser state with the model's name and
    /// shape, so that loading into another model or shape fails with a clear message. The
    /// bytes depend on the tensors alone: the same weights give the same file.
    Result<void> save(const std::filesystem::path& path, bool weightsOnly = false);
    /// Loads a checkpoint; a weights-only one leaves the optimisers as they are.
    Result<void> load(const std::filesystem::path& path);
    /// The same from a checkpoint's bytes (`origin` names them in errors): another rank's.
    Result<void> loadBytes(std::string bytes, const std::string& origin);
    /// The values of every network it checkpoints (an EMA copy included).
    std::int64_t parameterCount();
    /// Every tensor it checkpoints but the optimisers' state (parameters and buffers of every
    /// network, an EMA copy included), named "key.name", in a fixed order.
    std::vector<std::pair<std::string, torch::Tensor>> namedState();
    /// Data-parallel training: every optimiser step averages the gradients over the ranks
    /// and batch norms use the global batch's statistics (nullptr: this process alone).
    /// Fails for a model whose optimisers cannot (none of the zoo's).
    Result<void> setCollectives(Collectives* collectives);
    /// Whether checkpoints (and exported weights) written before module `key` existed may
    /// lack it (a GAN's weight average, latent-ddpm's latent range): load() then calls
    /// restoreMissingModule(key) after the others have loaded.
    virtual bool isOptionalModule(const std::string& key) const;

protected:
    /// The modules and optimisers to checkpoint, by archive key.
    virtual std::vector<std::pair<std::string, torch::nn::Module*>> modules() = 0;
    virtual std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() = 0;
    virtual void restoreMissingModule(const std::string& key);
    /// load() calls it before it replaces any weights (a load that fails midway may have
    /// replaced some): a model drops what it derived from them (latent-ddpm's cached latents).
    virtual void weightsReplaced();

private:
    /// Reads a checked checkpoint that `open` loads into an archive (`origin` names it).
    Result<void> loadArchive(const std::function<void(torch::serialize::InputArchive&)>& open,
                             const std::string& origin);
};

/// What every model of the families keeps: its registry name, the data's shape, its effective
/// settings and its device, with the accessors the interface asks for. Each family derives
/// from it and adds its networks and optimisers.
class ModelBase : public GenerativeModel {
public:
    std::string name() const override { return m_name; }
    const ModelShape& shape() const override { return m_shape; }
    Settings settings() const override { return m_settings; }
    std::string deviceName() const override { return m_device.str(); }

protected:
    /// Keeps the given settings as the effective ones (a family fills in defaults and drops
    /// what it does not save) and places the model where the "device" setting asks.
    ModelBase(std::string name, const ModelShape& shape, const Settings& settings);

    ModelShape m_shape;
    /// What settings() returns and the run's config.json keeps.
    Settings m_settings;
    torch::Device m_device;

private:
    std::string m_name;
};

/// Trained models that a model is built around, by the setting that names their run
/// (ModelInfo::runSettings: latent-ddpm's "autoencoder"). The run layer opens them
/// (run/runloader.h, buildModel): models never read run folders.
using LinkedModels = std::map<std::string, std::shared_ptr<GenerativeModel>>;

/// Builds a model by registry name; unknown names and bad settings are errors. Every model
/// also takes the settings "lr" (initial learning rate) and "device" (auto, cpu or cuda). A
/// setting that names a run (ModelInfo::runSettings) needs that run's model in `links`.
Result<std::unique_ptr<GenerativeModel>> createModel(const std::string& name,
                                                     const ModelShape& shape,
                                                     const Settings& settings,
                                                     const LinkedModels& links = {});

/// Reads a setting with a default; throws std::invalid_argument naming the setting if the
/// value does not parse (createModel turns that into an error).
double settingNumber(const Settings& s, const std::string& key, double fallback);
std::vector<int> settingInts(const Settings& s, const std::string& key, std::vector<int> fallback);
/// A whole-number setting in low..high, or `fallback` where it is not given; throws
/// std::invalid_argument naming it otherwise (3.5 or 1e300 for a width).
int settingWhole(const Settings& s, const std::string& key, double fallback, int low, int high);

/// The setting "categories" of the models that learn a table's categorical columns as
/// categories (the VAE family and cGAN; models/categories.h): each column's one-hot features
/// as "first:count", in order, joined by commas ("2:3,5:4"); "" for none. The trainer fills
/// it from the data.
std::string categoriesSetting(const std::vector<Categorical>& categorical);
/// The groups the setting names, as (first, count) pairs; throws std::invalid_argument
/// naming the setting where they are not ascending, disjoint, within `features` features.
std::vector<std::pair<std::int64_t, std::int64_t>> settingCategories(const Settings& s,
                                                                     std::int64_t features);

/// The device the "device" setting asks for: "auto" (default) is CUDA when this LibTorch has
/// it and a GPU is present, else the CPU; "cuda" without CUDA throws std::invalid_argument.
torch::Device settingDevice(const Settings& s);

}  // namespace ll
