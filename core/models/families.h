#pragma once

// How the families plug into the registry: each family's source file lists its models (with
// a factory and a ModelInfo that says what the model can do) and its presets; registry.cpp
// only concatenates them. Adding a family touches its own files and one line each here and
// in registry.cpp: the window and the CLI learn what it can do from its ModelInfo
// (models/catalog.h), never from its name.

#include <functional>
#include <memory>
#include <vector>

#include "models/model.h"

namespace ll {

struct ModelFactory {
    ModelInfo info;
    /// Builds the model; throws std::invalid_argument naming the setting that is wrong.
    std::function<std::unique_ptr<GenerativeModel>(const ModelShape&, const Settings&,
                                                   const LinkedModels&)>
        make;
};

struct Family {
    std::vector<ModelFactory> models;
    std::vector<ModelPreset> presets;
};

Family vaeFamily();         // vae, cvae, chaotic-vae            (models/vae.cpp)
Family classifierFamily();  // classifier                        (models/classifier.cpp)
Family ganFamily();         // dcgan, cgan, acgan, wgan-gp        (models/gan.cpp)
Family diffusionFamily();   // ddpm, latent-ddpm, noisy-classifier (models/diffusion.cpp,
                            // models/latentdiffusion.cpp)

}  // namespace ll
