#pragma once

// Reading back what `sample` and `export` write: a folder of PNG samples listed with their
// classes in manifest.csv, or a CSV of tabular rows in the data's units.

#include <filesystem>

#include <torch/types.h>

#include "common/error.h"
#include "run/runfolder.h"

namespace ll {

struct SampleFolder {
    torch::Tensor samples;  // images N x C x H x W in [0, 1], or rows standardised as the run's
    torch::Tensor labels;   // int64 classes
};

/// Reads `path` for a run whose data `data` describes: a folder with manifest.csv (columns
/// "file" and "class"; files relative to the folder, PNG of the run's image shape), or a .csv
/// of rows (the run's feature columns and "class", by name or number). Anything else, a
/// missing file, a class the run does not have or an image of another shape is an error
/// naming the file (and line).
Result<SampleFolder> readSampleFolder(const std::filesystem::path& path, const ModelShape& shape,
                                      const RunData& data);

}  // namespace ll
