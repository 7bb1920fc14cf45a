#include "data/imagefolder.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>

#include <torch/torch.h>

#ifdef LATENTLAB_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace ll {
namespace fs = std::filesystem;

namespace {

bool isImageFile(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// Width and height, the key of a size count.
using Dims = std::pair<int, int>;
using SizeCounts = std::map<Dims, std::int64_t>;

std::string text(Dims d) {
    return std::to_string(d.first) + "x" + std::to_string(d.second);
}

// Width and height from a PNG's IHDR chunk or a JPEG's start-of-frame marker, without
// decoding: a folder's size is chosen before its images are read. {0, 0} when the header is
// not understood (the caller decodes the image instead).
Dims headerDims(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    unsigned char h[24] = {};
    if (!in.read(reinterpret_cast<char*>(h), 2)) return {};
    auto be16 = [](const unsigned char* p) { return (p[0] << 8) | p[1]; };
    if (h[0] == 0x89 && h[1] == 'P') {
        if (!in.read(reinterpret_cast<char*>(h) + 2, 22) || std::memcmp(h + 12, "IHDR", 4) != 0)
            return {};
        return {(be16(h + 16) << 16) | be16(h + 18), (be16(h + 20) << 16) | be16(h + 22)};
    }
    if (h[0] != 0xFF || h[1] != 0xD8) return {};
    // Segments up to the first frame header: SOF0..SOF15, except DHT (C4), JPG (C8), DAC (CC).
    for (int segment = 0; segment < 256; ++segment) {
        if (in.get() != 0xFF) return {};
        int marker = in.get();
        while (marker == 0xFF) marker = in.get();
        if (!in || marker == 0xD9 || marker == 0xDA) return {};
        if ((marker >= 0xD0 && marker <= 0xD8) || marker == 0x01) continue;  // no length
        unsigned char field[7];
        if (!in.read(reinterpret_cast<char*>(field), 2)) return {};
        const int length = be16(field);
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
            marker != 0xCC) {
            if (!in.read(reinterpret_cast<char*>(field) + 2, 5)) return {};
            return {be16(field + 5), be16(field + 3)};
        }
        in.seekg(length - 2, std::ios::cur);
    }
    return {};
}

Dims mostCommon(const SizeCounts& sizes) {
    Dims best{};
    std::int64_t count = 0;
    for (const auto& [d, n] : sizes)  // ties go to the larger images
        if (n > count || (n == count && std::int64_t(d.first) * d.second >
                                            std::int64_t(best.first) * best.second))
            best = d, count = n;
    return best;
}

// The size that follows the images: the long side of their most common size, at most the
// limit, rounded down to a multiple of 4 (GANs and diffusion models halve it twice).
int followedSize(Dims common) {
    const int side = std::max(common.first, common.second);
    return std::max(8, std::min(side, kImageSizeLimit) / 4 * 4);
}

// What was done to the images, in words, for the data panel and the CLI.
std::string describe(const SizeCounts& sizes, int size, bool followSize, bool rgb,
                     bool followColour) {
    const Dims common = mostCommon(sizes);
    const int side = std::max(common.first, common.second);
    const std::string colour = rgb ? "RGB" : "grayscale";
    const std::string why = followColour ? "as the images are" : "as asked";
    if (sizes.size() == 1 && common == Dims{size, size})
        return text(common) + " " + colour + ", " + why;
    const std::string from = sizes.size() == 1 ? text(common)
                                               : std::to_string(sizes.size()) +
                                                     " sizes (most often " + text(common) + ")";
    const std::string reason = !followSize              ? "as asked"
                               : side > kImageSizeLimit ? "the size limit"
                               : size != side           ? "a multiple of 4, as the models need"
                               : sizes.size() > 1       ? "the most common size"
                                                        : "square, on the long side";
    return "scaled from " + from + " to " + text({size, size}) + " (" + reason + "); " + colour +
           " " + why;
}

#ifdef LATENTLAB_HAVE_OPENCV
// Colour in an RGB image: some pixel whose channels differ by more than JPEG's rounding of a
// gray picture (a point or two) or a faint tint.
bool hasColour(const cv::Mat& rgb) {
    for (int r = 0; r < rgb.rows; ++r) {
        const auto* p = rgb.ptr<std::uint8_t>(r);
        for (int c = 0; c < rgb.cols; ++c, p += 3) {
            const auto [lo, hi] = std::minmax({p[0], p[1], p[2]});
            if (hi - lo > 24) return true;
        }
    }
    return false;
}
#endif

}  // namespace

Result<Dataset> readImageFolder(const fs::path& root, int size, bool grayscale) {
    return readImageFolder(root, size, grayscale ? ImageColour::Gray : ImageColour::Rgb);
}

Result<Dataset> readImageFolder(const fs::path& root, int size, ImageColour colour) {
    const std::string folder = root.string();
#ifndef LATENTLAB_HAVE_OPENCV
    (void)size, (void)colour;
    return fail(folder +
                ": image folders need OpenCV, and this build has none (LATENTLAB_WITH_OPENCV=OFF)");
#else
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return fail(folder + ": no such folder");
    const bool followSize = size == 0;
    if (!followSize && (size < 4 || size > 512))
        return fail(folder + ": image size must lie in 4..512, not " + std::to_string(size));

    std::vector<fs::path> classDirs;
    for (const auto& entry : fs::directory_iterator(root, ec))
        if (entry.is_directory()) classDirs.push_back(entry.path());
    std::sort(classDirs.begin(), classDirs.end());
    if (classDirs.empty())
        return fail(folder + ": no class sub-folders (expected one folder of images per class)");

    std::vector<std::pair<fs::path, std::int64_t> > files;
    Dataset d;
    for (const auto& dir : classDirs) {
        std::vector<fs::path> images;
        for (const auto& entry : fs::directory_iterator(dir, ec))
            if (entry.is_regular_file() && isImageFile(entry.path()))
                images.push_back(entry.path());
        if (images.empty()) continue;  // a stray folder without images is not a class
        std::sort(images.begin(), images.end());
        for (auto& p : images)
            files.emplace_back(p, static_cast<std::int64_t>(d.classNames.size()));
        d.classNames.push_back(dir.filename().string());
    }
    if (files.empty()) return fail(folder + ": no PNG or JPEG images in its sub-folders");
    if (files.size() > 2'000'000) return fail(folder + ": more than 2 million images");

    auto decode = [](const fs::path& path, int flags) {
        cv::Mat image;
        try {
            image = cv::imread(path.string(), flags);
        } catch (const cv::Exception&) {
            image.release();
        }
        return image;
    };
    auto unreadable = [](const fs::path& path) {
        // OpenCV refuses images past about a gigapixel (CV_IO_MAX_IMAGE_PIXELS): say so.
        const Dims dims = headerDims(path);
        if (std::int64_t(dims.first) * dims.second > (std::int64_t(1) << 30))
            return fail(path.string() + ": " + std::to_string(dims.first) + "x" +
                        std::to_string(dims.second) +
                        " pixels, larger than LatentLab reads (about a gigapixel)");
        return fail(path.string() + ": unreadable image (corrupt, or not a PNG/JPEG)");
    };
    if (followSize) {
        // Headers only: the size must be known before the first image is resized.
        SizeCounts sizes;
        for (const auto& file : files) {
            const fs::path& path = file.first;
            Dims dims = headerDims(path);
            if (dims.first <= 0 || dims.second <= 0) {
                const cv::Mat image = decode(path, cv::IMREAD_UNCHANGED);
                if (image.empty()) return unreadable(path);
                dims = {image.cols, image.rows};
            }
            ++sizes[dims];
        }
        size = followedSize(mostCommon(sizes));
    }

    // Following the colour reads RGB and keeps a gray copy of each image until one has
    // colour: if none has, the gray copies are the data (in bytes, never a float copy).
    const bool readRgb = colour != ImageColour::Gray;
    const int channels = readRgb ? 3 : 1;
    const auto n = static_cast<std::int64_t>(files.size());
    torch::Tensor x = torch::empty({n, size, size, channels}, torch::kUInt8);
    torch::Tensor gray = colour == ImageColour::FollowData
                             ? torch::empty({n, size, size, 1}, torch::kUInt8)
                             : torch::Tensor();
    torch::Tensor y = torch::empty({n}, torch::kInt64);
    SizeCounts sizes;
    bool anyColour = false;
    for (std::int64_t i = 0; i < n; ++i) {
        const auto& [path, label] = files[static_cast<std::size_t>(i)];
        cv::Mat image = decode(path, readRgb ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
        if (image.empty()) return unreadable(path);
        ++sizes[{image.cols, image.rows}];
        if (readRgb) cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
        cv::Mat resized;
        const bool shrinking = image.cols > size || image.rows > size;
        cv::resize(image, resized, cv::Size(size, size), 0, 0,
                   shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
        if (!resized.isContinuous()) resized = resized.clone();
        if (colour == ImageColour::FollowData && !anyColour) {
            anyColour = hasColour(resized);
            if (anyColour) {
                gray = torch::Tensor();  // colour it is: the gray copies are not needed
            } else {
                // OpenCV's luma, as a gray read gives: R = G = B comes back unchanged.
                cv::Mat g(size, size, CV_8UC1, gray[i].data_ptr());
                cv::cvtColor(resized, g, cv::COLOR_RGB2GRAY);
            }
        }
        std::memcpy(x[i].data_ptr(), resized.data,
                    static_cast<std::size_t>(size) * size * channels);
        y[i] = label;
    }
    const bool rgb = colour == ImageColour::Rgb || anyColour;
    if (readRgb && !rgb) x = std::move(gray);  // every image gray
    d.modality = Modality::Image;
    d.source = folder;
    d.name =
        root.filename().empty() ? root.parent_path().filename().string() : root.filename().string();
    d.x = x.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0).contiguous();
    d.y = y;
    d.imageNote = describe(sizes, size, followSize, rgb, colour == ImageColour::FollowData);
    return d;
#endif
}

}  // namespace ll
