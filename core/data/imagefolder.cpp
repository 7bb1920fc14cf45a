#include "data/imagefolder.h"

#include <algorithm>

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

}  // namespace

Result<Dataset> readImageFolder(const fs::path& root, int size, bool grayscale) {
    const std::string folder = root.string();
#ifndef LATENTLAB_HAVE_OPENCV
    (void)size, (void)grayscale;
    return fail(folder +
                ": image folders need OpenCV, and this build has none (LATENTLAB_WITH_OPENCV=OFF)");
#else
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return fail(folder + ": no such folder");
    if (size < 4 || size > 512)
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

    const int channels = grayscale ? 1 : 3;
    const auto n = static_cast<std::int64_t>(files.size());
    torch::Tensor x = torch::empty({n, size, size, channels}, torch::kUInt8);
    torch::Tensor y = torch::empty({n}, torch::kInt64);
    for (std::int64_t i = 0; i < n; ++i) {
        const auto& [path, label] = files[static_cast<std::size_t>(i)];
        cv::Mat image;
        try {
            image = cv::imread(path.string(), grayscale ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
        } catch (const cv::Exception&) {
            image.release();
        }
        if (image.empty())
            return fail(path.string() + ": unreadable image (corrupt, or not a PNG/JPEG)");
        if (!grayscale) cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
        cv::Mat resized;
        const bool shrinking = image.cols > size || image.rows > size;
        cv::resize(image, resized, cv::Size(size, size), 0, 0,
                   shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
        if (!resized.isContinuous()) resized = resized.clone();
        std::memcpy(x[i].data_ptr(), resized.data,
                    static_cast<std::size_t>(size) * size * channels);
        y[i] = label;
    }
    d.modality = Modality::Image;
    d.source = folder;
    d.name =
        root.filename().empty() ? root.parent_path().filename().string() : root.filename().string();
    d.x = x.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0).contiguous();
    d.y = y;
    return d;
#endif
}

}  // namespace ll
