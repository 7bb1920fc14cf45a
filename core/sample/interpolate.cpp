#include "sample/interpolate.h"

#include <cmath>

#include <torch/torch.h>

#include "models/model.h"

#ifdef LATENTLAB_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#endif

namespace ll {

torch::Tensor interpolateLatents(const torch::Tensor& a, const torch::Tensor& b, int steps,
                                 Interpolation mode) {
    const auto x = a.flatten().to(torch::kFloat64), y = b.flatten().to(torch::kFloat64);
    const double cosine =
        (x.dot(y) / (x.norm() * y.norm()).clamp_min(1e-12)).clamp(-1, 1).item<double>();
    const double omega = std::acos(cosine);
    std::vector<torch::Tensor> out;
    for (int i = 0; i < steps; ++i) {
        const double t = steps > 1 ? double(i) / double(steps - 1) : 0.0;
        if (mode == Interpolation::Spherical && std::sin(omega) > 1e-6)
            out.push_back(std::sin((1 - t) * omega) / std::sin(omega) * x +
                          std::sin(t * omega) / std::sin(omega) * y);
        else
            out.push_back((1 - t) * x + t * y);
    }
    return torch::stack(out).to(a.dtype()).view({steps, a.numel()});
}

Result<torch::Tensor> interpolateSamples(GenerativeModel& model, const LatentEnd& from,
                                         const LatentEnd& to, int steps, Interpolation mode,
                                         const SampleRequest& base) {
    if (!model.hasLatents())
        return fail("'" + model.name() + "' has no latent space to interpolate in");
    if (steps < 2 || steps > 1000) return fail("an interpolation needs 2 to 1000 steps");
    const int k = model.shape().numClasses;
    for (const auto& end : {from, to})
        if (end.label >= k) return fail("no class " + std::to_string(end.label));
    try {
        const auto probe = model.latents(SampleRequest{.count = 1});
        const std::int64_t dims = probe.numel();
        for (const auto& end : {from, to})
            if (!end.latent.empty() && std::int64_t(end.latent.size()) != dims)
                throw std::invalid_argument("a latent of " + std::to_string(end.latent.size()) +
                                            " numbers; this model's have " + std::to_string(dims));
        auto latent = [&](const LatentEnd& end) {
            if (!end.latent.empty())
                return torch::tensor(end.latent, torch::kFloat32)
                    .view({1, dims})
                    .to(probe.device(), probe.scalar_type());
            SampleRequest r = base;
            r.count = 1;
            r.seed = end.seed;
            return model.latents(r);
        };
        const auto path = interpolateLatents(latent(from), latent(to), steps, mode);
        std::vector<torch::Tensor> frames;
        for (int i = 0; i < steps; ++i) {
            const double t = double(i) / double(steps - 1);
            SampleRequest r = base;
            r.count = 1;
            r.labels.clear();
            r.mixture.clear();
            if (from.label >= 0 && to.label >= 0) {
                if (from.label == to.label)
                    r.labels = {from.label};
                else
                    r.mixture = {{from.label, 1 - t}, {to.label, t}};
            } else if (from.label >= 0 || to.label >= 0) {
                r.labels = {std::max(from.label, to.label)};
            }
            // The endpoints exactly as sample() draws them: plain labels, not a mixture.
            for (const auto& [at, end] : {std::pair{0, from}, std::pair{steps - 1, to}})
                if (i == at && end.label >= 0) {
                    r.mixture.clear();
                    r.labels = {end.label};
                }
            frames.push_back(
                model.decodeLatents(path.slice(0, i, i + 1), r).to(torch::kCPU, torch::kFloat32));
        }
        return torch::cat(frames);
    } catch (const std::exception& e) {
        const std::string what = firstLine(e);
        return fail(what);
    }
}

Result<void> writeVideo(const torch::Tensor& frames, const std::filesystem::path& path,
                        double fps) {
#ifndef LATENTLAB_HAVE_OPENCV
    (void)frames, (void)fps;
    return fail(path.string() + ": videos need OpenCV, which this build lacks");
#else
    const std::string ext = path.extension().string();
    int fourcc = 0;
    if (ext == ".mp4")
        fourcc = cv::VideoWriter::fourcc('m', 'p', '4', 'v');
    else if (ext == ".avi")
        fourcc = cv::VideoWriter::fourcc('M', 'J', 'P', 'G');
    else
        return fail(path.string() + ": a video is written as .mp4 or .avi");
    if (frames.dim() != 4 || frames.size(0) < 1) return fail("a video needs image frames");
    if (!(fps > 0 && fps <= 120)) return fail("frames per second must lie in (0, 120]");
    const int h = int(frames.size(2)), w = int(frames.size(3));
    const int scale = std::max(1, 256 / std::max(h, w));
    const cv::Size size(w * scale / 2 * 2, h * scale / 2 * 2);  // codecs want even sizes
    // Into a temporary beside it with the same extension (the container follows the name),
    // then renamed: a failed write leaves no half video.
    auto tmp = path;
    tmp.replace_filename("." + path.filename().string() + ".part" + ext);
    cv::VideoWriter writer(tmp.string(), fourcc, fps, size, true);
    if (!writer.isOpened())
        return fail(path.string() + ": cannot open a video writer for " + ext +
                    " (is OpenCV built with FFmpeg?)");
    auto rgb = frames.detach().to(torch::kCPU, torch::kFloat32).clamp(0, 1).mul(255).round();
    rgb = (rgb.size(1) == 1 ? rgb.expand({rgb.size(0), 3, h, w}) : rgb.slice(1, 0, 3))
              .permute({0, 2, 3, 1})
              .to(torch::kUInt8)
              .contiguous();
    std::vector<std::int64_t> order;  // there and back again
    for (std::int64_t i = 0; i < rgb.size(0); ++i) order.push_back(i);
    for (std::int64_t i = rgb.size(0) - 2; i > 0; --i) order.push_back(i);
    for (auto i : order) {
        auto t = rgb[i];
        cv::Mat tile(h, w, CV_8UC3, t.data_ptr<std::uint8_t>()), bgr, big;
        cv::cvtColor(tile, bgr, cv::COLOR_RGB2BGR);
        cv::resize(bgr, big, size, 0, 0, cv::INTER_NEAREST);
        writer.write(big);
    }
    writer.release();
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        return fail(path.string() + ": cannot write the video (" + ec.message() + ")");
    }
    return {};
#endif
}

}  // namespace ll
