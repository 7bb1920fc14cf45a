#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/error.h"
#include "eval/metrics.h"

namespace ll {

/// The metrics of two feature arrays on disk (.npy, samples x features), as `latentlab-cli
/// metrics` computes them: FID, KID, precision/recall, density/coverage and, given training
/// and held-out features, the data-copying test C_T.
struct FeatureMetricsConfig {
    std::filesystem::path real;
    std::filesystem::path fake;
    std::filesystem::path train;  // both or neither
    std::filesystem::path test;
    int k = 3;         // neighbours for precision/recall
    int kDensity = 5;  // neighbours for density/coverage
    std::uint64_t seed = 0;
    int kidSubsets = 100;
    std::int64_t kidSize = 1000;
    int cells = 10;  // k-means cells of the data-copying test
};

struct FeatureMetrics {
    FeatureMetricsConfig config;
    std::int64_t realCount = 0;
    std::int64_t fakeCount = 0;
    std::int64_t features = 0;
    double fid = 0;
    Kid kid;
    PrecisionRecall precisionRecall;
    DensityCoverage densityCoverage;
    /// With train and test features only.
    std::optional<DataCopying> copying;
    DataCopyingConfig copyingConfig;
    std::int64_t trainCount = 0;
    std::int64_t testCount = 0;
};

/// Reads the arrays and computes every metric; the first fault is the error (a missing file,
/// mismatched widths, too few samples for k), so nothing is half done.
Result<FeatureMetrics> measureFeatureFiles(const FeatureMetricsConfig& config);

/// The record as JSON: the scores (fid, kid, kid_std, precision, recall, density, coverage,
/// ct and ct_cells when measured) and a "protocol" object with the inputs and settings.
std::string featureMetricsJson(const FeatureMetrics& m);

/// Writes featureMetricsJson(m) to `file`, atomically.
Result<void> writeFeatureMetrics(const FeatureMetrics& m, const std::filesystem::path& file);

}  // namespace ll
