#pragma once

#include "common/error.h"
#include "common/samplegrid.h"
#include "data/datasetspec.h"

namespace ll {

/// What the data panel shows of a dataset: its summary and a grid of real samples, one row
/// per class (at most `maxRows` rows of `perClass` tiles). Torch-free: widgets call it.
struct DatasetPreview {
    DatasetSummary summary;
    SampleGrid grid;
};

Result<DatasetPreview> previewDataset(const DatasetSpec& spec, int perClass = 8, int maxRows = 10);

}  // namespace ll
