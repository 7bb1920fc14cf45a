#pragma once

// The checks of a training request that need no data: does the model exist, and has it the
// settings named? Torch-free, from the catalogue alone, so a front end can refuse a typo
// before it reads a dataset.

#include <string>

#include "models/catalog.h"

namespace ll {

/// What is wrong with training model `name` with these settings that needs no data to tell:
/// an unknown model, or a setting it does not have; empty when nothing is. createModel
/// refuses the same, after the data has been read.
std::string settingNamesFault(const std::string& name, const Settings& settings);

}  // namespace ll
