#pragma once

// The learning-curve study's data and its heavier methods (study/learningcurve.h is the public
// face): the training and held-out parts with their features, the CNN trained on a subset, and
// a diffusion run scored on the held-out images. Private to study/ (torch).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "data/dataset.h"
#include "study/classicclassifiers.h"
#include "study/learningcurve.h"

namespace ll::learningcurve {

/// The data of a study: features (N x F float) of the training and held-out parts, the raw
/// data the CNN trains on, and where the held-out rows come from (a diffusion run scores them
/// through its own loader).
struct Prepared {
    Dataset train, held;
    torch::Tensor trainX, heldX;  // features
    CurveFeatures features = CurveFeatures::Extractor;
    std::string extractorDir, extractorKey, heldOutText;
    /// The held-out rows are rows `heldRows` (in order) of the data `heldSpec` loads.
    DatasetSpec heldSpec;
    std::vector<std::int64_t> heldRows;
    /// Whether the held-out part is a split of its own (IDX test files) rather than rows drawn
    /// out of the training data (a CSV): a run trained on the data never saw the former.
    bool heldOutSplit = false;
};

/// Loads the data, splits off the held-out part and computes the features the request asks for.
Result<Prepared> prepare(const LearningCurveRequest& r, const LearningCurveProgressFn& progress);

/// A float matrix and int labels as the classic classifiers take them.
FeatureMatrix matrixOf(const torch::Tensor& t);
std::vector<int> labelsOf(const torch::Tensor& y);

/// Trains the classifier model on the training rows `idx` through the Trainer (in `work`,
/// removed after) and scores it on the held-out images.
Result<double> fitCnn(const LearningCurveRequest& r, const Prepared& p, const torch::Tensor& idx,
                      std::uint64_t seed, const std::filesystem::path& work,
                      const std::function<bool(double)>& progress);

/// The diffusion method: r.diffusionRun's diffusion classifier on (at most r.diffusionImages
/// of) the held-out images, once per seed (seed s draws its own (t, noise) pairs), as a point at
/// the run's own training rows per class. Refused for data whose held-out rows the run may
/// have trained on, and for runs of other data. `work` keeps each seed's resumable parts.
struct DiffusionPoint {
    std::int64_t size = 0;  // the run's training rows per class (rounded mean)
    std::int64_t trainRows = 0;
    std::int64_t images = 0;  // held-out images scored
    double evaluationsPerImage = 0;
    std::vector<double> accuracies;  // per seed
};
/// The diffusion run's training rows, or why it cannot be scored on this study's held-out part
/// (not a diffusion run, a table, held-out rows it may have trained on, other data or classes):
/// checked before any fitting starts.
Result<std::int64_t> diffusionRunRows(const LearningCurveRequest& r, const Prepared& p);
Result<DiffusionPoint> diffusionPoint(const LearningCurveRequest& r, const Prepared& p,
                                      const std::filesystem::path& work,
                                      const std::function<bool(double)>& progress);

}  // namespace ll::learningcurve
