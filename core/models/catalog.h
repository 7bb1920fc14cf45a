#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ll {

/// Free-form model settings (`--set name=value` on the CLI), saved in the run's config.
using Settings = std::map<std::string, std::string>;

/// The losses of one training step by name ("loss" the total), as a model returns them and
/// the trainer logs them.
using LossMap = std::map<std::string, double>;

/// What a model generates: images (channels x height x width) or tabular rows (features).
struct ModelShape {
    int channels = 1;
    int height = 28;
    int width = 28;
    int features = 0;  // > 0 for tabular data
    int numClasses = 10;

    bool tabular() const { return features > 0; }
    std::int64_t dataDim() const {
        return tabular() ? features : std::int64_t(channels) * height * width;
    }
    bool operator==(const ModelShape&) const = default;
};

/// A named starting point for a model: training length and hyper-parameters that are known
/// to work, and what a user should expect from them.
struct ModelPreset {
    std::string name;   // e.g. "cvae-cpu"
    std::string model;  // registry name, e.g. "cvae"
    std::string description;
    std::int64_t steps = 0;
    double learningRate = 1e-3;
    int batchSize = 128;
    Settings settings;
};

/// The families the registry knows: what kind of generator a model is.
enum class ModelFamily { Vae, Gan, Diffusion, Classifier };

/// The sampling knob a family offers besides guidance.
enum class SampleKnob {
    None,
    Temperature,  // the VAE family: scale of the prior's noise
    Truncation,   // GANs: the truncation trick on z
};

/// A model known to the registry: its name, what it is, what it can do, its settings with
/// defaults. The window and the CLI ask these facts; they never compare model names.
struct ModelInfo {
    std::string name;
    std::string description;
    ModelFamily family = ModelFamily::Vae;
    bool images = true;
    bool tabular = false;
    bool conditional = false;
    /// False for classifiers: they are trained like the rest but have nothing to sample.
    bool generates = true;
    /// Has an encoder (data -> latent): the latent browser maps training data through it.
    bool encodes = false;
    /// Takes the classifier-free guidance weight (SampleRequest::guidance).
    bool guidance = false;
    /// Takes classifier guidance from a model that classifies noisy images in its own space.
    bool classifierGuidance = false;
    /// Classifies noisy images: guides models that take classifier guidance.
    bool guidesDiffusion = false;
    SampleKnob knob = SampleKnob::None;
    /// A draw takes many network passes in data space (pixel diffusion, seconds a grid on a
    /// CPU): the window shows every step and decodes latents only on request.
    bool slowDraws = false;
    /// Settings whose value names another run this model is built around (latent-ddpm's
    /// "autoencoder"): the run layer opens that run and hands its model in (LinkedModels).
    std::vector<std::string> runSettings;
    /// Settings only a table's model takes, which the trainer fills when a run starts (the
    /// VAE family's and cGAN's "categories", from the data; the VAE family's "sigma"): the
    /// Train panel leaves them out for images.
    std::vector<std::string> tableSettings;
    Settings defaults;
    /// One line per setting: what it does and its range.
    std::map<std::string, std::string> help;
};

/// Every model the registry can build (std-only, so the GUI can list them).
const std::vector<ModelInfo>& modelCatalog();
const std::vector<ModelPreset>& modelPresets();
const ModelPreset* findPreset(const std::string& name);
const ModelInfo* findModel(const std::string& name);
/// The catalogue entry of `name`; for a model this build does not know (a run of a newer
/// version), an entry that can do nothing: it neither generates nor takes any steering.
const ModelInfo& modelInfo(const std::string& name);

}  // namespace ll
