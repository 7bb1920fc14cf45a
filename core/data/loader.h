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
/// "fashion-mnist"; a .csv, .tsv or .txt file, or any other file of text (iris.data); an IDX
/// images file (labels beside it); a folder holding IDX files; otherwise a folder of class
/// sub-folders of images.
Result<Dataset> loadDataset(const DatasetSpec& spec);

/// The held-out split of the data a spec names: the other IDX split (test files for a model
/// trained on the train files), with the spec's class selection but none of its subsetting.
/// Data without one (CSV, image folders, a lone IDX file) is an error that says so.
Result<Dataset> loadHeldOut(const DatasetSpec& spec);

}  // namespace ll
