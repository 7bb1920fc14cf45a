#include "eval/trtrcache.h"

#include <string_view>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/jsonnumber.h"
#include "common/sha256.h"

namespace ll {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "latentlab-trtr-1";

std::string digest(const torch::Tensor& t) {
    const torch::Tensor c = t.to(torch::kCPU).contiguous();
    std::string head = std::string(c10::toString(c.scalar_type()));
    for (auto n : c.sizes()) head += ',' + std::to_string(n);
    return head + ':' +
           sha256Hex(std::string_view(static_cast<const char*>(c.data_ptr()), c.nbytes()));
}

fs::path entry(const fs::path& workspace, const std::string& key) {
    return workspace / "cache" / "trtr" / (key + ".json");
}

}  // namespace

std::string trtrKey(const torch::Tensor& trainX, const torch::Tensor& trainY,
                    const torch::Tensor& testX, const torch::Tensor& testY, std::int64_t steps,
                    std::uint64_t seed) {
    const std::string parts = std::string(kFormat) + '|' + digest(trainX) + '|' + digest(trainY) +
                              '|' + digest(testX) + '|' + digest(testY) + "|steps " +
                              std::to_string(steps) + "|seed " + std::to_string(seed) + "|torch " +
                              TORCH_VERSION + "|threads " + std::to_string(at::get_num_threads());
    return sha256Hex(parts);
}

std::optional<double> cachedTrtr(const fs::path& workspace, const std::string& key) {
    auto text = readFile(entry(workspace, key));
    if (!text) return std::nullopt;
    const json j = parseJson(*text);
    // Compared as JSON: value(k, "") throws on a value of another type (a damaged entry is a
    // miss, not an error).
    if (!j.is_object() || j.value("format", json()) != kFormat || j.value("key", json()) != key ||
        !j.contains("accuracy") || !j["accuracy"].is_number())
        return std::nullopt;
    const double a = j["accuracy"].get<double>();
    if (!(a >= 0 && a <= 1)) return std::nullopt;
    return a;
}

void storeTrtr(const fs::path& workspace, const std::string& key, double accuracy,
               std::int64_t trainRows, std::int64_t testRows, std::int64_t steps) {
    std::error_code ec;
    fs::create_directories(entry(workspace, key).parent_path(), ec);
    if (ec) return;
    const json j{{"format", kFormat},     {"key", key},
                 {"accuracy", accuracy},  {"train_rows", trainRows},
                 {"test_rows", testRows}, {"steps", steps}};
    (void)writeFileAtomic(entry(workspace, key), j.dump(1) + "\n");
}

}  // namespace ll
