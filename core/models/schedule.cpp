#include "models/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace ll {

NoiseSchedule::NoiseSchedule(Kind kind, int timesteps) : m_kind(kind) {
    if (timesteps < 2 || timesteps > 100000)
        throw std::invalid_argument("setting 'timesteps' must lie in 2..100000");
    const auto n = static_cast<std::size_t>(timesteps);
    m_beta.resize(n);
    m_alphaBar.resize(n);
    if (kind == Kind::Linear) {
        const double scale = 1000.0 / timesteps;
        const double first = std::min(0.999, scale * 1e-4), last = std::min(0.999, scale * 0.02);
        for (std::size_t t = 0; t < n; ++t)
            m_beta[t] = first + (last - first) * double(t) / double(n - 1);
    } else {
        constexpr double s = 0.008;
        auto f = [&](double t) {
            const double c = std::cos((t / double(n) + s) / (1 + s) * std::numbers::pi / 2);
            return c * c;
        };
        for (std::size_t t = 0; t < n; ++t)
            m_beta[t] = std::min(0.999, 1 - f(double(t + 1)) / f(double(t)));
    }
    double product = 1;
    for (std::size_t t = 0; t < n; ++t) m_alphaBar[t] = product *= 1 - m_beta[t];
}

NoiseSchedule::Kind NoiseSchedule::parseKind(const std::string& name, const std::string& setting) {
    if (name == "linear") return Kind::Linear;
    if (name == "cosine") return Kind::Cosine;
    throw std::invalid_argument("setting '" + setting + "': '" + name +
                                "' is not a noise schedule (linear or cosine)");
}

std::string NoiseSchedule::kindName(Kind kind) {
    return kind == Kind::Linear ? "linear" : "cosine";
}

std::vector<int> NoiseSchedule::respaced(int steps) const {
    const int total = timesteps();
    std::vector<int> out;
    if (steps <= 0 || steps >= total) {
        for (int t = 0; t < total; ++t) out.push_back(t);
        return out;
    }
    if (steps == 1) return {total - 1};
    // Evenly spaced and ending at T - 1, so the sampler always starts from pure noise.
    for (int i = 0; i < steps; ++i)
        out.push_back(static_cast<int>(std::lround(double(total - 1) * i / (steps - 1))));
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace ll
