#include "data/loader.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>

#include <torch/torch.h>

#include "common/classnames.h"
#include "common/format.h"
#include "common/text.h"
#include "data/csv.h"
#include "data/idx.h"
#include "data/imagefolder.h"
#include "data/transforms.h"

namespace ll {
namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

bool isFashionMnist(const std::string& source) {
    return lower(source) == "fashion-mnist" || lower(source) == "fashion_mnist";
}

// A folder's entries, without throwing: a folder that cannot be read, or stops being readable
// midway (it vanished, a link loops), lists what was read. What tells a source's kind and
// splits stands on it, so none of that throws either.
std::vector<fs::directory_entry> entriesOf(const fs::path& dir) {
    std::vector<fs::directory_entry> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
        out.push_back(*it);
    return out;
}

// The IDX images files of a folder, sorted.
std::vector<fs::path> idxImagesIn(const fs::path& dir) {
    std::vector<fs::path> candidates;
    std::error_code ec;
    for (const auto& e : entriesOf(dir)) {
        const std::string name = lower(e.path().filename().string());
        if (e.is_regular_file(ec) && name.find("images") != std::string::npos &&
            (name.find("idx") != std::string::npos || name.find("ubyte") != std::string::npos))
            candidates.push_back(e.path());
    }
    std::sort(candidates.begin(), candidates.end());
    return candidates;
}

bool isTestFile(const fs::path& file) {
    const std::string name = lower(file.filename().string());
    return name.find("t10k") != std::string::npos || name.find("test") != std::string::npos;
}

// The images files of the wanted split in a folder of IDX files: for train those named so,
// else those that are not test files; for test those named t10k or test. More than one is a
// folder of several datasets (EMNIST's archive unpacks six variants into one).
std::vector<fs::path> idxImagesOfSplit(const fs::path& dir, const std::string& split) {
    const auto candidates = idxImagesIn(dir);
    std::vector<fs::path> named, others;
    for (const auto& c : candidates) {
        // A file kept beside its unpacked self (gunzip -k) is the same set.
        if (c.extension() == ".gz" &&
            std::find(candidates.begin(), candidates.end(), fs::path(c).replace_extension()) !=
                candidates.end())
            continue;
        if (split == "test" ? isTestFile(c)
                            : lower(c.filename().string()).find("train") != std::string::npos)
            named.push_back(c);
        else if (split != "test" && !isTestFile(c))
            others.push_back(c);
    }
    return named.empty() ? others : named;
}

// The split's images file when there is exactly one; empty otherwise.
fs::path findIdxImages(const fs::path& dir, const std::string& split) {
    const auto found = idxImagesOfSplit(dir, split);
    return found.size() == 1 ? found.front() : fs::path();
}

// An image folder kept in splits: a train/ (or training/) folder of class folders, maybe
// test/ (testing/, val/, valid/, validation/) beside it, and no other folder (bus/, car/ and
// train/ are three classes, even with folders in train/).
struct ImageSplits {
    fs::path train, test;
};
std::optional<ImageSplits> imageSplits(const fs::path& dir) {
    ImageSplits found;
    const auto pick = [](fs::path& slot, const fs::path& p) {
        const std::string name = lower(p.filename().string());
        if (slot.empty() || name < lower(slot.filename().string())) slot = p;
    };
    std::error_code entryError;
    for (const auto& e : entriesOf(dir)) {
        if (!e.is_directory(entryError) || isLeftoverEntry(e.path())) continue;
        const std::string name = lower(e.path().filename().string());
        if (name == "train" || name == "training")
            pick(found.train, e.path());
        else if (name == "test" || name == "testing" || name == "val" || name == "valid" ||
                 name == "validation")
            pick(found.test, e.path());
        else
            return std::nullopt;
    }
    if (found.train.empty()) return std::nullopt;
    // train/ holding images itself is a class named "train", not a split.
    for (const auto& e : entriesOf(found.train))
        if (e.is_directory(entryError) && !isLeftoverEntry(e.path())) return found;
    return std::nullopt;
}

// A CSV under another name (iris.data, table.dat): text where IDX starts with two zero bytes
// and gzip with 1f 8b.
bool holdsText(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    char head[4096];
    in.read(head, sizeof head);
    const auto got = static_cast<std::size_t>(std::max<std::streamsize>(0, in.gcount()));
    if (got < 2 || head[0] == 0 || (head[0] == '\x1f' && head[1] == '\x8b')) return false;
    // UTF-16 (Excel's "Unicode text") by its byte-order mark: the CSV reader transcodes it.
    if ((head[0] == '\xff' && head[1] == '\xfe') || (head[0] == '\xfe' && head[1] == '\xff'))
        return true;
    return std::find(head, head + got, '\0') == head + got;
}

// The other split's images file beside an IDX images file: the one named as it is with train
// and test (or t10k) swapped (EMNIST keeps all its variants in one folder), else the folder's
// only other images file where it is of the other split. Empty when there is none.
fs::path idxPartner(const fs::path& images) {
    const std::string name = lower(images.filename().string());
    const auto files = idxImagesIn(images.parent_path());
    const bool test = isTestFile(images);
    std::vector<std::string> wanted;
    for (const auto& [from, to] :
         test ? std::vector<std::pair<std::string, std::string>>{{"test", "train"},
                                                                 {"t10k", "train"}}
              : std::vector<std::pair<std::string, std::string>>{{"train", "test"},
                                                                 {"train", "t10k"}})
        if (const auto at = name.find(from); at != std::string::npos)
            wanted.push_back(std::string(name).replace(at, from.size(), to));
    for (const auto& f : files)
        if (std::find(wanted.begin(), wanted.end(), lower(f.filename().string())) != wanted.end())
            return f;
    if (files.size() == 2) {
        const fs::path& other = files[0].filename() == images.filename() ? files[1] : files[0];
        if (isTestFile(other) != test) return other;
    }
    return {};
}

// The labels of the other split beside `images`, for classes both splits number alike; empty
// when there is none or its images differ in shape.
fs::path otherSplitLabels(const fs::path& images) {
    const fs::path other = idxPartner(images);
    if (other.empty()) return {};
    auto mine = readIdxDims(images), theirs = readIdxDims(other);
    if (!mine || !theirs || mine->size() != theirs->size() ||
        !std::equal(mine->begin() + 1, mine->end(), theirs->begin() + 1))
        return {};
    return idxLabelsBeside(other);
}

Result<Dataset> loadIdxImages(const fs::path& images, bool fashion) {
    const fs::path labels = idxLabelsBeside(images);
    if (labels.empty()) {
        // A broken images header is the more useful message than a missing labels file; its
        // values are not read (a small gzip file may inflate to gigabytes).
        auto dims = readIdxDims(images);
        if (!dims) return tl::unexpected(dims.error());
        if (dims->size() == 1)
            return fail(images.string() +
                        ": an IDX labels file (one number per item), not images: give its "
                        "images file (...-images-idx3-ubyte) or the folder as the dataset");
        return fail(images.string() + ": no labels file beside it (expected " +
                    images.parent_path().string() + "/...-labels-idx1-ubyte[.gz])");
    }
    return readIdxDataset(images, labels, fashion, otherSplitLabels(images));
}

Result<Dataset> resolve(const DatasetSpec& spec, const TableLayout* like) {
    const std::string& src = spec.source;
    if (src.empty()) return fail("no dataset given");
    if (isFashionMnist(src)) {
        const fs::path dir = fashionMnistDir();
        const fs::path images = findIdxImages(dir, spec.split);
        if (images.empty())
            return fail(dir.string() +
                        ": Fashion-MNIST not found (install the dataset-fashion-mnist package)");
        auto d = loadIdxImages(images, true);
        if (d) d->name = "fashion-mnist";
        return d;
    }
    const fs::path path(src);
    std::error_code ec;
    if (!fs::exists(path, ec)) return fail(src + ": no such file or folder");
    const std::string name = lower(path.filename().string());
    if (fs::is_regular_file(path, ec)) {
        if (isTableFile(src)) return readCsv(path, spec.labelColumn, like);
        auto d = loadIdxImages(path, name.find("fashion") != std::string::npos);
        if (d) d->name = path.stem().string();
        return d;
    }
    if (const auto sets = idxImagesOfSplit(path, spec.split); sets.size() > 1) {
        std::string names;
        for (std::size_t i = 0; i < sets.size() && i < 4; ++i)
            names += (i ? ", " : "") + sets[i].filename().string();
        return fail(path.string() + ": holds " + std::to_string(sets.size()) +
                    " IDX image sets of the " + spec.split + " split (" + names +
                    (sets.size() > 4 ? ", ..." : "") + "): name one images file as the dataset");
    }
    if (const fs::path images = findIdxImages(path, spec.split); !images.empty()) {
        const bool fashion =
            lower(fs::absolute(path).string()).find("fashion") != std::string::npos;
        auto d = loadIdxImages(images, fashion);
        if (d)
            d->name = path.filename().empty() ? path.parent_path().filename().string()
                                              : path.filename().string();
        return d;
    }
    if (const auto splits = imageSplits(path)) {
        const bool test = spec.split == "test";
        if (test && splits->test.empty())
            return fail(path.string() + ": holds a " + splits->train.filename().string() +
                        "/ split but no test/ (or val/) folder beside it");
        const fs::path& mine = test ? splits->test : splits->train;
        std::vector<fs::path> others;
        if (const fs::path& other = test ? splits->train : splits->test; !other.empty())
            others.push_back(other);
        auto d = readImageFolder(mine, spec.imageSize, spec.colour, others);
        if (d)
            d->name = path.filename().empty() ? path.parent_path().filename().string()
                                              : path.filename().string();
        return d;
    }
    // IDX files of the other split only: said as such, not as a folder without class folders.
    if (const auto other = idxImagesIn(path); !other.empty())
        return fail(path.string() + ": its IDX files (" + other.front().filename().string() +
                    (other.size() > 1 ? ", ..." : "") + ") hold no " + spec.split +
                    " split; ask for split " + (spec.split == "test" ? "train" : "test"));
    return readImageFolder(path, spec.imageSize, spec.colour);
}

Result<void> checkTransforms(const DatasetSpec& spec) {
    if (!(spec.longTailRatio >= 1.0))
        return fail(spec.source + ": the long-tail ratio must be at least 1 (1 keeps every " +
                    "sample), not " +
                    (std::isnan(spec.longTailRatio) ? std::string("NaN")
                                                    : formatNumber(spec.longTailRatio)));
    if (spec.limit < 0)
        return fail(spec.source + ": the limit must be 0 (every sample) or more, not " +
                    std::to_string(spec.limit));
    return {};
}

}  // namespace

fs::path fashionMnistDir() {
    if (const char* env = std::getenv("LATENTLAB_FASHION_MNIST_DIR"); env && *env) return env;
    return "/usr/share/datasets/fashion-mnist";
}

Result<Dataset> loadDataset(const DatasetSpec& spec, const TableLayout* like) {
    auto whole = loadWholeDataset(spec, like);
    if (!whole) return whole;
    if (like && whole->modality == Modality::Tabular) {
        // Its classes are the run's already (rows of others left out), where the spec's
        // selection numbers or names those of the file the run read.
        DatasetSpec shaped = spec;
        shaped.keepClasses.clear();
        shaped.keepClassNames.clear();
        return shapeDataset(std::move(*whole), shaped);
    }
    return shapeDataset(std::move(*whole), spec);
}

Result<Dataset> loadWholeDataset(const DatasetSpec& spec, const TableLayout* like) {
    // The transforms' settings are checked before a long read.
    if (auto ok = checkTransforms(spec); !ok) return tl::unexpected(ok.error());
    Result<Dataset> d = fail("");
    try {
        d = resolve(spec, like);
    } catch (const fs::filesystem_error& e) {  // what the readers' own checks did not foresee
        return fail(e.path1().string() + ": " + e.code().message());
    } catch (const std::bad_alloc&) {
        return fail(spec.source + ": not enough memory to read it");
    }
    if (!d) return d;
    if (d->size() == 0) return fail(spec.source + ": holds no samples");
    return d;
}

Result<Dataset> shapeDataset(Dataset whole, const DatasetSpec& spec) {
    if (auto ok = checkTransforms(spec); !ok) return tl::unexpected(ok.error());
    Result<Dataset> d = std::move(whole);
    if (!spec.keepClassNames.empty()) {
        if (!spec.keepClasses.empty())
            return fail(spec.source + ": give the classes to keep by number or by name, not both");
        auto named = classIndices(spec.keepClassNames, d->classNames);
        if (!named) return fail(spec.source + ": " + named.error().message);
        d = keepClasses(*d, *named);
        if (!d) return d;
    } else if (!spec.keepClasses.empty()) {
        d = keepClasses(*d, spec.keepClasses);
        if (!d) return d;
    }
    if (spec.longTailRatio > 1.0) {
        d = longTail(*d, spec.longTailRatio, spec.seed);
        if (!d) return d;
    }
    if (spec.limit > 0) *d = randomSubset(*d, spec.limit, spec.seed);
    return d;
}

bool isTableFile(const std::string& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return false;
    const std::string name = lower(fs::path(path).filename().string());
    return endsWith(name, ".csv") || endsWith(name, ".tsv") || endsWith(name, ".txt") ||
           holdsText(path);
}

SourceKind sourceKind(const std::string& source) {
    if (isFashionMnist(source)) return SourceKind::FashionMnist;
    std::error_code ec;
    const fs::path path(source);
    if (source.empty() || !fs::exists(path, ec)) return SourceKind::Missing;
    if (fs::is_regular_file(path, ec))
        return isTableFile(source) ? SourceKind::Table : SourceKind::IdxFile;
    if (!idxImagesIn(path).empty()) return SourceKind::IdxFolder;
    return imageSplits(path) ? SourceKind::SplitImageFolder : SourceKind::ImageFolder;
}

bool hasSplit(const std::string& source, const std::string& split) {
    switch (sourceKind(source)) {
        case SourceKind::FashionMnist:
            return true;
        case SourceKind::IdxFolder:
            return !findIdxImages(source, split).empty();
        case SourceKind::SplitImageFolder: {
            const auto splits = imageSplits(source);
            return splits && (split != "test" || !splits->test.empty());
        }
        default:
            return false;
    }
}

bool hasSplits(const std::string& source) {
    if (sourceKind(source) == SourceKind::IdxFile) return !idxPartner(source).empty();
    return hasSplit(source, "train") && hasSplit(source, "test");
}

std::string absoluteSource(const std::string& source) {
    if (isFashionMnist(source)) return source;
    std::error_code ec;
    if (source.empty() || !fs::exists(source, ec)) return source;
    const fs::path absolute = fs::absolute(source, ec);
    return ec ? source : absolute.lexically_normal().string();
}

DatasetSpec heldOutSpec(const DatasetSpec& spec, const Dataset& trained) {
    DatasetSpec heldOut = spec;
    heldOut.split = spec.split == "test" ? "train" : "test";
    heldOut.limit = 0;
    heldOut.longTailRatio = 1.0;
    const SourceKind kind = sourceKind(spec.source);
    if (kind == SourceKind::IdxFile)
        if (const fs::path partner = idxPartner(spec.source); !partner.empty())
            heldOut.source = partner.string();
    // Image folders in splits follow the training split's colour and size: a gray test split
    // of a colour train split is read in colour. IDX data keeps its own.
    if (kind == SourceKind::SplitImageFolder && trained.modality == Modality::Image &&
        trained.x.defined()) {
        heldOut.colour = trained.x.size(1) == 3 ? ImageColour::Rgb : ImageColour::Gray;
        if (heldOut.imageSize == 0 && trained.x.size(2) == trained.x.size(3))
            heldOut.imageSize = static_cast<int>(trained.x.size(2));
    }
    return heldOut;
}

Result<Dataset> loadHeldOut(const DatasetSpec& spec, const Dataset& trained) {
    const std::string other = spec.split == "test" ? "train" : "test";
    if (!hasSplits(spec.source))
        return fail(spec.source +
                    ": no held-out data (only IDX data with train and test files, or an image "
                    "folder with train/ and test/ folders, has a split that training did not "
                    "see)");
    auto d = loadDataset(heldOutSpec(spec, trained));
    if (!d || !trained.x.defined()) return d;
    const auto shape = [](const Dataset& x) { return x.x.sizes().slice(1).vec(); };
    const auto text = [&](const Dataset& x) {
        std::string t;
        for (auto v : shape(x)) t += (t.empty() ? "" : "x") + std::to_string(v);
        return t;
    };
    if (shape(*d) != shape(trained))
        return fail(spec.source + ": its " + other + " split holds samples of " + text(*d) +
                    ", its " + spec.split + " split " + text(trained));
    if (d->classNames != trained.classNames)
        return fail(spec.source + ": its " + other + " split has other classes than its " +
                    spec.split + " split");
    return d;
}

}  // namespace ll
