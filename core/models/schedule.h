#pragma once

// The forward (noising) process of a diffusion model: beta_t, alpha_t and their products.
// Torch-free, so the schedule can be inspected and tested without a model.

#include <string>
#include <vector>

namespace ll {

/// A discrete noise schedule of T steps (Ho et al. 2020). Index t = 0..T-1 is the state after
/// t + 1 noising steps: x_t = sqrt(alphaBar[t]) x_0 + sqrt(1 - alphaBar[t]) noise.
class NoiseSchedule {
public:
    enum class Kind { Linear, Cosine };

    /// Linear: beta from 1e-4 to 0.02, scaled by 1000 / T so that other T reach the same end
    /// point (Nichol & Dhariwal 2021). Cosine: alphaBar = cos^2((t / T + s) / (1 + s) pi / 2)
    /// with s = 0.008 and beta clipped at 0.999. Throws std::invalid_argument for T < 2.
    NoiseSchedule(Kind kind, int timesteps);

    /// "linear" or "cosine"; anything else throws std::invalid_argument naming `setting`.
    static Kind parseKind(const std::string& name, const std::string& setting = "schedule");
    static std::string kindName(Kind kind);

    Kind kind() const { return m_kind; }
    int timesteps() const { return static_cast<int>(m_alphaBar.size()); }
    double alphaBar(int t) const { return m_alphaBar[static_cast<std::size_t>(t)]; }
    double beta(int t) const { return m_beta[static_cast<std::size_t>(t)]; }
    const std::vector<double>& alphaBars() const { return m_alphaBar; }

    /// `steps` timesteps spread evenly over 0..T-1, ascending, always containing T - 1 (the
    /// sampler's start); steps <= 0 or >= T gives all of them.
    std::vector<int> respaced(int steps) const;

private:
    Kind m_kind;
    std::vector<double> m_beta;
    std::vector<double> m_alphaBar;
};

}  // namespace ll
