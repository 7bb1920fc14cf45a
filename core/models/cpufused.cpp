#include "models/cpufused.h"

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
#include <torch/csrc/autograd/custom_function.h>

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

// Folds a span-long array onto its channels, in double.
void foldSpan(const std::vector<float>& acc, std::int64_t span, std::int64_t C,
              std::vector<double>& total) {
    std::fill(total.begin(), total.end(), 0.0);
    for (std::int64_t b = 0; b < span; b += C)
        for (std::int64_t c = 0; c < C; ++c) total[c] += acc[b + c];
}

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
    void fold(std::int64_t C) { foldSpan(acc, span, C, total); }
    // Channel c's scale and shift, from its center, its group's 1/std and the affine parameters:
    // z = (x - center) * rstd * gamma + beta = x * scale + shift.
    void affine(std::int64_t c, double rstd, const float* gamma, const float* beta) {
        scale[c] = static_cast<float>(rstd * (gamma ? gamma[c] : 1.0f));
        shift[c] = (beta ? beta[c] : 0.0f) - center[c] * scale[c];
    }
    // rep[i] = perChannel[i % C] over the span, from rep's first C values.
    void repeat(std::vector<float>& rep, std::int64_t C) const {
        for (std::int64_t b = C; b < span; b += C) std::copy_n(rep.begin(), C, rep.begin() + b);
    }
};

// GroupNorm's two statistics per group, taken about the mean (no cancellation), then one pass
// that normalises, applies gamma and beta and SiLU: y = silu((x - center) * scale + shift).
void normaliseSample(const NormShape& s, const float* x, const float* bias, const float* gamma,
                     const float* beta, float* y, double* stats, SampleScratch& w) {
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
        if (stats) stats[2 * g] = mean;
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
        if (stats) stats[2 * g + 1] = rstd;
        for (std::int64_t c = g * perGroup; c < (g + 1) * perGroup; ++c)
            w.affine(c, rstd, gamma, beta);
    }
    w.repeat(w.scale, C);
    w.repeat(w.shift, C);
    affineSiLU(x, n, w.span, w.scale.data(), w.shift.data(), y);
}

// The backward of y = silu(z), z = xhat * gamma + beta, xhat the group-normalised x + bias.
// One pass takes gz = dy * silu'(z) (kept in `gz` for the second) and the sums the gradients
// need: of gz, of gz * xhat and of xhat, per span position.
LL_VECTOR_LOOP void backwardSums(const float* __restrict x, const float* __restrict dy,
                                 std::int64_t n, std::int64_t span, const float* __restrict scale,
                                 const float* __restrict shift, const float* __restrict rstd,
                                 const float* __restrict offset, float* __restrict gz,
                                 float* __restrict sumGz, float* __restrict sumGzXhat,
                                 float* __restrict sumXhat) {
    for (std::int64_t i = 0; i < span; ++i) sumGz[i] = sumGzXhat[i] = sumXhat[i] = 0;
    for (std::int64_t b = 0; b < n; b += span) {
        const std::int64_t m = std::min(span, n - b);
        for (std::int64_t i = 0; i < m; ++i) {
            const float v = x[b + i];
            const float z = v * scale[i] + shift[i];
            const float xhat = v * rstd[i] + offset[i];
            // sigmoid(z) and 1 - sigmoid(z) from e = e^-|z|, with one division.
            const float e = expNonPositive(z < 0 ? z : -z);
            const float inverse = 1.0f / (1.0f + e);
            const float sigmoid = (z < 0 ? e : 1.0f) * inverse;
            const float complement = (z < 0 ? 1.0f : e) * inverse;
            const float g = dy[b + i] * sigmoid * (1.0f + z * complement);
            gz[b + i] = g;
            sumGz[i] += g;
            sumGzXhat[i] += g * xhat;
            sumXhat[i] += xhat;
        }
    }
}

// dx = a * gz + b * x + d, per span position (the three folded from the group's sums).
LL_VECTOR_LOOP void backwardInput(const float* __restrict x, const float* __restrict gz,
                                  std::int64_t n, std::int64_t span, const float* __restrict a,
                                  const float* __restrict b, const float* __restrict d,
                                  float* __restrict dx) {
    for (std::int64_t base = 0; base < n; base += span) {
        const std::int64_t m = std::min(span, n - base);
        for (std::int64_t i = 0; i < m; ++i)
            dx[base + i] = a[i] * gz[base + i] + b[i] * x[base + i] + d[i];
    }
}

struct BackwardScratch : SampleScratch {
    BackwardScratch(std::int64_t channels, std::int64_t sampleSize)
        : SampleScratch(channels),
          rstd(span),
          offset(span),
          sumGzXhat(span),
          sumXhat(span),
          a(span),
          b(span),
          d(span),
          gz(static_cast<std::size_t>(sampleSize)),
          totalGzXhat(channels),
          totalXhat(channels) {}
    std::vector<float> rstd, offset, sumGzXhat, sumXhat, a, b, d, gz;
    std::vector<double> totalGzXhat, totalXhat;
};

// Where one sample's backward writes: its input's gradient, and per channel the parts of
// gamma's, beta's and the bias's (this sample's sums of gz * xhat, of gz, and of dx).
struct SampleGradients {
    float* dx;
    double* gamma;
    double* beta;
    float* bias;
};

// The statistics are the forward's (`stats`: mean and 1/std per group), so z is recomputed
// exactly as the forward made it. With A = sum of gamma * gz and B = sum of gamma * gz * xhat
// over a group of M values: dx = rstd * (gamma * gz - A / M - xhat * B / M).
void backwardSample(const NormShape& s, const float* x, const float* bias, const float* gamma,
                    const float* beta, const double* stats, const float* dy, SampleGradients out,
                    BackwardScratch& w) {
    const std::int64_t C = s.channels;
    const std::int64_t n = C * s.pixels;
    const std::int64_t perGroup = C / s.groups;
    const double count = static_cast<double>(s.pixels * perGroup);
    if (n == 0) {  // images of no pixels: nothing flows back
        std::fill_n(out.gamma, C, 0.0);
        std::fill_n(out.beta, C, 0.0);
        if (out.bias) std::fill_n(out.bias, C, 0.0f);
        return;
    }
    for (std::int64_t g = 0; g < s.groups; ++g) {
        const double mean = stats[2 * g], rstd = stats[2 * g + 1];
        for (std::int64_t c = g * perGroup; c < (g + 1) * perGroup; ++c) {
            const double center = mean - (bias ? bias[c] : 0.0f);
            w.center[c] = static_cast<float>(center);
            w.affine(c, rstd, gamma, beta);
            w.rstd[c] = static_cast<float>(rstd);
            w.offset[c] = static_cast<float>(-center * rstd);
        }
    }
    for (auto* rep : {&w.scale, &w.shift, &w.rstd, &w.offset}) w.repeat(*rep, C);
    backwardSums(x, dy, n, w.span, w.scale.data(), w.shift.data(), w.rstd.data(), w.offset.data(),
                 w.gz.data(), w.acc.data(), w.sumGzXhat.data(), w.sumXhat.data());
    w.fold(C);  // w.total: sums of gz
    foldSpan(w.sumGzXhat, w.span, C, w.totalGzXhat);
    foldSpan(w.sumXhat, w.span, C, w.totalXhat);
    for (std::int64_t g = 0; g < s.groups; ++g) {
        const double rstd = stats[2 * g + 1];
        double sumA = 0, sumB = 0;
        for (std::int64_t c = g * perGroup; c < (g + 1) * perGroup; ++c) {
            const double k = gamma ? gamma[c] : 1.0;
            sumA += k * w.total[c];
            sumB += k * w.totalGzXhat[c];
        }
        const double meanA = rstd * sumA / count, meanB = rstd * sumB / count;
        for (std::int64_t c = g * perGroup; c < (g + 1) * perGroup; ++c) {
            const double a = rstd * (gamma ? gamma[c] : 1.0);
            // -meanB * xhat = -meanB * rstd * x + meanB * rstd * center
            const double b = -meanB * rstd;
            w.a[c] = static_cast<float>(a);
            w.b[c] = static_cast<float>(b);
            w.d[c] = static_cast<float>(-meanA - b * w.center[c]);
            out.gamma[c] = w.totalGzXhat[c];
            out.beta[c] = w.total[c];
            if (out.bias)
                out.bias[c] =
                    static_cast<float>(a * w.total[c] - meanA * s.pixels - meanB * w.totalXhat[c]);
        }
    }
    for (auto* rep : {&w.a, &w.b, &w.d}) w.repeat(*rep, C);
    backwardInput(x, w.gz.data(), n, w.span, w.a.data(), w.b.data(), w.d.data(), out.dx);
}

bool contiguousCpuFloat(const at::Tensor& t) {
    return t.device().is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous();
}

// An affine parameter the kernel reads: absent, or C contiguous floats on the CPU.
bool usableAffine(const at::Tensor& t, std::int64_t C) {
    return !t.defined() || (contiguousCpuFloat(t) && t.numel() == C);
}

const float* floats(const at::Tensor& t) {
    return t.defined() ? t.data_ptr<float>() : nullptr;
}

NormShape shapeOf(const at::Tensor& x, std::int64_t groups, double eps) {
    return {x.size(1), x.size(2) * x.size(3), groups, static_cast<float>(eps)};
}

// The fused forward; `stats`, when defined (N x groups x 2 doubles), receives each group's mean
// and 1/std for the backward.
at::Tensor fusedForward(const at::Tensor& x, std::int64_t groups, const at::Tensor& gamma,
                        const at::Tensor& beta, double eps, const at::Tensor& bias,
                        const at::Tensor& stats) {
    const NormShape shape = shapeOf(x, groups, eps);
    auto y = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::ChannelsLast));
    const float* xp = x.data_ptr<float>();
    const float *bp = floats(bias), *g = floats(gamma), *b = floats(beta);
    double* sp = stats.defined() ? stats.data_ptr<double>() : nullptr;
    float* yp = y.data_ptr<float>();
    const std::int64_t sampleSize = shape.channels * shape.pixels;
    at::parallel_for(0, x.size(0), 1, [&](std::int64_t begin, std::int64_t end) {
        SampleScratch scratch(shape.channels);
        for (std::int64_t n = begin; n < end; ++n)
            normaliseSample(shape, xp + n * sampleSize, bp ? bp + n * shape.channels : nullptr, g,
                            b, yp + n * sampleSize, sp ? sp + n * 2 * groups : nullptr, scratch);
    });
    return y;
}

// dx, dgamma, dbeta, dbias (each undefined where its input is), from the forward's statistics.
std::vector<at::Tensor> fusedBackward(const at::Tensor& x, std::int64_t groups,
                                      const at::Tensor& gamma, const at::Tensor& beta, double eps,
                                      const at::Tensor& bias, const at::Tensor& stats,
                                      const at::Tensor& dyAnyLayout) {
    const NormShape shape = shapeOf(x, groups, eps);
    const auto dy = dyAnyLayout.contiguous(at::MemoryFormat::ChannelsLast);
    const std::int64_t N = x.size(0), C = shape.channels, sampleSize = C * shape.pixels;
    auto dx = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::ChannelsLast));
    // Per-sample parts of gamma's and beta's gradients, summed over the batch in order below
    // (the same sum whatever the threads).
    std::vector<double> partGamma(static_cast<std::size_t>(N * C)), partBeta(partGamma.size());
    auto dbias = bias.defined() ? at::empty({N, C}, x.options()) : at::Tensor();
    const float* xp = x.data_ptr<float>();
    const float *bp = floats(bias), *g = floats(gamma), *b = floats(beta), *dyp = floats(dy);
    const double* sp = stats.data_ptr<double>();
    float *dxp = dx.data_ptr<float>(), *dbp = bias.defined() ? dbias.data_ptr<float>() : nullptr;
    at::parallel_for(0, N, 1, [&](std::int64_t begin, std::int64_t end) {
        BackwardScratch scratch(C, sampleSize);
        for (std::int64_t n = begin; n < end; ++n)
            backwardSample(shape, xp + n * sampleSize, bp ? bp + n * C : nullptr, g, b,
                           sp + n * 2 * groups, dyp + n * sampleSize,
                           {.dx = dxp + n * sampleSize,
                            .gamma = partGamma.data() + n * C,
                            .beta = partBeta.data() + n * C,
                            .bias = dbp ? dbp + n * C : nullptr},
                           scratch);
    });
    auto total = [&](const std::vector<double>& part) {
        std::vector<double> sum(static_cast<std::size_t>(C), 0.0);
        for (std::int64_t n = 0; n < N; ++n)
            for (std::int64_t c = 0; c < C; ++c) sum[c] += part[n * C + c];
        auto out = at::empty({C}, x.options());
        std::copy(sum.begin(), sum.end(), out.data_ptr<float>());
        return out;
    };
    return {dx, gamma.defined() ? total(partGamma) : at::Tensor(),
            beta.defined() ? total(partBeta) : at::Tensor(), dbias};
}

// The fused kernels under autograd: the backward recomputes z from the saved input and the
// forward's statistics instead of keeping y or z (one tensor saved, not three). Its own
// backward is not differentiable: nothing here differentiates twice through a group norm.
// Autograd takes no undefined inputs, so an absent gamma, beta or bias travels as a tensor of
// no elements (`orEmpty`, `orUndefined`).
at::Tensor orEmpty(const at::Tensor& t, const at::Tensor& x) {
    return t.defined() ? t : at::empty({0}, x.options());
}

at::Tensor orUndefined(const at::Tensor& t) {
    return t.numel() > 0 ? t : at::Tensor();
}

struct GroupNormSiLUFunction : torch::autograd::Function<GroupNormSiLUFunction> {
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                              const at::Tensor& gamma, const at::Tensor& beta,
                              const at::Tensor& bias, std::int64_t groups, double eps) {
        auto stats = at::empty({x.size(0), groups, 2}, x.options().dtype(at::kDouble));
        auto y = fusedForward(x, groups, orUndefined(gamma), orUndefined(beta), eps,
                              orUndefined(bias), stats);
        ctx->save_for_backward({x, gamma, beta, bias, stats});
        ctx->saved_data["groups"] = groups;
        ctx->saved_data["eps"] = eps;
        return y;
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        auto d = fusedBackward(saved[0], ctx->saved_data["groups"].toInt(), orUndefined(saved[1]),
                               orUndefined(saved[2]), ctx->saved_data["eps"].toDouble(),
                               orUndefined(saved[3]), saved[4], grads[0]);
        return {d[0], d[1], d[2], d[3], at::Tensor(), at::Tensor()};
    }
};

}  // namespace

bool cpuInferencePath(const at::Tensor& x) {
    return !at::GradMode::is_enabled() && cpuChannelsLastPath(x);
}

bool cpuChannelsLastPath(const at::Tensor& x) {
    return !at::autocast::is_cpu_enabled() && x.device().is_cpu() && x.scalar_type() == at::kFloat;
}

at::Tensor groupNormSiLU(const at::Tensor& x, std::int64_t groups, const at::Tensor& gamma,
                         const at::Tensor& beta, double eps, const at::Tensor& channelBias) {
    const bool fused = x.dim() == 4 && cpuChannelsLastPath(x) &&
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
    const auto records = [](const at::Tensor& t) { return t.defined() && t.requires_grad(); };
    if (at::GradMode::is_enabled() &&
        (records(x) || records(gamma) || records(beta) || records(channelBias)))
        return GroupNormSiLUFunction::apply(x, orEmpty(gamma, x), orEmpty(beta, x),
                                            orEmpty(channelBias, x), groups, eps);
    return fusedForward(x, groups, gamma, beta, eps, channelBias, {});
}

}  // namespace ll
