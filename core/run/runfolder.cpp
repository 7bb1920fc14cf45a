#include "run/runfolder.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/jsonnumber.h"
#include "common/text.h"
#include "data/loader.h"

namespace ll {
namespace fs = std::filesystem;
using nlohmann::json;

namespace runfiles {
namespace {
std::string numbered(const char* prefix, std::int64_t step, const char* ext) {
    char name[64];
    std::snprintf(name, sizeof name, "%s-%06lld%s", prefix, static_cast<long long>(step), ext);
    return name;
}
}  // namespace
fs::path checkpoint(const fs::path& run, std::int64_t step) {
    return checkpointsDir(run) / numbered("step", step, ".pt");
}
fs::path samples(const fs::path& run, std::int64_t step) {
    return samplesDir(run) / numbered("step", step, ".png");
}
fs::path sampleTable(const fs::path& run, std::int64_t step) {
    return samplesDir(run) / numbered("step", step, ".csv");
}
fs::path checkpointsDir(const fs::path& run) {
    return run / "checkpoints";
}
fs::path samplesDir(const fs::path& run) {
    return run / "samples";
}
fs::path evalDir(const fs::path& run) {
    return run / "eval";
}
fs::path sweepsDir(const fs::path& run) {
    return run / "sweeps";
}
fs::path latentDir(const fs::path& run) {
    return run / "latent";
}
fs::path studies(const fs::path& run) {
    return run / "studies";
}
std::vector<std::int64_t> sampleSteps(const fs::path& run) {
    std::vector<std::int64_t> steps;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(samplesDir(run), ec)) {
        // Only names samples() writes: step-NNNNNN.png, whole digits between.
        const std::string name = e.path().filename().string();
        if (name.size() <= 9 || !startsWith(name, "step-") || !endsWith(name, ".png")) continue;
        const std::string digits = name.substr(5, name.size() - 9);
        if (digits.size() > 18 || !std::all_of(digits.begin(), digits.end(),
                                               [](unsigned char c) { return std::isdigit(c); }))
            continue;
        steps.push_back(std::stoll(digits));
    }
    std::sort(steps.begin(), steps.end());
    return steps;
}
}  // namespace runfiles

namespace {

// The source from the root: the run is resumed, evaluated and exported from other folders.
json toJson(const DatasetSpec& d) {
    json j{{"source", absoluteSource(d.source)},
           {"split", d.split},
           {"label_column", d.labelColumn},
           {"image_size", d.imageSize},
           {"colour", colourName(d.colour)},
           {"keep_classes", d.keepClasses},
           {"long_tail_ratio", d.longTailRatio},
           {"limit", d.limit},
           {"seed", d.seed}};
    // As typed (names or numbers): the loader settles them against the data each time.
    if (!d.keepClassNames.empty()) j["keep_class_names"] = d.keepClassNames;
    return j;
}

// Settings are text ("latent": "16"); a number or a yes/no typed by hand is taken as its text.
Settings settingsFromJson(const json& j) {
    if (!j.is_object()) throw std::out_of_range("'settings' is not an object of name: value");
    Settings out;
    for (const auto& [key, value] : j.items()) {
        if (value.is_string())
            out[key] = value.get<std::string>();
        else if (value.is_number() || value.is_boolean())
            out[key] = value.dump();
        else
            throw std::out_of_range("setting '" + key + "' is " + value.type_name() +
                                    ", not a value");
    }
    return out;
}

DatasetSpec datasetFromJson(const json& j) {
    DatasetSpec d;
    d.source = j.value("source", d.source);
    d.split = j.value("split", d.split);
    if (d.split != "train" && d.split != "test")
        throw std::out_of_range("'split' is '" + d.split + "', not train or test");
    d.labelColumn = j.value("label_column", d.labelColumn);
    // Files written before image folders followed their data say "grayscale" and a size.
    d.imageSize = wholeNumber(j, "image_size", 28);
    if (j.contains("colour")) {
        const std::string colour = j.at("colour").get<std::string>();
        const auto named = colourFromName(colour);
        if (!named)
            throw std::out_of_range("'colour' is '" + colour + "', not follow-data, gray or rgb");
        d.colour = *named;
    } else {
        d.colour = j.value("grayscale", true) ? ImageColour::Gray : ImageColour::Rgb;
    }
    d.keepClasses = wholeNumbers(j, "keep_classes", d.keepClasses);
    if (const auto names = j.find("keep_class_names"); names != j.end()) {
        if (!names->is_array()) throw std::out_of_range("'keep_class_names' is not a list");
        for (const auto& name : *names) {
            if (!name.is_string())
                throw std::out_of_range("'keep_class_names' holds " +
                                        std::string(name.type_name()) + ", not a class's name");
            d.keepClassNames.push_back(name.get<std::string>());
        }
    }
    d.longTailRatio = j.value("long_tail_ratio", d.longTailRatio);
    // Runs before the loader refused a ratio below 1 kept every sample with one.
    if (d.longTailRatio < 1.0) d.longTailRatio = 1.0;
    d.limit = wholeNumber(j, "limit", d.limit);
    d.seed = wholeNumber(j, "seed", d.seed);
    return d;
}

Result<json> readJson(const fs::path& path) {
    auto text = readFile(path);
    if (!text) return tl::unexpected(text.error());
    json j = parseJson(*text);
    if (j.is_discarded() || !j.is_object()) return fail(path.string() + ": " + kNotJson);
    return j;
}

}  // namespace

fs::path defaultWorkspace() {
    if (const char* env = std::getenv("LATENTLAB_WORKSPACE"); env && *env) return env;
    if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / "LatentLab";
    return fs::current_path() / "LatentLab";
}

fs::path workspaceOfRun(const fs::path& run, const fs::path& given) {
    if (!given.empty()) return given;
    const fs::path parent = fs::absolute(run).lexically_normal().parent_path();
    return parent.filename() == "runs" ? parent.parent_path() : defaultWorkspace();
}

fs::path newRunFolder(const fs::path& workspace, const std::string& model,
                      const std::string& dataset) {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    std::string safe;
    for (char c : dataset)
        safe += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
    const std::string base =
        std::string(stamp) + "-" + model + "-" + (safe.empty() ? "data" : safe);
    fs::path dir = workspace / "runs" / base;
    for (int i = 2; fs::exists(dir); ++i)
        dir = workspace / "runs" / (base + "-" + std::to_string(i));
    return dir;
}

std::string runConfigText(const TrainConfig& c, const std::string& status,
                          const std::string& datasetName, std::int64_t step) {
    json j = {{"format", "latentlab-run-1"},
              {"model", c.model},
              {"preset", c.preset},
              {"settings", c.settings},
              {"dataset", toJson(c.dataset)},
              {"dataset_name", datasetName},
              {"steps", c.steps},
              {"learning_rate", c.learningRate},
              {"batch_size", c.batchSize},
              {"world_size", c.worldSize},
              {"seed", c.seed},
              {"threads", c.threads},
              {"log_every", c.logEvery},
              {"sample_every", c.sampleEvery},
              {"checkpoint_every", c.checkpointEvery},
              {"eval_every", c.evalEvery},
              {"eval_count", c.evalCount},
              {"samples_per_class", c.samplesPerClass},
              {"max_grid_rows", c.maxGridRows},
              {"status", status},
              {"step", step}};
    return j.dump(2) + "\n";
}

Result<void> writeRunConfig(const fs::path& run, const TrainConfig& c, const std::string& status,
                            const std::string& datasetName, std::int64_t step) {
    return writeFileAtomic(run / runfiles::kConfig, runConfigText(c, status, datasetName, step));
}

Result<void> writeRunData(const fs::path& run, const RunData& d) {
    json j = {{"dataset_name", d.datasetName},
              {"class_names", d.classNames},
              {"shape",
               {{"channels", d.shape.channels},
                {"height", d.shape.height},
                {"width", d.shape.width},
                {"features", d.shape.features},
                {"classes", d.shape.numClasses}}}};
    if (d.shape.tabular()) {
        j["feature_names"] = d.featureNames;
        j["mean"] = d.mean;
        j["std"] = d.std;
        if (!d.categorical.empty()) {
            json columns = json::array();
            for (const auto& c : d.categorical)
                columns.push_back({{"column", c.column}, {"first", c.first}, {"values", c.values}});
            j["categorical"] = columns;
        }
        if (!d.decimal.empty()) j["decimal"] = d.decimal;
        if (!d.decimals.empty()) j["decimals"] = d.decimals;
    }
    return writeFileAtomic(run / "data.json", j.dump(2) + "\n");
}

Result<RunData> readRunData(const fs::path& run) {
    auto j = readJson(run / "data.json");
    if (!j) return tl::unexpected(j.error());
    try {
        RunData d;
        d.datasetName = j->value("dataset_name", "");
        d.classNames = j->at("class_names").get<std::vector<std::string>>();
        const auto& s = j->at("shape");
        d.shape = ModelShape{wholeNumber<int>(s.at("channels"), "channels"),
                             wholeNumber<int>(s.at("height"), "height"),
                             wholeNumber<int>(s.at("width"), "width"),
                             wholeNumber<int>(s.at("features"), "features"),
                             wholeNumber<int>(s.at("classes"), "classes")};
        // Sizes a model could have, before any is used to size a vector.
        const auto& sh = d.shape;
        if (sh.channels < 0 || sh.channels > 65536 || sh.height < 0 || sh.height > 65536 ||
            sh.width < 0 || sh.width > 65536 || sh.features < 0 || sh.features > (1 << 24))
            return fail((run / "data.json").string() + ": the data's shape is out of range");
        if (!sh.tabular() && (sh.channels < 1 || sh.height < 1 || sh.width < 1))
            return fail((run / "data.json").string() + ": images of " +
                        std::to_string(sh.channels) + " x " + std::to_string(sh.height) + " x " +
                        std::to_string(sh.width) + " (channels x height x width) hold nothing");
        if (d.shape.numClasses != static_cast<int>(d.classNames.size()) || d.shape.numClasses < 1)
            return fail((run / "data.json").string() + ": class names and class count disagree");
        if (d.shape.tabular()) {
            const auto n = static_cast<std::size_t>(d.shape.features);
            d.featureNames = j->value("feature_names", std::vector<std::string>{});
            d.mean = j->value("mean", std::vector<double>(n, 0.0));
            d.std = j->value("std", std::vector<double>(n, 1.0));
            if (d.featureNames.size() != n) {
                d.featureNames.clear();
                for (std::size_t i = 0; i < n; ++i)
                    d.featureNames.push_back(std::string("x").append(std::to_string(i)));
            }
            if (d.mean.size() != n || d.std.size() != n)
                return fail((run / "data.json").string() + ": standardisation has the wrong size");
            for (const auto& c : j->value("categorical", json::array()))
                d.categorical.push_back({c.at("column").get<std::string>(),
                                         wholeNumber<std::uint32_t>(c.at("first"), "first"),
                                         c.at("values").get<std::vector<std::string>>()});
            if (const auto why = categoricalFault(d.categorical, n); !why.empty())
                return fail((run / "data.json").string() + ": " + why);
            // A hint for files read later; one this code does not know is no hint.
            if (const auto way = j->find("decimal");
                way != j->end() && (*way == "point" || *way == "comma"))
                d.decimal = way->get<std::string>();
            // A hint too: one a feature, each -1 (free) to 15, or none at all.
            if (const auto places = j->find("decimals");
                places != j->end() && places->is_array() && places->size() == n &&
                std::all_of(places->begin(), places->end(), [](const json& p) {
                    return p.is_number_integer() && p.get<std::int64_t>() >= -1 &&
                           p.get<std::int64_t>() <= 15;
                }))
                d.decimals = places->get<std::vector<int>>();
        }
        return d;
    } catch (const json::exception& e) {
        return fail((run / "data.json").string() + ": malformed (" + jsonMessage(e) + ")");
    } catch (const std::out_of_range& e) {
        return fail((run / "data.json").string() + ": malformed (" + e.what() + ")");
    }
}

Result<TrainConfig> parseRunConfig(const std::string& text, const fs::path& origin) {
    const json parsed = parseJson(text);
    if (parsed.is_discarded() || !parsed.is_object())
        return fail(origin.string() + ": " + kNotJson);
    const json* j = &parsed;
    try {
        TrainConfig c;
        c.model = j->at("model").get<std::string>();
        c.preset = j->value("preset", "");
        c.settings = settingsFromJson(j->value("settings", json::object()));
        c.dataset = datasetFromJson(j->value("dataset", json::object()));
        c.steps = wholeNumber(*j, "steps", c.steps);
        c.learningRate = j->value("learning_rate", c.learningRate);
        c.batchSize = wholeNumber(*j, "batch_size", c.batchSize);
        c.worldSize = wholeNumber(*j, "world_size", c.worldSize);
        c.seed = wholeNumber(*j, "seed", c.seed);
        c.threads = wholeNumber(*j, "threads", c.threads);
        c.logEvery = wholeNumber(*j, "log_every", c.logEvery);
        c.sampleEvery = wholeNumber(*j, "sample_every", c.sampleEvery);
        c.checkpointEvery = wholeNumber(*j, "checkpoint_every", c.checkpointEvery);
        c.evalEvery = wholeNumber(*j, "eval_every", c.evalEvery);
        c.evalCount = wholeNumber(*j, "eval_count", c.evalCount);
        c.samplesPerClass = wholeNumber(*j, "samples_per_class", c.samplesPerClass);
        c.maxGridRows = wholeNumber(*j, "max_grid_rows", c.maxGridRows);
        return c;
    } catch (const json::exception& e) {
        return fail(origin.string() + ": malformed run config (" + jsonMessage(e) + ")");
    } catch (const std::out_of_range& e) {
        return fail(origin.string() + ": malformed run config (" + e.what() + ")");
    }
}

Result<TrainConfig> readRunConfig(const fs::path& run) {
    std::error_code ec;
    if (!fs::is_directory(run, ec)) return fail(run.string() + ": no such run folder");
    if (!fs::exists(run / runfiles::kConfig, ec))
        return fail(run.string() + ": not a run folder (no " + runfiles::kConfig + ")");
    auto text = readFile(run / runfiles::kConfig);
    if (!text) return tl::unexpected(text.error());
    auto c = parseRunConfig(*text, run / runfiles::kConfig);
    if (c) c->runDir = run;
    return c;
}

Result<RunInfo> readRunInfo(const fs::path& run) {
    auto j = readJson(run / runfiles::kConfig);
    if (!j) return tl::unexpected(j.error());
    RunInfo info;
    info.dir = run;
    // The runs browser lists every folder: one whose config.json has the wrong types is
    // skipped with this message, never the end of the list (found by tests/fuzz).
    try {
        info.model = j->value("model", "?");
        info.dataset = j->value("dataset_name", "?");
        info.status = j->value("status", "?");
        info.step = wholeNumber(*j, "step", std::int64_t{0});
        info.totalSteps = wholeNumber(*j, "steps", std::int64_t{0});
    } catch (const json::exception& e) {
        return fail((run / runfiles::kConfig).string() + ": malformed run config (" +
                    jsonMessage(e) + ")");
    } catch (const std::out_of_range& e) {
        return fail((run / runfiles::kConfig).string() + ": malformed run config (" + e.what() +
                    ")");
    }
    auto log = readLossLog(run);
    if (!log.empty()) {
        info.lastLosses = log.back().second;
        info.step = std::max(info.step, log.back().first);
    }
    return info;
}

std::vector<RunInfo> listRuns(const fs::path& workspace) {
    std::vector<RunInfo> runs;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(workspace / "runs", ec))
        if (e.is_directory())
            if (auto info = readRunInfo(e.path())) runs.push_back(std::move(*info));
    std::sort(runs.begin(), runs.end(), [](const RunInfo& a, const RunInfo& b) {
        return a.dir.filename() > b.dir.filename();
    });
    return runs;
}

Result<std::pair<std::int64_t, fs::path>> latestCheckpoint(const fs::path& run) {
    auto j = readJson(run / runfiles::kLatest);
    if (!j) return fail(run.string() + ": no checkpoint to resume from");
    const auto it = j->find("step");
    const auto step = it != j->end() && it->is_number_integer() ? it->get<std::int64_t>() : -1;
    if (step < 0) return fail((run / runfiles::kLatest).string() + ": no step recorded");
    return std::pair{step, runfiles::checkpoint(run, step)};
}

std::vector<std::int64_t> listCheckpoints(const fs::path& run) {
    std::vector<std::int64_t> steps;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(run / "checkpoints", ec)) {
        const auto name = e.path().filename().string();
        long long step = 0;
        int used = 0;
        if (std::sscanf(name.c_str(), "step-%lld.pt%n", &step, &used) == 1 &&
            used == static_cast<int>(name.size()))
            steps.push_back(step);
    }
    std::sort(steps.begin(), steps.end());
    return steps;
}

Result<void> writeLatest(const fs::path& run, std::int64_t step) {
    json j = {{"step", step},
              {"checkpoint", runfiles::checkpoint(run, step).lexically_relative(run).string()}};
    return writeFileAtomic(run / runfiles::kLatest, j.dump() + "\n");
}

Result<void> appendLogLine(const fs::path& run, const std::string& jsonLine) {
    std::ofstream out(run / runfiles::kLog, std::ios::app | std::ios::binary);
    const std::string line = jsonLine + "\n";
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
    out.flush();
    if (!out) return fail((run / runfiles::kLog).string() + ": cannot append");
    return {};
}

Result<void> truncateLog(const fs::path& run, std::int64_t step) {
    auto text = readFile(run / runfiles::kLog);
    if (!text) return {};  // no log yet
    std::istringstream in(*text);
    std::string line, kept;
    while (std::getline(in, line)) {
        json j = parseJson(line);
        if (j.is_discarded() || !j.is_object()) continue;
        // A line without a step is kept, as before steps were logged; one of a step that is no
        // whole number is dropped.
        const auto it = j.find("step");
        const auto at =
            it == j.end() ? std::optional<std::int64_t>{0} : asWholeNumber<std::int64_t>(*it);
        if (at && *at <= step) kept += line + "\n";
    }
    return writeFileAtomic(run / runfiles::kLog, kept);
}

namespace {

// Every log line that parses and holds `key`, with its step, through `read` (which may throw
// JSON or range errors for a malformed line: that line is skipped).
template <class Read>
std::vector<std::pair<std::int64_t, LossMap>> readLogLines(const fs::path& run, const char* key,
                                                           Read read) {
    std::vector<std::pair<std::int64_t, LossMap>> out;
    std::ifstream in(run / runfiles::kLog);
    std::string line;
    while (std::getline(in, line)) {
        json j = parseJson(line);
        if (j.is_discarded() || !j.is_object() || !j.contains(key)) continue;
        try {
            out.emplace_back(wholeNumber(j, "step", std::int64_t{0}), read(j.at(key)));
        } catch (const json::exception&) {
        } catch (const std::out_of_range&) {
        }
    }
    return out;
}

}  // namespace

std::vector<std::pair<std::int64_t, LossMap>> readLossLog(const fs::path& run) {
    return readLogLines(run, "losses", [](const json& losses) { return losses.get<LossMap>(); });
}

std::vector<std::pair<std::int64_t, LossMap>> readRankLog(const fs::path& run) {
    return readLogLines(run, "ranks", [](const json& ranks) {
        LossMap values;
        for (const auto& r : ranks) {
            const std::string rank = "rank " + std::to_string(wholeNumber(r, "rank", 0));
            values[rank + " steps/s"] = r.at("steps_per_s").get<double>();
            values[rank + " all-reduce ms"] = r.at("allreduce_ms").get<double>();
        }
        return values;
    });
}

}  // namespace ll
