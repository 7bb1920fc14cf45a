#include <stdexcept>

#include "models/cvae.h"
#include "models/model.h"

namespace ll {

const std::vector<ModelInfo>& modelCatalog() {
    static const std::vector<ModelInfo> models{
        {.name = "cvae",
         .description = "Class-conditional VAE: MLP encoder and decoder, both given the class",
         .images = true,
         .tabular = true,
         .conditional = true,
         .defaults = {{"latent", "16"}, {"hidden", "512,256"}, {"beta", "1"}}},
    };
    return models;
}

const std::vector<ModelPreset>& modelPresets() {
    static const std::vector<ModelPreset> presets{
        {.name = "cvae-cpu",
         .model = "cvae",
         .description = "CVAE 794-512-256-16, batch 128. 50-70 steps/s on 2 CPU cores: "
                        "garment shapes after ~500 steps (10 s), most rows in their class after "
                        "~2,000, the full 5,000 steps in about 1.5 minutes",
         .steps = 5000,
         .learningRate = 1e-3,
         .batchSize = 128,
         .settings = {{"latent", "16"}, {"hidden", "512,256"}}},
        {.name = "cvae-gpu",
         .model = "cvae",
         .description = "Wider CVAE 1024-512-32 for a GPU, batch 512, 20,000 steps",
         .steps = 20000,
         .learningRate = 1e-3,
         .batchSize = 512,
         .settings = {{"latent", "32"}, {"hidden", "1024,512"}}},
    };
    return presets;
}

const ModelPreset* findPreset(const std::string& name) {
    for (const auto& p : modelPresets())
        if (p.name == name) return &p;
    return nullptr;
}

const ModelInfo* findModel(const std::string& name) {
    for (const auto& m : modelCatalog())
        if (m.name == name) return &m;
    return nullptr;
}

Result<std::unique_ptr<GenerativeModel>> createModel(const std::string& name,
                                                     const ModelShape& shape,
                                                     const Settings& settings) {
    const ModelInfo* info = findModel(name);
    if (!info) {
        std::string known;
        for (const auto& m : modelCatalog()) known += (known.empty() ? "" : ", ") + m.name;
        return fail("unknown model '" + name + "' (known: " + known + ")");
    }
    if (shape.tabular() && !info->tabular)
        return fail("model '" + name + "' does not take tabular data");
    if (!shape.tabular() && !info->images) return fail("model '" + name + "' does not take images");
    if (shape.numClasses < 1) return fail("the dataset has no classes");
    for (const auto& [key, value] : settings)
        if (!info->defaults.contains(key) && key != "lr")
            return fail("model '" + name + "' has no setting '" + key + "'");
    try {
        if (name == "cvae") return std::make_unique<Cvae>(shape, settings);
    } catch (const std::invalid_argument& e) {
        return fail(e.what());
    }
    return fail("model '" + name + "' is listed but not built");
}

}  // namespace ll
