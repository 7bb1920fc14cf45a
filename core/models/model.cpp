#include "models/model.h"

#include <charconv>
#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

#include "common/atomicfile.h"

namespace ll {

ModelBase::ModelBase(std::string name, const ModelShape& shape, const Settings& settings)
    : m_shape(shape),
      m_settings(settings),
      m_device(settingDevice(settings)),
      m_name(std::move(name)) {
    // The learning rate is the optimisers' state, set as a number (setLearningRate), not a
    // setting the run keeps.
    m_settings.erase("lr");
}
namespace fs = std::filesystem;

namespace {

constexpr const char* kWeightsOnly = "latentlab_weights_only";

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
    // Through memory, not a file: the zip records are named after the file written, and a
    // temporary file's random name would make equal weights give different bytes.
    std::ostringstream bytes;
    try {
        archive.save_to(bytes);
    } catch (const std::exception& e) {
        return fail(path.string() + ": " + e.what());
    }
    return writeFileAtomic(path, bytes.str());
}

Result<void> GenerativeModel::load(const fs::path& path) {
    const std::string file = path.string();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return fail(file + ": no such checkpoint");
    torch::serialize::InputArchive archive;
    try {
        archive.load_from(file);
    } catch (const std::exception&) {
        return fail(file + ": not a LatentLab checkpoint (corrupt or truncated file)");
    }
    torch::IValue storedName;
    if (!archive.try_read("latentlab_model", storedName) || !storedName.isString())
        return fail(file + ": not a LatentLab checkpoint (no model name inside)");
    if (storedName.toStringRef() != name())
        return fail(file + ": checkpoint of a '" + storedName.toStringRef() + "' model, not '" +
                    name() + "'");
    torch::Tensor storedShape;
    if (!archive.try_read("latentlab_shape", storedShape) || storedShape.numel() != 5)
        return fail(file + ": not a LatentLab checkpoint (no data shape inside)");
    const auto v = storedShape.to(torch::kInt64);
    ModelShape theirs{
        static_cast<int>(v[0].item<std::int64_t>()), static_cast<int>(v[1].item<std::int64_t>()),
        static_cast<int>(v[2].item<std::int64_t>()), static_cast<int>(v[3].item<std::int64_t>()),
        static_cast<int>(v[4].item<std::int64_t>())};
    if (!(theirs == shape()))
        return fail(file + ": checkpoint is for " + describe(theirs) + ", this model takes " +
                    describe(shape()));
    try {
        for (auto& [key, module] : modules()) {
            torch::serialize::InputArchive part;
            if (!archive.try_read(key, part))
                return fail(file + ": checkpoint lacks '" + key + "'");
            module->load(part);
        }
        torch::IValue weightsOnly;
        if (archive.try_read(kWeightsOnly, weightsOnly) && weightsOnly.isBool() &&
            weightsOnly.toBool())
            return {};
        for (auto& [key, optimizer] : optimizers()) {
            torch::serialize::InputArchive part;
            if (!archive.try_read(key, part))
                return fail(file + ": checkpoint lacks '" + key + "'");
            optimizer->load(part);
        }
    } catch (const std::exception& e) {
        // Same name and shape but other layer sizes (settings differ), or damaged tensors.
        const std::string what = firstLine(e);
        return fail(file + ": weights do not fit this model's settings (" + what + ")");
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
    return v;
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

std::int64_t GenerativeModel::parameterCount() {
    std::int64_t n = 0;
    for (const auto& [key, module] : modules())
        for (const auto& p : module->parameters()) n += p.numel();
    return n;
}

}  // namespace ll
