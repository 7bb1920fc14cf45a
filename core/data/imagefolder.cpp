#include "data/imagefolder.h"

#include <algorithm>
#include <cstring>
#include <map>

#include <torch/torch.h>

#ifdef LATENTLAB_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

#include "common/atomicfile.h"
#include "common/text.h"
#include "data/csvsource.h"
#include "image/imageheader.h"

namespace ll {
namespace fs = std::filesystem;

namespace {

std::string lowerCase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return text;
}

std::string lowerExtension(const fs::path& p) {
    return lowerCase(p.extension().string());
}

constexpr const char* kReads = "(LatentLab reads PNG, JPEG, BMP, WebP and TIFF)";

// What a folder held that is no image of a class: the note names it, so that a user whose
// GIFs or loose images were passed over hears of it.
struct LeftOut {
    std::map<std::string, std::int64_t> files;  // by extension ("" for none)
    std::int64_t oddNames = 0;                  // files of an extension no message should hold
    std::vector<std::string> emptyClasses;      // class folders without images
    std::int64_t rootImages = 0;                // images beside the class folders

    // A file that is no image, by its (lower-case) extension: one of a few printable ASCII
    // characters is named, any other counted (the note travels in JSON, which takes UTF-8).
    void addFile(const std::string& ext) {
        const bool plain = ext.size() <= 12 && std::all_of(ext.begin(), ext.end(), [](char c) {
                               return c > ' ' && c < 0x7f;
                           });
        if (plain)
            ++files[ext];
        else
            ++oddNames;
    }

    std::string text() const {
        std::vector<std::string> parts;
        std::int64_t shown = 0, all = oddNames;
        for (const auto& [ext, n] : files) {
            all += n;
            if (parts.size() < 4) {
                shown += n;
                const std::string noun = n == 1 ? " file" : " files";
                parts.push_back(std::to_string(n) +
                                (ext.empty() ? noun + " without extension" : " " + ext + noun));
            }
        }
        if (all > shown)
            parts.push_back(std::to_string(all - shown) +
                            (all - shown == 1 ? " other file" : " other files"));
        if (all > 0) parts.back() += std::string(" ") + kReads;
        for (std::size_t i = 0; i < emptyClasses.size() && i < 3; ++i)
            parts.push_back("the folder '" + clipped(emptyClasses[i], 60) + "' (no images)");
        if (emptyClasses.size() > 3)
            parts.push_back(std::to_string(emptyClasses.size() - 3) +
                            " more folders without images");
        if (rootImages > 0)
            parts.push_back(std::to_string(rootImages) + (rootImages == 1 ? " image" : " images") +
                            " beside the class folders (in no class)");
        std::string out;
        for (const auto& part : parts) out += (out.empty() ? "" : ", ") + part;
        return out.empty() ? out : "left out " + out;
    }
};

// Width and height, the key of a size count.
using Dims = std::pair<int, int>;
using SizeCounts = std::map<Dims, std::int64_t>;

std::string text(Dims d) {
    return std::to_string(d.first) + "x" + std::to_string(d.second);
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
                               : common.first != common.second
                                   ? (sizes.size() > 1 ? "square, on the long side of the most "
                                                         "common size"
                                                       : "square, on the long side")
                                   : "the most common size";
    return "scaled from " + from + " to " + text({size, size}) + " (" + reason + "); " + colour +
           " " + why;
}

#ifdef LATENTLAB_HAVE_OPENCV
// The images under a class folder, at any depth (as torchvision's ImageFolder takes them),
// sorted. Links to folders are not followed (no loops); unreadable entries are skipped.
std::vector<fs::path> imagesUnder(const fs::path& dir, LeftOut& leftOut) {
    std::vector<fs::path> images;
    std::error_code ec, entryError;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (isLeftoverEntry(it->path()) || it.depth() >= 16) {
            it.disable_recursion_pending();
            continue;
        }
        if (!it->is_regular_file(entryError)) continue;
        if (const std::string ext = lowerExtension(it->path()); isImageExtension(ext))
            images.push_back(it->path());
        else
            leftOut.addFile(ext);
    }
    std::sort(images.begin(), images.end());
    return images;
}

// A class folder's name as text: in UTF-8, as a run's JSON files need it, a name from an old
// Windows archive (Latin-1 bytes) read as Windows-1252 as the CSV reader reads such files.
std::string className(const fs::path& dir) {
    const std::string name = dir.filename().string();
    std::string storage;
    const auto decoded = csv::decodeText(name, storage);
    return decoded ? std::string(decoded->text) : name;
}

// The class folders of `root` that hold images, by name, each with its images. Entries that
// cannot be told (a link loop) are skipped, as dangling links are; a folder without images
// is not a class.
using ClassImages = std::vector<std::pair<std::string, std::vector<fs::path>>>;

ClassImages classImages(const fs::path& root, LeftOut& leftOut) {
    std::vector<fs::path> dirs;
    std::error_code ec, entryError;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
        if (isLeftoverEntry(entry.path())) continue;
        if (entry.is_directory(entryError))
            dirs.push_back(entry.path());
        else if (entry.is_regular_file(entryError) &&
                 isImageExtension(lowerExtension(entry.path())))
            ++leftOut.rootImages;
    }
    std::sort(dirs.begin(), dirs.end());
    ClassImages out;
    for (const auto& dir : dirs) {
        if (auto images = imagesUnder(dir, leftOut); !images.empty())
            out.emplace_back(className(dir), std::move(images));
        else
            leftOut.emptyClasses.push_back(className(dir));
    }
    return out;
}

bool hasSubfolder(const fs::path& root) {
    std::error_code ec, entryError;
    for (const auto& entry : fs::directory_iterator(root, ec))
        if (entry.is_directory(entryError) && !isLeftoverEntry(entry.path())) return true;
    return false;
}

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

bool isLeftoverEntry(const fs::path& p) {
    const std::string name = p.filename().string();
    if (startsWith(name, ".") || name == "__MACOSX") return true;
    const std::string lower = lowerCase(name);  // Windows writes either case
    return lower == "thumbs.db" || lower == "desktop.ini";
}

Result<Dataset> readImageFolder(const fs::path& root, int size, bool grayscale) {
    return readImageFolder(root, size, grayscale ? ImageColour::Gray : ImageColour::Rgb);
}

Result<Dataset> readImageFolder(const fs::path& root, int size, ImageColour colour) {
    return readImageFolder(root, size, colour, {});
}

Result<Dataset> readImageFolder(const fs::path& root, int size, ImageColour colour,
                                const std::vector<fs::path>& otherSplits) {
    const std::string folder = root.string();
#ifndef LATENTLAB_HAVE_OPENCV
    (void)size, (void)colour, (void)otherSplits;
    return fail(folder +
                ": image folders need OpenCV, and this build has none (LATENTLAB_WITH_OPENCV=OFF)");
#else
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return fail(folder + ": no such folder");
    const bool followSize = size == 0;
    if (!followSize && (size < 4 || size > 512))
        return fail(folder + ": image size must lie in 4..512, not " + std::to_string(size));

    LeftOut leftOut, othersLeftOut;
    const ClassImages mine = classImages(root, leftOut);
    if (mine.empty() && !hasSubfolder(root))
        return fail(folder + ": no class sub-folders (expected one folder of images per class)");
    // The classes of every split, so that all number them alike (a class may be missing from
    // one); the other splits' images also have a say in the size that follows the images.
    // Two folders of one name as text (caf\xe9 in Latin-1 beside café) are one class.
    std::map<std::string, std::vector<fs::path>> byClass;
    for (const auto& [name, images] : mine)
        byClass[name].insert(byClass[name].end(), images.begin(), images.end());
    std::vector<fs::path> otherImages;
    for (const auto& other : otherSplits)
        for (const auto& [name, images] : classImages(other, othersLeftOut)) {
            byClass[name];  // a class of another split, maybe without images in this one
            otherImages.insert(otherImages.end(), images.begin(), images.end());
        }

    std::vector<std::pair<fs::path, std::int64_t>> files;
    Dataset d;
    for (const auto& [name, images] : byClass) {
        for (const auto& p : images)
            files.emplace_back(p, static_cast<std::int64_t>(d.classNames.size()));
        d.classNames.push_back(name);
    }
    if (files.empty()) {
        return fail(folder + ": no images in its sub-folders" +
                    (leftOut.files.empty() && leftOut.oddNames == 0 ? std::string(" ") + kReads
                                                                    : "; " + leftOut.text()));
    }
    if (files.size() > 2'000'000) return fail(folder + ": more than 2 million images");

    // Each image's size from its own header before anything is decoded: OpenCV decodes by
    // content whatever the name says, and allocates what a header claims before it reads a
    // pixel. A file of no format it knows inside, or that claims too many pixels, is refused.
    auto unreadable = [](const fs::path& path) {
        return fail(path.string() +
                    ": unreadable image (corrupt, or not a PNG, JPEG, BMP, WebP or TIFF inside)");
    };
    std::vector<Dims> dims(files.size());
    for (std::size_t i = 0; i < files.size(); ++i) {
        const fs::path& path = files[i].first;
        const ImageHeader header = readImageHeader(path);
        if (!header.known()) return unreadable(path);
        dims[i] = {header.width, header.height};
        if (header.pixels() > kMaxImagePixels)
            return fail(path.string() + ": " + text(dims[i]) +
                        " pixels, more than LatentLab reads (" +
                        std::to_string(kMaxImagePixels / 1'000'000) + " megapixels)");
    }
    if (followSize) {
        SizeCounts sizes;
        for (const Dims& d : dims) ++sizes[d];
        for (const auto& path : otherImages)  // their own read refuses what is unreadable
            if (const ImageHeader h = readImageHeader(path);
                h.known() && h.pixels() <= kMaxImagePixels)
                ++sizes[{h.width, h.height}];
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
        // A small header over gigabytes of anything else is refused before it is read.
        std::error_code sizeError;
        if (const auto bytes = fs::file_size(path, sizeError);
            !sizeError && bytes > kMaxImageFileBytes)
            return fail(path.string() + ": " + std::to_string(bytes >> 20) +
                        " MB, more than an image LatentLab reads holds");
        const auto read = readFile(path);
        if (!read) return unreadable(path);
        const auto* bytes = reinterpret_cast<const unsigned char*>(read->data());
        if (!jpegComplete(bytes, read->size()))
            return fail(path.string() + ": " + kCutJpeg + "; replace or remove the file");
        cv::Mat image;
        try {
            const cv::Mat encoded(1, static_cast<int>(read->size()), CV_8UC1,
                                  const_cast<unsigned char*>(bytes));
            if (!read->empty())
                image = cv::imdecode(encoded, readRgb ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
        } catch (const cv::Exception&) {
            image.release();
        }
        if (image.empty()) return unreadable(path);
        // The pixels are what the header said (turned by a JPEG's EXIF orientation, maybe):
        // a header that told another size than the decoder read was not the one checked.
        if (const Dims h = dims[static_cast<std::size_t>(i)];
            Dims{image.cols, image.rows} != h && Dims{image.rows, image.cols} != h)
            return fail(path.string() + ": its header says " + text(h) + " pixels, its image is " +
                        text({image.cols, image.rows}) + "; replace or remove the file");
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
    d.note = describe(sizes, size, followSize, rgb, colour == ImageColour::FollowData);
    if (const std::string left = leftOut.text(); !left.empty()) d.note += "; " + left;
    return d;
#endif
}

}  // namespace ll
