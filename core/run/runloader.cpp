#include "run/runloader.h"

namespace ll {

Result<OpenedRun> openRun(const std::filesystem::path& run, std::optional<std::int64_t> step) {
    std::error_code ec;
    if (!std::filesystem::is_directory(run, ec)) return fail(run.string() + ": no such run folder");
    auto config = readRunConfig(run);
    if (!config) return tl::unexpected(config.error());
    auto data = readRunData(run);
    if (!data) return tl::unexpected(data.error());
    auto model = createModel(config->model, data->shape, config->settings);
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
    return OpenedRun{std::move(*model), std::move(*data), std::move(*config), *step};
}

}  // namespace ll
