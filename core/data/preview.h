#pragma once

#include "common/error.h"
#include "common/samplegrid.h"
#include "common/table.h"
#include "data/datasetspec.h"

namespace ll {

/// What the data panel shows of a dataset: its summary and, for images, a grid of real
/// samples, one row per class (at most `maxRows` rows of `perClass` tiles); for a table, its
/// rows in their own units (at most kPreviewTableRows and two million cells, spread evenly over
/// the file).
/// Torch-free: widgets call it.
struct DatasetPreview {
    DatasetSummary summary;
    SampleGrid grid;
    TableSamples table;
};

inline constexpr std::int64_t kPreviewTableRows = 2000;

Result<DatasetPreview> previewDataset(const DatasetSpec& spec, int perClass = 8, int maxRows = 10);

}  // namespace ll
