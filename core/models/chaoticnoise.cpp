// The chaotic VAE's noise (vae.h, ChaoticNoise): the logistic map's sequences, standardised
// or mapped through the normal quantile, and stepped through the global batch in
// data-parallel training.
#include <algorithm>
#include <cmath>

#include "models/collectives.h"
#include "models/vae.h"

namespace ll {

namespace {

// One step of the logistic map, kept off its traps: in floating point an orbit can land on
// the fixed point 1 - 1/r or on 0 (via 0.5 -> 1 -> 0) and stay there forever.
double logistic(double x, double r, std::uint64_t& kick) {
    double next = r * x * (1 - x);
    if (!(next > 0 && next < 1) || next == x) {
        kick = kick * 6364136223846793005ULL + 1442695040888963407ULL;
        next = 0.05 + 0.9 * double(kick >> 11) * 0x1.0p-53;
    }
    return next;
}

// Uniform start values in (0.05, 0.95) from a seed, one per unit, then a burn-in so that the
// sequences forget where they started.
std::vector<double> seededStarts(int units, double r, std::uint64_t seed) {
    std::vector<double> x(static_cast<std::size_t>(units));
    std::uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 0xD1B54A32D192ED03ULL;
    for (auto& v : x) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        v = 0.05 + 0.9 * double(s >> 11) * 0x1.0p-53;
        for (int i = 0; i < 64; ++i) v = logistic(v, r, s);
    }
    return x;
}

// The standard normal quantile: Acklam's rational approximation, refined by one Halley step
// on erfc (about 1e-15 relative).
double normalQuantile(double p) {
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    double x;
    if (p < 0.02425) {
        const double q = std::sqrt(-2 * std::log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        const double q = std::sqrt(-2 * std::log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        const double q = p - 0.5, t = q * q;
        x = (((((a[0] * t + a[1]) * t + a[2]) * t + a[3]) * t + a[4]) * t + a[5]) * q /
            (((((b[0] * t + b[1]) * t + b[2]) * t + b[3]) * t + b[4]) * t + 1);
    }
    const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
    const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

}  // namespace

ChaoticNoiseImpl::ChaoticNoiseImpl(int units, double r, torch::Tensor initial, bool inverseNormal)
    : r(r), inverseNormal(inverseNormal) {
    if (!(r > 3.56995 && r <= 4))
        throw std::invalid_argument(
            "setting 'r' must lie in (3.57, 4]: below 3.57 the logistic "
            "map is periodic, above 4 it leaves [0, 1]");
    // The map's own mean and spread for this r, and a check that r is not in one of the
    // periodic windows inside the chaotic range (r = 3.83 has period 3).
    std::uint64_t kick = 12345;
    double x = 0.3141592653589793;
    for (int i = 0; i < 2000; ++i) x = logistic(x, r, kick);
    constexpr int kCount = 200000;
    std::vector<double> tail(64);
    double sum = 0, sumSq = 0;
    for (int i = 0; i < kCount; ++i) {
        x = logistic(x, r, kick);
        sum += x;
        sumSq += x * x;
        tail[static_cast<std::size_t>(i) % tail.size()] = x;
    }
    for (std::size_t period = 1; period <= 32; ++period) {
        bool repeats = true;
        for (std::size_t i = 0; i + period < tail.size() && repeats; ++i)
            repeats = std::abs(tail[i] - tail[i + period]) < 1e-9;
        if (repeats)
            throw std::invalid_argument("setting 'r' = " + std::to_string(r) +
                                        " lies in a periodic window of the logistic map (period " +
                                        std::to_string(period) + "); choose another, e.g. 4");
    }
    mean = sum / kCount;
    stddev = std::sqrt(std::max(1e-12, sumSq / kCount - mean * mean));
    if (inverseNormal && r < 4) {
        // No closed form below r = 4: the CDF from 4,097 quantiles of a long orbit.
        std::vector<double> orbit(kCount);
        for (auto& v : orbit) v = x = logistic(x, r, kick);
        std::sort(orbit.begin(), orbit.end());
        quantiles.resize(4097);
        for (std::size_t i = 0; i < quantiles.size(); ++i)
            quantiles[i] = orbit[i * (orbit.size() - 1) / (quantiles.size() - 1)];
    }
    state =
        register_buffer("state", initial.to(torch::kFloat64).clamp(1e-9, 1 - 1e-9).contiguous());
    if (state.numel() != units) throw std::invalid_argument("chaotic state has the wrong size");
}

torch::Tensor ChaoticNoiseImpl::startsFrom(int units, double r, double x0) {
    if (!(x0 > 0 && x0 < 1)) throw std::invalid_argument("setting 'start' must lie in (0, 1)");
    auto out = torch::empty({units}, torch::kFloat64);
    auto* o = out.data_ptr<double>();
    std::uint64_t kick = 0x853C49E6748FEA9BULL;
    double x = x0;
    for (int i = 0; i < 64; ++i) x = logistic(x, r, kick);
    for (int j = 0; j < units; ++j) {
        o[j] = x;
        for (int i = 0; i < 17; ++i) x = logistic(x, r, kick);
    }
    return out;
}

float ChaoticNoiseImpl::transform(double x) const {
    if (!inverseNormal) return static_cast<float>((x - mean) / stddev);
    double u;
    if (quantiles.empty()) {
        // r = 4: the invariant density 1 / (pi sqrt(x (1 - x))) has CDF (2 / pi) asin(sqrt x).
        u = 2 / M_PI * std::asin(std::sqrt(x));
    } else {
        const auto it = std::lower_bound(quantiles.begin(), quantiles.end(), x);
        const auto i = static_cast<double>(it - quantiles.begin());
        u = (i + 0.5) / static_cast<double>(quantiles.size() + 1);
    }
    // Clamped so that the orbit's rare visits near 0 and 1 stay finite (|z| <= 5.3).
    return static_cast<float>(normalQuantile(std::clamp(u, 1e-7, 1 - 1e-7)));
}

torch::Tensor ChaoticNoiseImpl::next(std::int64_t n) {
    const bool parallel = m_collectives && m_collectives->worldSize() > 1;
    const std::int64_t world = parallel ? m_collectives->worldSize() : 1;
    const std::int64_t mine = parallel ? m_collectives->rank() : 0;
    const auto units = state.numel();
    auto out = torch::empty({n, units}, torch::kFloat32);
    auto* o = out.data_ptr<float>();
    auto* s = state.data_ptr<double>();
    std::uint64_t kick = 0x2545F4914F6CDD1DULL;
    for (std::int64_t i = 0; i < world * n; ++i) {
        const bool kept = i / n == mine;
        for (std::int64_t j = 0; j < units; ++j) {
            s[j] = logistic(s[j], r, kick);
            if (kept) o[(i % n) * units + j] = transform(s[j]);
        }
    }
    return out;
}

torch::Tensor ChaoticNoiseImpl::fresh(std::int64_t n, std::uint64_t seed) const {
    const auto units = state.numel();
    auto x = seededStarts(static_cast<int>(units), r, seed);
    auto out = torch::empty({n, units}, torch::kFloat32);
    auto* o = out.data_ptr<float>();
    std::uint64_t kick = seed ^ 0x2545F4914F6CDD1DULL;
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < units; ++j) {
            auto& v = x[static_cast<std::size_t>(j)];
            v = logistic(v, r, kick);
            o[i * units + j] = transform(v);
        }
    return out;
}

}  // namespace ll
