#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ll {

enum class Modality { Image, Tabular };

/// Where a dataset comes from and how to shape it. Plain value, no torch: the GUI builds it.
struct DatasetSpec {
    /// "fashion-mnist", a folder of IDX files, an IDX images file, an image folder or a .csv.
    std::string source = "fashion-mnist";
    /// IDX folders and Fashion-MNIST: "train" or "test".
    std::string split = "train";
    /// CSV: the label column by name or 0-based number; empty means the last column.
    std::string labelColumn;
    /// Image folders: tiles are resized to imageSize x imageSize.
    int imageSize = 28;
    bool grayscale = true;
    /// Transforms, applied in this order. Empty keeps every class.
    std::vector<int> keepClasses;
    /// Long-tail subset: the largest class keeps all its samples, the smallest 1/ratio of
    /// them, geometric in between. 1 (or less) keeps everything.
    double longTailRatio = 1.0;
    /// At most this many samples (a seeded random subset), 0 for all.
    std::int64_t limit = 0;
    std::uint64_t seed = 1;
};

/// Counts and names of a loaded dataset, without its tensors.
struct DatasetSummary {
    std::string name;
    std::string source;
    Modality modality = Modality::Image;
    std::int64_t count = 0;
    int channels = 0;
    int height = 0;
    int width = 0;
    int features = 0;
    std::vector<std::string> classNames;
    std::vector<std::int64_t> classCounts;
    std::vector<std::string> featureNames;
};

}  // namespace ll
