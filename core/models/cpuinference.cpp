#include "models/cpuinference.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/group_norm.h>
#include <ATen/ops/silu.h>

#include "common/vectorloop.h"

namespace ll {

namespace {

// e^x for x <= 0 in float, branch-free so that it vectorises: Cephes' expf (range reduction by
// ln 2 in two parts, a degree-6 polynomial, the power of two put in the exponent bits), within
// 2 ulp of std::exp on [-87, 0], and e^-87 below (SiLU needs no more).
inline float expNonPositive(float x) {
    x = x < -87.0f ? -87.0f : x;  // a plain select: GCC vectorises it (std::max it does not)
    // floor(x / ln 2 + 1/2), by truncation of a number kept positive.
    const int k = static_cast<int>(x * 1.44269504088896341f + 126.5f) - 126;
    const auto n = static_cast<float>(k);
    const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    return p * std::bit_cast<float>((k + 127) << 23);
}

// v * sigmoid(v) from e = e^-|v| (no overflow either side), with one division: for v < 0,
// v e^v / (1 + e^v).
inline float silu(float v) {
    const float e = expNonPositive(v < 0 ? v : -v);
    return (v < 0 ? v * e : v) / (1.0f + e);
}

// The loops over one sample in channels-last memory, x[pixel * C + channel], taken flat in
// spans of whole pixels (`span` floats, a multiple of C) so that the inner loop is long
// whatever C is: per-channel values are repeated across a span (rep[i] is channel i % C's).
// Sums in float per span position, then in double per channel (normaliseSample), so large
// images lose no precision to a long running sum.

LL_VECTOR_LOOP void spanSums(const float* __restrict x, std::int64_t n, std::int64_t span,
                             float* __restrict acc) {
    for (std::int64_t i = 0; i < span; ++i) acc[i] = 0;
    std::int64_t b = 0;
    for (; b + span <= n; b += span)
        for (std::int64_t i = 0; i < span; ++i) acc[i] += x[b + i];
    for (std::int64_t i = 0; i < n - b; ++i) acc[i] += x[b + i];
}

LL_VECTOR_LOOP void spanSquaredDeviations(const float* __restrict x, std::int64_t n,
                                          std::int64_t span, const float* __restrict center,
                                          float* __restrict acc) {
    for (std::int64_t i = 0; i < span; ++i) acc[i] = 0;
    std::int64_t b = 0;
    for (; b + span <= n; b += span)
        for (std::int64_t i = 0; i < span; ++i) {
            const float d = x[b + i] - center[i];
            acc[i] += d * d;
        }
    for (std::int64_t i = 0; i < n - b; ++i) {
        const float d = x[b + i] - center[i];
        acc[i] += d * d;
    }
}

LL_VECTOR_LOOP void affineSiLU(const float* __restrict x, std::int64_t n, std::int64_t span,
                               const float* __restrict scale, const float* __restrict shift,
                               float* __restrict y) {
    for (std::int64_t b = 0; b < n; b += span) {
        const std::int64_t m = std::min(span, n - b);
        for (std::int64_t i = 0; i < m; ++i) {
            y[b + i] = silu(x[b + i] * scale[i] + shift[i]);
        }
    }
}

struct NormShape {
    std::int64_t channels, pixels, groups;
    float eps;
};

// Scratch for one sample's statistics, reused across the samples a thread takes: about 512
// floats a span.
struct SampleScratch {
    explicit SampleScratch(std::int64_t channels)
        : span(channels * std::max<std::int64_t>(1, 512 / channels)),
          acc(span),
          center(span),
          scale(span),
          shift(span),
          total(channels) {}
    std::int64_t span;
    std::vector<float> acc, center, scale, shift;
    std::vector<double> total;

    // Per-channel totals of acc (the span folded onto its channels).
    void fold(std::int64_t C) {
        std::fill(total.begin(), total.end(), 0.0);
        for (std::int64_t b = 0; b < span; b += C)
            for (std::int64_t c = 0; c < C; ++c) total[c] += acc[b + c];
    }
    // rep[i] = perChannel[i % C] over the span, from rep's first C values.
    void repeat(std::vector<float>& rep, std::int64_t C) const {
        for (std::int64_t b = C; b < span; b += C) std::copy_n(rep.begin(), C, rep.begin() + b);
    }
};

// GroupNorm's two statistics per group, taken about the mean (no cancellation), then one pass
// that normalises, applies gamma and beta and SiLU: y = silu((x - center) * scale + shift).
void normaliseSample(const NormShape& s, const float* x, const float* bias, const float* gamma,
                     const float* beta, float* y, SampleScratch& w) {
    const std::int64_t C = s.channels;
    const std::int64_t n = C * s.pixels;
    const std::int64_t perGroup = C / s.groups;
    const double count = static_cast<double>(s.pixels * perGroup);
    spanSums(x, n, w.span, w.acc.data());
    w.fold(C);
    for (std::int64_t g = 0; g < s.groups; ++g) {
        double sum = 0;
        for (std::int64_t c = g * perGroup; c < (g + 1) * perGroup; ++c)
            sum += w.total[c] + (bias ? s.pixels * static_cast<double>(bias[c]) : 0.0);
        const double mean = sum / count;
        // x + bias - mean = x - center
        for (std::int64_t c = g * perGroup; c < (g + 1) * perGroup; ++c)
            w.center[c] = static_cast<float>(mean - (bias ? bias[c] : 0.0f));
    }
    w.repeat(w.center, C);
    spanSquaredDeviations(x, n, w.span, w.center.data(), w.acc.data());
    w.fold(C);
    for (std::int64_t g = 0; g < s.groups; ++g) {
        double squares = 0;
        for (std::int64_t c = g * perGroup; c < (g + 1) * perGroup; ++c) squares += w.total[c];
        const double rstd = 1.0 / std::sqrt(squares / count + s.eps);
        for (std::int64_t c = g * perGroup; c < (g + 1) * perGroup; ++c) {
            const auto scale = static_cast<float>(rstd * (gamma ? gamma[c] : 1.0f));
            w.scale[c] = scale;
            w.shift[c] = (beta ? beta[c] : 0.0f) - w.center[c] * scale;
        }
    }
    w.repeat(w.scale, C);
    w.repeat(w.shift, C);
    affineSiLU(x, n, w.span, w.scale.data(), w.shift.data(), y);
}

bool contiguousCpuFloat(const at::Tensor& t) {
    return t.device().is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous();
}

// An affine parameter the kernel reads: absent, or C contiguous floats on the CPU.
bool usableAffine(const at::Tensor& t, std::int64_t C) {
    return !t.defined() || (contiguousCpuFloat(t) && t.numel() == C);
}

}  // namespace

bool cpuInferencePath(const at::Tensor& x) {
    return !at::GradMode::is_enabled() && !at::autocast::is_cpu_enabled() && x.device().is_cpu() &&
           x.scalar_type() == at::kFloat;
}

at::Tensor groupNormSiLU(const at::Tensor& x, std::int64_t groups, const at::Tensor& gamma,
                         const at::Tensor& beta, double eps, const at::Tensor& channelBias) {
    const bool fused = x.dim() == 4 && cpuInferencePath(x) &&
                       x.is_contiguous(at::MemoryFormat::ChannelsLast) && groups > 0 &&
                       x.size(1) % groups == 0 && usableAffine(gamma, x.size(1)) &&
                       usableAffine(beta, x.size(1)) &&
                       (!channelBias.defined() ||
                        (contiguousCpuFloat(channelBias) && channelBias.dim() == 2 &&
                         channelBias.size(0) == x.size(0) && channelBias.size(1) == x.size(1)));
    if (!fused) {
        const auto h = channelBias.defined() ? x + channelBias.unsqueeze(-1).unsqueeze(-1) : x;
        return at::silu(at::group_norm(h, groups, gamma, beta, eps));
    }
    const NormShape shape{x.size(1), x.size(2) * x.size(3), groups, static_cast<float>(eps)};
    auto y = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::ChannelsLast));
    const float* xp = x.data_ptr<float>();
    const float* bias = channelBias.defined() ? channelBias.data_ptr<float>() : nullptr;
    const float* g = gamma.defined() ? gamma.data_ptr<float>() : nullptr;
    const float* b = beta.defined() ? beta.data_ptr<float>() : nullptr;
    float* yp = y.data_ptr<float>();
    const std::int64_t sampleSize = shape.channels * shape.pixels;
    at::parallel_for(0, x.size(0), 1, [&](std::int64_t begin, std::int64_t end) {
        SampleScratch scratch(shape.channels);
        for (std::int64_t n = begin; n < end; ++n)
            normaliseSample(shape, xp + n * sampleSize, bias ? bias + n * shape.channels : nullptr,
                            g, b, yp + n * sampleSize, scratch);
    });
    return y;
}

}  // namespace ll
