#pragma once

#include <filesystem>
#include <vector>

#include <torch/types.h>

#include "common/error.h"
#include "data/dataset.h"

namespace ll {

/// An IDX array (LeCun's format): dims and the values as float32 (ubyte scaled to [0, 1]
/// when `scaleBytes`), or int64 for label files.
struct IdxArray {
    std::vector<std::int64_t> dims;
    torch::Tensor values;
};

/// Reads an IDX file, raw or gzip-compressed (detected by content, not by name). Refuses bad
/// magic numbers, hostile dimensions (before allocating), truncated data and data beyond what
/// the header declares, naming the file. Memory grows only as data arrives.
Result<IdxArray> readIdx(const std::filesystem::path& path, bool asLabels = false);

/// The dimensions an IDX file's header declares, checked as readIdx checks them, without
/// reading (or inflating) its values.
Result<std::vector<std::int64_t>> readIdxDims(const std::filesystem::path& path);

/// Reads an images file (N x H x W, or N x H x W x C) and its labels file into a Dataset. The
/// headers and the labels are checked before the images' values are read.
/// The classes are the label values present in `labels` or in `otherSplitLabels` (the other
/// split's file, when there is one: both splits then number their classes alike), in order;
/// labels 1..26 make 26 classes, not 27 with an empty class 0. They are named by their values,
/// or by Fashion-MNIST's names when `fashionNames` and every value lies in 0..9.
Result<Dataset> readIdxDataset(const std::filesystem::path& images,
                               const std::filesystem::path& labels, bool fashionNames,
                               const std::filesystem::path& otherSplitLabels = {});

/// The labels file that lies beside an images file under the standard name
/// (train-images-idx3-ubyte[.gz] -> train-labels-idx1-ubyte[.gz]); empty if none exists.
std::filesystem::path idxLabelsBeside(const std::filesystem::path& images);

/// Fashion-MNIST's ten class names, in label order.
const std::vector<std::string>& fashionMnistClassNames();

}  // namespace ll
