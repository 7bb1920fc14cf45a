#include "eval/extractor.h"

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/jsonnumber.h"
#include "common/sha256.h"
#include "run/runfolder.h"

namespace ll {
namespace fs = std::filesystem;
using nlohmann::json;

fs::path shippedExtractorsDir() {
    if (const char* env = std::getenv("LATENTLAB_RESOURCES"); env && *env)
        return fs::path(env) / "extractors";
    return fs::path(LATENTLAB_RESOURCE_DIR) / "extractors";
}

fs::path workspaceExtractorDir(const fs::path& workspace, const std::string& dataset) {
    return workspace / "extractors" / dataset;
}

Result<ExtractorInfo> readExtractor(const fs::path& dir) {
    const fs::path file = dir / kExtractorFile;
    auto text = readFile(file);
    if (!text) return fail(dir.string() + ": not a feature extractor (no " + kExtractorFile + ")");
    ExtractorInfo info;
    fs::path weights;
    try {
        const json j = parseJson(*text);
        if (j.is_discarded()) return fail(file.string() + ": " + kNotJson);
        info.dir = dir;
        info.dataset = j.at("dataset").get<std::string>();
        weights = fs::path(j.at("weights").get<std::string>());
        info.sha256 = j.at("sha256").get<std::string>();
        info.steps = wholeNumber(j, "steps", std::int64_t{0});
        info.seed = wholeNumber(j, "seed", std::uint64_t{0});
        info.threads = wholeNumber(j, "threads", 0);
        info.accuracy = j.value("accuracy", -1.0);
        info.accuracySplit = j.value("accuracy_split", "");
        info.command = j.value("command", "");
    } catch (const json::exception& e) {
        return fail(file.string() + ": malformed (" + jsonMessage(e) + ")");
    } catch (const std::out_of_range& e) {
        return fail(file.string() + ": malformed (" + e.what() + ")");
    }
    // The weights lie inside the extractor's folder: a manifest naming /dev/zero or a file
    // elsewhere would have it read without end or hash what is not its own.
    std::error_code ec;
    const bool inside = !weights.empty() && weights.is_relative() &&
                        std::none_of(weights.begin(), weights.end(),
                                     [](const fs::path& part) { return part == ".."; });
    info.weights = dir / weights;
    if (!inside || !fs::is_regular_file(info.weights, ec))
        return fail(file.string() + ": weights '" + weights.string() +
                    "' are not a file inside the extractor's folder");
    auto sum = sha256File(info.weights);
    if (!sum) return tl::unexpected(sum.error());
    if (*sum != info.sha256)
        return fail(info.weights.string() + ": SHA-256 " + *sum + " differs from the " +
                    info.sha256 + " recorded in " + file.string() +
                    " (the weights were changed or damaged; retrain with: " + info.command + ")");
    info.shipped = fs::equivalent(dir.parent_path(), shippedExtractorsDir(), ec);
    return info;
}

Result<ExtractorInfo> findExtractor(const std::string& dataset, const fs::path& workspace) {
    std::error_code ec;
    for (const fs::path& dir :
         {workspaceExtractorDir(workspace, dataset), shippedExtractorsDir() / dataset})
        if (fs::exists(dir / kExtractorFile, ec)) return readExtractor(dir);
    return fail("no feature extractor for '" + dataset +
                "': train one (Inspect mode, or latentlab-cli train-extractor --dataset ... "
                "--out " +
                workspaceExtractorDir(workspace, dataset).string() +
                "), or use raw pixels (--pixels)");
}

}  // namespace ll
