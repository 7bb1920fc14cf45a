#pragma once

#include <filesystem>

#include "common/error.h"
#include "data/dataset.h"
#include "data/datasetspec.h"

namespace ll {

struct TableLayout;

/// Where Debian's dataset-fashion-mnist package puts its IDX files
/// (LATENTLAB_FASHION_MNIST_DIR overrides it).
std::filesystem::path fashionMnistDir();

/// Loads the dataset a spec names and applies its transforms. The source is resolved as:
/// "fashion-mnist"; a .csv, .tsv or .txt file, or any other file of text (iris.data); an IDX
/// images file (labels beside it); a folder holding IDX files; otherwise a folder of class
/// sub-folders of images. Given `like`, a table is read the way a run's was (see readCsv):
/// for another file a run is to take (held-out rows), whatever its own few rows would say.
/// Its classes are then the run's, and the spec's class selection is not applied again.
Result<Dataset> loadDataset(const DatasetSpec& spec, const TableLayout* like = nullptr);

/// loadDataset in two halves: the source read whole (every class, every sample; the
/// transforms' settings checked first), then the spec's transforms applied to it (the classes
/// to keep, the long tail, the limit). A preview that changes only those reads once.
Result<Dataset> loadWholeDataset(const DatasetSpec& spec, const TableLayout* like = nullptr);
Result<Dataset> shapeDataset(Dataset whole, const DatasetSpec& spec);

/// The held-out split of the data a spec names: the other split (test files for a model
/// trained on the train files, test/ beside train/), with the spec's class selection but none
/// of its subsetting. Data without one (CSV, image folders not in splits, a lone IDX file) is
/// an error that says so. `trained` is the spec's own split as loaded: an image folder's other
/// split is read in its colour and size, and one of another shape or other classes is an
/// error.
Result<Dataset> loadHeldOut(const DatasetSpec& spec, const Dataset& trained);

/// The spec loadHeldOut reads the other split with (for a study that keeps it).
DatasetSpec heldOutSpec(const DatasetSpec& spec, const Dataset& trained);

}  // namespace ll
