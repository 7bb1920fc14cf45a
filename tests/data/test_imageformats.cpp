// Image folders as users bring them: BMP, WebP and TIFF files read as PNGs do (their headers
// checked before OpenCV decodes a pixel), and what a folder holds that is no class's image
// (GIFs, text files, an empty class folder, images beside the class folders) is named in the
// data's note instead of passed over without a word.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include "data/imagefolder.h"
#include "data/loader.h"
#include "image/imageheader.h"
#include "imagefiles.h"

#ifdef LATENTLAB_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>

namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() /
                         ("latentlab-test-imageformats-" + std::to_string(::getpid())) / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

template <typename T>
std::string errorOf(const ll::Result<T>& r) {
    return r ? std::string("(no error)") : r.error().message;
}

// A seeded 24-bit picture of w x h with a different cast per class.
cv::Mat picture(int w, int h, int cls, int seed) {
    cv::Mat m(h, w, CV_8UC3);
    cv::theRNG().state = std::uint64_t(seed) * 7919 + 1;
    cv::randu(m, cv::Scalar::all(0), cv::Scalar::all(255));
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) m.at<cv::Vec3b>(y, x)[cls] = 255;
    return m;
}

void write(const fs::path& path, const cv::Mat& m) {
    std::vector<int> params;
    if (path.extension() == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, 101};  // lossless
    ASSERT_TRUE(cv::imwrite(path.string(), m, params)) << path;
}

// Two classes of three 12 x 10 pictures each, every file in `ext`.
fs::path folderIn(const std::string& ext) {
    const fs::path root = scratch(ext.substr(1));
    for (int cls = 0; cls < 2; ++cls) {
        fs::create_directories(root / ("class" + std::to_string(cls)));
        for (int i = 0; i < 3; ++i)
            write(root / ("class" + std::to_string(cls)) / ("p" + std::to_string(i) + ext),
                  picture(12, 10, cls, cls * 3 + i));
    }
    return root;
}

}  // namespace

TEST(ImageHeaders, EveryReadFormatTellsItsSizeWithoutDecoding) {
    const fs::path dir = scratch("headers");
    const cv::Mat m = picture(13, 7, 0, 1);
    for (const auto& [name, format] :
         std::vector<std::pair<std::string, ll::ImageFormat>>{{"a.png", ll::ImageFormat::Png},
                                                              {"a.jpg", ll::ImageFormat::Jpeg},
                                                              {"a.bmp", ll::ImageFormat::Bmp},
                                                              {"a.webp", ll::ImageFormat::WebP},
                                                              {"a.tiff", ll::ImageFormat::Tiff}}) {
        SCOPED_TRACE(name);
        write(dir / name, m);
        const ll::ImageHeader h = ll::readImageHeader(dir / name);
        EXPECT_EQ(h.width, 13);
        EXPECT_EQ(h.height, 7);
        EXPECT_EQ(h.format, format);
    }
    // Lossy WebP (a VP8 chunk) and a top-down BMP (a negative height) say the same.
    ASSERT_TRUE(cv::imwrite((dir / "lossy.webp").string(), m, {cv::IMWRITE_WEBP_QUALITY, 80}));
    EXPECT_EQ(ll::readImageHeader(dir / "lossy.webp").width, 13);
    std::string topDown = ll::testing::bmp(9, 5, true);
    const std::uint32_t minus5 = std::uint32_t(-5);
    for (int i = 0; i < 4; ++i) topDown[22 + i] = char(minus5 >> (8 * i));
    std::ofstream(dir / "top.bmp", std::ios::binary) << topDown;
    EXPECT_EQ(ll::readImageHeader(dir / "top.bmp").height, 5);
    // A BMP of a bit depth no decoder knows, a TIFF whose directory lies past its end, and a
    // GIF are none of them.
    std::string odd = ll::testing::bmp(8, 8, true);
    odd[28] = 7;
    std::ofstream(dir / "odd.bmp", std::ios::binary) << odd;
    std::ofstream(dir / "cut.tif", std::ios::binary) << std::string("II*\0\xff\xff\0\0", 8);
    std::ofstream(dir / "a.gif", std::ios::binary) << std::string("GIF89a\x08\0\x08\0", 10);
    // TIFF directories (each entry a tag, a value and its type, LONG unless said) of an
    // image whose tiles or strips claim far more than its pixels (OpenCV would allocate such a
    // block before it reads one), beside honest ones; a size repeated is the first's, as
    // libtiff reads it, and a size of another type than SHORT or LONG is no header here.
    struct Entry {
        std::uint16_t tag;
        std::uint32_t value;
        std::uint16_t type = 4;
    };
    auto tiffOf = [](std::vector<Entry> entries) {
        std::string t("II*\0\x08\0\0\0", 8);
        auto le = [&](std::uint32_t v, int bytes) {
            for (int i = 0; i < bytes; ++i) t += char(v >> (8 * i));
        };
        le(std::uint32_t(entries.size()), 2);
        for (const auto& e : entries) le(e.tag, 2), le(e.type, 2), le(1, 4), le(e.value, 4);
        return t + std::string(4, '\0');
    };
    auto writeTiff = [&](const char* name, std::vector<Entry> entries) {
        std::ofstream(dir / name, std::ios::binary) << tiffOf(std::move(entries));
        return ll::readImageHeader(dir / name);
    };
    EXPECT_EQ(writeTiff("honest.tif", {{256, 8}, {257, 8, 3}, {278, 8}}).width, 8);
    EXPECT_EQ(writeTiff("onestrip.tif", {{256, 28}, {257, 28}, {278, 65535}}).height, 28);
    EXPECT_EQ(writeTiff("twice.tif", {{256, 30000}, {257, 30000}, {256, 8}, {257, 8}}).width,
              30000);
    writeTiff("tiles.tif", {{256, 8}, {257, 8}, {322, 65536}, {323, 65536}});
    writeTiff("strips.tif", {{256, 30000}, {257, 8}, {278, 30000}});
    writeTiff("bytetile.tif", {{256, 8}, {257, 8}, {322, 255, 1}, {323, 255, 1}});
    for (const char* none :
         {"odd.bmp", "cut.tif", "a.gif", "tiles.tif", "strips.tif", "bytetile.tif"})
        EXPECT_FALSE(ll::readImageHeader(dir / none).known()) << none;
}

TEST(ImageFolderFormats, BmpWebpAndTiffReadAsTheSamePicturesInPngDo) {
    auto png = ll::loadDataset({.source = folderIn(".png").string()});
    ASSERT_TRUE(png) << png.error().message;
    EXPECT_EQ(png->x.sizes(), (std::vector<std::int64_t>{6, 3, 12, 12}));
    for (const std::string ext : {".bmp", ".webp", ".tif"}) {
        SCOPED_TRACE(ext);
        auto d = ll::loadDataset({.source = folderIn(ext).string()});
        ASSERT_TRUE(d) << d.error().message;
        EXPECT_EQ(d->classNames, png->classNames);
        EXPECT_TRUE(torch::equal(d->y, png->y));
        EXPECT_TRUE(torch::equal(d->x, png->x)) << "lossless formats give the same pixels";
        EXPECT_EQ(d->note, png->note);
    }
}

TEST(ImageFolderFormats, ABmpClaimingTooManyPixelsIsRefusedBeforeDecoding) {
    const fs::path root = folderIn(".png");
    std::ofstream(root / "class1" / "huge.bmp", std::ios::binary)
        << ll::testing::bmp(30000, 30000, false);
    const std::string message = errorOf(ll::loadDataset({.source = root.string()}));
    EXPECT_NE(message.find("huge.bmp: 30000x30000 pixels, more than LatentLab reads"),
              std::string::npos)
        << message;
}

TEST(ImageFolderFormats, WhatIsNoClassImageIsNamedInTheNote) {
    const fs::path root = folderIn(".png");
    for (int i = 0; i < 3; ++i)
        std::ofstream(root / "class0" / ("anim" + std::to_string(i) + ".gif")) << "GIF89a";
    std::ofstream(root / "class1" / "labels.txt") << "x";
    fs::create_directories(root / "empty");
    std::ofstream(root / "empty" / "readme.md") << "x";
    write(root / "loose.png", picture(12, 10, 0, 9));
    std::ofstream(root / "Thumbs.db") << "x";  // Windows' leftovers are not worth a word
    auto d = ll::loadDataset({.source = root.string()});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"class0", "class1"}));
    EXPECT_EQ(d->size(), 6);
    EXPECT_EQ(d->note,
              "scaled from 12x10 to 12x12 (square, on the long side); RGB as the images are; left "
              "out 3 .gif files, 1 .md file, 1 .txt file (LatentLab reads PNG, JPEG, BMP, WebP "
              "and TIFF), the folder 'empty' (no images), 1 image beside the class folders (in "
              "no class)");
}

TEST(ImageFolderFormats, AFolderOfGifsSaysWhatItHoldsAndWhatIsRead) {
    const fs::path root = scratch("gifs");
    for (const char* cls : {"cat", "dog"}) {
        fs::create_directories(root / cls);
        std::ofstream(root / cls / "a.gif") << "GIF89a";
    }
    const std::string message = errorOf(ll::loadDataset({.source = root.string()}));
    EXPECT_NE(message.find("gifs: no images in its sub-folders; left out 2 .gif files (LatentLab "
                           "reads PNG, JPEG, BMP, WebP and TIFF), the folder 'cat' (no images)"),
              std::string::npos)
        << message;
}

TEST(ImageFolderFormats, TwoSizesNameTheSquareTheyAreScaledTo) {
    const fs::path root = scratch("twosizes");
    for (int cls = 0; cls < 2; ++cls) {
        fs::create_directories(root / ("c" + std::to_string(cls)));
        for (int i = 0; i < 3; ++i)
            write(root / ("c" + std::to_string(cls)) / ("p" + std::to_string(i) + ".png"),
                  i < 2 ? picture(40, 30, cls, i) : picture(20, 20, cls, i));
    }
    auto d = ll::loadDataset({.source = root.string()});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->x.sizes(), (std::vector<std::int64_t>{6, 3, 40, 40}));
    EXPECT_EQ(d->note,
              "scaled from 2 sizes (most often 40x30) to 40x40 (square, on the long side of the "
              "most common size); RGB as the images are");
}

#endif  // LATENTLAB_HAVE_OPENCV
