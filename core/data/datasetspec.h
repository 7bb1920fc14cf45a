#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ll {

enum class Modality { Image, Tabular };

/// Image folders: grayscale, RGB, or whatever the images are (RGB when any of them has
/// colour, grayscale when all are gray).
enum class ImageColour { FollowData, Gray, Rgb };

/// Image folders that follow the data keep their images' own size up to this many pixels on
/// the long side; larger images are scaled down to it. Small models on a CPU: 64 x 64 RGB is
/// already 12,288 numbers a sample.
inline constexpr int kImageSizeLimit = 64;

/// "follow-data", "gray", "rgb": how config.json and the CLI name a colour choice.
inline const char* colourName(ImageColour c) {
    return c == ImageColour::Gray ? "gray" : c == ImageColour::Rgb ? "rgb" : "follow-data";
}
inline std::optional<ImageColour> colourFromName(std::string_view name) {
    for (auto c : {ImageColour::FollowData, ImageColour::Gray, ImageColour::Rgb})
        if (name == colourName(c)) return c;
    return std::nullopt;
}

/// Where a dataset comes from and how to shape it. Plain value, no torch: the GUI builds it.
struct DatasetSpec {
    /// "fashion-mnist", a folder of IDX files, an IDX images file, an image folder or a .csv.
    std::string source = "fashion-mnist";
    /// Fashion-MNIST, IDX folders and image folders kept in splits: "train" or "test".
    std::string split = "train";
    /// CSV: the label column by name or 0-based number; empty means the last column.
    std::string labelColumn;
    /// Image folders: tiles are resized to imageSize x imageSize; 0 follows the images (their
    /// most common size, its long side from 8 to kImageSizeLimit and a multiple of 4, the
    /// models' stride). IDX data keeps its own size whatever this says.
    int imageSize = 0;
    ImageColour colour = ImageColour::FollowData;
    /// Transforms, applied in this order. The classes to keep by number (0-based), or by what a
    /// user typed (keepClassNames: each a class's name, else its number; see classnames.h).
    /// Give one or the other; both empty keeps every class.
    std::vector<int> keepClasses;
    std::vector<std::string> keepClassNames;
    /// Long-tail subset: the largest class keeps all its samples, the smallest 1/ratio of
    /// them, geometric in between. 1 keeps everything; below 1 (or NaN) is refused.
    double longTailRatio = 1.0;
    /// At most this many samples (a seeded random subset), 0 for all.
    std::int64_t limit = 0;
    std::uint64_t seed = 1;
};

/// Whether `path` is a file read as a table: named .csv, .tsv or .txt, or any other file of
/// text (iris.data), where IDX files start with zero bytes and gzip with 1f 8b.
/// (Defined in loader.cpp, which reads such files so.)
bool isTableFile(const std::string& path);

/// What a source names, as the loader reads it (told from names and headers, nothing read).
enum class SourceKind {
    FashionMnist,
    Table,             // a CSV, TSV or other file of text
    IdxFile,           // an IDX images file, its labels beside it
    IdxFolder,         // a folder of IDX files, maybe train and test
    ImageFolder,       // a folder of class folders of images
    SplitImageFolder,  // train/ (training/) and maybe test/ (val/) folders of class folders
    Missing,           // no such file or folder
};
SourceKind sourceKind(const std::string& source);

/// Whether `--split SPLIT` reads something of the data a source names: Fashion-MNIST, an IDX
/// folder with files of that split, an image folder kept in splits with that split.
bool hasSplit(const std::string& source, const std::string& split);

/// Whether the data has a split that training on the other does not see: both splits of the
/// above, or an IDX images file with its other split's file beside it (t10k beside train).
bool hasSplits(const std::string& source);

/// `source` from the root when it is a path that exists, so that a run or study that keeps it
/// finds its data from any working folder; "fashion-mnist" and a missing path as they are.
/// (Defined in loader.cpp, beside the resolution it follows.)
std::string absoluteSource(const std::string& source);

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
    /// What loading did, in words. Image folders: their size and colour ("32x32 RGB, as the
    /// images are", "scaled from 96x96 to 64x64 (the size limit); RGB as the images are").
    /// Tables: the columns and rows left out, decimal commas read. Empty where nothing was done.
    std::string note;
};

}  // namespace ll
