#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ll {

/// Free-form model settings (`--set name=value` on the CLI), saved in the run's config.
using Settings = std::map<std::string, std::string>;

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

/// A model family known to the registry: its name, what it is, its settings with defaults.
struct ModelInfo {
    std::string name;
    std::string description;
    bool images = true;
    bool tabular = false;
    bool conditional = false;
    /// False for classifiers: they are trained like the rest but have nothing to sample.
    bool generates = true;
    Settings defaults;
    /// One line per setting: what it does and its range.
    std::map<std::string, std::string> help;
};

/// Every model the registry can build (std-only, so the GUI can list them).
const std::vector<ModelInfo>& modelCatalog();
const std::vector<ModelPreset>& modelPresets();
const ModelPreset* findPreset(const std::string& name);
const ModelInfo* findModel(const std::string& name);

}  // namespace ll
