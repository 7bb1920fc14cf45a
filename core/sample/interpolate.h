#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <torch/types.h>

#include "common/error.h"
#include "models/request.h"
#include "sample/latentend.h"

namespace ll {

class GenerativeModel;

/// `steps` latents from a to b (rows of equal width), both included: lerp, or slerp along
/// the great circle (Shoemake 1985; lerp where a and b are nearly parallel), which keeps
/// Gaussian latents at a typical norm.
torch::Tensor interpolateLatents(const torch::Tensor& a, const torch::Tensor& b, int steps,
                                 Interpolation mode);

/// The samples along the path between two ends (steps x C x H x W or steps x D): latents
/// interpolated by `mode`, classes blended as a mixture (1 - t) a + t b. Frame 0 is the
/// sample of `from`, the last that of `to`, under `base`'s steering.
Result<torch::Tensor> interpolateSamples(GenerativeModel& model, const LatentEnd& from,
                                         const LatentEnd& to, int steps, Interpolation mode,
                                         const SampleRequest& base = {});

/// Writes frames (N x C x H x W in [0, 1]) as a video: .mp4 (mp4v) or .avi (MJPG), each
/// frame scaled up to about 256 pixels, `fps` frames a second, the path back and forth.
Result<void> writeVideo(const torch::Tensor& frames, const std::filesystem::path& path, double fps);

}  // namespace ll
