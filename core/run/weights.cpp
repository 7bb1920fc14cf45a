#include "run/weights.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/jsonnumber.h"
#include "common/safetensors.h"
#include "common/sha256.h"
#include "models/allocationbudget.h"
#include "run/runfolder.h"
#include "run/runloader.h"

namespace ll {

namespace {

namespace fs = std::filesystem;
namespace st = safetensors;
using nlohmann::json;

// Tensors are copied byte for byte; safetensors is little-endian.
static_assert(std::endian::native == std::endian::little);

constexpr std::pair<torch::ScalarType, st::DType> kTypes[] = {
    {torch::kFloat, st::DType::F32}, {torch::kDouble, st::DType::F64},
    {torch::kHalf, st::DType::F16},  {torch::kBFloat16, st::DType::BF16},
    {torch::kLong, st::DType::I64},  {torch::kInt, st::DType::I32},
    {torch::kShort, st::DType::I16}, {torch::kChar, st::DType::I8},
    {torch::kByte, st::DType::U8},   {torch::kBool, st::DType::Bool}};

std::optional<st::DType> toSafetensors(torch::ScalarType type) {
    for (auto [t, d] : kTypes)
        if (t == type) return d;
    return std::nullopt;
}

std::optional<torch::ScalarType> toTorch(st::DType dtype) {
    for (auto [t, d] : kTypes)
        if (d == dtype) return t;
    return std::nullopt;
}

std::string shapeText(c10::IntArrayRef shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// A path beside `near` that nothing uses, for what is made on the way to `near`.
fs::path besideUnique(const fs::path& near, const std::string& tag) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string name = ".";
    name.append(near.filename().string()).append(".").append(tag).append("-");
    name.append(std::to_string(rng()));
    return near.parent_path() / name;
}

// A folder's path without a trailing separator, so that filename() names the folder.
fs::path folderPath(const fs::path& dir) {
    fs::path p = fs::absolute(dir).lexically_normal();
    return p.has_filename() ? p : p.parent_path();
}

// Removes what it holds when it goes out of scope: the work files of a failed export or import.
struct Cleanup {
    fs::path path;
    ~Cleanup() {
        std::error_code ec;
        if (!path.empty()) fs::remove_all(path, ec);
    }
};

Result<void> loadArchive(const fs::path& file, torch::serialize::InputArchive& archive) {
    try {
        archive.load_from(file.string(), torch::Device(torch::kCPU));
    } catch (const std::exception& e) {
        return fail(file.string() + ": cannot read the checkpoint (" + firstLine(e) + ")");
    }
    return {};
}

// Which top-level keys of a checkpoint hold weights? GenerativeModel::save writes the model's
// name, shape and weights-only flag as plain values, then one nested archive per module and,
// unless weights-only, one per optimiser. So the model's own weights-only save says it: every
// nested archive at the top of that file is a module, by the model's modules(), not by a guess
// at key names, and the tensors are exactly what the loaded model holds.
void collectTensors(torch::serialize::InputArchive& archive, const std::string& prefix,
                    std::vector<std::pair<std::string, torch::Tensor>>& out) {
    for (const auto& key : archive.keys()) {
        torch::serialize::InputArchive nested;
        torch::Tensor tensor;
        if (archive.try_read(key, nested))
            collectTensors(nested, prefix + key + ".", out);
        else if (!prefix.empty() && archive.try_read(key, tensor))
            out.emplace_back(prefix + key, tensor);
    }
}

struct Imported {
    std::string model;
    Settings settings;
    json data;
    json dataset;  // config.json's "dataset", or null
    std::int64_t step = 0;
};

// The metadata an import needs, checked.
Result<Imported> readMetadata(const st::File& weights, const std::string& file) {
    const auto& meta = weights.metadata;
    auto field = [&](const char* key) -> Result<std::string> {
        const auto it = meta.find(key);
        if (it == meta.end())
            return fail(file + ": not LatentLab weights (no '" + key + "' in __metadata__)");
        return it->second;
    };
    auto format = field("format");
    if (!format) return tl::unexpected(format.error());
    if (*format != kWeightsFormat)
        return fail(file + ": metadata 'format' is '" + *format + "', not '" + kWeightsFormat +
                    "'");
    Imported out;
    for (const char* key : {"model", "settings", "data", "step", "checkpoint_sha256"})
        if (auto ok = field(key); !ok) return tl::unexpected(ok.error());
    out.model = meta.at("model");
    const json settings = parseJson(meta.at("settings"));
    if (!settings.is_object())
        return fail(file + ": metadata 'settings' is not a JSON object of strings");
    for (const auto& [k, v] : settings.items()) {
        if (!v.is_string())
            return fail(file + ": metadata 'settings': '" + k + "' is not a string");
        out.settings[k] = v.get<std::string>();
    }
    out.data = parseJson(meta.at("data"));
    if (!out.data.is_object()) return fail(file + ": metadata 'data' is not a JSON object");
    if (const auto it = meta.find("dataset"); it != meta.end()) {
        out.dataset = parseJson(it->second);
        if (!out.dataset.is_object())
            return fail(file + ": metadata 'dataset' is not a JSON object");
    }
    const std::string& step = meta.at("step");
    const auto [end, ec] = std::from_chars(step.data(), step.data() + step.size(), out.step);
    if (ec != std::errc() || end != step.data() + step.size() || out.step < 0)
        return fail(file + ": metadata 'step' is '" + step + "', not a step number");
    for (const auto& t : weights.tensors)
        if (!toTorch(t.dtype))
            return fail(file + ": tensor '" + t.name + "' is " +
                        std::string(st::dtypeName(t.dtype)) + ", which LibTorch cannot hold");
    return out;
}

// Whether `weights` holds any tensor under `module` ("range." for "range").
bool holdsModule(const st::File& weights, const std::string& module) {
    const std::string start = module + ".";
    return std::any_of(weights.tensors.begin(), weights.tensors.end(),
                       [&](const st::TensorEntry& t) { return t.name.starts_with(start); });
}

// Lays `skeleton` (a model's own weights-only checkpoint) out again in `out` with the file's
// tensors in place of the model's: the same nesting, names, dtypes and shapes. Top-level
// values (model name, shape, flag) are the skeleton's.
Result<void> fillArchive(torch::serialize::InputArchive& skeleton, const std::string& prefix,
                         const st::File& weights, const std::string& file,
                         const GenerativeModel& model, torch::serialize::OutputArchive& out,
                         std::set<std::string>& used) {
    for (const auto& key : skeleton.keys()) {
        torch::serialize::InputArchive nested;
        torch::Tensor expected;
        torch::IValue value;
        if (skeleton.try_read(key, nested)) {
            // Weights exported before the model gained this module: left out, so load()
            // restores it as it does for an old checkpoint.
            if (prefix.empty() && model.isOptionalModule(key) && !holdsModule(weights, key))
                continue;
            torch::serialize::OutputArchive part;
            if (auto ok = fillArchive(nested, prefix + key + ".", weights, file, model, part, used);
                !ok)
                return ok;
            out.write(key, part);
        } else if (skeleton.try_read(key, expected)) {
            if (prefix.empty()) {
                out.write(key, expected);
                continue;
            }
            const std::string name = prefix + key;
            const st::TensorEntry* entry = weights.find(name);
            if (!entry)
                return fail(file + ": no tensor '" + name + "', which the model (" + model.name() +
                            " with these settings) has");
            const auto type = *toTorch(entry->dtype);
            if (type != expected.scalar_type())
                return fail(file + ": tensor '" + name + "' is " +
                            std::string(st::dtypeName(entry->dtype)) + ", the model's is " +
                            c10::toString(expected.scalar_type()));
            if (!c10::IntArrayRef(entry->shape).equals(expected.sizes()))
                return fail(file + ": tensor '" + name + "' has shape " + shapeText(entry->shape) +
                            ", the model's has " + shapeText(expected.sizes()));
            torch::Tensor tensor = torch::empty(entry->shape, torch::TensorOptions().dtype(type));
            const auto bytes = weights.data(*entry);
            if (!bytes.empty()) std::memcpy(tensor.data_ptr(), bytes.data(), bytes.size());
            out.write(key, tensor);
            used.insert(name);
        } else if (skeleton.try_read(key, value)) {
            out.write(key, value);
        }
    }
    return {};
}

// Builds the run in `staging`; importWeights renames it into place once it loads.
Result<void> buildRun(const st::File& weights, const Imported& meta, const std::string& file,
                      const fs::path& staging) {
    // data.json goes through readRunData, the loader's own check of it.
    const fs::path dataFile = staging / "data.json";
    if (auto ok = writeFileAtomic(dataFile, meta.data.dump(2) + "\n"); !ok) return ok;
    auto data = readRunData(staging);
    if (!data) {
        std::string why = data.error().message;
        if (why.starts_with(dataFile.string() + ": ")) why.erase(0, dataFile.string().size() + 2);
        return fail(file + ": metadata 'data' is not a run's data description (" + why + ")");
    }
    if (auto ok = writeRunData(staging, *data); !ok) return ok;
    // config.json: the dataset spec goes through readRunConfig, the loader's own reader of it.
    json seed = {{"model", meta.model}, {"settings", meta.settings}};
    if (meta.dataset.is_object()) seed["dataset"] = meta.dataset;
    if (auto ok = writeFileAtomic(staging / runfiles::kConfig, seed.dump()); !ok) return ok;
    auto config = readRunConfig(staging);
    if (!config) return fail(file + ": metadata 'dataset' does not describe a dataset");
    config->steps = meta.step;
    if (auto ok = writeRunConfig(staging, *config, "imported", data->datasetName, meta.step); !ok)
        return ok;

    // The model the metadata describes is filled from the file's tensors alone, so it holds no
    // more elements than they do (8 bytes each at most, with a little for what a model
    // allocates beside its weights): hostile metadata asking for a larger one is refused while
    // it is built, not after it filled the memory.
    std::uint64_t elements = 0;
    for (const auto& t : weights.tensors) elements += (t.end - t.begin) / st::dtypeSize(t.dtype);
    auto model = [&] {
        const AllocationBudget budget(
            elements * 8 + (1u << 20),
            "more than the file's " + std::to_string(elements) +
                " weights fill: its metadata's settings do not describe its tensors");
        return buildModel(meta.model, data->shape, meta.settings);
    }();
    if (!model) return fail(file + ": " + model.error().message);
    // The model's own weights-only checkpoint is the skeleton to fill: what a checkpoint of
    // this model holds, nested as GenerativeModel::save nests it.
    const fs::path checkpoint = runfiles::checkpoint(staging, meta.step);
    if (auto ok = (*model)->save(checkpoint, /*weightsOnly=*/true); !ok) return ok;
    torch::serialize::InputArchive skeleton;
    if (auto ok = loadArchive(checkpoint, skeleton); !ok) return ok;
    torch::serialize::OutputArchive filled;
    std::set<std::string> used;
    if (auto ok = fillArchive(skeleton, "", weights, file, **model, filled, used); !ok) return ok;
    for (const auto& t : weights.tensors)
        if (!used.contains(t.name))
            return fail(file + ": tensor '" + t.name + "' is not part of the model (" + meta.model +
                        " with these settings)");
    try {
        filled.save_to(checkpoint.string());
    } catch (const std::exception& e) {
        return fail(checkpoint.string() + ": cannot write (" + firstLine(e) + ")");
    }
    // Through the model and back, so the checkpoint is byte for byte what the model saves.
    if (auto ok = (*model)->load(checkpoint); !ok) return ok;
    if (auto ok = (*model)->save(checkpoint, /*weightsOnly=*/true); !ok) return ok;
    if (auto ok = writeLatest(staging, meta.step); !ok) return ok;
    if (auto proof = loadRun(staging); !proof)
        return fail(file + ": the imported run does not load (" + proof.error().message + ")");
    return {};
}

}  // namespace

Result<WeightsExported> exportWeights(const fs::path& run, std::optional<std::int64_t> step,
                                      const fs::path& outFile) {
    auto loaded = loadRun(run, step);
    if (!loaded) return tl::unexpected(loaded.error());
    const fs::path checkpoint = runfiles::checkpoint(run, loaded->step);
    auto sha = sha256File(checkpoint);
    if (!sha) return tl::unexpected(sha.error());
    auto dataText = readFile(run / "data.json");
    if (!dataText) return tl::unexpected(dataText.error());
    const json data = parseJson(*dataText);
    if (!data.is_object()) return fail((run / "data.json").string() + ": " + kNotJson);
    // Where the data came from, for evaluating the imported run: config.json's own record.
    auto configText = readFile(run / runfiles::kConfig);
    if (!configText) return tl::unexpected(configText.error());
    const json config = parseJson(*configText);

    const fs::path work = besideUnique(fs::temp_directory_path() / "latentlab-weights.pt", "tmp");
    Cleanup cleanup{work};
    if (auto ok = loaded->model->save(work, /*weightsOnly=*/true); !ok)
        return tl::unexpected(ok.error());
    torch::serialize::InputArchive archive;
    if (auto ok = loadArchive(work, archive); !ok) return tl::unexpected(ok.error());
    std::vector<std::pair<std::string, torch::Tensor>> named;
    collectTensors(archive, "", named);

    std::vector<torch::Tensor> kept;  // the CPU copies `tensors` points into
    std::vector<st::TensorIn> tensors;
    for (const auto& [name, t] : named) {
        const auto dtype = toSafetensors(t.scalar_type());
        if (!dtype)
            return fail(checkpoint.string() + ": tensor '" + name + "' is " +
                        c10::toString(t.scalar_type()) +
                        ", which safetensors export does not take");
        kept.push_back(t.detach().to(torch::kCPU).contiguous());
        const auto& c = kept.back();
        tensors.push_back(
            {.name = name,
             .dtype = *dtype,
             .shape = c.sizes().vec(),
             .bytes = std::string_view(static_cast<const char*>(c.data_ptr()), c.nbytes())});
    }
    st::Metadata metadata{
        {"format", kWeightsFormat},      {"run", folderPath(run).filename().string()},
        {"model", loaded->config.model}, {"settings", json(loaded->config.settings).dump()},
        {"data", data.dump()},           {"step", std::to_string(loaded->step)},
        {"checkpoint_sha256", *sha}};
    if (config.is_object() && config.contains("dataset") && config["dataset"].is_object())
        metadata["dataset"] = config["dataset"].dump();
    if (auto ok = st::write(outFile, tensors, metadata); !ok) return tl::unexpected(ok.error());
    return WeightsExported{
        .step = loaded->step, .tensors = tensors.size(), .checkpointSha256 = *sha};
}

Result<WeightsImported> importWeights(const fs::path& file, const fs::path& outRun) {
    const std::string name = file.string();
    auto weights = st::read(file);
    if (!weights) return tl::unexpected(weights.error());
    auto meta = readMetadata(*weights, name);
    if (!meta) return tl::unexpected(meta.error());

    const fs::path target = folderPath(outRun);
    std::error_code ec;
    if (fs::exists(target, ec) && !(fs::is_directory(target, ec) && fs::is_empty(target, ec)))
        return fail(outRun.string() + ": exists and is not empty; import into a new folder");
    fs::create_directories(target.parent_path(), ec);
    const fs::path staging = besideUnique(target, "importing");
    fs::create_directories(staging, ec);
    if (ec)
        return fail(staging.parent_path().string() + ": cannot create a folder there (" +
                    ec.message() + ")");
    Cleanup cleanup{staging};
    if (auto ok = buildRun(*weights, *meta, name, staging); !ok) return tl::unexpected(ok.error());
    // rename() replaces an empty folder, so an empty target is taken over as well.
    fs::rename(staging, target, ec);
    if (ec) return fail(outRun.string() + ": cannot create the run folder (" + ec.message() + ")");
    cleanup.path.clear();
    return WeightsImported{
        .model = meta->model, .step = meta->step, .tensors = weights->tensors.size()};
}

}  // namespace ll
