#include "sample/manifest.h"

#include <cstdio>

#include "common/atomicfile.h"
#include "common/csvtext.h"
#include "common/format.h"

namespace ll {

namespace {

// The steering columns, the same for every row of one request.
std::string settingsColumns(const SampleRequest& r) {
    char text[192];
    std::snprintf(text, sizeof text, "%g,%g,%g,%d,%s,%g,%g:%g,", r.temperature, r.truncation,
                  r.guidance, r.steps, r.sampler == Sampler::Ddim ? "ddim" : "ddpm",
                  r.classifier ? r.classifierScale : 0.0, r.guidanceFrom, r.guidanceTo);
    std::string out = text;
    for (std::size_t i = 0; i < r.mixture.size(); ++i)  // "3:0.5 5:0.5": no commas in a cell
        out += (i ? " " : "") + std::to_string(r.mixture[i].first) + ":" +
               formatNumber(r.mixture[i].second);
    return out;
}

}  // namespace

std::string sampleFileName(std::int64_t index) {
    char file[32];
    std::snprintf(file, sizeof file, "sample-%06lld.png", static_cast<long long>(index));
    return file;
}

std::string sampleManifest(const std::vector<ManifestRow>& rows,
                           const std::vector<std::string>& classNames, const SampleRequest& request,
                           std::int64_t step) {
    std::string manifest =
        "file,class,class_name,seed,index,step,temperature,truncation,guidance,steps,sampler,"
        "classifier_scale,guidance_interval,mixture\n";
    const std::string settings = settingsColumns(request);
    for (const auto& row : rows) {
        const auto k = static_cast<std::size_t>(row.label);
        manifest += row.file + "," + std::to_string(row.label) + "," +
                    csvCell(k < classNames.size() ? classNames[k] : std::string()) + "," +
                    std::to_string(request.seed) + "," + std::to_string(row.index) + "," +
                    std::to_string(step) + "," + settings + "\n";
    }
    return manifest;
}

Result<void> writeSampleManifest(const std::filesystem::path& file,
                                 const std::vector<ManifestRow>& rows,
                                 const std::vector<std::string>& classNames,
                                 const SampleRequest& request, std::int64_t step) {
    return writeFileAtomic(file, sampleManifest(rows, classNames, request, step));
}

}  // namespace ll
