#include "run/runloader.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "data/csv.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "models/allocationbudget.h"

namespace ll {

Result<std::unique_ptr<GenerativeModel>> buildModel(const std::string& name,
                                                    const ModelShape& shape,
                                                    const Settings& settings) {
    // A run's settings may link to a run whose settings link again: a run linked to itself,
    // or two to each other, would recurse until the stack ran out. The runs being opened:
    thread_local std::vector<std::filesystem::path> opening;
    LinkedModels links;
    if (const ModelInfo* info = findModel(name)) {
        for (const auto& key : info->runSettings) {
            const auto it = settings.find(key);
            if (it == settings.end() || it->second.empty()) continue;
            std::error_code ec;
            auto run = std::filesystem::weakly_canonical(it->second, ec);
            if (ec) run = std::filesystem::path(it->second).lexically_normal();
            if (std::ranges::find(opening, run) != opening.end() || opening.size() >= 16) {
                std::string loop;
                for (const auto& r : opening) loop += r.string() + " -> ";
                return fail("model '" + name + "': setting '" + key +
                            "': runs link to each other in a loop or more than 16 deep (" + loop +
                            run.string() + ")");
            }
            opening.push_back(run);
            struct Opened {
                ~Opened() { opening.pop_back(); }
            } opened;
            // The run linked to is the user's own, sized when it was trained: no budget the
            // caller set for this model counts it (its own build has the machine's).
            auto linked = [&] {
                const BudgetsSetAside aside;
                return loadRun(it->second);
            }();
            if (!linked)
                return fail("model '" + name + "': setting '" + key +
                            "': " + linked.error().message);
            links[key] = std::move(linked->model);
        }
    }
    return createModel(name, shape, settings, links);
}

Result<LoadedCheckpoint> loadNewestCheckpoint(GenerativeModel& model,
                                              const std::filesystem::path& run) {
    std::vector<std::int64_t> steps = listCheckpoints(run);
    std::reverse(steps.begin(), steps.end());
    std::string named;  // why latest.json did not lead to a checkpoint
    auto latest = latestCheckpoint(run);
    if (latest) {
        std::erase(steps, latest->first);
        steps.insert(steps.begin(), latest->first);
    } else {
        named = (run / runfiles::kLatest).string() + " is missing or damaged";
    }
    if (steps.empty()) return fail(run.string() + ": no checkpoint to resume from");
    std::vector<std::string> faults;
    auto allFaults = [&] {
        std::string all = faults.front();
        for (std::size_t i = 1; i < faults.size(); ++i) all += "; " + faults[i];
        return all;
    };
    for (const auto step : steps) {
        const auto path = runfiles::checkpoint(run, step);
        if (auto ok = model.load(path); !ok) {
            faults.push_back(ok.error().message);
            continue;
        }
        std::string warning;
        if (!faults.empty() || !named.empty()) {
            warning = (faults.empty() ? named : allFaults()) +
                      ". Fell back to the checkpoint of step " + std::to_string(step);
        }
        return LoadedCheckpoint{step, path, std::move(warning)};
    }
    return fail(run.string() + ": no checkpoint loads: " + allFaults());
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
    std::string warning;
    if (step) {
        if (auto ok = (*model)->load(runfiles::checkpoint(run, *step)); !ok)
            return tl::unexpected(ok.error());
    } else {
        auto loaded = loadNewestCheckpoint(**model, run);
        if (!loaded) return tl::unexpected(loaded.error());
        step = loaded->step;
        warning = std::move(loaded->warning);
    }
    // Checkpoints keep the optimisers' moments, not their rate: the run's own comes from its
    // config, as a number.
    (*model)->setLearningRate(config->learningRate);
    return LoadedRun{std::move(*model), std::move(*data), std::move(*config), *step,
                     std::move(warning)};
}

Result<Dataset> loadForRun(const DatasetSpec& given, const TrainConfig& config,
                           const RunData& run) {
    DatasetSpec spec = given;
    spec.imageSize = config.dataset.imageSize;
    spec.colour = config.dataset.colour;
    const auto& s = run.shape;
    // A table the run's way: its classes and categories, whatever a few rows say.
    const TableLayout like{run.featureNames, run.categorical, run.classNames, run.decimal};
    auto data = loadDataset(spec, s.tabular() ? &like : nullptr);
    if (!data) return tl::unexpected(data.error());
    if ((data->modality == Modality::Image) == s.tabular())
        return fail(spec.source + (s.tabular() ? " holds images; the run's data are table rows"
                                               : " holds table rows; the run's data are images"));
    if (data->classNames != run.classNames)
        return fail(spec.source + " has other classes than the run's data");
    // A table comes standardised by its own statistics; the run's model knows its training
    // data's (a held-out file of other means would be shifted), and its categories.
    if (s.tabular()) {
        data = restandardise(*data, run.featureNames, run.mean, run.std, run.categorical);
        if (!data) return tl::unexpected(data.error());
    }
    const bool fits = s.tabular() ? data->x.size(1) == s.features
                                  : data->x.size(1) == s.channels && data->x.size(2) == s.height &&
                                        data->x.size(3) == s.width;
    if (!fits) return fail(spec.source + "'s samples are not shaped as the run's data");
    if (data->size() == 0) return fail(spec.source + ": no samples");
    return data;
}

}  // namespace ll
