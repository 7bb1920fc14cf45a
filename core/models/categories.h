#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace ll {

struct Dataset;

/// A table's categorical columns in the rows a model makes (setting "categories",
/// models/model.h): each column is a group of one-hot features, standardised with the rest of
/// the row, whose model output is one logit per value. Shared by the VAE family (trained by
/// cross-entropy) and the tabular cGAN (trained through a Gumbel-softmax); both draw one value
/// per column when they sample and write it at exactly the data's levels.
class CategoryColumns {
public:
    using Groups = std::vector<std::pair<std::int64_t, std::int64_t>>;  // (first, count)

    CategoryColumns() = default;
    /// The groups of rows `features` wide. With any group, the levels are registered as the
    /// buffer "category_levels" of `owner`, so checkpoints and exported weights carry them;
    /// until fit says, a one-hot feature's levels are 0 and 1.
    CategoryColumns(Groups groups, std::int64_t features, torch::nn::Module& owner);

    bool empty() const { return m_groups.empty(); }
    const Groups& groups() const { return m_groups; }
    /// 1 for each number's feature, 0 for each category's (one row), on the model's device.
    const torch::Tensor& numeric() const { return m_numeric; }
    std::int64_t numericCount() const { return m_numericCount; }
    void to(torch::Device device) { m_numeric = m_numeric.to(device); }

    /// The levels from the data's standardisation: a one-hot feature takes 0 or 1 before it is
    /// standardised. Does nothing without groups or where the data's statistics do not fit.
    void fit(const Dataset& data);
    /// Per row (N): the cross-entropy of each group's logits in `out` against the value `rows`
    /// (standardised data) takes; zeros without groups.
    torch::Tensor crossEntropy(const torch::Tensor& out, const torch::Tensor& rows) const;
    /// In place: each group's logits in `out` become one value's levels, drawn from
    /// softmax(logits / temperature) with `seed` (Gumbel-max), the most likely at temperature 0.
    torch::Tensor draw(torch::Tensor out, double temperature, std::uint64_t seed) const;
    /// Differentiable: each group's logits in `out` become a draw of a Gumbel-softmax at `tau`
    /// (Jang et al. 2017), straight-through (exactly one value at its levels forward, the
    /// softmax's gradient backward); the numbers pass through. Noise from torch's global
    /// generator (training).
    torch::Tensor relax(const torch::Tensor& out, double tau) const;

private:
    Groups m_groups;
    torch::Tensor m_numeric;
    std::int64_t m_numericCount = 0;
    torch::Tensor m_levels;  // 2 x features: each feature's standardised 0, then 1
};

}  // namespace ll
