// Tests for the data layer: IDX, CSV and image-folder readers, the loader and the transforms.
// Fixtures and reference values come from make_fixtures.py (numpy); the real-data tests read
// Debian's Fashion-MNIST and sklearn's bundled CSV files.

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "data/imagefolder.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "image/grid.h"
#include "image/imageheader.h"
#include "imagefiles.h"
#include "run/runfolder.h"

namespace fs = std::filesystem;
using ll::Dataset;

namespace {

const fs::path kFixtures = fs::path(LATENTLAB_TEST_DATA) / "data" / "fixtures";
const fs::path kSklearn = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

fs::path fixture(const std::string& relative) {
    return kFixtures / relative;
}

// make_fixtures.py writes reference values as lines of `key v v v`.
using Reference = std::map<std::string, std::vector<double>>;

Reference readReference(const fs::path& path) {
    Reference ref;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string key;
        fields >> key;
        double v;
        while (fields >> v) ref[key].push_back(v);
    }
    EXPECT_FALSE(ref.empty()) << path << " holds no reference values";
    return ref;
}

// The failure message of a result that must fail; an empty string (and a test failure) if not.
template <class T>
std::string errorOf(const ll::Result<T>& r) {
    if (r) {
        ADD_FAILURE() << "expected a failure";
        return {};
    }
    return r.error().message;
}

std::vector<std::int64_t> toVector(const torch::Tensor& t) {
    torch::Tensor c = t.to(torch::kInt64).contiguous();
    return {c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel()};
}

std::vector<float> toFloats(const torch::Tensor& t) {
    torch::Tensor c = t.to(torch::kFloat32).contiguous();
    return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

float at(const torch::Tensor& t, std::initializer_list<std::int64_t> index) {
    std::vector<torch::indexing::TensorIndex> idx(index.begin(), index.end());
    return t.index(idx).item<float>();
}

// Whether `message` holds the parts of `pattern` between its '*'s, in order.
bool matches(const std::string& message, const std::string& pattern) {
    std::size_t from = 0, start = 0;
    while (true) {
        const std::size_t star = pattern.find('*', start);
        const std::string part = pattern.substr(start, star - start);
        const std::size_t found = message.find(part, from);
        if (found == std::string::npos) return false;
        if (star == std::string::npos) return true;
        from = found + part.size();
        start = star + 1;
    }
}

// Test names from fixture names: letters and digits only.
std::string testName(std::string s) {
    std::string out;
    for (char c : s)
        if (std::isalnum(static_cast<unsigned char>(c))) out += c;
    return out;
}

// Sets an environment variable for one scope and restores it.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : m_name(name) {
        if (const char* old = std::getenv(name)) m_old = old;
        ::setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (m_old)
            ::setenv(m_name, m_old->c_str(), 1);
        else
            ::unsetenv(m_name);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* m_name;
    std::optional<std::string> m_old;
};

// ---- IDX ---------------------------------------------------------------------------------------

// The pixel make_fixtures.py writes into the tiny images file.
int tinyPixel(int i, int r, int c) {
    return (43 * i + 11 * r + 3 * c) % 256;
}

TEST(Idx, ReadsRawImagesWithExactPixels) {
    auto a = ll::readIdx(fixture("idx/tiny-images-idx3-ubyte"));
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->dims, (std::vector<std::int64_t>{6, 4, 5}));
    ASSERT_EQ(a->values.scalar_type(), torch::kFloat32);
    const auto v = toFloats(a->values);
    ASSERT_EQ(v.size(), 120u);
    for (int i = 0; i < 6; ++i)
        for (int r = 0; r < 4; ++r)
            for (int c = 0; c < 5; ++c)
                EXPECT_FLOAT_EQ(v[static_cast<std::size_t>(i * 20 + r * 5 + c)],
                                static_cast<float>(tinyPixel(i, r, c)) / 255.0f);
}

TEST(Idx, GzipReadsLikeRaw) {
    auto raw = ll::readIdx(fixture("idx/tiny-images-idx3-ubyte"));
    auto packed = ll::readIdx(fixture("idx/gz/train-images-idx3-ubyte.gz"));
    ASSERT_TRUE(raw && packed);
    EXPECT_EQ(packed->dims, raw->dims);
    EXPECT_TRUE(torch::equal(packed->values, raw->values));
}

TEST(Idx, LabelsReadAsInt64) {
    for (const char* name : {"idx/tiny-labels-idx1-ubyte", "idx/gz/train-labels-idx1-ubyte.gz"}) {
        auto a = ll::readIdx(fixture(name), true);
        ASSERT_TRUE(a) << a.error().message;
        EXPECT_EQ(a->dims, (std::vector<std::int64_t>{6}));
        EXPECT_EQ(a->values.scalar_type(), torch::kInt64);
        EXPECT_EQ(toVector(a->values), (std::vector<std::int64_t>{3, 1, 0, 2, 1, 3})) << name;
    }
}

TEST(Idx, WideLabelTypesKeepTheirValues) {
    const std::vector<std::pair<const char*, std::vector<std::int64_t>>> cases{
        {"idx/typed/int-labels.idx", {0, 7, 65536, 258}},
        {"idx/typed/float-labels.idx", {0, 2, 1}},
        {"idx/typed/short-labels.idx", {2, 0, 1}}};
    for (const auto& [name, want] : cases) {
        auto a = ll::readIdx(fixture(name), true);
        ASSERT_TRUE(a) << a.error().message;
        EXPECT_EQ(a->values.scalar_type(), torch::kInt64);
        EXPECT_EQ(toVector(a->values), want) << name;
    }
}

// Element types other than bytes scale by their own min and max; every file holds
// lo, lo + s, lo + 2s, lo + 4s.
class IdxTyped : public testing::TestWithParam<const char*> {};

TEST_P(IdxTyped, ScalesByMinAndMax) {
    auto a = ll::readIdx(fixture(std::string("idx/typed/") + GetParam()));
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->dims, (std::vector<std::int64_t>{2, 2}));
    EXPECT_EQ(a->values.scalar_type(), torch::kFloat32);
    const auto v = toFloats(a->values);
    ASSERT_EQ(v.size(), 4u);
    EXPECT_FLOAT_EQ(v[0], 0.0f);
    EXPECT_FLOAT_EQ(v[1], 0.25f);
    EXPECT_FLOAT_EQ(v[2], 0.5f);
    EXPECT_FLOAT_EQ(v[3], 1.0f);
}

INSTANTIATE_TEST_SUITE_P(Types, IdxTyped,
                         testing::Values("sbyte.idx", "short.idx", "int.idx", "float.idx",
                                         "double.idx", "float-extreme.idx", "double-extreme.idx"),
                         [](const auto& info) { return testName(info.param); });

TEST(Idx, ConstantArrayReadsAsZeros) {
    auto a = ll::readIdx(fixture("idx/typed/constant.idx"));
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_TRUE(torch::equal(a->values, torch::zeros({4})));
}

struct BrokenIdx {
    const char* file;
    bool asLabels;
    const char* message;
};

void PrintTo(const BrokenIdx& p, std::ostream* os) {
    *os << p.file;
}

class IdxBroken : public testing::TestWithParam<BrokenIdx> {};

TEST_P(IdxBroken, IsRefusedNamingFileAndFault) {
    const fs::path path = fixture(std::string("idx/broken/") + GetParam().file);
    const std::string message = errorOf(ll::readIdx(path, GetParam().asLabels));
    RecordProperty("message", message);  // shown by --gtest_output=xml
    EXPECT_EQ(message.rfind(path.string(), 0), 0u) << "does not start with the file: " << message;
    EXPECT_TRUE(matches(message, GetParam().message)) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Files, IdxBroken,
    testing::Values(
        BrokenIdx{"missing-images-idx3-ubyte", false, "no such file"},
        BrokenIdx{"empty-images-idx3-ubyte", false,
                  "not an IDX file (shorter than its 4-byte magic number)"},
        BrokenIdx{"three-bytes-images-idx3-ubyte", false, "shorter than its 4-byte magic number"},
        BrokenIdx{"bad-magic-images-idx3-ubyte", false, "wrong magic number 0x12345678"},
        BrokenIdx{"bad-type-images-idx3-ubyte", false, "wrong magic number 0x00000703"},
        BrokenIdx{"five-dims-images-idx3-ubyte", false, "wrong magic number 0x00000805"},
        BrokenIdx{"zero-dims-images-idx3-ubyte", false, "wrong magic number 0x00000800"},
        BrokenIdx{"truncated-header-images-idx3-ubyte", false,
                  "truncated header (expected 3 dimensions)"},
        BrokenIdx{"truncated-data-images-idx3-ubyte", false,
                  "truncated data (header promises 120 bytes, file holds 50)"},
        BrokenIdx{"zero-dim-images-idx3-ubyte", false, "dimension 1 is zero"},
        // Refused from the header alone: 6e14 bytes are never reserved.
        BrokenIdx{"hostile-images-idx3-ubyte", false,
                  "header declares 60000 x 100000 x 100000 unsigned byte values, more than the "
                  "8 GiB this reader accepts"},
        BrokenIdx{"hostile-images-idx3-ubyte.gz", false,
                  "header declares 60000 x 100000 x 100000 unsigned byte values, more than the "
                  "8 GiB this reader accepts"},
        // 2^31 elements pass the count limit; their 16 GiB of doubles do not.
        BrokenIdx{"hostile-double.idx", false,
                  "header declares 1073741824 x 2 double values, more than the 8 GiB"},
        // Under the limit, but the file holds 10 of the 1e9 bytes it promises.
        BrokenIdx{"lying-images-idx3-ubyte.gz", false,
                  "truncated data (header promises 1000000000 bytes, file holds 10)"},
        BrokenIdx{
            "cut-images-idx3-ubyte.gz", false,
            "truncated data (header promises 2560 bytes, file holds *) [unexpected end of file]"},
        BrokenIdx{"bad-gzip-extra-images-idx3-ubyte.gz", false,
                  "corrupt gzip data (unexpected end of file)"},
        BrokenIdx{"bad-gzip-method-images-idx3-ubyte.gz", false,
                  "corrupt gzip data (unknown compression method)"},
        BrokenIdx{"labels-2d.idx", true, "a labels file must have 1 dimension, this one has 2"},
        BrokenIdx{"labels-fraction.idx", true, "labels must be whole numbers"},
        // Said as they are, not as what an integer makes of them.
        BrokenIdx{"labels-huge.idx", true, "label values must lie in 0..9999, found 0..1e+30"},
        BrokenIdx{"labels-infinite.idx", true, "labels must be whole numbers, not NaN or infinity"},
        BrokenIdx{"nan-images.idx", false, "contains NaN or infinite values"}),
    [](const auto& info) { return testName(info.param.file); });

TEST(IdxDataset, TinyImagesAndLabels) {
    auto d = ll::readIdxDataset(fixture("idx/tiny-images-idx3-ubyte"),
                                fixture("idx/tiny-labels-idx1-ubyte"), false);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->modality, ll::Modality::Image);
    EXPECT_EQ(d->x.sizes(), (std::vector<std::int64_t>{6, 1, 4, 5}));
    EXPECT_EQ(d->x.scalar_type(), torch::kFloat32);
    EXPECT_EQ(toVector(d->y), (std::vector<std::int64_t>{3, 1, 0, 2, 1, 3}));
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"0", "1", "2", "3"}));
    EXPECT_EQ(d->classCounts(), (std::vector<std::int64_t>{1, 2, 1, 2}));
    for (int i = 0; i < 6; ++i)
        for (int r = 0; r < 4; ++r)
            for (int c = 0; c < 5; ++c)
                EXPECT_FLOAT_EQ(at(d->x, {i, 0, r, c}),
                                static_cast<float>(tinyPixel(i, r, c)) / 255.0f);
    const ll::DatasetSummary s = d->summary();
    EXPECT_EQ(s.count, 6);
    EXPECT_EQ(s.channels, 1);
    EXPECT_EQ(s.height, 4);
    EXPECT_EQ(s.width, 5);
    EXPECT_EQ(s.classCounts, (std::vector<std::int64_t>{1, 2, 1, 2}));

    auto named = ll::readIdxDataset(fixture("idx/tiny-images-idx3-ubyte"),
                                    fixture("idx/tiny-labels-idx1-ubyte"), true);
    ASSERT_TRUE(named);
    // The labels present (0..3), by Fashion-MNIST's names.
    const auto& fashion = ll::fashionMnistClassNames();
    EXPECT_EQ(named->classNames, std::vector<std::string>(fashion.begin(), fashion.begin() + 4));
}

TEST(IdxDataset, FourDimensionalImagesBecomeChannelsFirst) {
    auto d = ll::readIdxDataset(fixture("idx/rgb-images-idx4-ubyte"),
                                fixture("idx/rgb-labels-idx1-ubyte"), false);
    ASSERT_TRUE(d) << d.error().message;
    ASSERT_EQ(d->x.sizes(), (std::vector<std::int64_t>{2, 3, 2, 3}));
    for (int i = 0; i < 2; ++i)
        for (int ch = 0; ch < 3; ++ch)
            for (int r = 0; r < 2; ++r)
                for (int c = 0; c < 3; ++c)
                    EXPECT_FLOAT_EQ(at(d->x, {i, ch, r, c}),
                                    static_cast<float>(100 * i + 30 * r + 10 * c + ch) / 255.0f);
    EXPECT_EQ(toVector(d->y), (std::vector<std::int64_t>{0, 1}));
}

TEST(IdxDataset, LabelsBesideUnderStandardNames) {
    EXPECT_EQ(ll::idxLabelsBeside(fixture("idx/tiny-images-idx3-ubyte")),
              fixture("idx/tiny-labels-idx1-ubyte"));
    EXPECT_EQ(ll::idxLabelsBeside(fixture("idx/gz/train-images-idx3-ubyte.gz")),
              fixture("idx/gz/train-labels-idx1-ubyte.gz"));
    EXPECT_EQ(ll::idxLabelsBeside(fixture("idx/gz/t10k-images-idx3-ubyte.gz")),
              fixture("idx/gz/t10k-labels-idx1-ubyte.gz"));
    EXPECT_EQ(ll::idxLabelsBeside(fixture("idx/mixed/tiny-images-idx3-ubyte.gz")),
              fixture("idx/mixed/tiny-labels-idx1-ubyte"));
    EXPECT_EQ(ll::idxLabelsBeside(fixture("idx/rgb-images-idx4-ubyte")),
              fixture("idx/rgb-labels-idx1-ubyte"));
    EXPECT_TRUE(ll::idxLabelsBeside(fixture("idx/orphan/orphan-images-idx3-ubyte")).empty());
}

struct BrokenPair {
    const char* images;
    const char* labels;
    const char* message;
};

void PrintTo(const BrokenPair& p, std::ostream* os) {
    *os << p.images << " + " << p.labels;
}

class IdxDatasetBroken : public testing::TestWithParam<BrokenPair> {};

TEST_P(IdxDatasetBroken, IsRefused) {
    const std::string message =
        errorOf(ll::readIdxDataset(fixture(GetParam().images), fixture(GetParam().labels), false));
    RecordProperty("message", message);  // shown by --gtest_output=xml
    EXPECT_TRUE(matches(message, GetParam().message)) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Pairs, IdxDatasetBroken,
    testing::Values(
        BrokenPair{"idx/broken/mismatch-images-idx3-ubyte", "idx/broken/mismatch-labels-idx1-ubyte",
                   "mismatch-images-idx3-ubyte: 6 images but"},
        BrokenPair{"idx/broken/mismatch-images-idx3-ubyte", "idx/broken/mismatch-labels-idx1-ubyte",
                   "mismatch-labels-idx1-ubyte holds 5 labels"},
        BrokenPair{"idx/broken/twochannel-images-idx4-ubyte",
                   "idx/broken/twochannel-labels-idx1-ubyte",
                   "images must have 1 or 3 channels, not 2"},
        BrokenPair{"idx/typed/int.idx", "idx/broken/two-labels-idx1-ubyte",
                   "int.idx: an images file needs 3 dimensions (count x height x width), this one "
                   "has 2"},
        BrokenPair{"idx/rgb-images-idx4-ubyte", "idx/broken/big-labels.idx",
                   "big-labels.idx: label values must lie in 0..9999, found 0..12345"},
        BrokenPair{"idx/rgb-images-idx4-ubyte", "idx/broken/negative-labels.idx", "found -1..1"},
        BrokenPair{"idx/tiny-images-idx3-ubyte", "idx/broken/labels-2d.idx",
                   "labels-2d.idx: a labels file must have 1 dimension"},
        BrokenPair{"idx/broken/truncated-data-images-idx3-ubyte", "idx/tiny-labels-idx1-ubyte",
                   "truncated-data-images-idx3-ubyte: truncated data"}),
    [](const auto& info) { return "Row" + std::to_string(info.index); });

TEST(IdxLoader, FolderPicksTheSplit) {
    auto train = ll::loadDataset({.source = fixture("idx/gz").string()});
    ASSERT_TRUE(train) << train.error().message;
    EXPECT_EQ(train->name, "gz");
    EXPECT_EQ(train->size(), 6);
    EXPECT_EQ(toVector(train->y), (std::vector<std::int64_t>{3, 1, 0, 2, 1, 3}));

    auto test = ll::loadDataset({.source = fixture("idx/gz").string(), .split = "test"});
    ASSERT_TRUE(test) << test.error().message;
    ASSERT_EQ(test->x.sizes(), (std::vector<std::int64_t>{2, 1, 4, 5}));
    EXPECT_EQ(toVector(test->y), (std::vector<std::int64_t>{1, 0}));
    // Numbered as the train split numbers them (test_splits.cpp has the rule).
    EXPECT_EQ(test->classNames, (std::vector<std::string>{"0", "1", "2", "3"}));
    for (int i = 0; i < 2; ++i)
        for (int r = 0; r < 4; ++r)
            for (int c = 0; c < 5; ++c)
                EXPECT_FLOAT_EQ(at(test->x, {i, 0, r, c}),
                                static_cast<float>(255 - tinyPixel(i, r, c)) / 255.0f);
}

// A folder of one split's files: the other split is refused by name, never read from them.
TEST(IdxLoader, AFolderOfOneSplitRefusesTheOther) {
    const fs::path dir =
        fs::temp_directory_path() / ("latentlab-test-data-split-" + std::to_string(::getpid()));
    for (const char* split : {"t10k", "train"}) {
        fs::remove_all(dir);
        fs::create_directories(dir);
        for (const char* kind : {"images-idx3", "labels-idx1"}) {
            const std::string name = std::string(split) + "-" + kind + "-ubyte.gz";
            fs::copy_file(fixture("idx/gz/" + name), dir / name);
        }
        const bool test = std::string(split) == "t10k";
        EXPECT_TRUE(ll::loadDataset({.source = dir.string(), .split = test ? "test" : "train"}));
        const std::string message =
            errorOf(ll::loadDataset({.source = dir.string(), .split = test ? "train" : "test"}));
        EXPECT_NE(message.find(std::string("hold no ") + (test ? "train" : "test") +
                               " split; ask for split " + (test ? "test" : "train")),
                  std::string::npos)
            << message;
    }
    fs::remove_all(dir);
}

TEST(IdxLoader, ImagesFileFindsItsLabels) {
    for (const char* name : {"idx/tiny-images-idx3-ubyte", "idx/mixed/tiny-images-idx3-ubyte.gz"}) {
        auto d = ll::loadDataset({.source = fixture(name).string()});
        ASSERT_TRUE(d) << d.error().message;
        EXPECT_EQ(d->size(), 6) << name;
        EXPECT_EQ(d->classNames.size(), 4u) << name;
    }
    const std::string orphan = fixture("idx/orphan/orphan-images-idx3-ubyte").string();
    EXPECT_NE(
        errorOf(ll::loadDataset({.source = orphan})).find(orphan + ": no labels file beside it"),
        std::string::npos);
    EXPECT_NE(errorOf(ll::loadDataset(
                          {.source = fixture("idx/broken/mismatch-images-idx3-ubyte").string()}))
                  .find("6 images but"),
              std::string::npos);
}

TEST(IdxLoader, FashionMnistDirCanBeOverridden) {
    {
        ScopedEnv env("LATENTLAB_FASHION_MNIST_DIR", fixture("idx/gz").string());
        EXPECT_EQ(ll::fashionMnistDir(), fixture("idx/gz"));
        auto d = ll::loadDataset({.source = "fashion-mnist"});
        ASSERT_TRUE(d) << d.error().message;
        EXPECT_EQ(d->name, "fashion-mnist");
        EXPECT_EQ(d->size(), 6);
        const auto& names = ll::fashionMnistClassNames();  // of the labels there, 0..3
        EXPECT_EQ(d->classNames, std::vector<std::string>(names.begin(), names.begin() + 4));
    }
    {
        ScopedEnv env("LATENTLAB_FASHION_MNIST_DIR", fixture("no-such-folder").string());
        EXPECT_NE(
            errorOf(ll::loadDataset({.source = "fashion-mnist"})).find("Fashion-MNIST not found"),
            std::string::npos);
    }
}

// An IDX file of unsigned bytes: its header (magic, dims) then `values` bytes of data.
void writeIdxBytes(const fs::path& file, const std::vector<std::uint32_t>& dims,
                   std::size_t values) {
    std::string bytes{'\0', '\0', '\x08', static_cast<char>(dims.size())};
    for (std::uint32_t d : dims)
        for (int shift : {24, 16, 8, 0}) bytes += static_cast<char>((d >> shift) & 0xff);
    bytes.append(values, '\x07');
    ASSERT_TRUE(ll::writeFileAtomic(file, bytes));
}

TEST(Idx, RefusesDataBeyondWhatItsHeaderDeclares) {
    const fs::path dir = fs::temp_directory_path() / ("idx-extra-" + std::to_string(getpid()));
    fs::create_directories(dir);
    writeIdxBytes(dir / "labels.idx", {10}, 15);
    const std::string message = errorOf(ll::readIdx(dir / "labels.idx", true));
    EXPECT_NE(message.find("holds more data than its header declares (10 bytes, then 5 more)"),
              std::string::npos)
        << message;
    EXPECT_EQ(message.rfind((dir / "labels.idx").string(), 0), 0u) << message;
    fs::remove_all(dir);
}

// What can be checked is checked before the images' values are read: their header promises
// 1000 images whose values are not there, so reading them would fail first as truncated.
TEST(IdxLoader, LabelsAreCheckedBeforeTheImagesAreRead) {
    const fs::path dir = fs::temp_directory_path() / ("idx-first-" + std::to_string(getpid()));
    fs::create_directories(dir);
    const fs::path images = dir / "train-images-idx3-ubyte";
    writeIdxBytes(images, {1000, 28, 28}, 10);
    std::string message = errorOf(ll::loadDataset({.source = images.string()}));
    EXPECT_NE(message.find("no labels file beside it"), std::string::npos) << message;
    writeIdxBytes(dir / "train-labels-idx1-ubyte", {5}, 5);
    message = errorOf(ll::loadDataset({.source = images.string()}));
    EXPECT_NE(message.find("1000 images but"), std::string::npos) << message;
    EXPECT_NE(message.find("holds 5 labels"), std::string::npos) << message;
    // A broken images header is still said first.
    writeIdxBytes(images, {1000, 0, 28}, 10);
    message = errorOf(ll::loadDataset({.source = images.string()}));
    EXPECT_NE(message.find("dimension 1 is zero"), std::string::npos) << message;
    fs::remove_all(dir);
}

TEST(Loader, RefusesMissingSources) {
    EXPECT_EQ(errorOf(ll::loadDataset({.source = ""})), "no dataset given");
    const std::string missing = fixture("nothing-here.csv").string();
    EXPECT_EQ(errorOf(ll::loadDataset({.source = missing})), missing + ": no such file or folder");
}

// ---- CSV ---------------------------------------------------------------------------------------

// Every column has mean 0 and std 1, or is all zeros (a constant column), and is finite.
void expectUnitColumns(const Dataset& d) {
    EXPECT_TRUE(torch::isfinite(d.x).all().item<bool>());
    const torch::Tensor x = d.x.to(torch::kFloat64);
    const auto colMean = toFloats(x.mean(0)), colStd = toFloats(x.std(0, /*unbiased=*/false));
    const auto keptStd = toFloats(d.std);
    for (std::size_t j = 0; j < colMean.size(); ++j) {
        EXPECT_NEAR(colMean[j], 0.0, 1e-5) << "column " << j;
        EXPECT_NEAR(colStd[j], keptStd[j] == 1.0f && colStd[j] < 0.5 ? 0.0 : 1.0, 1e-5)
            << "column " << j;
    }
}

// The kept mean and std equal numpy's (a constant column keeps std 1), the rows equal numpy's
// standardised rows, and every column has mean 0 and std 1 (or is all zeros).
void expectStandardised(const Dataset& d, const std::string& referenceName) {
    const Reference ref = readReference(kFixtures / "csv" / "reference" / (referenceName + ".txt"));
    const auto& mean = ref.at("mean");
    const auto& std = ref.at("std");
    const auto features = static_cast<std::int64_t>(mean.size());
    ASSERT_EQ(d.x.dim(), 2);
    ASSERT_EQ(d.x.size(1), features);
    EXPECT_EQ(d.x.scalar_type(), torch::kFloat32);
    const auto keptMean = toFloats(d.mean), keptStd = toFloats(d.std);
    ASSERT_EQ(keptMean.size(), mean.size());
    for (std::size_t j = 0; j < mean.size(); ++j) {
        EXPECT_NEAR(keptMean[j], mean[j], 1e-6 * std::max(1.0, std::abs(mean[j])))
            << "column " << j;
        const double wantStd = std[j] > 1e-12 ? std[j] : 1.0;
        EXPECT_NEAR(keptStd[j], wantStd, 1e-6 * std::max(1.0, wantStd)) << "column " << j;
    }
    for (std::int64_t r = 0; r < d.size(); ++r) {
        auto row = ref.find("z" + std::to_string(r));
        if (row == ref.end()) break;
        for (std::int64_t j = 0; j < features; ++j)
            EXPECT_NEAR(at(d.x, {r, j}), row->second[static_cast<std::size_t>(j)], 1e-5)
                << "row " << r << " column " << j;
    }
    expectUnitColumns(d);
}

ll::Result<Dataset> csv(const std::string& name, const std::string& label = "") {
    return ll::readCsv(kFixtures / "csv" / name, label);
}

TEST(Csv, HeaderAndNumericLabels) {
    auto d = csv("header-numeric.csv");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->modality, ll::Modality::Tabular);
    EXPECT_EQ(d->name, "header-numeric");
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"length", "width", "height"}));
    // Numeric labels sort by value, not as text.
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"2", "7", "10"}));
    EXPECT_EQ(toVector(d->y), (std::vector<std::int64_t>{2, 0, 1, 2, 0, 1}));
    EXPECT_EQ(d->y.scalar_type(), torch::kInt64);
    expectStandardised(*d, "header-numeric");
    const ll::DatasetSummary s = d->summary();
    EXPECT_EQ(s.features, 3);
    EXPECT_EQ(s.count, 6);
    EXPECT_EQ(s.classCounts, (std::vector<std::int64_t>{2, 2, 2}));
}

// Numbers beyond what an integer holds where the reader converts them (found by
// tests/fuzz/fuzz_csv: undefined behaviour): a whole-number label is named as written, and
// sklearn's count line is recognised by comparing doubles.
TEST(Csv, HugeNumbersInLabelsAndTheFirstLine) {
    const fs::path file = fs::temp_directory_path() /
                          ("latentlab-test-data-huge-" + std::to_string(::getpid()) + ".csv");
    ASSERT_TRUE(ll::writeFileAtomic(file, "a,label\n0.5,5.5e35\n1.5,2\n2.5,5.5e35\n3.5,2\n"));
    auto d = ll::readCsv(file, "");
    ASSERT_TRUE(d) << d.error().message;
    ASSERT_EQ(d->classNames.size(), 2u);
    EXPECT_EQ(d->classNames[0], "2");
    EXPECT_EQ(d->classNames[1], "5.5e35");
    EXPECT_EQ(toVector(d->y), (std::vector<std::int64_t>{1, 0, 1, 0}));
    // A first line that is not sklearn's count line, however large its second number.
    ASSERT_TRUE(ll::writeFileAtomic(file, "1,2.2e44\n3,4\n5,6\n"));
    auto rows = ll::readCsv(file, "");
    ASSERT_TRUE(rows) << rows.error().message;
    EXPECT_EQ(rows->x.size(0), 3);
    // sklearn's layout names classes 0 and 1; a huge label stays a number.
    ASSERT_TRUE(ll::writeFileAtomic(file, "3,1,cat,dog\n0.5,5.5e35\n1.5,0\n2.5,1\n"));
    auto named = ll::readCsv(file, "");
    ASSERT_TRUE(named) << named.error().message;
    ASSERT_EQ(named->classNames.size(), 3u);
    EXPECT_EQ(named->classNames[0], "cat");
    EXPECT_EQ(named->classNames[1], "dog");
    EXPECT_EQ(named->classNames[2], "5.5e35");
    fs::remove(file);
}

// A label that is no whole number keeps the file's own text: six decimals ("%f") made
// 0.0000001 and 0.0000002 one name, and -4.537 "-4.537000".
TEST(Csv, FractionalLabelsAreNamedAsTheFileWritesThem) {
    const fs::path file = fs::temp_directory_path() /
                          ("latentlab-test-data-fractions-" + std::to_string(::getpid()) + ".csv");
    ASSERT_TRUE(ll::writeFileAtomic(
        file, "a,label\n1,0.0000001\n2,0.0000002\n3,-4.537\n4,0.0000001\n5,2.0\n6,2\n"));
    auto d = ll::readCsv(file, "");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"-4.537", "0.0000001", "0.0000002", "2"}));
    EXPECT_EQ(toVector(d->y), (std::vector<std::int64_t>{1, 2, 0, 1, 3, 3}));
    fs::remove(file);
}

// UCI's iris.data has no header, text labels and no .csv in its name; pandas writes integer
// column names over text labels. Their label cells tell them apart: a header's is not a label.
TEST(Csv, AFirstRowOfNumbersIsAHeaderOnlyIfItsLabelIsNoLabel) {
    const fs::path dir =
        fs::temp_directory_path() / ("latentlab-test-data-header-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string rows = "5.1,3.5,setosa\n4.9,3.0,setosa\n7.0,3.2,versicolor\n";
    const std::vector<std::string> numbered{"0", "1"}, species{"setosa", "versicolor"};
    ASSERT_TRUE(ll::writeFileAtomic(dir / "iris.data", rows));
    auto uci = ll::loadDataset({.source = (dir / "iris.data").string()});
    ASSERT_TRUE(uci) << uci.error().message;
    EXPECT_EQ(uci->x.size(0), 3);
    EXPECT_EQ(uci->featureNames, numbered);
    EXPECT_EQ(uci->classNames, species);
    EXPECT_EQ(toVector(uci->y), (std::vector<std::int64_t>{0, 0, 1}));
    expectUnitColumns(*uci);

    ASSERT_TRUE(ll::writeFileAtomic(dir / "pandas.csv", "0,1,species\n" + rows));
    auto pandas = ll::readCsv(dir / "pandas.csv", "");
    ASSERT_TRUE(pandas) << pandas.error().message;
    EXPECT_EQ(pandas->x.size(0), 3);
    EXPECT_EQ(pandas->featureNames, numbered);
    EXPECT_EQ(pandas->classNames, species);
    EXPECT_TRUE(torch::equal(pandas->x, uci->x));

    // Numbered columns over numeric labels: "label" is no label, so a header.
    ASSERT_TRUE(ll::writeFileAtomic(dir / "numeric.csv", "0,1,label\n1,2,0\n3,4,1\n5,7,1\n"));
    auto numeric = ll::readCsv(dir / "numeric.csv", "");
    ASSERT_TRUE(numeric) << numeric.error().message;
    EXPECT_EQ(numeric->x.size(0), 3);
    EXPECT_EQ(toVector(numeric->y), (std::vector<std::int64_t>{0, 1, 1}));
    // A label column named by the first row makes it a header whatever its cells; named by
    // number it leaves the question to the labels.
    for (const char* label : {"species", "2"}) {
        auto named = ll::readCsv(dir / "pandas.csv", label);
        ASSERT_TRUE(named) << named.error().message;
        EXPECT_EQ(named->x.size(0), 3) << label;
    }
    // pandas' numbers over numeric labels: the label 2 is not among the classes 0 and 1.
    ASSERT_TRUE(ll::writeFileAtomic(dir / "numbered.csv", "0,1,2\n1,2,0\n3,4,1\n5,7,1\n"));
    for (const char* label : {"", "2"}) {
        auto numbered = ll::readCsv(dir / "numbered.csv", label);
        ASSERT_TRUE(numbered) << numbered.error().message;
        EXPECT_EQ(numbered->x.size(0), 3) << label;
        EXPECT_EQ(numbered->classNames, (std::vector<std::string>{"0", "1"}));
    }
    // Labels that never repeat cannot tell: the first row stays data.
    ASSERT_TRUE(ll::writeFileAtomic(dir / "unique.data", "5.1,3.5,setosa\n7.0,3.2,versicolor\n"));
    auto unique = ll::loadDataset({.source = (dir / "unique.data").string()});
    ASSERT_TRUE(unique) << unique.error().message;
    EXPECT_EQ(unique->x.size(0), 2);
    fs::remove_all(dir);
}

// A label column named but absent lists the columns: numbered under sklearn's count line,
// which is shorter than a row (found by tests/fuzz/fuzz_csv: the list read past the line).
TEST(Csv, AnAbsentLabelColumnUnderACountLineListsNumbers) {
    const fs::path file = fs::temp_directory_path() /
                          ("latentlab-test-data-count-" + std::to_string(::getpid()) + ".csv");
    ASSERT_TRUE(ll::writeFileAtomic(file, "2,3,cat\n1,2,3,0\n4,5,6,1\n"));
    EXPECT_TRUE(ll::readCsv(file, ""));
    EXPECT_NE(
        errorOf(ll::readCsv(file, "label")).find("no label column 'label' (columns: 0, 1, 2, 3)"),
        std::string::npos)
        << errorOf(ll::readCsv(file, "label"));
    fs::remove(file);
}

// Features are floats: a number a float cannot hold is refused by name, not read as infinity
// (whose standardisation made every value NaN); one too small for a double is zero.
TEST(Csv, FeaturesBeyondAFloatAreRefused) {
    const fs::path file = fs::temp_directory_path() /
                          ("latentlab-test-data-range-" + std::to_string(::getpid()) + ".csv");
    for (const std::string value : {"1e308", "1e999", "-4e38"}) {
        ASSERT_TRUE(ll::writeFileAtomic(file, "a,label\n1,0\n" + value + ",1\n"));
        const std::string message = errorOf(ll::readCsv(file, ""));
        EXPECT_NE(message.find("line 3, column 'a': '" + value + "' is out of range"),
                  std::string::npos)
            << message;
    }
    // The largest floats standardise without overflow (in doubles), the tiniest read as 0.
    ASSERT_TRUE(ll::writeFileAtomic(file, "a,b,label\n3e38,1e-999,0\n-3e38,2,1\n3e38,4,0\n"));
    auto d = ll::readCsv(file, "");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_TRUE(torch::isfinite(d->x).all().item<bool>());
    EXPECT_NEAR(toFloats(d->mean)[1], 2.0, 1e-6);
    expectUnitColumns(*d);
    fs::remove(file);
}

// Rows of a second file in the first's standardisation: a row both hold reads the same; the
// columns must be the run's when both files name them.
TEST(Csv, RowsOfAnotherFileTakeTheRunsStandardisation) {
    const fs::path dir =
        fs::temp_directory_path() / ("latentlab-test-data-restd-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    ASSERT_TRUE(ll::writeFileAtomic(dir / "train.csv", "a,b,y\n1,10,0\n2,30,1\n3,20,0\n9,0,1\n"));
    ASSERT_TRUE(ll::writeFileAtomic(dir / "test.csv", "a,b,y\n2,30,1\n3,20,0\n"));
    ASSERT_TRUE(ll::writeFileAtomic(dir / "other.csv", "a,c,y\n2,30,1\n3,20,0\n"));
    ASSERT_TRUE(ll::writeFileAtomic(dir / "bare.csv", "2,30,1\n3,20,0\n"));
    auto train = ll::readCsv(dir / "train.csv", "");
    ASSERT_TRUE(train) << train.error().message;
    const auto mean = train->meanVector(), std = train->stdVector();
    for (const char* name : {"test.csv", "bare.csv"}) {
        auto test = ll::readCsv(dir / name, "");
        ASSERT_TRUE(test) << test.error().message;
        auto moved = ll::restandardise(*test, train->featureNames, mean, std);
        ASSERT_TRUE(moved) << moved.error().message;
        EXPECT_TRUE(torch::allclose(moved->x, train->x.slice(0, 1, 3), 1e-5, 1e-6))
            << name << "\n"
            << moved->x << "\n"
            << train->x;
        EXPECT_TRUE(torch::equal(moved->mean, train->mean));
    }
    auto other = ll::readCsv(dir / "other.csv", "");
    ASSERT_TRUE(other) << other.error().message;
    EXPECT_NE(errorOf(ll::restandardise(*other, train->featureNames, mean, std))
                  .find("its column 'c' is not one of the run's (a, b)"),
              std::string::npos);
    // Named columns in another order are put in the run's.
    ASSERT_TRUE(ll::writeFileAtomic(dir / "swapped.csv", "b,a,y\n30,2,1\n20,3,0\n"));
    auto swapped = ll::readCsv(dir / "swapped.csv", "");
    ASSERT_TRUE(swapped) << swapped.error().message;
    auto moved = ll::restandardise(*swapped, train->featureNames, mean, std);
    ASSERT_TRUE(moved) << moved.error().message;
    EXPECT_EQ(moved->featureNames, train->featureNames);
    EXPECT_TRUE(torch::allclose(moved->x, train->x.slice(0, 1, 3), 1e-5, 1e-6)) << moved->x;
    fs::remove_all(dir);
}

TEST(Csv, TextLabelChosenByNameOrNumber) {
    auto byName = csv("header-text.csv", "species");
    auto byNumber = csv("header-text.csv", "1");
    for (auto* d : {&byName, &byNumber}) {
        ASSERT_TRUE(*d) << (*d).error().message;
        EXPECT_EQ((*d)->featureNames, (std::vector<std::string>{"petal", "sepal"}));
        EXPECT_EQ((*d)->classNames, (std::vector<std::string>{"ant", "bee", "cat"}));
        EXPECT_EQ(toVector((*d)->y), (std::vector<std::int64_t>{2, 0, 1, 2, 0}));
        expectStandardised(**d, "header-text");
    }
    EXPECT_TRUE(torch::equal(byName->x, byNumber->x));
}

TEST(Csv, NoHeaderNumbersTheColumns) {
    for (const std::string label : {"", "2"}) {
        auto d = csv("no-header.csv", label);
        ASSERT_TRUE(d) << d.error().message;
        EXPECT_EQ(d->featureNames, (std::vector<std::string>{"0", "1"}));
        EXPECT_EQ(d->classNames, (std::vector<std::string>{"0", "1"}));
        EXPECT_EQ(toVector(d->y), (std::vector<std::int64_t>{1, 0, 1, 0}));
        expectStandardised(*d, "no-header");
    }
}

class CsvDialect : public testing::TestWithParam<const char*> {};

TEST_P(CsvDialect, ReadsTheSameTable) {
    auto d = csv(GetParam());
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(toVector(d->y), (std::vector<std::int64_t>{0, 1, 0}));
    expectStandardised(*d, "semicolon");
}

INSTANTIATE_TEST_SUITE_P(Files, CsvDialect,
                         testing::Values("semicolon.csv", "tabs.tsv", "bom.csv", "crlf.csv"),
                         [](const auto& info) { return testName(info.param); });

TEST(Csv, QuotedFields) {
    auto d = csv("quoted.csv");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"width, cm", "height"}));
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"big, red", "say \"hi\""}));
    EXPECT_EQ(toVector(d->y), (std::vector<std::int64_t>{0, 1, 0}));
    expectStandardised(*d, "quoted");
}

TEST(Csv, SklearnLayoutNamesTheClasses) {
    auto d = csv("sklearn.csv");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->x.sizes(), (std::vector<std::int64_t>{5, 3}));
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"classa", "classb"}));
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"0", "1", "2"}));
    EXPECT_EQ(toVector(d->y), (std::vector<std::int64_t>{0, 1, 1, 0, 1}));
    expectStandardised(*d, "sklearn");
}

TEST(Csv, ConstantColumnStandardisesToZeros) {
    auto d = csv("constant.csv");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_FALSE(torch::isnan(d->x).any().item<bool>());
    EXPECT_TRUE(torch::equal(d->x.select(1, 1), torch::zeros({3})));
    EXPECT_FLOAT_EQ(toFloats(d->mean)[1], 5.0f);
    EXPECT_FLOAT_EQ(toFloats(d->std)[1], 1.0f);
    expectStandardised(*d, "constant");
}

struct BrokenCsv {
    const char* file;
    const char* label;
    const char* message;
};

void PrintTo(const BrokenCsv& p, std::ostream* os) {
    *os << p.file << " label '" << p.label << "'";
}

class CsvBroken : public testing::TestWithParam<BrokenCsv> {};

TEST_P(CsvBroken, IsRefusedNamingFileAndFault) {
    const fs::path path = kFixtures / "csv" / GetParam().file;
    const std::string message = errorOf(ll::readCsv(path, GetParam().label));
    RecordProperty("message", message);  // shown by --gtest_output=xml
    EXPECT_EQ(message.rfind(path.string() + ": ", 0), 0u)
        << "does not start with the file: " << message;
    EXPECT_TRUE(matches(message, GetParam().message)) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Files, CsvBroken,
    testing::Values(
        BrokenCsv{"broken/missing.csv", "", "no such file"},
        // A stray word in a column of numbers is a fault, not a column of text.
        BrokenCsv{"broken/non-numeric.csv", "",
                  "line 4, column 'b': 'abc' is not a number (2 of the column's cells are)"},
        BrokenCsv{"broken/infinite.csv", "", "line 2, column 'b': 'inf' is not a finite number"},
        BrokenCsv{"broken/ragged.csv", "", "line 3 has 2 columns, expected 3"},
        BrokenCsv{"broken/long-row.csv", "", "line 4 has 4 columns, expected 3"},
        BrokenCsv{"broken/header-mismatch.csv", "", "the header has 2 columns but line 2 has 3"},
        BrokenCsv{"broken/empty.csv", "", "the file is empty"},
        BrokenCsv{"broken/blank-lines.csv", "", "the file is empty"},
        BrokenCsv{"broken/header-only.csv", "", "has a header but no data rows"},
        BrokenCsv{"broken/unbalanced-quote.csv", "", "line 2 has an unbalanced quote"},
        BrokenCsv{"broken/one-column.csv", "",
                  "needs at least one feature column and a label column"},
        BrokenCsv{"broken/binary.csv", "", "line 2 holds binary data"},
        BrokenCsv{"broken/regression.csv", "",
                  "label column 'y' has more than 1000 distinct values"},
        BrokenCsv{"header-numeric.csv", "nope",
                  "no label column 'nope' (columns: length, width, height, label)"},
        BrokenCsv{"header-numeric.csv", "4", "no label column '4'"},
        BrokenCsv{"header-numeric.csv", "1.5", "no label column '1.5'"}),
    [](const auto& info) {
        return testName(info.param.file) +
               (*info.param.label ? "Label" + testName(info.param.label) : "");
    });

// A table as users bring them: a column of names or categories, gaps written as "", NA or ?.
fs::path writeTable(const std::string& name, const std::string& text) {
    const fs::path file = fs::temp_directory_path() / ("latentlab-test-data-" + name + "-" +
                                                       std::to_string(::getpid()) + ".csv");
    EXPECT_TRUE(ll::writeFileAtomic(file, text));
    return file;
}

// The last column is the label by default; the text column is left out, and the note says so.
TEST(CsvGaps, AColumnOfTextIsLeftOutAndSaid) {
    auto d = csv("header-text.csv");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"petal"}));
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"10", "20", "30"}));
    EXPECT_EQ(d->size(), 5);
    EXPECT_EQ(d->note,
              "left out text columns that are no categories: 'species' ('cat' on line 2, 3 "
              "values in 5 rows)");
    expectUnitColumns(*d);
    // Without a header: the first row is data, and its columns are numbered.
    const fs::path file = writeTable("text-bare", "bob,31,x\nann,42,y\ncid,25,x\n");
    auto bare = ll::readCsv(file, "");
    ASSERT_TRUE(bare) << bare.error().message;
    EXPECT_EQ(bare->featureNames, (std::vector<std::string>{"1"}));
    EXPECT_FLOAT_EQ(toFloats(bare->mean)[0], 98.0f / 3);
    EXPECT_EQ(bare->note,
              "left out text columns that are no categories: '0' ('bob' on line 1, 3 values in 3 "
              "rows)");
    fs::remove(file);
}

TEST(CsvGaps, RowsMissingAValueOrTheirLabelAreLeftOut) {
    const fs::path file =
        writeTable("gaps", "a,b,c,label\n1,2,,x\nNA,4,5,y\n3,?,6,x\n4,5,6,\n5,6,7,y\n6,7,8,x\n");
    auto d = ll::readCsv(file, "");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->size(), 2);
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(toVector(d->y), (std::vector<std::int64_t>{1, 0}));
    EXPECT_EQ(toFloats(d->mean), (std::vector<float>{5.5f, 6.5f, 7.5f}));
    EXPECT_EQ(d->note,
              "left out 4 of 6 rows missing a value or their label (the first: line 2, column "
              "'c')");
    fs::remove(file);
    // Only a label missing: the note names the label column.
    auto one = ll::readCsv(kFixtures / "csv" / "broken" / "missing-label.csv", "");
    ASSERT_TRUE(one) << one.error().message;
    EXPECT_EQ(one->size(), 1);
    EXPECT_EQ(one->note,
              "left out 1 of 2 rows missing a value or their label (the first: line 3, "
              "no label in column 'label')");
}

TEST(CsvGaps, AColumnMissingInMostRowsIsLeftOut) {
    const fs::path file = writeTable("sparse", "a,b,label\n1,,x\n2,null,y\n3,7,x\n4,,y\n");
    auto d = ll::readCsv(file, "");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"a"}));
    EXPECT_EQ(d->size(), 4);
    EXPECT_EQ(d->note, "left out columns missing in most rows: 'b' (missing in 3 of 4 rows)");
    fs::remove(file);
}

// pandas writes its index as a first column without a name; files bring an id. Either numbers
// the rows and says nothing about them; a column named so that holds data stays.
TEST(CsvGaps, RowNumbersUnderAnIndexNameAreLeftOut) {
    const fs::path pandas = writeTable("pandas", ",a,label\n0,1.5,x\n1,2.5,y\n2,3.5,x\n");
    auto d = ll::readCsv(pandas, "");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"a"}));
    EXPECT_EQ(d->note, "left out the row numbers: ''");
    const fs::path ids = writeTable("ids", "ID,a,label\n1,1.5,x\n2,NA,y\n3,3.5,x\n4,2,y\n");
    auto i = ll::readCsv(ids, "");
    ASSERT_TRUE(i) << i.error().message;
    EXPECT_EQ(i->featureNames, (std::vector<std::string>{"a"}));
    EXPECT_EQ(i->size(), 3);
    EXPECT_EQ(i->note,
              "left out the row numbers: 'ID'; left out 1 of 4 rows missing a value or their "
              "label (the first: line 3, column 'a')");
    // A shuffled frame keeps pandas' old index: any order of 0..n-1.
    const fs::path shuffled =
        writeTable("pandas-shuffled", "Unnamed: 0,a,label\n2,1.5,x\n0,2.5,y\n1,3.5,x\n");
    auto s = ll::readCsv(shuffled, "");
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->featureNames, (std::vector<std::string>{"a"}));
    fs::remove(shuffled);
    const fs::path data = writeTable("id-data", "id,a,label\n7,1.5,x\n3,2.5,y\n2,3.5,x\n");
    auto kept = ll::readCsv(data, "");
    ASSERT_TRUE(kept) << kept.error().message;
    EXPECT_EQ(kept->featureNames, (std::vector<std::string>{"id", "a"}));
    EXPECT_TRUE(kept->note.empty()) << kept->note;
    for (const auto& f : {pandas, ids, data}) fs::remove(f);
}

TEST(CsvGaps, NothingLeftIsRefusedSayingWhy) {
    const fs::path text = writeTable("all-text", "a,b,label\nx,y,1\nz,w,2\n");
    EXPECT_EQ(errorOf(ll::readCsv(text, "")),
              text.string() +
                  ": no feature column of numbers or categories beside the label (text columns "
                  "that are no categories: 'a' ('x' on line 2, 2 values in 2 rows), 'b' ('y' on "
                  "line 2, 2 values in 2 rows))");
    const fs::path gaps = writeTable("all-gaps", "a,b,label\n1,,x\n,2,y\n");
    EXPECT_EQ(
        errorOf(ll::readCsv(gaps, "")),
        gaps.string() + ": every row misses a value or its label (the first: line 2, column 'b')");
    fs::remove(text);
    fs::remove(gaps);
}

// Spreadsheets in much of Europe write 1,5 and separate cells with ';'.
TEST(CsvGaps, DecimalCommasWhereCommasSeparateNothing) {
    auto dotted = csv("semicolon.csv");
    ASSERT_TRUE(dotted) << dotted.error().message;
    EXPECT_TRUE(dotted->note.empty()) << dotted->note;
    for (const std::string head : {"x;y;class\n", ""}) {
        const fs::path file = writeTable("comma", head + "1,5;2;a\n2,5;4;b\n-1,0;3;a\n");
        auto d = ll::readCsv(file, "");
        ASSERT_TRUE(d) << d.error().message;
        EXPECT_EQ(d->size(), 3);
        EXPECT_TRUE(torch::allclose(d->x, dotted->x)) << d->x;
        EXPECT_EQ(d->note, "read decimal commas ('1,5' on line " +
                               std::to_string(head.empty() ? 1 : 2) + " as 1.5)");
        fs::remove(file);
    }
    // Two columns of decimal commas without a header: as many ',' as ';' on the line.
    const fs::path two = writeTable("comma-two", "1,5;2,5;a\n2,5;4,0;b\n-1,0;3,0;a\n");
    auto both = ll::readCsv(two, "");
    ASSERT_TRUE(both) << both.error().message;
    EXPECT_EQ(both->featureNames, (std::vector<std::string>{"0", "1"}));
    EXPECT_FLOAT_EQ(toFloats(both->mean)[0], 1.0f);
    EXPECT_FLOAT_EQ(toFloats(both->mean)[1], 9.5f / 3);
    // A column writes its decimals one way: a point beside commas is no number to guess.
    const fs::path mixed = writeTable("comma-mixed", "x;y;class\n1,5;2;a\n1.25;3;b\n");
    EXPECT_EQ(errorOf(ll::readCsv(mixed, "")),
              mixed.string() +
                  ": line 3, column 'x': '1.25' has a decimal point where line 2 ('1,5') has a "
                  "decimal comma: write the column's numbers one way");
    fs::remove(two);
    fs::remove(mixed);
}

// Spreadsheets group thousands: 1,234.5 where the decimal is a point, 1.234,5 where it is a
// comma. A column's cells that read one way only say which; a cell that reads both ways
// ("1,234") is read again once one does, whichever line it stood on.
TEST(CsvGaps, ThousandsSeparatorsAsSpreadsheetsWriteThem) {
    const auto column = [](const ll::Dataset& d) {
        std::vector<double> v;
        const auto x =
            (d.x.to(torch::kFloat64) * d.std.to(torch::kFloat64) + d.mean.to(torch::kFloat64))
                .select(1, 0)
                .contiguous();
        for (std::int64_t i = 0; i < x.size(0); ++i) v.push_back(x[i].item<double>());
        return v;
    };
    const auto expectColumn = [&](const fs::path& file, const std::vector<double>& expected,
                                  const std::string& note) {
        auto d = ll::readCsv(file, "");
        ASSERT_TRUE(d) << d.error().message;
        const auto got = column(*d);
        ASSERT_EQ(got.size(), expected.size()) << file;
        for (std::size_t i = 0; i < got.size(); ++i)
            EXPECT_NEAR(got[i], expected[i], 1e-3 * std::max(1.0, std::fabs(expected[i])))
                << file << " row " << i;
        EXPECT_EQ(d->note, note) << file;
    };
    // A comma file quotes them.
    expectColumn(writeTable("thousands-quoted",
                            "amount,n,class\n\"1,234.5\",1,a\n\"12,000\",2,b\n999.25,3,a\n"
                            "\"1,000,000\",4,b\n"),
                 {1234.5, 12000, 999.25, 1000000},
                 "read separators between thousands ('1,234.5' on line 2 as 1234.5)");
    // A tab file: "1,234" reads both ways until line 3 says commas group thousands.
    expectColumn(writeTable("thousands-tab", "amount\tclass\n1,234\ta\n2,500.75\tb\n7\ta\n"),
                 {1234, 2500.75, 7},
                 "read separators between thousands ('1,234' on line 2 as 1234)");
    // Europe: "1.234" reads as written until "1.234,5" says points group thousands.
    expectColumn(writeTable("thousands-semicolon", "x;class\n1.234;a\n1.234,5;b\n2,5;a\n"),
                 {1234, 1234.5, 2.5},
                 "read decimal commas ('1.234,5' on line 3 as 1234.5); read separators "
                 "between thousands ('1.234' on line 2 as 1234)");
    // A file writes its numbers one way: a column of whole amounts ("25,065") that says
    // nothing itself takes the way the next column's "2,362.88" says.
    expectColumn(writeTable("thousands-file",
                            "income\tspend\tclass\n25,065\t924.40\ta\n"
                            "71,149\t2,362.88\tb\n"),
                 {25065, 71149}, "read separators between thousands ('25,065' on line 2 as 25065)");
    // Nothing says otherwise: a comma where commas separate nothing is a decimal comma.
    expectColumn(writeTable("thousands-unsaid", "x;class\n1,234;a\n2,000;b\n"), {1.234, 2},
                 "read decimal commas ('1,234' on line 2 as 1.234)");
    // A quoted decimal comma in a comma file reads as one.
    expectColumn(writeTable("quoted-comma", "x,class\n\"12,34\",a\n\"0,5\",b\n"), {12.34, 0.5},
                 "read decimal commas ('12,34' on line 2 as 12.34)");
    // Grouping is strict: a group of two digits is no number either way; one column's cells
    // written both ways are refused, saying where.
    const fs::path loose = writeTable("thousands-loose", "x,class\n\"1,23,456\",a\n2,b\n3,a\n");
    EXPECT_NE(errorOf(ll::readCsv(loose, "")).find("'1,23,456' is not a number"), std::string::npos)
        << errorOf(ll::readCsv(loose, ""));
    const fs::path both = writeTable("thousands-both", "x;class\n1,5;a\n1,234.5;b\n");
    EXPECT_EQ(errorOf(ll::readCsv(both, "")),
              both.string() +
                  ": line 3, column 'x': '1,234.5' has commas between thousands where line 2 "
                  "('1,5') has a decimal comma: write the column's numbers one way");
    // Cells that each read two ways, written in the two ways, with nothing to tell: refused.
    const fs::path untold = writeTable("thousands-untold", "x;class\n1.234;a\n2,000;b\n");
    EXPECT_NE(errorOf(ll::readCsv(untold, ""))
                  .find("column 'x': '1.234' on line 2 and '2,000' on line 3 each read with a "
                        "decimal point or a decimal comma"),
              std::string::npos)
        << errorOf(ll::readCsv(untold, ""));

    // The file's way is kept (Dataset::decimal, and a run's data.json), so that a held-out
    // file of a few rows whose "52,000" says nothing itself reads it as the run's file wrote
    // its numbers: 52000 beside a run whose spend was "2,362.88", 52 beside one of "2.362,88".
    const fs::path held =
        writeTable("thousands-held", "income\tspend\tclass\n52,000\t7\ta\n61,500\t8\tb\n");
    for (const auto& [spend, way, income] :
         {std::tuple{"924.40\tb\n71,149\t2,362.88", "point", 52000.0},
          std::tuple{"924,40\tb\n71,149\t2.362,88", "comma", 52.0}}) {
        SCOPED_TRACE(way);
        const auto run =
            ll::readCsv(writeTable(std::string("thousands-run-") + way,
                                   std::string("income\tspend\tclass\n25,065\t") + spend + "\ta\n"),
                        "");
        ASSERT_TRUE(run) << run.error().message;
        EXPECT_EQ(run->decimal, way);
        const fs::path folder =
            fs::temp_directory_path() /
            ("latentlab-test-data-run-" + std::string(way) + "-" + std::to_string(::getpid()));
        fs::create_directories(folder);
        ASSERT_TRUE(ll::writeRunData(folder, {.datasetName = "run",
                                              .shape = {.features = 2, .numClasses = 2},
                                              .classNames = run->classNames,
                                              .featureNames = run->featureNames,
                                              .mean = run->meanVector(),
                                              .std = run->stdVector(),
                                              .decimal = run->decimal}));
        const auto kept = ll::readRunData(folder);
        ASSERT_TRUE(kept) << kept.error().message;
        EXPECT_EQ(kept->decimal, way);
        const ll::TableLayout like{kept->featureNames, {}, kept->classNames, kept->decimal};
        const auto read = ll::readCsv(held, "", &like);
        ASSERT_TRUE(read) << read.error().message;
        EXPECT_NEAR(column(*read)[0], income, 1e-6 * income);
        fs::remove_all(folder);
    }
    // On its own, nothing says: a decimal comma, as in a tab file commas separate nothing.
    const auto alone = ll::readCsv(held, "");
    ASSERT_TRUE(alone) << alone.error().message;
    EXPECT_NEAR(column(*alone)[0], 52.0, 1e-4);
    EXPECT_EQ(alone->decimal, "");
}

// A held-out file read the run's way (TableLayout) whatever its own layout: sklearn's count
// line naming the classes, no header where the run's file had one (and the other way round),
// a first row of a class the run does not have where no header says it is data.
TEST(Csv, AHeldOutFileMeetsTheRunWhateverItsLayout) {
    const auto layoutOf = [](const ll::Dataset& d) {
        return ll::TableLayout{d.featureNames, d.categorical, d.classNames};
    };
    // sklearn's layout: the labels 0 and 1 are the classes its first line names.
    auto sk = ll::readCsv(writeTable("sk-run", "4,2,no,yes\n1,2,0\n2,3,1\n3,1,0\n4,4,1\n"), "");
    ASSERT_TRUE(sk) << sk.error().message;
    ASSERT_EQ(sk->classNames, (std::vector<std::string>{"no", "yes"}));
    const auto skLike = layoutOf(*sk);
    auto skHeld = ll::readCsv(writeTable("sk-held", "2,2,no,yes\n5,5,1\n6,6,1\n"), "", &skLike);
    ASSERT_TRUE(skHeld) << skHeld.error().message;
    EXPECT_EQ(skHeld->classNames, sk->classNames);
    EXPECT_EQ(skHeld->size(), 2);
    EXPECT_EQ(skHeld->y.sum().item<std::int64_t>(), 2);  // both "yes"

    // No header, for a run whose file had one: the run's columns in order.
    auto named = ll::readCsv(writeTable("named-run", "a,b,y\n1,10,0\n2,30,1\n3,20,0\n9,0,1\n"), "");
    ASSERT_TRUE(named) << named.error().message;
    const auto namedLike = layoutOf(*named);
    auto bare = ll::readCsv(writeTable("bare-held", "2,30,1\n3,20,0\n"), "", &namedLike);
    ASSERT_TRUE(bare) << bare.error().message;
    EXPECT_EQ(bare->featureNames, named->featureNames);
    EXPECT_EQ(bare->size(), 2);
    auto narrow = ll::readCsv(writeTable("narrow-held", "2,1\n3,0\n"), "", &namedLike);
    EXPECT_NE(errorOf(narrow).find("has no header and 1 feature columns, where the run's data "
                                   "had 2 (a, b)"),
              std::string::npos)
        << errorOf(narrow);
    // A header, for a run whose file had none: numbered as that file was.
    auto numbered = ll::readCsv(writeTable("numbered-run", "1,10,0\n2,30,1\n3,20,0\n9,0,1\n"), "");
    ASSERT_TRUE(numbered) << numbered.error().message;
    const auto numberedLike = layoutOf(*numbered);
    auto headed = ll::readCsv(writeTable("headed-held", "p,q,r\n2,30,1\n"), "", &numberedLike);
    ASSERT_TRUE(headed) << headed.error().message;
    EXPECT_EQ(headed->featureNames, numbered->featureNames);

    // iris.data's way (no header, classes in blocks) for a run that kept classes b and c:
    // the first row, of class a, is data passed over, not a header.
    const std::string blocks = "5.1,3.5,a\n4.9,3.0,a\n6.0,2.2,b\n6.1,2.8,b\n6.3,3.3,c\n5.8,2.7,c\n";
    auto kept = ll::readCsv(writeTable("blocks-run", blocks.substr(blocks.find("6.0"))), "");
    ASSERT_TRUE(kept) << kept.error().message;
    const auto keptLike = layoutOf(*kept);
    auto blocked = ll::readCsv(writeTable("blocks-held", blocks), "", &keptLike);
    ASSERT_TRUE(blocked) << blocked.error().message;
    EXPECT_EQ(blocked->featureNames, kept->featureNames);
    EXPECT_EQ(blocked->size(), 4);
    EXPECT_NE(blocked->note.find("left out 2 of 6 rows of classes the run does not have ('a'"),
              std::string::npos)
        << blocked->note;
}

// Labels are missing as features are: the row goes, and the note shows what stood there.
TEST(CsvGaps, LabelsWrittenAsMissingLeaveTheirRowsOut) {
    const fs::path text = writeTable("label-na", "a,label\n1,x\n2,NA\n3,?\n4,y\n5,x\n");
    auto d = ll::readCsv(text, "");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(d->size(), 3);
    EXPECT_EQ(d->note,
              "left out 2 of 5 rows missing a value or their label (the first: line 3, "
              "label 'NA' in column 'label')");
    // Numeric labels stay numbers (sorted 1, 2, 10) with a NaN among them.
    const fs::path numeric = writeTable("label-nan", "a,label\n1,1\n2,NaN\n3,10\n4,2\n");
    auto n = ll::readCsv(numeric, "");
    ASSERT_TRUE(n) << n.error().message;
    EXPECT_EQ(n->classNames, (std::vector<std::string>{"1", "2", "10"}));
    fs::remove(text);
    fs::remove(numeric);
}

// A header over a column of names: the names do not hide it, whether the labels repeat or a
// column below has gaps.
TEST(CsvGaps, AHeaderOverAColumnOfNamesIsAHeader) {
    const fs::path unique =
        writeTable("names-unique", "name,2019,label\nbob,1,x\nann,2,y\ncid,3,z\n");
    auto u = ll::readCsv(unique, "");
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(u->featureNames, (std::vector<std::string>{"2019"}));
    EXPECT_EQ(u->classNames, (std::vector<std::string>{"x", "y", "z"}));
    EXPECT_EQ(toFloats(u->mean), (std::vector<float>{2.0f}));
    const fs::path gap = writeTable("names-gap", "name,age,label\nbob,?,x\nann,3,y\ncid,4,x\n");
    auto g = ll::readCsv(gap, "");
    ASSERT_TRUE(g) << g.error().message;
    EXPECT_EQ(g->featureNames, (std::vector<std::string>{"age"}));
    EXPECT_EQ(g->size(), 2);
    fs::remove(unique);
    fs::remove(gap);
}

// Mostly missing beats a stray word: such a column is left out, not refused.
TEST(CsvGaps, AColumnMostlyMissingIsLeftOutWhateverElseItHolds) {
    const fs::path file =
        writeTable("sparse-word", "a,b,label\n1,word,x\n2,7,y\n3,,x\n4,-,y\n5,.,x\n");
    auto d = ll::readCsv(file, "");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"a"}));
    EXPECT_EQ(d->size(), 5);
    EXPECT_EQ(d->note, "left out columns missing in most rows: 'b' (missing in 3 of 5 rows)");
    fs::remove(file);
}

TEST(CsvReal, SklearnBreastCancer) {
    auto d = ll::readCsv(kSklearn / "breast_cancer.csv", "");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->x.sizes(), (std::vector<std::int64_t>{569, 30}));
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"malignant", "benign"}));
    EXPECT_EQ(d->featureNames.size(), 30u);
    EXPECT_EQ(d->featureNames.front(), "0");
    EXPECT_EQ(d->featureNames.back(), "29");
    const Reference ref = readReference(kFixtures / "csv" / "reference" / "breast_cancer.txt");
    EXPECT_EQ(d->classCounts(), (std::vector<std::int64_t>{212, 357}));
    EXPECT_EQ(d->classCounts(), toVector(torch::tensor(ref.at("counts"))));
    expectStandardised(*d, "breast_cancer");
}

TEST(CsvReal, SklearnIris) {
    auto d = ll::loadDataset({.source = (kSklearn / "iris.csv").string()});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->name, "iris");
    EXPECT_EQ(d->x.sizes(), (std::vector<std::int64_t>{150, 4}));
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"0", "1", "2", "3"}));
    EXPECT_EQ(d->classCounts(), (std::vector<std::int64_t>{50, 50, 50}));
    expectStandardised(*d, "iris");
}

TEST(CsvLoader, SpecPicksLabelAndKeepsClasses) {
    auto d = ll::loadDataset({.source = (kFixtures / "csv" / "header-text.csv").string(),
                              .labelColumn = "species",
                              .keepClasses = {2, 0}});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"cat", "ant"}));
    // Rows cat, ant, cat, ant of cat, ant, bee, cat, ant.
    EXPECT_EQ(toVector(d->y), (std::vector<std::int64_t>{0, 1, 0, 1}));
    EXPECT_EQ(d->x.size(0), 4);
}

// ---- Image folders -----------------------------------------------------------------------------
#ifdef LATENTLAB_HAVE_OPENCV

// The colours make_fixtures.py writes: per class a.png solid RGB, b.png gray quadrants (top-left,
// top-right, bottom-left, bottom-right), c.jpg solid RGB; green also has d.PNG, solid gray 128.
struct ClassImages {
    int first;  // index of a.png in the dataset
    std::array<int, 3> solid;
    std::array<int, 4> quadrants;
    std::array<int, 3> jpeg;
};
const std::array<ClassImages, 3> kColors{{{0, {20, 40, 220}, {10, 60, 110, 160}, {30, 60, 200}},
                                          {3, {30, 200, 50}, {20, 70, 120, 170}, {40, 180, 60}},
                                          {7, {220, 30, 40}, {30, 80, 130, 180}, {200, 50, 50}}}};
constexpr float kByte = 1.0f / 255.0f;

double gray(const std::array<int, 3>& rgb) {
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
}

// Every value of `t` equals byte / 255 (within `tolerance` bytes).
void expectFilled(const torch::Tensor& t, double byte, double tolerance = 0) {
    EXPECT_NEAR(t.min().item<float>(), byte / 255.0, tolerance / 255.0 + 1e-6);
    EXPECT_NEAR(t.max().item<float>(), byte / 255.0, tolerance / 255.0 + 1e-6);
}

// Image i, channel ch, is flat at byte / 255.
void expectSolid(const torch::Tensor& x, std::int64_t i, std::int64_t ch, double byte,
                 double tolerance = 0) {
    SCOPED_TRACE("image " + std::to_string(i) + " channel " + std::to_string(ch));
    expectFilled(x[i][ch], byte, tolerance);
}

void expectCommonLayout(const Dataset& d, int channels, int size) {
    EXPECT_EQ(d.modality, ll::Modality::Image);
    EXPECT_EQ(d.x.sizes(), (std::vector<std::int64_t>{10, channels, size, size}));
    EXPECT_EQ(d.x.scalar_type(), torch::kFloat32);
    EXPECT_GE(d.x.min().item<float>(), 0.0f);
    EXPECT_LE(d.x.max().item<float>(), 1.0f);
    // Sorted folder names; README.txt, red/notes.txt and misc/ (no images) are ignored.
    EXPECT_EQ(d.classNames, (std::vector<std::string>{"blue", "green", "red"}));
    EXPECT_EQ(toVector(d.y), (std::vector<std::int64_t>{0, 0, 0, 1, 1, 1, 1, 2, 2, 2}));
    EXPECT_EQ(d.classCounts(), (std::vector<std::int64_t>{3, 4, 3}));
}

TEST(ImageFolder, RgbAtNativeSize) {
    auto d = ll::readImageFolder(fixture("images/colors"), 8, false);
    ASSERT_TRUE(d) << d.error().message;
    expectCommonLayout(*d, 3, 8);
    EXPECT_EQ(d->name, "colors");
    for (const auto& k : kColors) {
        for (int ch = 0; ch < 3; ++ch) {
            expectSolid(d->x, k.first, ch, k.solid[static_cast<std::size_t>(ch)]);
            // A gray PNG read as RGB has three equal channels.
            const torch::Tensor quad = d->x[k.first + 1][ch];
            expectFilled(quad.slice(0, 0, 4).slice(1, 0, 4), k.quadrants[0]);
            expectFilled(quad.slice(0, 0, 4).slice(1, 4, 8), k.quadrants[1]);
            expectFilled(quad.slice(0, 4, 8).slice(1, 0, 4), k.quadrants[2]);
            expectFilled(quad.slice(0, 4, 8).slice(1, 4, 8), k.quadrants[3]);
            // JPEG is lossy; a flat colour comes back within a few levels.
            expectSolid(d->x, k.first + 2, ch, k.jpeg[static_cast<std::size_t>(ch)], 3);
        }
    }
    for (int ch = 0; ch < 3; ++ch) expectSolid(d->x, 6, ch, 128);
}

TEST(ImageFolder, GrayscaleAtNativeSize) {
    auto d = ll::readImageFolder(fixture("images/colors"), 8, true);
    ASSERT_TRUE(d) << d.error().message;
    expectCommonLayout(*d, 1, 8);
    for (const auto& k : kColors) {
        // Colour files are converted with 0.299 R + 0.587 G + 0.114 B (rounded by the decoder).
        expectSolid(d->x, k.first, 0, gray(k.solid), 1);
        const torch::Tensor quad = d->x[k.first + 1][0];
        EXPECT_FLOAT_EQ(at(quad, {0, 0}), k.quadrants[0] * kByte);
        EXPECT_FLOAT_EQ(at(quad, {0, 7}), k.quadrants[1] * kByte);
        EXPECT_FLOAT_EQ(at(quad, {7, 0}), k.quadrants[2] * kByte);
        EXPECT_FLOAT_EQ(at(quad, {7, 7}), k.quadrants[3] * kByte);
        expectSolid(d->x, k.first + 2, 0, gray(k.jpeg), 3);
    }
    expectSolid(d->x, 6, 0, 128);
}

class ImageFolderSize : public testing::TestWithParam<int> {};

TEST_P(ImageFolderSize, ResizesEveryImage) {
    const int size = GetParam();
    for (bool grayscale : {true, false}) {
        auto d = ll::readImageFolder(fixture("images/colors"), size, grayscale);
        ASSERT_TRUE(d) << d.error().message;
        const int channels = grayscale ? 1 : 3;
        expectCommonLayout(*d, channels, size);
        // Flat images stay flat, and the corners of the quadrant images keep their values.
        expectSolid(d->x, 6, 0, 128);
        const std::int64_t e = size - 1;
        for (const auto& k : kColors) {
            if (!grayscale)
                for (int ch = 0; ch < 3; ++ch)
                    expectSolid(d->x, k.first, ch, k.solid[static_cast<std::size_t>(ch)]);
            for (int ch = 0; ch < channels; ++ch) {
                const torch::Tensor quad = d->x[k.first + 1][ch];
                EXPECT_FLOAT_EQ(at(quad, {0, 0}), k.quadrants[0] * kByte);
                EXPECT_FLOAT_EQ(at(quad, {0, e}), k.quadrants[1] * kByte);
                EXPECT_FLOAT_EQ(at(quad, {e, 0}), k.quadrants[2] * kByte);
                EXPECT_FLOAT_EQ(at(quad, {e, e}), k.quadrants[3] * kByte);
            }
        }
        if (size == 4) {
            // Halving by area averages 2 x 2 blocks of one value: the quadrants stay exact.
            const torch::Tensor quad = d->x[kColors[0].first + 1][0];
            const auto& q = kColors[0].quadrants;
            const torch::Tensor want =
                torch::tensor({q[0], q[0], q[1], q[1], q[0], q[0], q[1], q[1], q[2], q[2], q[3],
                               q[3], q[2], q[2], q[3], q[3]},
                              torch::kFloat32)
                    .view({4, 4})
                    .div(255.0);
            EXPECT_TRUE(torch::allclose(quad, want, 0, 1e-6)) << quad;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Sizes, ImageFolderSize, testing::Values(4, 16, 28));

struct BrokenFolder {
    const char* folder;
    int size;
    const char* message;
};

void PrintTo(const BrokenFolder& p, std::ostream* os) {
    *os << p.folder << " at " << p.size;
}

class ImageFolderBroken : public testing::TestWithParam<BrokenFolder> {};

TEST_P(ImageFolderBroken, IsRefusedNamingTheFault) {
    const std::string message =
        errorOf(ll::readImageFolder(fixture(GetParam().folder), GetParam().size, true));
    RecordProperty("message", message);  // shown by --gtest_output=xml
    EXPECT_TRUE(matches(message, GetParam().message)) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Folders, ImageFolderBroken,
    testing::Values(
        BrokenFolder{"images/broken-png", 8,
                     "broken-png/dogs/corrupt.png: unreadable image (corrupt, or not a PNG, JPEG, "
                     "BMP, WebP or TIFF inside)"},
        BrokenFolder{"images/broken-jpg", 8, "broken-jpg/cats/fake.jpg: unreadable image"},
        BrokenFolder{"images/cut-jpg", 8,
                     "cut-jpg/dogs/cut.jpg: a JPEG cut short (no end-of-image marker)"},
        BrokenFolder{"images/flat", 8, "flat: no class sub-folders"},
        BrokenFolder{"images/no-images", 8, "no-images: no images in its sub-folders"},
        BrokenFolder{"images/colors", 2, "colors: image size must lie in 4..512, not 2"},
        BrokenFolder{"images/colors", 513, "colors: image size must lie in 4..512, not 513"},
        BrokenFolder{"images/missing", 8, "missing: no such folder"}),
    [](const auto& info) { return testName(info.param.folder) + std::to_string(info.param.size); });

// The end-of-image marker after the first scan: present in a whole JPEG, missing from one cut
// anywhere after its headers; bytes that are no JPEG are not its business.
TEST(JpegComplete, TellsACutFileFromAWholeOne) {
    const auto whole = ll::readFile(fixture("images/colors/red/c.jpg"));
    ASSERT_TRUE(whole) << whole.error().message;
    const auto* bytes = reinterpret_cast<const unsigned char*>(whole->data());
    EXPECT_TRUE(ll::jpegComplete(bytes, whole->size()));
    for (std::size_t cut = 4; cut + 1 < whole->size(); cut += 7)
        EXPECT_FALSE(ll::jpegComplete(bytes, cut)) << "cut at " << cut << " of " << whole->size();
    // Bytes after the end marker (some cameras append data) leave it whole.
    std::string padded = *whole + std::string(100, '\0');
    EXPECT_TRUE(
        ll::jpegComplete(reinterpret_cast<const unsigned char*>(padded.data()), padded.size()));
    // A stray byte between segments (libjpeg skips it): whole while the end marker follows.
    std::string stray = whole->substr(0, 2) + '\0' + whole->substr(2);
    EXPECT_TRUE(
        ll::jpegComplete(reinterpret_cast<const unsigned char*>(stray.data()), stray.size()));
    EXPECT_FALSE(
        ll::jpegComplete(reinterpret_cast<const unsigned char*>(stray.data()), stray.size() - 2));
    const std::string text = "not a JPEG";
    EXPECT_TRUE(ll::jpegComplete(reinterpret_cast<const unsigned char*>(text.data()), text.size()));
    EXPECT_FALSE(ll::jpegFileComplete(fixture("images/cut-jpg/dogs/cut.jpg")));
    EXPECT_TRUE(ll::jpegFileComplete(fixture("images/cut-jpg/cats/ok.png")));
}

TEST(ImageFolderLoader, SpecChoosesSizeAndColour) {
    auto rgb = ll::loadDataset({.source = fixture("images/colors").string(),
                                .imageSize = 8,
                                .colour = ll::ImageColour::Rgb});
    auto direct = ll::readImageFolder(fixture("images/colors"), 8, false);
    ASSERT_TRUE(rgb && direct);
    EXPECT_TRUE(torch::equal(rgb->x, direct->x));
    EXPECT_EQ(rgb->classNames, direct->classNames);

    // The size and colour of Fashion-MNIST, asked for.
    auto red = ll::loadDataset({.source = fixture("images/colors").string(),
                                .imageSize = 28,
                                .colour = ll::ImageColour::Gray,
                                .keepClasses = {2}});
    ASSERT_TRUE(red) << red.error().message;
    EXPECT_EQ(red->x.sizes(), (std::vector<std::int64_t>{3, 1, 28, 28}));
    EXPECT_EQ(red->classNames, (std::vector<std::string>{"red"}));
}

// ---- Image folders that follow their data ------------------------------------------------------

// A folder of two classes written at run time: `perClass` PNGs each of every size given,
// colour (a different hue per class) or gray (R = G = B), seeded pixels.
fs::path writeFolder(const std::string& name, const std::vector<std::pair<int, int>>& sizes,
                     bool colour, int perClass = 3) {
    const fs::path root =
        fs::temp_directory_path() / ("latentlab-test-data-" + std::to_string(::getpid())) / name;
    fs::remove_all(root);
    torch::manual_seed(5);
    for (int k = 0; k < 2; ++k) {
        fs::create_directories(root / ("class" + std::to_string(k)));
        int file = 0;
        for (const auto& [w, h] : sizes)
            for (int i = 0; i < perClass; ++i) {
                auto image = torch::rand({1, 1, h, w}).expand({1, 3, h, w}).clone();
                if (colour) image[0][k] = 1.0;  // a red or a green cast
                char leaf[32];
                std::snprintf(leaf, sizeof leaf, "%03d.png", file++);
                const auto ok = ll::writePng(ll::makeGrid(image, 1),
                                             root / ("class" + std::to_string(k)) / leaf);
                EXPECT_TRUE(ok) << ok.error().message;
            }
    }
    return root;
}

std::vector<std::int64_t> shapeOf(const Dataset& d) {
    return d.x.sizes().vec();
}

TEST(ImageFolderFollowsData, ColourAtItsOwnSize) {
    const auto root = writeFolder("rgb32", {{32, 32}}, true);
    auto d = ll::loadDataset({.source = root.string()});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(shapeOf(*d), (std::vector<std::int64_t>{6, 3, 32, 32}));
    EXPECT_EQ(d->summary().note, "32x32 RGB, as the images are");
    // The pixels are the files' own: class 0's red channel is full.
    expectFilled(d->x[0][0], 255);
    // The same as asking for that size and colour.
    auto asked = ll::readImageFolder(root, 32, false);
    ASSERT_TRUE(asked) << asked.error().message;
    EXPECT_TRUE(torch::equal(d->x, asked->x));
    EXPECT_EQ(asked->note, "32x32 RGB, as asked");
}

TEST(ImageFolderFollowsData, GrayImagesStayGray) {
    // Gray pictures saved as RGBA PNGs (as many tools write them) are read as one channel.
    const auto root = writeFolder("gray20", {{20, 20}}, false);
    auto d = ll::loadDataset({.source = root.string()});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(shapeOf(*d), (std::vector<std::int64_t>{6, 1, 20, 20}));
    EXPECT_EQ(d->summary().note, "20x20 grayscale, as the images are");
    auto asked = ll::readImageFolder(root, 20, true);
    ASSERT_TRUE(asked) << asked.error().message;
    EXPECT_TRUE(torch::equal(d->x, asked->x)) << "R = G = B turns into the same gray";
}

TEST(ImageFolderFollowsData, LargeImagesAreScaledToTheLimit) {
    const auto root = writeFolder("rgb96", {{96, 96}}, true, 1);
    auto d = ll::loadDataset({.source = root.string()});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(shapeOf(*d),
              (std::vector<std::int64_t>{2, 3, ll::kImageSizeLimit, ll::kImageSizeLimit}));
    EXPECT_EQ(d->summary().note,
              "scaled from 96x96 to 64x64 (the size limit); RGB as the images are");
}

TEST(ImageFolderFollowsData, MixedSizesGoToTheMostCommon) {
    // Most are 24x24; one odd size per class, and a side not a multiple of 4 is rounded down.
    const auto root = writeFolder("mixed", {{24, 24}, {24, 24}, {40, 30}}, true, 1);
    auto d = ll::loadDataset({.source = root.string()});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(shapeOf(*d), (std::vector<std::int64_t>{6, 3, 24, 24}));
    EXPECT_EQ(d->summary().note,
              "scaled from 2 sizes (most often 24x24) to 24x24 (the most common size); RGB as "
              "the images are");
    const auto odd = writeFolder("odd", {{30, 30}}, false, 1);
    auto o = ll::loadDataset({.source = odd.string()});
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(shapeOf(*o), (std::vector<std::int64_t>{2, 1, 28, 28}));
    EXPECT_EQ(o->summary().note,
              "scaled from 30x30 to 28x28 (a multiple of 4, as the models need); grayscale as "
              "the images are");
}

TEST(ImageFolderHostile, HeadersAreCheckedBeforeAnythingIsDecoded) {
    // OpenCV decodes by content whatever a file's name, and allocates what the header claims
    // before it reads a pixel (a fuzzed BMP named .png once asked for 3 GB). Every file must
    // be of a format whose header is read (PNG, JPEG, BMP, WebP, TIFF) and claim at most 2^27
    // pixels before any is decoded.
    const fs::path root = fs::temp_directory_path() /
                          ("latentlab-test-data-" + std::to_string(::getpid())) / "hostile";
    auto folderWith = [&](const std::string& name, const std::string& bytes) {
        fs::remove_all(root);
        fs::create_directories(root / "a");
        fs::create_directories(root / "b");
        const auto ok =
            ll::writePng(ll::makeGrid(torch::rand({1, 1, 8, 8}), 1), root / "a" / "ok.png");
        EXPECT_TRUE(ok) << ok.error().message;
        std::ofstream(root / "b" / name, std::ios::binary) << bytes;
    };
    using ll::testing::bmp, ll::testing::pngHeader;
    for (const int size : {0, 28}) {
        SCOPED_TRACE("asked size " + std::to_string(size));
        // A well-formed small BMP, named as a PNG: read by what it is.
        folderWith("small.png", bmp(8, 8, true));
        EXPECT_TRUE(ll::loadDataset({.source = root.string(), .imageSize = size}));
        // A BMP header alone that claims 30000 x 30000, named as a PNG; one of a depth that
        // no decoder knows.
        folderWith("huge.png", bmp(30000, 30000, false));
        EXPECT_TRUE(matches(errorOf(ll::loadDataset({.source = root.string(), .imageSize = size})),
                            "b/huge.png: 30000x30000 pixels, more than LatentLab reads"));
        std::string odd = bmp(8, 8, true);
        odd[28] = 7;
        folderWith("odd.png", odd);
        EXPECT_TRUE(
            matches(errorOf(ll::loadDataset({.source = root.string(), .imageSize = size})),
                    "b/odd.png: unreadable image (corrupt, or not a PNG, JPEG, BMP, WebP or "
                    "TIFF inside)"));
        // PNG headers that claim 400 megapixels, one row past the limit, a width past 2^31.
        folderWith("wide.jpg", pngHeader(20000, 20000));
        EXPECT_TRUE(matches(errorOf(ll::loadDataset({.source = root.string(), .imageSize = size})),
                            "b/wide.jpg: 20000x20000 pixels, more than LatentLab reads (134 "
                            "megapixels)"));
        folderWith("limit.png", pngHeader(16384, 8193));
        EXPECT_TRUE(matches(errorOf(ll::loadDataset({.source = root.string(), .imageSize = size})),
                            "b/limit.png: 16384x8193 pixels, more than"));
        folderWith("sign.png", pngHeader(0x80000000u, 8));
        EXPECT_TRUE(matches(errorOf(ll::loadDataset({.source = root.string(), .imageSize = size})),
                            "b/sign.png: unreadable image"));
        // At the limit the header passes, and the missing pixels make it unreadable.
        folderWith("at.png", pngHeader(16384, 8192));
        EXPECT_TRUE(matches(errorOf(ll::loadDataset({.source = root.string(), .imageSize = size})),
                            "b/at.png: unreadable image"));
    }
    fs::remove_all(root);
}

TEST(ImageFolderFollowsData, OptionsOverrideEitherChoice) {
    const auto root = writeFolder("rgb32", {{32, 32}}, true);
    auto gray = ll::loadDataset({.source = root.string(), .colour = ll::ImageColour::Gray});
    ASSERT_TRUE(gray) << gray.error().message;
    EXPECT_EQ(shapeOf(*gray), (std::vector<std::int64_t>{6, 1, 32, 32}));
    EXPECT_EQ(gray->summary().note, "32x32 grayscale, as asked");
    auto small = ll::loadDataset({.source = root.string(), .imageSize = 16});
    ASSERT_TRUE(small) << small.error().message;
    EXPECT_EQ(shapeOf(*small), (std::vector<std::int64_t>{6, 3, 16, 16}));
    EXPECT_EQ(small->summary().note,
              "scaled from 32x32 to 16x16 (as asked); RGB as the images are");
    const auto grayRoot = writeFolder("gray20", {{20, 20}}, false);
    auto rgb = ll::loadDataset({.source = grayRoot.string(), .colour = ll::ImageColour::Rgb});
    ASSERT_TRUE(rgb) << rgb.error().message;
    EXPECT_EQ(shapeOf(*rgb), (std::vector<std::int64_t>{6, 3, 20, 20}));
}

TEST(ImageFolderFollowsData, TheCommittedFixtureKeepsItsColourAndSize) {
    // 8x8 PNGs and JPEGs, three of them coloured.
    auto d = ll::loadDataset({.source = fixture("images/colors").string()});
    ASSERT_TRUE(d) << d.error().message;
    expectCommonLayout(*d, 3, 8);
    auto asked = ll::readImageFolder(fixture("images/colors"), 8, false);
    ASSERT_TRUE(asked);
    EXPECT_TRUE(torch::equal(d->x, asked->x));
}

// config.json keeps the choice (follow, or a size and colour), and files written before
// image folders followed their data (a "grayscale" flag and a size) load as they were.
TEST(ImageFolderFollowsData, RunConfigRoundTrips) {
    const fs::path run =
        fs::temp_directory_path() / ("latentlab-test-data-" + std::to_string(::getpid())) / "run";
    fs::create_directories(run);
    auto roundTrip = [&](const ll::DatasetSpec& spec) {
        ll::TrainConfig config;
        config.dataset = spec;
        EXPECT_TRUE(ll::writeRunConfig(run, config, "completed", "x", 0));
        auto read = ll::readRunConfig(run);
        EXPECT_TRUE(read) << read.error().message;
        return read ? read->dataset : ll::DatasetSpec{};
    };
    const auto followed = roundTrip({.source = "folder"});
    EXPECT_EQ(followed.imageSize, 0);
    EXPECT_EQ(followed.colour, ll::ImageColour::FollowData);
    const auto asked =
        roundTrip({.source = "folder", .imageSize = 32, .colour = ll::ImageColour::Rgb});
    EXPECT_EQ(asked.imageSize, 32);
    EXPECT_EQ(asked.colour, ll::ImageColour::Rgb);
    EXPECT_EQ(roundTrip({.colour = ll::ImageColour::Gray}).colour, ll::ImageColour::Gray);

    for (bool grayscale : {true, false}) {
        auto j = nlohmann::json::parse(*ll::readFile(run / "config.json"));
        j["dataset"].erase("colour");
        j["dataset"]["grayscale"] = grayscale;
        j["dataset"]["image_size"] = 28;
        ASSERT_TRUE(ll::writeFileAtomic(run / "config.json", j.dump(2)));
        auto old = ll::readRunConfig(run);
        ASSERT_TRUE(old) << old.error().message;
        EXPECT_EQ(old->dataset.imageSize, 28);
        EXPECT_EQ(old->dataset.colour, grayscale ? ll::ImageColour::Gray : ll::ImageColour::Rgb);
    }
    for (auto c : {ll::ImageColour::FollowData, ll::ImageColour::Gray, ll::ImageColour::Rgb})
        EXPECT_EQ(ll::colourFromName(ll::colourName(c)), c);
    EXPECT_FALSE(ll::colourFromName("sepia"));
}

TEST(ImageFolderFollowsData, IdxDataKeepsItsOwnSize) {
    auto d = ll::loadDataset({.source = fixture("idx/gz").string()});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(shapeOf(*d), (std::vector<std::int64_t>{6, 1, 4, 5}));
    EXPECT_TRUE(d->summary().note.empty());
}

#else

// The GPU-server build has no OpenCV: image folders are refused with a message saying why.
TEST(ImageFolder, RefusedWithoutOpenCV) {
    auto d = ll::readImageFolder(fixture("images/colors"), 8, true);
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().message.find("need OpenCV"), std::string::npos) << d.error().message;
}
#endif  // LATENTLAB_HAVE_OPENCV

// ---- Fashion-MNIST -----------------------------------------------------------------------------

const Reference& fashionReference() {
    static const Reference ref = readReference(kFixtures / "reference" / "fashion-mnist.txt");
    return ref;
}

// Loaded once: the train split is 188 MB of floats.
const Dataset& fashionTrain() {
    static const Dataset d = [] {
        auto r = ll::loadDataset({.source = "fashion-mnist"});
        if (!r) {
            ADD_FAILURE() << r.error().message;
            return Dataset{};
        }
        return *r;
    }();
    return d;
}

void expectFashionSplit(const Dataset& d, const std::string& split, std::int64_t count) {
    const Reference& ref = fashionReference();
    EXPECT_EQ(d.name, "fashion-mnist");
    ASSERT_EQ(d.x.sizes(), (std::vector<std::int64_t>{count, 1, 28, 28}));
    EXPECT_EQ(d.x.scalar_type(), torch::kFloat32);
    EXPECT_EQ(d.classNames,
              (std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}));
    EXPECT_EQ(d.classCounts(), std::vector<std::int64_t>(10, count / 10));
    EXPECT_EQ(d.classCounts(), toVector(torch::tensor(ref.at(split + "_counts"))));
    EXPECT_EQ(toVector(d.y.slice(0, 0, 20)),
              toVector(torch::tensor(ref.at(split + "_labels_head"))));
    // Pixels are bytes / 255: scaled back they are whole and match numpy's.
    const torch::Tensor bytes0 = (d.x[0][0] * 255.0).round().to(torch::kInt64);
    EXPECT_TRUE(torch::allclose(d.x[0][0] * 255.0, bytes0.to(torch::kFloat32), 0, 1e-3));
    EXPECT_EQ(bytes0.sum().item<std::int64_t>(),
              static_cast<std::int64_t>(ref.at(split + "_image0_bytesum").at(0)));
    EXPECT_EQ(toVector(bytes0[14]), toVector(torch::tensor(ref.at(split + "_image0_row14"))));
    EXPECT_EQ(d.x.min().item<float>(), 0.0f);
    EXPECT_EQ(d.x.max().item<float>(), 1.0f);
    EXPECT_NEAR(d.x.to(torch::kFloat64).mean().item<double>(), ref.at(split + "_pixel_mean").at(0),
                1e-6);
}

TEST(FashionMnist, TrainSplit) {
    expectFashionSplit(fashionTrain(), "train", 60000);
}

TEST(FashionMnist, TestSplit) {
    auto d = ll::loadDataset({.source = "fashion-mnist", .split = "test"});
    ASSERT_TRUE(d) << d.error().message;
    expectFashionSplit(*d, "test", 10000);
}

TEST(FashionMnist, LongTailRatio10) {
    const Dataset& train = fashionTrain();
    ASSERT_EQ(train.size(), 60000);
    auto a = ll::longTail(train, 10.0, 1);
    ASSERT_TRUE(a) << a.error().message;
    // All classes hold 6000, so size order is label order: class i keeps 6000 * 10^(-i/9).
    std::vector<std::int64_t> want;
    for (int i = 0; i < 10; ++i)
        want.push_back(static_cast<std::int64_t>(std::floor(6000.0 * std::pow(10.0, -i / 9.0))));
    const auto counts = a->classCounts();
    EXPECT_EQ(counts, want);
    EXPECT_EQ(counts.front(), 6000);
    EXPECT_EQ(counts.back(), 600);
    EXPECT_EQ(*std::max_element(counts.begin(), counts.end()),
              10 * *std::min_element(counts.begin(), counts.end()));
    EXPECT_EQ(a->classNames, train.classNames);

    // Seeded: the same seed keeps the same samples, the spec gives the same, another seed others.
    auto again = ll::longTail(train, 10.0, 1);
    auto viaSpec = ll::loadDataset({.source = "fashion-mnist", .longTailRatio = 10.0, .seed = 1});
    auto other = ll::longTail(train, 10.0, 2);
    ASSERT_TRUE(again && viaSpec && other);
    EXPECT_TRUE(torch::equal(a->x, again->x));
    EXPECT_TRUE(torch::equal(a->x, viaSpec->x));
    EXPECT_TRUE(torch::equal(a->y, viaSpec->y));
    EXPECT_EQ(other->classCounts(), want);
    EXPECT_FALSE(torch::equal(a->x, other->x));
}

TEST(FashionMnist, SpecKeepsClassesAndLimits) {
    auto kept = ll::loadDataset({.source = "fashion-mnist", .keepClasses = {9, 0}});
    ASSERT_TRUE(kept) << kept.error().message;
    EXPECT_EQ(kept->classNames, (std::vector<std::string>{"Ankle boot", "T-shirt/top"}));
    EXPECT_EQ(kept->classCounts(), (std::vector<std::int64_t>{6000, 6000}));
    // The first train image is an ankle boot, the second a T-shirt.
    EXPECT_EQ(toVector(kept->y.slice(0, 0, 3)), (std::vector<std::int64_t>{0, 1, 1}));
    EXPECT_TRUE(torch::equal(kept->x[0], fashionTrain().x[0]));

    auto limited = ll::loadDataset({.source = "fashion-mnist", .limit = 1000, .seed = 5});
    auto same = ll::loadDataset({.source = "fashion-mnist", .limit = 1000, .seed = 5});
    auto other = ll::loadDataset({.source = "fashion-mnist", .limit = 1000, .seed = 6});
    ASSERT_TRUE(limited && same && other);
    EXPECT_EQ(limited->size(), 1000);
    EXPECT_TRUE(torch::equal(limited->x, same->x));
    EXPECT_FALSE(torch::equal(limited->x, other->x));
}

// ---- Transforms on small synthetic data ---------------------------------------------------------

// x[i] holds i, so every transform's choice of rows can be read back from x.
Dataset synthetic(const std::vector<std::int64_t>& labels, int classes) {
    Dataset d;
    d.source = "synthetic";
    const auto n = static_cast<std::int64_t>(labels.size());
    d.x = torch::arange(n, torch::kFloat32).view({n, 1, 1, 1});
    d.y = torch::tensor(labels, torch::kInt64);
    // Appended rather than "c" + to_string(k): GCC 12 warns falsely on the latter (PR 105329).
    for (int k = 0; k < classes; ++k)
        d.classNames.push_back(std::string("c").append(std::to_string(k)));
    return d;
}

std::vector<std::int64_t> rowsOf(const Dataset& d) {
    return toVector(d.x.flatten());
}

// The rows are distinct, ascending, and carry their original labels.
void expectRowsFrom(const Dataset& part, const Dataset& whole) {
    const auto rows = rowsOf(part);
    EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end()));
    EXPECT_EQ(std::set<std::int64_t>(rows.begin(), rows.end()).size(), rows.size());
    const auto all = toVector(whole.y), labels = toVector(part.y);
    for (std::size_t i = 0; i < rows.size(); ++i)
        EXPECT_EQ(labels[i], all[static_cast<std::size_t>(rows[i])]) << "row " << rows[i];
}

TEST(KeepClasses, RenumbersInListedOrder) {
    const Dataset d = synthetic({0, 1, 2, 0, 2, 1, 2}, 3);
    auto k = ll::keepClasses(d, {2, 0});
    ASSERT_TRUE(k) << k.error().message;
    EXPECT_EQ(k->classNames, (std::vector<std::string>{"c2", "c0"}));
    EXPECT_EQ(rowsOf(*k), (std::vector<std::int64_t>{0, 2, 3, 4, 6}));
    EXPECT_EQ(toVector(k->y), (std::vector<std::int64_t>{1, 0, 1, 0, 0}));
    EXPECT_EQ(k->classCounts(), (std::vector<std::int64_t>{3, 2}));
    // The source's numbers of the classes kept, through a second narrowing too (study keys).
    EXPECT_TRUE(d.keptClasses.empty());
    EXPECT_EQ(k->keptClasses, (std::vector<int>{2, 0}));
    auto again = ll::keepClasses(*k, {1});
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->keptClasses, (std::vector<int>{0}));
    EXPECT_EQ(k->subset(torch::tensor({0, 1}, torch::kInt64)).keptClasses, k->keptClasses);

    auto all = ll::keepClasses(d, {});
    ASSERT_TRUE(all);
    EXPECT_TRUE(torch::equal(all->y, d.y));
}

TEST(KeepClasses, RefusesUnknownAndRepeatedClasses) {
    const Dataset d = synthetic({0, 1, 2}, 3);
    EXPECT_EQ(errorOf(ll::keepClasses(d, {0, 3})),
              "synthetic: no class 3 (the dataset has 3 classes, numbered from 0)");
    EXPECT_NE(errorOf(ll::keepClasses(d, {-1})).find("no class -1"), std::string::npos);
    EXPECT_EQ(errorOf(ll::keepClasses(d, {1, 1})), "synthetic: class 'c1' is listed twice");
}

TEST(LongTail, FollowsSizeOrderGeometrically) {
    // Class sizes 5, 20, 10: by size the order is 1, 2, 0.
    std::vector<std::int64_t> labels;
    for (int i = 0; i < 35; ++i) labels.push_back(i % 7 == 0 ? 0 : (i % 7 < 5 ? 1 : 2));
    const Dataset d = synthetic(labels, 3);
    ASSERT_EQ(d.classCounts(), (std::vector<std::int64_t>{5, 20, 10}));
    auto t = ll::longTail(d, 8.0, 3);
    ASSERT_TRUE(t) << t.error().message;
    // Ranks 0, 1, 2 keep floor(20 * 8^(-r/2)): 20, 7, 2.
    EXPECT_EQ(t->classCounts(), (std::vector<std::int64_t>{2, 20, 7}));
    expectRowsFrom(*t, d);

    auto same = ll::longTail(d, 8.0, 3);
    ASSERT_TRUE(same);
    EXPECT_EQ(rowsOf(*same), rowsOf(*t));

    auto none = ll::longTail(d, 1.0, 3);
    ASSERT_TRUE(none);
    EXPECT_EQ(none->size(), 35);
}

TEST(RandomSubset, IsSeeded) {
    std::vector<std::int64_t> labels(100);
    for (int i = 0; i < 100; ++i) labels[static_cast<std::size_t>(i)] = i % 4;
    const Dataset d = synthetic(labels, 4);
    const Dataset a = ll::randomSubset(d, 10, 3);
    EXPECT_EQ(a.size(), 10);
    expectRowsFrom(a, d);
    EXPECT_EQ(rowsOf(ll::randomSubset(d, 10, 3)), rowsOf(a));
    EXPECT_NE(rowsOf(ll::randomSubset(d, 10, 4)), rowsOf(a));
    EXPECT_EQ(a.classNames, d.classNames);
    EXPECT_EQ(ll::randomSubset(d, 0, 3).size(), 100);
    EXPECT_EQ(ll::randomSubset(d, 100, 3).size(), 100);
    EXPECT_EQ(ll::randomSubset(d, 1000, 3).size(), 100);
}

TEST(TrainValidationSplit, SizesDisjointAndSeeded) {
    std::vector<std::int64_t> labels(100);
    for (int i = 0; i < 100; ++i) labels[static_cast<std::size_t>(i)] = i % 3;
    const Dataset d = synthetic(labels, 3);
    auto s = ll::trainValidationSplit(d, 0.2, 7);
    ASSERT_TRUE(s) << s.error().message;
    const auto& [train, validation] = *s;
    EXPECT_EQ(train.size(), 80);
    EXPECT_EQ(validation.size(), 20);
    expectRowsFrom(train, d);
    expectRowsFrom(validation, d);
    std::set<std::int64_t> all;
    for (auto r : rowsOf(train)) all.insert(r);
    for (auto r : rowsOf(validation))
        EXPECT_TRUE(all.insert(r).second) << "row " << r << " in both";
    EXPECT_EQ(all.size(), 100u);
    EXPECT_EQ(train.classNames, d.classNames);

    auto same = ll::trainValidationSplit(d, 0.2, 7);
    auto other = ll::trainValidationSplit(d, 0.2, 8);
    ASSERT_TRUE(same && other);
    EXPECT_EQ(rowsOf(same->second), rowsOf(validation));
    EXPECT_NE(rowsOf(other->second), rowsOf(validation));

    auto rounded = ll::trainValidationSplit(d, 0.125, 7);  // 12.5 rounds to 13
    ASSERT_TRUE(rounded);
    EXPECT_EQ(rounded->second.size(), 13);
    EXPECT_EQ(rounded->first.size(), 87);
}

TEST(TrainValidationSplit, RefusesBadFractionsAndTinyData) {
    const Dataset d = synthetic({0, 1, 0, 1}, 2);
    for (double f : {0.0, 1.0, -0.5, 1.5, std::nan("")})
        EXPECT_EQ(errorOf(ll::trainValidationSplit(d, f, 1)),
                  "the validation fraction must lie strictly between 0 and 1")
            << f;
    EXPECT_EQ(errorOf(ll::trainValidationSplit(synthetic({0}, 1), 0.5, 1)),
              "the dataset has too few samples (1) for this split");
    EXPECT_EQ(errorOf(ll::trainValidationSplit(d, 0.05, 1)),
              "the dataset has too few samples (4) for this split");
}

}  // namespace
