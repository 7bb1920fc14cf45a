#include "run/runloader.h"

namespace ll {

Result<std::unique_ptr<GenerativeModel>> buildModel(const std::string& name,
                                                    const ModelShape& shape,
                                                    const Settings& settings) {
    LinkedModels links;
    if (const ModelInfo* info = findModel(name)) {
        for (const auto& key : info->runSettings) {
            const auto it = settings.find(key);
            if (it == settings.end() || it->second.empty()) continue;
            auto linked = loadRun(it->second);
            if (!linked)
                return fail("model '" + name + "': setting '" + key +
                            "': " + linked.error().message);
            links[key] = std::move(linked->model);
        }
    }
    return createModel(name, shape, settings, links);
}

Result<LoadedRun> loadRun(const std::filesystem::path& run, std::optional<std::int64_t> step) {
    std::error_code ec;
    if (!std::filesystem::is_directory(run, ec)) return fail(run.string() + ": no such run folder");
    auto config = readRunConfig(run);
    if (!config) return tl::unexpected(config.error());
    auto data = readRunData(run);
    if (!data) return tl::unexpected(data.error());
    auto model = buildModel(config->model, data->shape, config->settings);
    if (!model) return tl::unexpected(model.error());
    std::filesystem::path checkpoint;
    if (step) {
        checkpoint = runfiles::checkpoint(run, *step);
    } else {
        auto latest = latestCheckpoint(run);
        if (!latest) return tl::unexpected(latest.error());
        step = latest->first;
        checkpoint = latest->second;
    }
    if (auto ok = (*model)->load(checkpoint); !ok) return tl::unexpected(ok.error());
    // Checkpoints keep the optimisers' moments, not their rate: the run's own comes from its
    // config, as a number.
    (*model)->setLearningRate(config->learningRate);
    return LoadedRun{std::move(*model), std::move(*data), std::move(*config), *step};
}

}  // namespace ll
