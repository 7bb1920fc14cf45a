#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/error.h"
#include "eval/extractor.h"

namespace ll {

/// The feature extractor a user's choice names, checked: `given` is an extractor folder
/// (its weights checked against extractor.json) or a classifier run (taken as it is, with no
/// info); empty finds the dataset's own (findExtractor: the workspace's, else a shipped one).
/// The CLI and evaluation pick extractors this way.
struct ExtractorChoice {
    std::filesystem::path dir;
    std::optional<ExtractorInfo> info;  // none for a plain classifier run
};
Result<ExtractorChoice> chooseExtractor(const std::filesystem::path& given,
                                        const std::string& dataset,
                                        const std::filesystem::path& workspace);

/// The shipped extractor of the same data as `trained`, when there is one and it is another
/// folder: its SHA-256 tells whether a retraining repeated the shipped weights bit for bit.
std::optional<ExtractorInfo> shippedTwin(const ExtractorInfo& trained);

}  // namespace ll
