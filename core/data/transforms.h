#pragma once

#include <cstdint>
#include <string>
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

/// A table's rows in another standardisation: the one a run learnt (`mean` and `std` of its
/// training data, `names` its columns), where `d` is standardised by its own. Named columns
/// are matched by name and put in the run's order (each of the run's must be there, and no
/// other); numbered ones (a file without a header) are taken in order. Categories
/// (`categorical`: the run's) are matched by value: a value of the run's the file never takes
/// is a column of zeros, a value the run never saw is refused. Without a standardisation
/// (empty `mean`) the rows stay as they are.
Result<Dataset> restandardise(const Dataset& d, const std::vector<std::string>& names,
                              const std::vector<double>& mean, const std::vector<double>& std,
                              const std::vector<Categorical>& categorical = {});

/// A seeded split into (train, validation) with the given validation fraction.
Result<std::pair<Dataset, Dataset>> trainValidationSplit(const Dataset& d,
                                                         double validationFraction,
                                                         std::uint64_t seed);

}  // namespace ll
