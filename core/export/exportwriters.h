#pragma once

// The file formats of an exported dataset, written as samples arrive: one PNG per sample in a
// folder per class, IDX, NumPy .npy pairs, or CSV rows in the data's units. Private to
// export/.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/error.h"
#include "export/datasetexport.h"
#include "run/runfolder.h"

namespace ll::exporting {

/// Where one sample went: its file (relative to the dataset folder), its row in that file
/// (0 for a file per sample) and the SHA-256 of its bytes (the PNG file's, or the row's
/// bytes as stored: uint8 pixels, the CSV line).
struct WrittenSample {
    std::string file;
    std::int64_t row = 0;
    std::string sha256;
};

class SampleWriter {
public:
    /// A writer of `format` into `dir` for data shaped `shape` (RunData gives class names,
    /// column names and the tabular standardisation).
    static Result<std::unique_ptr<SampleWriter>> create(ExportFormat format, bool gzip,
                                                        const std::filesystem::path& dir,
                                                        const RunData& data);
    virtual ~SampleWriter() = default;
    /// One sample: uint8 pixels C x H x W, or a standardised float row. Fails on a full disk
    /// or an injected fault, naming the file.
    virtual Result<WrittenSample> add(const torch::Tensor& sample, int label) = 0;
    /// Completes the files (headers that need the count) and returns them.
    virtual Result<std::vector<std::filesystem::path>> finish() = 0;
};

/// The class's folder name in a PNG export: "<index>-<name>", the index zero-padded to the
/// width of the largest, so that an image-folder reader's sorted classes keep their numbers;
/// characters a file name cannot hold become '_'.
std::string classFolderName(int index, const std::string& name, int numClasses);

/// The label each class is written as in IDX and NumPy files, by class index: its name where
/// every name is a whole number without a leading zero (data labelled 1..26 exports 1..26, as
/// it came), else its index.
std::vector<std::int64_t> labelValues(const std::vector<std::string>& names);

/// A point where a test can make writing fail: LATENTLAB_INJECT_FAULT="export-write:N"
/// makes the N-th write of an export fail as a full disk would.
Result<void> injectedWriteFault(const std::filesystem::path& file);

}  // namespace ll::exporting
