#pragma once

// The torch side of one-class detection (study/oneclass.h): the study's data and its splits,
// the training of a VAE on the normal rows through the Trainer, and the detectors' scores.
// Internal to core/study.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "common/error.h"
#include "data/dataset.h"
#include "study/oneclass.h"

namespace ll::oneclass {

/// The study's rows: the data as loaded, the normal rows that training and validation draw
/// from (`pool`, indices into `data`), and the tested rows with which of them are anomalous.
/// The test rows stay the same for every seed.
struct StudyData {
    Dataset data;
    int normal = 0;
    torch::Tensor pool;  // int64
    Dataset test;
    torch::Tensor anomalous;    // bool, one per test row
    bool heldOutSplit = false;  // test rows from the data's other split, not held back
};

/// The class a user names by name (any case) or number; the error lists the classes.
Result<int> findClass(const std::vector<std::string>& classes, const std::string& normal);

/// Loads and splits the data; refuses a split with too few normal rows, naming the counts.
Result<StudyData> prepareData(const OneClassRequest& request);

/// A seed's split of the pool: (training, validation) indices into the data.
std::pair<torch::Tensor, torch::Tensor> splitPool(const torch::Tensor& pool, double validation,
                                                  std::uint64_t seed);

/// Writes rows as data the Trainer reads (a CSV in the data's units, or IDX files) into `dir`
/// and returns the spec that names it.
Result<DatasetSpec> writeTrainingData(const Dataset& rows, const std::filesystem::path& dir);

/// A Gaussian fitted to rows (N x D): their mean and the inverse of their covariance, shrunk
/// towards its mean variance (10%), so that few rows in many dimensions still invert.
struct Gaussian {
    torch::Tensor mean, precision;
};
Gaussian fitGaussian(const torch::Tensor& rows);
/// Squared Mahalanobis distance of each row (N) to the Gaussian.
torch::Tensor mahalanobis(const Gaussian& g, const torch::Tensor& rows);

/// A detector's scores, higher meaning more anomalous: per score name, of the validation
/// normals and of the test rows.
struct ScoreSet {
    std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> scores;
    double finalLoss = 0;
};

/// Trains vae or chaotic-vae on the training rows through the Trainer (its run folder in
/// `runDir`, replaced if there), then scores validation and test rows by reconstruction,
/// ELBO and latent Mahalanobis distance. `progress` gets the fraction of training done and
/// cancels with false.
Result<ScoreSet> scoreVae(const OneClassRequest& request, OneClassModel model,
                          const StudyData& data, const torch::Tensor& train,
                          const torch::Tensor& validation, std::uint64_t seed,
                          const std::filesystem::path& runDir,
                          const std::function<bool(double)>& progress);

/// The feature baseline's space for every data row and every test row (classifier features,
/// else standardised columns for tables, else pixels) and its name for result.json.
struct FeatureSpace {
    torch::Tensor data, test;
    std::string name;
};
Result<FeatureSpace> featureSpace(const OneClassRequest& request, const StudyData& data);

/// Mahalanobis distance on the feature space, fitted on the training rows.
ScoreSet scoreFeatures(const FeatureSpace& features, const torch::Tensor& train,
                       const torch::Tensor& validation);

}  // namespace ll::oneclass
