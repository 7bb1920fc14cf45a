#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "common/error.h"
#include "data/dataset.h"

namespace ll {

/// Keeps only the listed classes, renumbered 0..k-1 in the listed order.
Result<Dataset> keepClasses(const Dataset& d, const std::vector<int>& classes);

/// A long-tail subset: class i (in order of size, largest first) keeps
/// n_max * ratio^(-i / (K - 1)) samples, so the largest over the smallest is `ratio`.
Result<Dataset> longTail(const Dataset& d, double ratio, std::uint64_t seed);

/// A seeded random subset of at most `count` samples.
Dataset randomSubset(const Dataset& d, std::int64_t count, std::uint64_t seed);

/// A seeded split into (train, validation) with the given validation fraction.
Result<std::pair<Dataset, Dataset>> trainValidationSplit(const Dataset& d,
                                                         double validationFraction,
                                                         std::uint64_t seed);

}  // namespace ll
