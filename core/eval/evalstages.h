#pragma once

// The stages of ll::evaluateModel (eval/evaluate.cpp), private to eval/. Each stage reads what
// the stages before it left in an Evaluation and adds its part; evaluateModel lists them in
// order, skips those whose metric was not asked for and checks for cancellation between them.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "data/dataset.h"
#include "eval/evaluate.h"
#include "eval/metrics.h"
#include "models/catalog.h"
#include "models/model.h"
#include "run/runfolder.h"

namespace ll::evalstages {

/// What the stages of one evaluation share, filled in stage by stage.
struct Evaluation {
    // Given.
    GenerativeModel& generator;
    std::filesystem::path runDir;
    std::int64_t step = 0;
    const EvalOptions& options;
    std::vector<std::string> metrics;  // options.metrics, or the defaults
    const EvalProgressFn& progress;
    /// Samples drawn elsewhere (evaluateSamples), used instead of drawing; undefined: draw.
    torch::Tensor givenSamples, givenLabels;

    // readRun
    RunData data;
    ModelShape shape;
    bool images = false;       // image data (tiles for the PNGs), not table rows
    bool conditional = false;  // the generator draws samples for a class
    // openClassifier: the domain classifier and its record; null for pixels without one.
    std::unique_ptr<GenerativeModel> classifier;
    nlohmann::json extractor;
    GenerativeModel* featureModel = nullptr;  // null: raw pixels (or rows) as features
    // The default metrics that need a classifier, left out where there is none (pixels and
    // no extractor); the record says why. Asked for by name, they are an error instead.
    std::vector<std::string> leftOut;
    // loadRealData
    Dataset train;
    bool haveHeldOut = false;
    std::string heldOutError;  // why there is no held-out data
    std::string heldOutNote;   // what reading the user's held-out data left out
    torch::Tensor trainOrder;  // the seeded permutation of the training rows
    Dataset reference;         // the real images the scores compare with
    Dataset floorSet;          // real training images, scored against the reference as floors
    // drawGenerated
    torch::Tensor generated, labels;
    // The features of the generated, reference, floor and whole training images, and the
    // classifier's logits of the generated and reference ones.
    torch::Tensor fG, fR, fF, fT, lG, lR;
    Nearest nearest;  // every generated sample's nearest training rows (neighbours, C_T)
    // The record: its JSON and where it and its PNGs go.
    nlohmann::json record;
    std::filesystem::path dir;
    std::string stem;

    bool wants(const std::string& metric) const;
    /// Any metric that reads the classifier, or classifier features.
    bool needsClassifier() const;
    /// C_T asked for and computable: it compares samples with images training did not see.
    bool testsCopying() const { return wants("ct") && haveHeldOut; }
    /// Reports progress; false when the caller cancels.
    bool report(const std::string& stage, double fraction) const;
    /// A metric that cannot be computed (too few samples, say) is recorded with its reason;
    /// the others still count.
    void note(const std::string& metric, const std::string& message);
};

/// The run's data description and the generator's shape; fails for a model that does not
/// generate. Applies the thread settings for the workload.
Result<void> readRun(Evaluation& e);
/// The extractor asked for, or the dataset's own (workspace first, then shipped); checked to be
/// a clean classifier of the run's data. Fails when a metric needs one and there is none.
Result<void> openClassifier(Evaluation& e);
/// The training set and the seeded real subsets: the reference (held-out images, or half the
/// training data without them) and the floor set (as many training images).
Result<void> loadRealData(Evaluation& e);
/// options.count samples, as every score draws them (progress "sampling"), or the given ones.
Result<void> drawGenerated(Evaluation& e);

/// Features of the generated, reference and floor images (progress "features").
Result<void> realAndGeneratedFeatures(Evaluation& e);
/// Features of the whole training set, cached across checkpoints (neighbours and C_T).
Result<void> trainingFeatures(Evaluation& e);
/// The classifier's logits of the generated and reference images.
Result<void> classifierLogits(Evaluation& e);

/// The record's protocol: run, sampling settings, feature space, reference, metric settings.
void startRecord(Evaluation& e);

// Distribution scores, each beside its floor (the floor set against the reference).
void scoreFid(Evaluation& e);
void scoreKid(Evaluation& e);
void scorePrecisionRecall(Evaluation& e);
void scoreDensityCoverage(Evaluation& e);
void scoreInception(Evaluation& e);
/// Samples in the class they were drawn for; noted as unavailable for unconditional models.
void scoreAgreement(Evaluation& e);
/// Histograms of the predicted classes of generated and real images, and the conditioned ones.
void countClasses(Evaluation& e);

/// <run>/eval, where the record and its PNGs go.
Result<void> makeEvalFolder(Evaluation& e);
/// Every generated sample's nearest training rows.
Result<void> findNearest(Evaluation& e);
/// The median nearest-neighbour distance, the closest samples and the PNG of them beside
/// their neighbours.
Result<void> recordNeighbours(Evaluation& e);
/// Meehan et al.'s C_T with its cells on the PCA map and their PNG; noted as unavailable
/// without held-out data.
Result<void> testDataCopying(Evaluation& e);
/// Train-on-synthetic-test-on-real beside train-on-real (progress "train-on-synthetic",
/// "train-on-real"); noted as unavailable for unconditional models.
Result<void> trainOnSynthetic(Evaluation& e);
/// Writes <run>/eval/step-NNNNNN-gW.json and returns it.
Result<std::filesystem::path> writeRecord(const Evaluation& e);

}  // namespace ll::evalstages
