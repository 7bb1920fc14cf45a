#include "models/model.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

#include "common/atomicfile.h"
#include "common/mappedfile.h"
#include "models/checkpointarchive.h"
#include "models/collectives.h"
#include "models/fusedadam.h"

namespace ll {

ModelBase::ModelBase(std::string name, const ModelShape& shape, const Settings& settings)
    : m_shape(shape),
      m_settings(settings),
      m_device(settingDevice(settings)),
      m_name(std::move(name)) {
    // The learning rate is the optimisers' state, set as a number (setLearningRate), not a
    // setting the run keeps.
    m_settings.erase("lr");
    // A run's shapes stay the same from step to step: cuDNN times its algorithms for each
    // shape once and keeps the fastest (PyTorch's torch.backends.cudnn.benchmark).
    if (m_device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
}

namespace fs = std::filesystem;

namespace {

constexpr const char* kWeightsOnly = "latentlab_weights_only";

tl::unexpected<Error> notACheckpoint(const std::string& file, const std::string& why) {
    return fail(file + ": not a LatentLab checkpoint (corrupt or truncated file: " + why + ")");
}

torch::Tensor shapeTensor(const ModelShape& s) {
    return torch::tensor({s.channels, s.height, s.width, s.features, s.numClasses}, torch::kInt64);
}

std::string describe(const ModelShape& s) {
    std::ostringstream out;
    if (s.tabular())
        out << s.features << " features";
    else
        out << s.channels << "x" << s.height << "x" << s.width << " images";
    out << ", " << s.numClasses << " classes";
    return out.str();
}

std::string sizesText(c10::IntArrayRef sizes) {
    std::string s;
    for (const auto n : sizes) {
        if (!s.empty()) s += 'x';
        s += std::to_string(n);
    }
    return s.empty() ? "a scalar" : s;
}

// Module::load puts each tensor of the file in its parameter's place (Tensor::set_), whatever
// its shape or type: a checkpoint of other layer sizes would load and fail later, or feed code
// that trusts the sizes (FusedAdam). So the file's tensors are compared with the module's
// before it loads them, as Module::load walks them, and a refused file leaves the model as it
// was for the next checkpoint (loadNewestCheckpoint falls back into the same model).
Result<void> fitsModule(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                        const std::string& prefix) {
    const auto fits = [&](const std::string& name, const torch::Tensor& own) -> Result<void> {
        torch::Tensor theirs;
        // A tensor the file lacks is Module::load's to report.
        if (!own.defined() || !archive.try_read(name, theirs)) return {};
        if (theirs.sizes().equals(own.sizes()) && theirs.scalar_type() == own.scalar_type())
            return {};
        return fail("'" + prefix + name + "' is " + sizesText(theirs.sizes()) + " " +
                    c10::toString(theirs.scalar_type()) + ", the model's " +
                    sizesText(own.sizes()) + " " + c10::toString(own.scalar_type()));
    };
    for (const auto& item : module.named_parameters(/*recurse=*/false))
        if (auto ok = fits(item.key(), item.value()); !ok) return ok;
    for (const auto& item : module.named_buffers(/*recurse=*/false))
        if (auto ok = fits(item.key(), item.value()); !ok) return ok;
    for (const auto& child : module.named_children()) {
        torch::serialize::InputArchive part;
        if (!archive.try_read(child.key(), part)) continue;
        if (auto ok = fitsModule(*child.value(), part, prefix + child.key() + "."); !ok) return ok;
    }
    return {};
}

// Adam's moments, which FusedAdam steps over with raw pointers for as many elements as the
// parameter has: each must be its parameter's size and type, and goes to its device.
Result<void> momentsFit(torch::optim::Optimizer& optimizer, const std::string& key) {
    for (auto& group : optimizer.param_groups()) {
        const auto* options = dynamic_cast<const torch::optim::AdamOptions*>(&group.options());
        for (const auto& p : group.params()) {
            const auto it = optimizer.state().find(optimizerStateKey(optimizer.state(), p));
            if (it == optimizer.state().end()) continue;
            auto* s = dynamic_cast<torch::optim::AdamParamState*>(it->second.get());
            if (!s) continue;
            // A run moved between CPU and GPU: its moments follow the parameters.
            const auto toDevice = [&](const torch::Tensor& t) {
                return t.defined() ? t.to(p.device()) : t;  // no copy where it already is
            };
            s->exp_avg(toDevice(s->exp_avg()));
            s->exp_avg_sq(toDevice(s->exp_avg_sq()));
            s->max_exp_avg_sq(toDevice(s->max_exp_avg_sq()));
            const auto fits = [&](const torch::Tensor& t) {
                return t.defined() && t.sizes().equals(p.sizes()) &&
                       t.scalar_type() == p.scalar_type() && t.device() == p.device();
            };
            const bool amsgrad = (options && options->amsgrad()) || s->max_exp_avg_sq().defined();
            if (s->step() < 0 || !fits(s->exp_avg()) || !fits(s->exp_avg_sq()) ||
                (amsgrad && !fits(s->max_exp_avg_sq())))
                return fail("'" + key + "' holds moments of other sizes than its parameters (" +
                            sizesText(p.sizes()) + ")");
        }
    }
    return {};
}

}  // namespace

Result<void> GenerativeModel::save(const fs::path& path, bool weightsOnly) {
    torch::serialize::OutputArchive archive;
    archive.write("latentlab_model", torch::IValue(name()));
    archive.write("latentlab_shape", shapeTensor(shape()));
    if (weightsOnly) archive.write(kWeightsOnly, torch::IValue(true));
    for (auto& [key, module] : modules()) {
        torch::serialize::OutputArchive part;
        module->save(part);
        archive.write(key, part);
    }
    if (!weightsOnly)
        for (auto& [key, optimizer] : optimizers()) {
            torch::serialize::OutputArchive part;
            optimizer->save(part);
            archive.write(key, part);
        }
    // Streamed into the file, never held whole: a wide model's checkpoint is gigabytes. Through
    // a writer function, not a file name: the zip's records are named after the file written,
    // and a temporary file's random name would make equal weights give different bytes.
    return writeAtomicWith(path, [&](const fs::path& tmp) -> Result<void> {
        FileOutput out(tmp, path.string());
        try {
            // Every byte taken as written: after a failed write (a full disk) the rest goes
            // nowhere and close() says what failed. Told of it, LibTorch would throw, and throw
            // again from its writer's destructor while the first exception unwinds.
            archive.save_to([&](const void* data, std::size_t size) {
                out.write(data, size);
                return size;
            });
        } catch (const std::exception& e) {
            return fail(path.string() + ": " + firstLine(e));
        }
        return out.close();
    });
}

bool GenerativeModel::isOptionalModule(const std::string&) const {
    return false;
}

void GenerativeModel::restoreMissingModule(const std::string&) {}

void GenerativeModel::weightsReplaced() {}

Result<void> GenerativeModel::load(const fs::path& path) {
    const std::string file = path.string();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return fail(file + ": no such checkpoint");
    // Mapped, not read into memory: a wide model's checkpoint is gigabytes, and LibTorch makes
    // tensors of all of it while loading. Each page read goes back to the cache at once.
    auto mapped = MappedFile::open(path);
    if (!mapped) return tl::unexpected(mapped.error());
    if (auto ok = checkCheckpointArchive(mapped->bytes()); !ok)
        return notACheckpoint(file, ok.error().message);
    mapped->releaseAll();
    return loadArchive(
        [&](torch::serialize::InputArchive& archive) {
            archive.load_from(
                [&](std::uint64_t at, void* out, std::size_t size) {
                    return mapped->readAndRelease(at, out, size);
                },
                [&] { return mapped->bytes().size(); });
        },
        file);
}

Result<void> GenerativeModel::loadBytes(std::string bytes, const std::string& file) {
    if (auto ok = checkCheckpointArchive(bytes); !ok)
        return notACheckpoint(file, ok.error().message);
    return loadArchive(
        [&](torch::serialize::InputArchive& archive) {
            archive.load_from(bytes.data(), bytes.size());
        },
        file);
}

Result<void> GenerativeModel::loadArchive(
    const std::function<void(torch::serialize::InputArchive&)>& open, const std::string& file) {
    // LibTorch reads only an archive it reads safely (models/checkpointarchive.h), and from
    // the bytes checked, not from the file again.
    torch::serialize::InputArchive archive;
    try {
        open(archive);
    } catch (const std::exception&) {
        return fail(file + ": not a LatentLab checkpoint (corrupt or truncated file)");
    }
    ModelShape theirs;
    try {
        torch::IValue storedName;
        if (!archive.try_read("latentlab_model", storedName) || !storedName.isString())
            return fail(file + ": not a LatentLab checkpoint (no model name inside)");
        if (storedName.toStringRef() != name())
            return fail(file + ": checkpoint of a '" + storedName.toStringRef() + "' model, not '" +
                        name() + "'");
        torch::Tensor storedShape;
        if (!archive.try_read("latentlab_shape", storedShape) || storedShape.numel() != 5 ||
            storedShape.scalar_type() != torch::kInt64)
            return fail(file + ": not a LatentLab checkpoint (no data shape inside)");
        const auto v = storedShape.contiguous();
        const auto* d = v.data_ptr<std::int64_t>();
        theirs = {static_cast<int>(d[0]), static_cast<int>(d[1]), static_cast<int>(d[2]),
                  static_cast<int>(d[3]), static_cast<int>(d[4])};
    } catch (const std::exception& e) {
        return fail(file + ": not a LatentLab checkpoint (" + firstLine(e) + ")");
    }
    if (!(theirs == shape()))
        return fail(file + ": checkpoint is for " + describe(theirs) + ", this model takes " +
                    describe(shape()));
    const auto misfit = [&](const std::string& why) {
        return fail(file + ": weights do not fit this model's settings (" + why + ")");
    };
    weightsReplaced();
    try {
        std::vector<std::string> missing;
        for (auto& [key, module] : modules()) {
            torch::serialize::InputArchive part;
            if (!archive.try_read(key, part)) {
                if (!isOptionalModule(key)) return fail(file + ": checkpoint lacks '" + key + "'");
                missing.push_back(key);
                continue;
            }
            if (auto ok = fitsModule(*module, part, key + "."); !ok)
                return misfit(ok.error().message);
            module->load(part);
        }
        for (const auto& key : missing) restoreMissingModule(key);
        torch::IValue weightsOnly;
        if (archive.try_read(kWeightsOnly, weightsOnly) && weightsOnly.isBool() &&
            weightsOnly.toBool())
            return {};
    } catch (const std::exception& e) {
        // Damaged tensors, or a module of other parameters (settings differ).
        return misfit(firstLine(e));
    }
    for (auto& [key, optimizer] : optimizers()) {
        Result<void> ok;
        try {
            torch::serialize::InputArchive part;
            if (!archive.try_read(key, part))
                return fail(file + ": checkpoint lacks '" + key + "'");
            optimizer->load(part);
            ok = momentsFit(*optimizer, key);
        } catch (const std::exception& e) {
            ok = fail(firstLine(e));
        }
        if (!ok) {
            // No moments of a refused file stay behind for the next checkpoint that loads
            // weights only (loadNewestCheckpoint tries the next one into the same model).
            optimizer->state().clear();
            return misfit(ok.error().message);
        }
    }
    return {};
}

torch::Tensor GenerativeModel::latents(const SampleRequest&) {
    throw std::logic_error("model '" + name() + "' has no latent space");
}

torch::Tensor GenerativeModel::encodeLatents(const torch::Tensor&, const torch::Tensor&) {
    throw std::logic_error("model '" + name() + "' has no encoder");
}

torch::Tensor GenerativeModel::decodeLatents(const torch::Tensor&, const SampleRequest&) {
    throw std::logic_error("model '" + name() + "' has no latent space");
}

torch::Tensor GenerativeModel::classify(const torch::Tensor&) {
    throw std::logic_error("model '" + name() + "' is not a classifier");
}

torch::Tensor GenerativeModel::features(const torch::Tensor&) {
    throw std::logic_error("model '" + name() + "' has no feature layer (a classifier run has)");
}

torch::Tensor GenerativeModel::classifyNoisy(const torch::Tensor&, const torch::Tensor&) {
    throw std::logic_error("model '" + name() + "' is not a noisy classifier");
}

torch::Device settingDevice(const Settings& s) {
    auto it = s.find("device");
    const std::string want = it == s.end() || it->second.empty() ? "auto" : it->second;
    if (want == "cpu") return torch::kCPU;
    if (want == "auto") return torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
    if (want == "cuda") {
        if (!torch::cuda::is_available())
            throw std::invalid_argument(
                "setting 'device' is cuda, but this LibTorch has no CUDA or sees no GPU");
        return torch::kCUDA;
    }
    throw std::invalid_argument("setting 'device': '" + want + "' is not auto, cpu or cuda");
}

double settingNumber(const Settings& s, const std::string& key, double fallback) {
    auto it = s.find(key);
    if (it == s.end() || it->second.empty()) return fallback;
    double v = 0;
    auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (ec != std::errc() || ptr != it->second.data() + it->second.size())
        throw std::invalid_argument("setting '" + key + "': '" + it->second + "' is not a number");
    if (!std::isfinite(v))
        throw std::invalid_argument("setting '" + key + "': '" + it->second +
                                    "' is not a finite number");
    return v;
}

int settingWhole(const Settings& s, const std::string& key, double fallback, int low, int high) {
    const double v = settingNumber(s, key, fallback);
    if (v != std::floor(v) || v < low || v > high)
        throw std::invalid_argument("setting '" + key + "' must be a whole number in " +
                                    std::to_string(low) + ".." + std::to_string(high));
    return static_cast<int>(v);
}

std::vector<int> settingInts(const Settings& s, const std::string& key, std::vector<int> fallback) {
    auto it = s.find(key);
    if (it == s.end() || it->second.empty()) return fallback;
    std::vector<int> out;
    std::stringstream in(it->second);
    std::string item;
    while (std::getline(in, item, ',')) {
        int v = 0;
        auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (ec != std::errc() || ptr != item.data() + item.size() || v <= 0)
            throw std::invalid_argument("setting '" + key + "': '" + it->second +
                                        "' is not a list of positive whole numbers");
        out.push_back(v);
    }
    return out;
}

std::string categoriesSetting(const std::vector<Categorical>& categorical) {
    std::string out;
    for (const auto& c : categorical)
        out += (out.empty() ? "" : ",") + std::to_string(c.first) + ":" +
               std::to_string(c.values.size());
    return out;
}

std::vector<std::pair<std::int64_t, std::int64_t>> settingCategories(const Settings& s,
                                                                     std::int64_t features) {
    const auto it = s.find("categories");
    if (it == s.end() || it->second.empty() || it->second == "none") return {};
    const std::string& text = it->second;
    const auto bad = [&](const std::string& why) {
        return std::invalid_argument("setting 'categories': '" + text.substr(0, 60) + "' " + why);
    };
    if (text.back() == ',') throw bad("ends in a comma");
    std::vector<std::pair<std::int64_t, std::int64_t>> groups;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        // Spaces around a group are no matter ("1:3, 5:4").
        const auto from = item.find_first_not_of(' '), to = item.find_last_not_of(' ');
        item = from == std::string::npos ? "" : item.substr(from, to - from + 1);
        const auto colon = item.find(':');
        std::int64_t first = -1, count = -1;
        const char* end = item.data() + item.size();
        bool read = colon != std::string::npos;
        if (read) {
            const auto a = std::from_chars(item.data(), item.data() + colon, first);
            const auto b = std::from_chars(item.data() + colon + 1, end, count);
            read = a.ec == std::errc() && a.ptr == item.data() + colon && b.ec == std::errc() &&
                   b.ptr == end;
        }
        if (!read || first < 0 || count < 1)
            throw bad("is not a list of first:count (\"2:3,5:4\": features 2-4 and 5-8), or none");
        if (!groups.empty() && first < groups.back().first + groups.back().second)
            throw bad("has groups out of order or overlapping");
        if (count > features || first > features - count)
            throw bad("reaches past the " + std::to_string(features) + " features");
        groups.emplace_back(first, count);
    }
    return groups;
}

std::int64_t GenerativeModel::parameterCount() {
    std::int64_t n = 0;
    for (const auto& [key, module] : modules())
        for (const auto& p : module->parameters()) n += p.numel();
    return n;
}

std::vector<std::pair<std::string, torch::Tensor>> GenerativeModel::namedState() {
    std::vector<std::pair<std::string, torch::Tensor>> all;
    for (const auto& [key, module] : modules()) {
        for (const auto& p : module->named_parameters())
            all.emplace_back(key + "." + p.key(), p.value());
        for (const auto& b : module->named_buffers())
            all.emplace_back(key + "." + b.key(), b.value());
    }
    return all;
}

Result<void> GenerativeModel::setCollectives(Collectives* collectives) {
    for (const auto& [key, optimizer] : optimizers()) {
        auto* adam = dynamic_cast<FusedAdam*>(optimizer);
        if (!adam) return fail(name() + ": its optimiser '" + key + "' cannot train data-parallel");
        adam->setCollectives(collectives);
    }
    for (const auto& [key, module] : modules())
        for (const auto& m : module->modules())
            if (auto* layer = dynamic_cast<CollectiveLayer*>(m.get()))
                layer->setCollectives(collectives);
    return {};
}

}  // namespace ll
