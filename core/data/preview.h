#pragma once

#include <memory>

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

/// Previews that keep the last dataset read whole, so that another choice of classes, long
/// tail or limit of the same data shows without reading it again (the Data panel's class
/// list). Data over kKeptBytes is not kept (a trainer started from the window reads its own
/// copy beside it). Torch-free; one caller at a time (a job thread).
class DatasetPreviewer {
public:
    static constexpr std::int64_t kKeptBytes = std::int64_t(256) << 20;

    DatasetPreviewer();
    ~DatasetPreviewer();
    DatasetPreviewer(const DatasetPreviewer&) = delete;
    DatasetPreviewer& operator=(const DatasetPreviewer&) = delete;

    /// Reads the spec's source afresh (its files may have changed) and previews it.
    Result<DatasetPreview> load(const DatasetSpec& spec);
    /// As load(), from the dataset the last load() kept where it read the same source with
    /// the same reading options (all but the classes, long tail and limit); else it reads.
    Result<DatasetPreview> reshape(const DatasetSpec& spec);
    /// Whether reshape(spec) would read nothing.
    bool holds(const DatasetSpec& spec) const;

private:
    struct Kept;
    std::unique_ptr<Kept> m_kept;
};

}  // namespace ll
