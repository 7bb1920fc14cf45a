#include "image/labelled.h"

#include <algorithm>

#include <torch/torch.h>

#include "common/atomicfile.h"
#include "image/grid.h"

#ifdef LATENTLAB_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace ll {

Result<void> writeLabelledGrid(const torch::Tensor& images, int rows, int cols,
                               const std::vector<std::string>& columnLabels,
                               const std::vector<std::string>& rowLabels, const std::string& title,
                               const std::filesystem::path& path) {
    if (!images.defined() || images.dim() != 4 || images.size(0) != std::int64_t(rows) * cols ||
        rows < 1 || cols < 1)
        return fail("labelled grid: expected rows x cols images");
#ifndef LATENTLAB_HAVE_OPENCV
    return writePng(makeGrid(images, cols, rowLabels), path);
#else
    const int h = static_cast<int>(images.size(2)), w = static_cast<int>(images.size(3));
    const int scale = std::max(1, (64 + std::max(h, w) - 1) / std::max(h, w));
    const int th = h * scale, tw = w * scale, gap = 4;
    const int font = cv::FONT_HERSHEY_SIMPLEX;
    const double fontScale = 0.45;
    int left = 8;
    for (const auto& label : rowLabels) {
        int base = 0;
        left = std::max(left, cv::getTextSize(label, font, fontScale, 1, &base).width + 12);
    }
    const int top = 52;
    cv::Mat canvas(top + rows * (th + gap) + gap, left + cols * (tw + gap) + gap, CV_8UC3,
                   cv::Scalar(255, 255, 255));
    // N x C x H x W in [0, 1] -> N x H x W x 3 bytes.
    auto rgb = images.detach().to(torch::kCPU, torch::kFloat32).clamp(0, 1).mul(255).round();
    rgb = (rgb.size(1) == 1 ? rgb.expand({rgb.size(0), 3, h, w}) : rgb.slice(1, 0, 3))
              .permute({0, 2, 3, 1})
              .to(torch::kUInt8)
              .contiguous();
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) {
            auto t = rgb[r * cols + c];
            cv::Mat tile(h, w, CV_8UC3, t.data_ptr<std::uint8_t>());
            cv::Mat bgr, big;
            cv::cvtColor(tile, bgr, cv::COLOR_RGB2BGR);
            cv::resize(bgr, big, cv::Size(tw, th), 0, 0, cv::INTER_NEAREST);
            big.copyTo(
                canvas(cv::Rect(left + gap + c * (tw + gap), top + gap + r * (th + gap), tw, th)));
        }
    const cv::Scalar ink(40, 40, 40);
    cv::putText(canvas, title, cv::Point(8, 18), font, 0.5, ink, 1, cv::LINE_AA);
    for (int c = 0; c < cols && c < int(columnLabels.size()); ++c)
        cv::putText(canvas, columnLabels[std::size_t(c)],
                    cv::Point(left + gap + c * (tw + gap), top - 8), font, fontScale, ink, 1,
                    cv::LINE_AA);
    for (int r = 0; r < rows && r < int(rowLabels.size()); ++r)
        cv::putText(canvas, rowLabels[std::size_t(r)],
                    cv::Point(6, top + gap + r * (th + gap) + th / 2 + 5), font, fontScale, ink, 1,
                    cv::LINE_AA);
    std::vector<unsigned char> png;
    if (!cv::imencode(".png", canvas, png)) return fail(path.string() + ": PNG encoding failed");
    return writeFileAtomic(path,
                           std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
#endif
}

}  // namespace ll
