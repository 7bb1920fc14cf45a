#pragma once

#include <filesystem>

#include "common/error.h"
#include "data/dataset.h"
#include "data/datasetspec.h"

namespace ll {

/// Where Debian's dataset-fashion-mnist package puts its IDX files
/// (LATENTLAB_FASHION_MNIST_DIR overrides it).
std::filesystem::path fashionMnistDir();

/// Loads the dataset a spec names and applies its transforms. The source is resolved as:
/// "fashion-mnist"; a .csv file; an IDX images file (labels beside it); a folder holding IDX
/// files; otherwise a folder of class sub-folders of images.
Result<Dataset> loadDataset(const DatasetSpec& spec);

}  // namespace ll
