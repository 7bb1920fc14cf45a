#include "eval/extractorchoice.h"

namespace ll {
namespace fs = std::filesystem;

Result<ExtractorChoice> chooseExtractor(const fs::path& given, const std::string& dataset,
                                        const fs::path& workspace) {
    if (given.empty()) {
        auto found = findExtractor(dataset, workspace);
        if (!found) return tl::unexpected(found.error());
        return ExtractorChoice{.dir = found->dir, .info = *found};
    }
    if (std::error_code ec; !fs::exists(given / kExtractorFile, ec))
        return ExtractorChoice{.dir = given};
    auto info = readExtractor(given);
    if (!info) return tl::unexpected(info.error());
    return ExtractorChoice{.dir = given, .info = *info};
}

std::optional<ExtractorInfo> shippedTwin(const ExtractorInfo& trained) {
    const fs::path shipped = shippedExtractorsDir() / trained.dataset;
    std::error_code ec;
    if (!fs::exists(shipped / kExtractorFile, ec) || fs::equivalent(shipped, trained.dir, ec))
        return std::nullopt;
    auto info = readExtractor(shipped);
    return info ? std::optional(*info) : std::nullopt;
}

}  // namespace ll
