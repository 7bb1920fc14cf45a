#pragma once

// A study's held-out part, shared by the learning curve and the imbalance lab: the other
// split of data that has one (IDX: train and test), whole; else a seeded stratified fraction
// of the rows. At most `limit` of it is kept (a seeded subset). It is scored on, never
// trained on or resampled. Internal to core (torch).

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/dataset.h"
#include "data/datasetspec.h"

namespace ll {

struct HeldOutPart {
    Dataset train;  // what the study may train on
    Dataset held;   // what it scores on
    /// The rows `held` came from: of the other split (heldSpec loads it), else of `data`.
    std::vector<std::int64_t> heldRows;
    DatasetSpec heldSpec;
    bool otherSplit = false;
    std::string text;  // "the test split", "a stratified 25% of the rows"
};

/// Splits `data` (loaded with `spec`, its `seed` the draw's) into the part a study trains on
/// and the part it scores on. An empty held-out part is an error naming the source.
Result<HeldOutPart> splitOffHeldOut(const DatasetSpec& spec, Dataset data, double fraction,
                                    std::int64_t limit, std::uint64_t seed);

}  // namespace ll
