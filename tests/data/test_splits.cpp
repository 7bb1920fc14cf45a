// Data kept in splits: IDX train and t10k files and image folders in train/ and test/ (or
// val/) folders. Both splits number their classes alike, classes are the labels present, and
// what a source is can be told before it is read.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include "data/datasetspec.h"
#include "data/loader.h"
#include "image/grid.h"
#include "image/imageheader.h"
#include "imagefiles.h"

namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
    const fs::path dir =
        fs::temp_directory_path() / ("latentlab-test-splits-" + std::to_string(::getpid())) / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

template <typename T>
std::string errorOf(const ll::Result<T>& r) {
    return r ? std::string("(no error)") : r.error().message;
}

std::vector<std::int64_t> toVector(const torch::Tensor& t) {
    const auto c = t.contiguous();
    return {c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel()};
}

void writeBigEndian(std::ofstream& out, std::uint32_t v) {
    const char bytes[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
    out.write(bytes, 4);
}

// An IDX pair of `labels.size()` 4 x 5 images, pixel values the image's index, named
// `<split>-images-idx3-ubyte` and `<split>-labels-idx1-ubyte`.
void writeIdxPair(const fs::path& dir, const std::string& split,
                  const std::vector<std::uint8_t>& labels) {
    const auto n = static_cast<std::uint32_t>(labels.size());
    std::ofstream images(dir / (split + "-images-idx3-ubyte"), std::ios::binary);
    writeBigEndian(images, 0x00000803);
    for (std::uint32_t d : {n, 4u, 5u}) writeBigEndian(images, d);
    for (std::uint32_t i = 0; i < n; ++i) images << std::string(20, char(i * 10));
    std::ofstream out(dir / (split + "-labels-idx1-ubyte"), std::ios::binary);
    writeBigEndian(out, 0x00000801);
    writeBigEndian(out, n);
    out.write(reinterpret_cast<const char*>(labels.data()), n);
}

// A t10k pair of one 2 x 2 image, labelled `label`: no split of writeIdxPair's 4 x 5 data.
void writeOddTestPair(const fs::path& dir, char label) {
    std::ofstream images(dir / "t10k-images-idx3-ubyte", std::ios::binary);
    writeBigEndian(images, 0x00000803);
    for (std::uint32_t d : {1u, 2u, 2u}) writeBigEndian(images, d);
    images << std::string(4, '\0');
    std::ofstream labels(dir / "t10k-labels-idx1-ubyte", std::ios::binary);
    writeBigEndian(labels, 0x00000801);
    writeBigEndian(labels, 1);
    labels << label;
}

// `count` PNGs of w x h in dir, gray levels by index (with a full red channel in `colour`).
void writeImages(const fs::path& dir, int count, int w, int h, bool colour = false) {
    fs::create_directories(dir);
    for (int i = 0; i < count; ++i) {
        auto image = torch::full({1, 3, h, w}, 0.1 + 0.2 * i);
        if (colour) image[0][0] = 1.0;
        const auto ok = ll::writePng(ll::makeGrid(image, 1), dir / (std::to_string(i) + ".png"));
        ASSERT_TRUE(ok) << ok.error().message;
    }
}

}  // namespace

// EMNIST Letters labels its 26 classes 1..26: no empty class 0, and names are the labels.
TEST(IdxClasses, AreTheLabelsPresentNamedByValue) {
    const fs::path dir = scratch("gapped");
    writeIdxPair(dir, "train", {1, 3, 3, 7, 1, 7});
    writeIdxPair(dir, "t10k", {3, 1});
    auto train = ll::loadDataset({.source = dir.string()});
    ASSERT_TRUE(train) << train.error().message;
    EXPECT_EQ(train->classNames, (std::vector<std::string>{"1", "3", "7"}));
    EXPECT_EQ(toVector(train->y), (std::vector<std::int64_t>{0, 1, 1, 2, 0, 2}));
    EXPECT_EQ(train->classCounts(), (std::vector<std::int64_t>{2, 2, 2}));

    // The test split lacks class 7 and numbers its classes as the train split does.
    auto test = ll::loadDataset({.source = dir.string(), .split = "test"});
    ASSERT_TRUE(test) << test.error().message;
    EXPECT_EQ(test->classNames, train->classNames);
    EXPECT_EQ(toVector(test->y), (std::vector<std::int64_t>{1, 0}));
    auto heldOut = ll::loadHeldOut({.source = dir.string()}, *train);
    ASSERT_TRUE(heldOut) << heldOut.error().message;
    EXPECT_EQ(heldOut->classNames, train->classNames);

    // A class only the test split holds is a class of both.
    writeIdxPair(dir, "t10k", {9, 1});
    train = ll::loadDataset({.source = dir.string()});
    ASSERT_TRUE(train) << train.error().message;
    EXPECT_EQ(train->classNames, (std::vector<std::string>{"1", "3", "7", "9"}));
    EXPECT_EQ(train->classCounts(), (std::vector<std::int64_t>{2, 2, 2, 0}));

    // An images file named directly finds its other split too.
    test = ll::loadDataset({.source = (dir / "t10k-images-idx3-ubyte").string()});
    ASSERT_TRUE(test) << test.error().message;
    EXPECT_EQ(test->classNames, train->classNames);
    EXPECT_EQ(toVector(test->y), (std::vector<std::int64_t>{3, 0}));
}

// EMNIST keeps every variant in one folder, all 28 x 28: an images file's other split is
// the one named as it is, not the folder's first test file.
TEST(IdxClasses, TheOtherSplitIsTheFileOfTheSameName) {
    const fs::path dir = scratch("emnist");
    writeIdxPair(dir, "emnist-balanced-train", {0, 40, 46});
    writeIdxPair(dir, "emnist-balanced-test", {0, 46});
    writeIdxPair(dir, "emnist-letters-train", {1, 2, 2, 1});
    writeIdxPair(dir, "emnist-letters-test", {3, 1});
    const std::string letters = (dir / "emnist-letters-train-images-idx3-ubyte").string();
    auto train = ll::loadDataset({.source = letters});
    ASSERT_TRUE(train) << train.error().message;
    EXPECT_EQ(train->classNames, (std::vector<std::string>{"1", "2", "3"}));
    EXPECT_EQ(ll::sourceKind(letters), ll::SourceKind::IdxFile);
    EXPECT_TRUE(ll::hasSplits(letters));
    EXPECT_FALSE(ll::hasSplit(letters, "test")) << "--split is for folders";
    // Held out: the letters' test file.
    auto heldOut = ll::loadHeldOut({.source = letters}, *train);
    ASSERT_TRUE(heldOut) << heldOut.error().message;
    EXPECT_EQ(heldOut->size(), 2);
    EXPECT_EQ(toVector(heldOut->y), (std::vector<std::int64_t>{2, 0}));

    // The folder itself holds two datasets: refused by name, not one of them picked unsaid.
    for (const char* split : {"train", "test"}) {
        auto folder = ll::loadDataset({.source = dir.string(), .split = split});
        ASSERT_FALSE(folder) << split;
        EXPECT_NE(folder.error().message.find(std::string("holds 2 IDX image sets of the ") +
                                              split + " split (emnist-"),
                  std::string::npos)
            << folder.error().message;
    }
}

// A file kept packed beside its unpacked self (gunzip -k) is one dataset, not two.
TEST(IdxClasses, APackedCopyBesideItsFileIsTheSameSet) {
    const fs::path dir = scratch("kept-gz");
    writeIdxPair(dir, "train", {0, 1, 1});
    fs::copy_file(dir / "train-images-idx3-ubyte", dir / "train-images-idx3-ubyte.gz");
    auto d = ll::loadDataset({.source = dir.string()});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->size(), 3);
}

TEST(IdxClasses, ALabelsFileGivenAsTheDataIsNamedAsSuch) {
    const fs::path dir = scratch("labels-as-data");
    writeIdxPair(dir, "train", {0, 1, 1});
    const std::string message =
        errorOf(ll::loadDataset({.source = (dir / "train-labels-idx1-ubyte").string()}));
    EXPECT_NE(message.find("train-labels-idx1-ubyte: an IDX labels file (one number per item), "
                           "not images: give its images file"),
              std::string::npos)
        << message;
}

TEST(IdxClasses, FashionNamesFollowTheValues) {
    const fs::path dir = scratch("fashion-two");
    writeIdxPair(dir, "train", {4, 1, 4});
    auto d = ll::loadDataset({.source = dir.string()});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"Trouser", "Coat"}));
    EXPECT_EQ(toVector(d->y), (std::vector<std::int64_t>{1, 0, 1}));
}

// A folder with one split's images of another shape is another dataset, not a split.
TEST(IdxClasses, AnotherShapeIsNoSplit) {
    const fs::path dir = scratch("shapes");
    writeIdxPair(dir, "train", {2, 5});
    writeOddTestPair(dir, 8);
    auto d = ll::loadDataset({.source = dir.string()});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"2", "5"}));
}

// root/train/<class> and root/val/<class>: a split each, classes shared, the size chosen by
// the images of both.
TEST(ImageSplits, TrainAndValFoldersAreSplits) {
    const fs::path root = scratch("splits");
    writeImages(root / "train" / "cat", 2, 24, 24);
    writeImages(root / "train" / "dog", 2, 24, 24);
    writeImages(root / "val" / "dog", 3, 16, 16);
    writeImages(root / "val" / "emu", 3, 16, 16);
    EXPECT_EQ(ll::sourceKind(root.string()), ll::SourceKind::SplitImageFolder);
    EXPECT_TRUE(ll::hasSplits(root.string()));

    auto train = ll::loadDataset({.source = root.string()});
    ASSERT_TRUE(train) << train.error().message;
    EXPECT_EQ(train->name, "splits");
    EXPECT_EQ(train->classNames, (std::vector<std::string>{"cat", "dog", "emu"}));
    EXPECT_EQ(train->classCounts(), (std::vector<std::int64_t>{2, 2, 0}));
    // 6 of the 10 images are 16x16: the most common size of both splits.
    EXPECT_EQ(train->x.sizes().vec(), (std::vector<std::int64_t>{4, 1, 16, 16}));

    auto test = ll::loadDataset({.source = root.string(), .split = "test"});
    ASSERT_TRUE(test) << test.error().message;
    EXPECT_EQ(test->classNames, train->classNames);
    EXPECT_EQ(test->classCounts(), (std::vector<std::int64_t>{0, 3, 3}));
    EXPECT_EQ(test->x.sizes().vec(), (std::vector<std::int64_t>{6, 1, 16, 16}));
    auto heldOut = ll::loadHeldOut({.source = root.string()}, *train);
    ASSERT_TRUE(heldOut) << heldOut.error().message;
    EXPECT_EQ(heldOut->size(), 6);

    // Without val/ there is no test split, said so; the train split still reads.
    fs::remove_all(root / "val");
    EXPECT_FALSE(ll::hasSplits(root.string()));
    const std::string message =
        errorOf(ll::loadDataset({.source = root.string(), .split = "test"}));
    EXPECT_NE(message.find("holds a train/ split but no test/ (or val/) folder"), std::string::npos)
        << message;
    EXPECT_NE(errorOf(ll::loadHeldOut({.source = root.string()}, *train)).find("no held-out data"),
              std::string::npos);
    EXPECT_TRUE(ll::loadDataset({.source = root.string()}));
}

// A gray test split of a colour train split is held out in colour, as the run sees its data.
TEST(ImageSplits, TheHeldOutSplitFollowsTheTrainedOnesColour) {
    const fs::path root = scratch("colours");
    writeImages(root / "train" / "a", 2, 8, 8, true);
    writeImages(root / "train" / "b", 2, 8, 8, true);
    writeImages(root / "test" / "a", 1, 8, 8);
    writeImages(root / "test" / "b", 1, 8, 8);
    auto train = ll::loadDataset({.source = root.string()});
    ASSERT_TRUE(train) << train.error().message;
    EXPECT_EQ(train->x.size(1), 3);
    auto own = ll::loadDataset({.source = root.string(), .split = "test"});
    ASSERT_TRUE(own) << own.error().message;
    EXPECT_EQ(own->x.size(1), 1) << "read alone, the test split is gray";
    auto heldOut = ll::loadHeldOut({.source = root.string()}, *train);
    ASSERT_TRUE(heldOut) << heldOut.error().message;
    EXPECT_EQ(heldOut->x.sizes().vec(), (std::vector<std::int64_t>{2, 3, 8, 8}));
}

// IDX splits of another shape are no held-out data for each other, said so.
TEST(IdxClasses, AHeldOutSplitOfAnotherShapeIsRefused) {
    const fs::path dir = scratch("shape-pair");
    writeIdxPair(dir, "train", {0, 1});
    auto train = ll::loadDataset({.source = dir.string()});
    ASSERT_TRUE(train) << train.error().message;
    writeOddTestPair(dir, 1);
    const std::string message = errorOf(ll::loadHeldOut({.source = dir.string()}, *train));
    EXPECT_NE(message.find("its test split holds samples of 1x2x2, its train split 1x4x5"),
              std::string::npos)
        << message;
}

// A class that happens to be named "train" is a class: with images inside it, or beside
// other classes (even with folders of images in it).
TEST(ImageSplits, AClassNamedTrainIsAClass) {
    const fs::path root = scratch("named-train");
    writeImages(root / "train", 2, 8, 8);
    writeImages(root / "test", 2, 8, 8);
    EXPECT_EQ(ll::sourceKind(root.string()), ll::SourceKind::ImageFolder);
    auto d = ll::loadDataset({.source = root.string()});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"test", "train"}));

    const fs::path vehicles = scratch("vehicles");
    writeImages(vehicles / "bus", 2, 8, 8);
    writeImages(vehicles / "train" / "steam", 2, 8, 8);
    EXPECT_EQ(ll::sourceKind(vehicles.string()), ll::SourceKind::ImageFolder);
    auto v = ll::loadDataset({.source = vehicles.string()});
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(v->classNames, (std::vector<std::string>{"bus", "train"}));
    EXPECT_EQ(v->classCounts(), (std::vector<std::int64_t>{2, 2}));
}

TEST(SourceKind, IsToldWithoutReading) {
    const fs::path dir = scratch("kinds");
    writeIdxPair(dir, "train", {0, 1});
    std::ofstream(dir / "table.data") << "1,2,a\n3,4,b\n";
    EXPECT_EQ(ll::sourceKind("fashion-mnist"), ll::SourceKind::FashionMnist);
    EXPECT_EQ(ll::sourceKind((dir / "table.data").string()), ll::SourceKind::Table);
    EXPECT_EQ(ll::sourceKind((dir / "train-images-idx3-ubyte").string()), ll::SourceKind::IdxFile);
    EXPECT_EQ(ll::sourceKind(dir.string()), ll::SourceKind::IdxFolder);
    EXPECT_FALSE(ll::hasSplits(dir.string())) << "train files only";
    EXPECT_TRUE(ll::hasSplit(dir.string(), "train"));
    EXPECT_FALSE(ll::hasSplit(dir.string(), "test"));
    writeIdxPair(dir, "t10k", {1});
    EXPECT_TRUE(ll::hasSplit(dir.string(), "test"));
    EXPECT_TRUE(ll::hasSplits(dir.string()));
    EXPECT_TRUE(ll::hasSplits("fashion-mnist"));
    EXPECT_FALSE(ll::hasSplits((dir / "table.data").string()));
    EXPECT_EQ(ll::sourceKind((dir / "nothing").string()), ll::SourceKind::Missing);
    EXPECT_EQ(ll::sourceKind(""), ll::SourceKind::Missing);
}

// Images at any depth of a class folder count (torchvision's ImageFolder takes them so); what
// Jupyter, macOS and zip leave behind is neither a class nor an image.
TEST(ImageFolderLayout, NestedImagesCountAndLeftoversDoNot) {
    const fs::path root = scratch("leftovers");
    writeImages(root / "cat" / "batch1", 2, 8, 8);
    writeImages(root / "cat" / "batch2" / "deeper", 1, 8, 8);
    writeImages(root / "dog", 1, 8, 8);
    writeImages(root / ".ipynb_checkpoints", 1, 8, 8);
    writeImages(root / "dog" / ".thumbnails", 2, 8, 8);
    fs::create_directories(root / "__MACOSX" / "dog");
    for (const fs::path& fork : {root / "__MACOSX" / "dog" / "._0.png", root / "dog" / "._0.png"})
        std::ofstream(fork) << "Mac OS X resource fork, no image\n";
    auto d = ll::loadDataset({.source = root.string()});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"cat", "dog"}));
    EXPECT_EQ(d->classCounts(), (std::vector<std::int64_t>{3, 1}));
}

// A folder of test files alone reads with --split test (and has nothing held out).
TEST(SourceKind, AFolderOfTestFilesHasATestSplit) {
    const fs::path dir = scratch("test-only");
    writeIdxPair(dir, "t10k", {0, 1});
    EXPECT_TRUE(ll::hasSplit(dir.string(), "test"));
    EXPECT_FALSE(ll::hasSplit(dir.string(), "train"));
    EXPECT_FALSE(ll::hasSplits(dir.string()));
    EXPECT_TRUE(ll::loadDataset({.source = dir.string(), .split = "test"}));
}

// An image whose header is small and whose file is not: refused before a byte of it is read
// (a sparse file, so the test writes nothing of its size).
TEST(ImageFolderLayout, AnOversizedFileIsRefusedUnread) {
    const fs::path root = scratch("oversized");
    writeImages(root / "a", 1, 8, 8);
    writeImages(root / "b", 1, 8, 8);
    fs::resize_file(root / "b" / "0.png", ll::kMaxImageFileBytes + 1);
    const std::string message = errorOf(ll::loadDataset({.source = root.string()}));
    EXPECT_NE(message.find("0.png: " + std::to_string((ll::kMaxImageFileBytes + 1) >> 20) +
                           " MB, more than an image LatentLab reads holds"),
              std::string::npos)
        << message;
}

// A class folder named in Latin-1 (an old Windows archive unpacked): its name reads as text in
// UTF-8, which a run's JSON files need (such a folder made `train` fail as it wrote data.json).
TEST(ImageFolderNames, ALatin1FolderNameReadsAsUtf8) {
    const fs::path dir = scratch("latin1-names");
    writeImages(dir / "chat", 2, 8, 8);
    writeImages(dir / "chi\xe8n", 2, 8, 8);
    auto d = ll::loadDataset({.source = dir.string()});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"chat", "chi\xc3\xa8n"}));
}
