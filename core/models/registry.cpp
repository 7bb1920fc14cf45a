#include <stdexcept>

#include "common/cpu.h"
#include "common/format.h"
#include "models/allocationbudget.h"
#include "models/families.h"
#include "models/model.h"
#include "models/settingnames.h"

namespace ll {

namespace {

struct Registry {
    std::vector<ModelFactory> factories;
    std::vector<ModelInfo> models;
    std::vector<ModelPreset> presets;
};

const Registry& registry() {
    static const Registry r = [] {
        Registry out;
        for (Family f : {vaeFamily(), ganFamily(), diffusionFamily(), classifierFamily()}) {
            for (auto& m : f.models) {
                out.models.push_back(m.info);
                out.factories.push_back(std::move(m));
            }
            for (auto& p : f.presets) out.presets.push_back(std::move(p));
        }
        return out;
    }();
    return r;
}

// Settings every model takes, handled outside the families.
bool universalSetting(const std::string& key) {
    return key == "lr" || key == "device";
}

}  // namespace

const std::vector<ModelInfo>& modelCatalog() {
    return registry().models;
}

const std::vector<ModelPreset>& modelPresets() {
    return registry().presets;
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

const ModelInfo& modelInfo(const std::string& name) {
    if (const ModelInfo* m = findModel(name)) return *m;
    static const ModelInfo unknown{.name = "unknown", .generates = false};
    return unknown;
}

std::string settingNamesFault(const std::string& name, const Settings& settings) {
    const ModelInfo* info = findModel(name);
    if (!info) {
        std::string known;
        for (const auto& m : modelCatalog()) known += (known.empty() ? "" : ", ") + m.name;
        return "unknown model '" + name + "' (known: " + known + ")";
    }
    for (const auto& [key, value] : settings)
        if (!info->defaults.contains(key) && !universalSetting(key)) {
            std::string known;
            for (const auto& [k, v] : info->defaults) known += (known.empty() ? "" : ", ") + k;
            return "model '" + name + "' has no setting '" + key + "' (it has: " + known +
                   ", lr, device)";
        }
    return {};
}

Result<std::unique_ptr<GenerativeModel>> createModel(const std::string& name,
                                                     const ModelShape& shape,
                                                     const Settings& settings,
                                                     const LinkedModels& links) {
    if (auto fault = settingNamesFault(name, settings); !fault.empty()) return fail(fault);
    const ModelFactory* factory = nullptr;
    for (const auto& f : registry().factories)
        if (f.info.name == name) factory = &f;
    if (!factory) return fail("model '" + name + "' is in the catalogue but not the registry");
    const ModelInfo& info = factory->info;
    if (shape.tabular() && !info.tabular)
        return fail("model '" + name + "' does not take tabular data");
    if (!shape.tabular() && !info.images) return fail("model '" + name + "' does not take images");
    if (shape.numClasses < 1) return fail("the dataset has no classes");
    for (const auto& key : info.runSettings) {
        const auto it = settings.find(key);
        if (it != settings.end() && !it->second.empty() && !links.contains(key))
            return fail("model '" + name + "': setting '" + key + "' names a run (" + it->second +
                        "), which the run loader opens: build it with buildModel");
    }
    try {
        const AllocationBudget budget(
            modelBuildLimit(), "more than three quarters of this machine's " +
                                   formatBytes(physicalMemoryBytes()) + ": use smaller settings");
        return factory->make(shape, settings, links);
    } catch (const AllocationBudgetExceeded& e) {
        return fail("model '" + name + "' with these settings needs more than " +
                    formatBytes(static_cast<double>(e.limit())) + " to build, " + e.why());
    } catch (const std::invalid_argument& e) {
        return fail("model '" + name + "': " + e.what());
    } catch (const std::exception& e) {
        const std::string what = firstLine(e);
        return fail("model '" + name + "' cannot be built: " + what);
    }
}

}  // namespace ll
