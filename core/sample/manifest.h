#pragma once

// Torch-free: a folder of samples says how each one was drawn, whoever writes it (the CLI's
// sample, the window's export).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"
#include "models/request.h"

namespace ll {

/// One sample of a folder: its file, its class and its place in the draw.
struct ManifestRow {
    std::string file;
    int label = 0;
    std::int64_t index = 0;
};

/// "sample-000042.png": the file of sample `index` in a folder of samples.
std::string sampleFileName(std::int64_t index);

/// manifest.csv of a folder of samples drawn by `request` from checkpoint `step`: a header and
/// one line per row (file, class, class_name, seed, index, step, temperature, truncation,
/// guidance, steps, sampler, classifier_scale, guidance_interval, mixture). Class names with
/// commas or quotes are quoted; a mixture is written "3:0.5 5:0.5", without commas.
std::string sampleManifest(const std::vector<ManifestRow>& rows,
                           const std::vector<std::string>& classNames, const SampleRequest& request,
                           std::int64_t step);

/// Writes sampleManifest(...) to `file`, atomically.
Result<void> writeSampleManifest(const std::filesystem::path& file,
                                 const std::vector<ManifestRow>& rows,
                                 const std::vector<std::string>& classNames,
                                 const SampleRequest& request, std::int64_t step);

}  // namespace ll
