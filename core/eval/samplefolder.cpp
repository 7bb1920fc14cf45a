#include "eval/samplefolder.h"

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <torch/torch.h>
#ifdef LATENTLAB_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

#include "common/csvtext.h"
#include "common/text.h"
#include "image/imageheader.h"

namespace ll {
namespace fs = std::filesystem;

namespace {

int column(const std::vector<std::string>& header, const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
}

/// A class cell: a class name of the run, or its number.
Result<std::int64_t> classOf(const std::string& cell, const RunData& data, const std::string& at) {
    const auto& names = data.classNames;
    if (const auto it = std::find(names.begin(), names.end(), cell); it != names.end())
        return it - names.begin();
    try {
        std::size_t used = 0;
        const long long k = std::stoll(cell, &used);
        if (used == cell.size() && k >= 0 && k < static_cast<long long>(names.size())) return k;
    } catch (const std::exception&) {
    }
    return fail(at + ": class '" + cell + "' is none of the run's " + std::to_string(names.size()) +
                " classes");
}

Result<SampleFolder> readImages(const fs::path& dir, const ModelShape& shape, const RunData& data) {
#ifndef LATENTLAB_HAVE_OPENCV
    (void)dir, (void)shape, (void)data;
    return fail("reading PNG samples needs OpenCV, which this build lacks");
#else
    const fs::path manifest = dir / "manifest.csv";
    std::ifstream in(manifest);
    if (!in) return fail(dir.string() + ": no manifest.csv (not a folder of samples)");
    std::string line;
    std::getline(in, line);
    const auto header = splitCsvLine(line);
    const int fileAt = column(header, "file"), classAt = column(header, "class");
    if (fileAt < 0 || classAt < 0)
        return fail(manifest.string() + ": the header lacks a 'file' or 'class' column");
    const auto pixels = std::int64_t{shape.channels} * shape.height * shape.width;
    std::vector<std::uint8_t> bytes;
    std::vector<std::int64_t> labels;
    std::error_code ec;
    const fs::path root = fs::weakly_canonical(dir, ec);
    if (ec) return fail(dir.string() + ": " + ec.message());
    for (int number = 2; std::getline(in, line); ++number) {
        if (line.empty() || line == "\r") continue;
        const std::string at = manifest.string() + ":" + std::to_string(number);
        const auto cells = splitCsvLine(line);
        if (static_cast<int>(cells.size()) <= std::max(fileAt, classAt))
            return fail(at + ": too few cells");
        // A link loop or an over-long name is the manifest's fault, said as such.
        const fs::path file = fs::weakly_canonical(dir / cells[fileAt], ec);
        if (ec) return fail(at + ": '" + cells[fileAt].substr(0, 200) + "': " + ec.message());
        // A hostile manifest must not read files outside its folder.
        const auto rel = file.lexically_relative(root);
        if (rel.empty() || *rel.begin() == "..")
            return fail(at + ": '" + cells[fileAt] + "' lies outside the folder");
        // The size from the header first: OpenCV would allocate whatever a header claims.
        const ImageHeader header = readImageHeader(file);
        if (!header.known() ||
            (header.format != ImageFormat::Png && header.format != ImageFormat::Jpeg))
            return fail(file.string() + ": not a readable PNG or JPEG");
        auto wrongSize = [&](int width, int height) {
            return fail(file.string() + ": " + std::to_string(width) + "x" +
                        std::to_string(height) + " pixels, the run's samples are " +
                        std::to_string(shape.width) + "x" + std::to_string(shape.height));
        };
        if (header.width != shape.width || header.height != shape.height)
            return wrongSize(header.width, header.height);
        if (!jpegFileComplete(file)) return fail(file.string() + ": " + kCutJpeg);
        const cv::Mat image = cv::imread(
            file.string(), shape.channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
        if (image.empty()) return fail(file.string() + ": not a readable PNG or JPEG");
        if (image.rows != shape.height || image.cols != shape.width || image.depth() != CV_8U)
            return wrongSize(image.cols, image.rows);
        auto label = classOf(cells[classAt], data, at);
        if (!label) return tl::unexpected(label.error());
        labels.push_back(*label);
        // OpenCV keeps BGR, row-major, channels last; samples are RGB, channels first.
        const std::size_t start = bytes.size();
        bytes.resize(start + static_cast<std::size_t>(pixels));
        const int plane = shape.height * shape.width;
        for (int yx = 0; yx < plane; ++yx)
            for (int c = 0; c < shape.channels; ++c) {
                const int source = shape.channels == 3 ? 2 - c : c;
                bytes[start + static_cast<std::size_t>(c * plane + yx)] =
                    image.ptr<std::uint8_t>()[yx * shape.channels + source];
            }
    }
    if (labels.empty()) return fail(manifest.string() + ": lists no samples");
    const auto n = static_cast<std::int64_t>(labels.size());
    auto x = torch::from_blob(bytes.data(), {n, shape.channels, shape.height, shape.width},
                              torch::kUInt8)
                 .to(torch::kFloat32)
                 .div(255.0);
    return SampleFolder{x, torch::tensor(labels, torch::kInt64)};
#endif
}

Result<SampleFolder> readRows(const fs::path& file, const ModelShape& shape, const RunData& data) {
    std::ifstream in(file);
    if (!in) return fail(file.string() + ": cannot read");
    std::string line;
    std::getline(in, line);
    const auto header = splitCsvLine(line);
    const int classAt = column(header, "class");
    if (classAt < 0) return fail(file.string() + ": the header lacks a 'class' column");
    // Each feature's cell: a number, or the value a categorical column's cell must take.
    struct Source {
        int at = -1;
        const Categorical* category = nullptr;
        std::size_t value = 0;
    };
    std::vector<Source> from;
    for (std::size_t j = 0; j < data.featureNames.size(); ++j) {
        const auto c = categoryOf(data.categorical, j);
        const bool coded = c != nullptr;
        const std::string& name = coded ? c->column : data.featureNames[j];
        from.push_back({column(header, name), c, coded ? j - c->first : 0});
        if (from.back().at < 0) return fail(file.string() + ": no column '" + name + "'");
    }
    if (static_cast<int>(from.size()) != shape.features || data.mean.size() != from.size() ||
        data.std.size() != from.size())
        return fail(file.string() + ": the run does not describe its columns");
    std::vector<float> values;
    std::vector<std::int64_t> labels;
    for (int number = 2; std::getline(in, line); ++number) {
        if (line.empty() || line == "\r") continue;
        const std::string where = file.string() + ":" + std::to_string(number);
        const auto cells = splitCsvLine(line);
        if (cells.size() != header.size()) return fail(where + ": not as many cells as columns");
        for (std::size_t j = 0; j < from.size(); ++j) {
            const std::string& cell = cells[static_cast<std::size_t>(from[j].at)];
            double v = 0;
            if (const Categorical* c = from[j].category) {
                // As the CSV reader reads a cell: without the spaces around it.
                const auto start = cell.find_first_not_of(" \t\r");
                const int value = c->valueIndex(
                    start == std::string::npos
                        ? std::string()
                        : cell.substr(start, cell.find_last_not_of(" \t\r") - start + 1));
                if (value < 0)
                    return fail(where + ": column '" + c->column + "' takes '" + cell +
                                "', not one of its values (" + joinedNames(c->values, 200) + ")");
                v = value == static_cast<int>(from[j].value) ? 1.0 : 0.0;
            } else {
                try {
                    std::size_t used = 0;
                    v = std::stod(cell, &used);
                    if (used != cell.size()) throw std::invalid_argument("");
                } catch (const std::exception&) {
                    return fail(where + ": '" + cell + "' is not a number");
                }
            }
            values.push_back(static_cast<float>((v - data.mean[j]) / data.std[j]));
        }
        auto label = classOf(cells[classAt], data, where);
        if (!label) return tl::unexpected(label.error());
        labels.push_back(*label);
    }
    if (labels.empty()) return fail(file.string() + ": holds no rows");
    const auto n = static_cast<std::int64_t>(labels.size());
    return SampleFolder{torch::tensor(values).view({n, shape.features}),
                        torch::tensor(labels, torch::kInt64)};
}

}  // namespace

Result<SampleFolder> readSampleFolder(const fs::path& path, const ModelShape& shape,
                                      const RunData& data) {
    std::error_code ec;
    if (shape.tabular()) {
        fs::path file = path;
        if (fs::is_directory(path, ec)) {
            // An export folder: its one CSV of rows.
            for (const auto& entry : fs::directory_iterator(path, ec))
                if (entry.path().extension() == ".csv" && entry.path().filename() != "manifest.csv")
                    file = entry.path();
        }
        if (!fs::is_regular_file(file, ec)) return fail(path.string() + ": no CSV of rows");
        return readRows(file, shape, data);
    }
    if (!fs::is_directory(path, ec)) return fail(path.string() + ": no such folder of samples");
    return readImages(path, shape, data);
}

}  // namespace ll
