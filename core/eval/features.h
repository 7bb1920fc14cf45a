#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <torch/types.h>

#include "common/error.h"
#include "eval/agreement.h"
#include "models/model.h"

namespace ll {

/// The feature space of the metrics (eval/metrics.h), as float32 N x F on the CPU: a
/// classifier's penultimate layer when `extractor` is given, else the data itself, flattened
/// (raw pixels or standardised rows). The extractor must know data of x's shape.
Result<torch::Tensor> extractFeatures(GenerativeModel* extractor, const torch::Tensor& x,
                                      const ProgressFn& progress = {});

/// extractFeatures(), remembered for the next call with the same extractor (named by
/// `extractorKey`, the SHA-256 of its weights) and the same data (its bytes hashed): the
/// training set's features, the longest part of an evaluation after sampling, are then taken
/// once for every checkpoint of a run or every weight of a guidance sweep. One entry.
Result<torch::Tensor> cachedFeatures(GenerativeModel* extractor, const std::string& extractorKey,
                                     const torch::Tensor& x, const ProgressFn& progress = {});

/// Draws `count` samples of `generator` in batches of `batchSize` with seeds request.seed,
/// request.seed + 1, ..., classes cycled unless request.labels says otherwise (the order
/// every score draws in), handing each batch (samples, their int64 classes, the fraction
/// done) to `onBatch`; onBatch returning false cancels ("cancelled").
using SampleBatchFn = std::function<Result<bool>(const torch::Tensor& samples,
                                                 const torch::Tensor& labels, double done)>;
Result<void> drawSampleBatches(GenerativeModel& generator, SampleRequest request,
                               std::int64_t count, std::int64_t batchSize,
                               const SampleBatchFn& onBatch);

/// Features of `count` samples of `generator`, drawn as classifierAgreement draws them:
/// batches with seeds request.seed, request.seed + 1, ..., classes cycled unless
/// request.labels says otherwise.
Result<torch::Tensor> sampleFeatures(GenerativeModel& generator, GenerativeModel* extractor,
                                     SampleRequest request, std::int64_t count,
                                     const ProgressFn& progress = {});

}  // namespace ll
