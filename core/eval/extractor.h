#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/error.h"

namespace ll {

/// A feature extractor: the clean classifier whose penultimate layer is the feature space of
/// the metrics. On disk it is a run folder (config.json, data.json, one weights-only
/// checkpoint) plus extractor.json, which records how it was trained, its accuracy and the
/// SHA-256 of its weights. Torch-free header: the GUI reads extractors through it
/// (train/extractortraining.h trains them).
struct ExtractorInfo {
    std::filesystem::path dir;
    std::string dataset;  // the name of the data it knows (data.json)
    std::filesystem::path weights;
    std::string sha256;
    std::int64_t steps = 0;
    std::uint64_t seed = 0;
    int threads = 0;
    double accuracy = -1;       // on `accuracySplit`; negative when unknown
    std::string accuracySplit;  // "test", or "train" for data without a test split
    std::string command;        // the CLI command that retrains it bit for bit
    bool shipped = false;       // comes with LatentLab (resources/extractors)
};

inline constexpr const char* kExtractorFile = "extractor.json";

/// The extractors that come with LatentLab: $LATENTLAB_RESOURCES/extractors, else the
/// source tree's resources/extractors.
std::filesystem::path shippedExtractorsDir();
/// The user's own extractors: <workspace>/extractors/<dataset>.
std::filesystem::path workspaceExtractorDir(const std::filesystem::path& workspace,
                                            const std::string& dataset);

/// Reads <dir>/extractor.json and checks the weights against its SHA-256: a changed or
/// damaged file is an error, never a silently different feature space.
Result<ExtractorInfo> readExtractor(const std::filesystem::path& dir);

/// The extractor for a dataset by name: the workspace's own, else a shipped one. The error
/// says how to train one.
Result<ExtractorInfo> findExtractor(const std::string& dataset,
                                    const std::filesystem::path& workspace);

}  // namespace ll
