#pragma once

// What an export opens once (the run, its domain classifier, the training features the copy
// filter compares with) and how it judges each drawn sample. Private to export/.

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/error.h"
#include "export/datasetexport.h"
#include "run/runloader.h"

namespace ll::exporting {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The run, its domain classifier and what the filters compare with.
struct Context {
    const ExportRequest& request;
    LoadedRun run;
    std::string checkpointSha;
    bool conditional = false;
    std::unique_ptr<GenerativeModel> classifier;
    std::string extractorDir;
    /// Names the classifier's weights in the feature cache, as evaluation names them (its
    /// extractor.json's SHA-256, else its checkpoint's), so the card reuses the features.
    std::string extractorKey;
    std::unique_ptr<LoadedRun> guide;  // classifier guidance's noisy classifier
    torch::Tensor trainFeatures;
    double copyDistance = kNaN;
    /// What copyDistance was measured on: "held-out", "training (leave one out)" or "given".
    std::string copyReference;
};

/// A class to draw and how it goes.
struct Target {
    int label = 0;
    std::int64_t want = 0, kept = 0, drawn = 0, limit = 0;
};

/// Opens the run and checks the request against it (classes, counts, format); with
/// `withClassifier`, the domain classifier too when a filter, the card or an unconditional
/// model needs one (the error says how to get one).
Result<Context> openContext(const ExportRequest& request, bool withClassifier);
/// The training set's features and the near-copy threshold (the 1st percentile of real
/// held-out images' distances to their nearest training image, unless given).
Result<void> prepareCopies(Context& c, const ExportProgressFn& progress);
/// The classes to draw and how many of each, capped, with their draw limits.
std::vector<Target> targets(const Context& c);

/// What the filters see of a batch: the samples as stored, their confidence and distance.
struct Judged {
    torch::Tensor stored;  // uint8 images, or float rows
    torch::Tensor labels;  // the drawn class, or the classifier's for unconditional models
    std::vector<double> confidence, distance;
    std::vector<std::int64_t> nearest;
};
Result<Judged> judge(const Context& c, const torch::Tensor& samples, torch::Tensor labels);
/// Why the filters drop sample i for target `t` (null: a class not asked for): "confidence",
/// "copy", "cap", or "" to keep it.
std::string verdict(const Context& c, const Judged& j, std::size_t i, const Target* t);

/// The folder to export into may be used: absent, empty, or replaced with `force`.
Result<void> checkTarget(const ExportRequest& request);

}  // namespace ll::exporting
