#pragma once

// Evaluation of samples drawn elsewhere (an exported dataset's card, `evaluate --samples`):
// the torch face of what eval/evaluate.h offers torch-free.

#include <cstdint>
#include <filesystem>

#include <torch/types.h>

#include "common/error.h"
#include "eval/evaluate.h"
#include "models/model.h"

namespace ll {

/// Scores `samples` (images N x C x H x W in [0, 1] or standardised rows) drawn for `labels`
/// as evaluateModel scores the samples it draws itself, with `generator` (the run's model at
/// `step`) standing for the run: same stages, same seeded real subsets. options.count is
/// replaced by the number of samples. Returns the record written.
Result<std::filesystem::path> evaluateSamples(GenerativeModel& generator,
                                              const std::filesystem::path& run, std::int64_t step,
                                              const torch::Tensor& samples,
                                              const torch::Tensor& labels,
                                              const EvalOptions& options,
                                              const EvalProgressFn& progress = {});

}  // namespace ll
