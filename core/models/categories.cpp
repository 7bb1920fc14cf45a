#include "models/categories.h"

#include "data/dataset.h"

namespace ll {

CategoryColumns::CategoryColumns(Groups groups, std::int64_t features, torch::nn::Module& owner)
    : m_groups(std::move(groups)), m_numeric(torch::ones({features})) {
    for (const auto& [first, count] : m_groups) m_numeric.narrow(0, first, count).zero_();
    m_numericCount = m_numeric.sum().item<std::int64_t>();
    if (!m_groups.empty())
        m_levels = owner.register_buffer(
            "category_levels", torch::stack({torch::zeros({features}), torch::ones({features})}));
}

void CategoryColumns::fit(const Dataset& data) {
    const auto features = m_numeric.numel();
    if (m_groups.empty() || !data.mean.defined() || !data.std.defined() ||
        data.mean.numel() != features || data.std.numel() != features)
        return;
    torch::NoGradGuard noGrad;
    const auto mean = data.mean.to(torch::kFloat), std = data.std.to(torch::kFloat);
    m_levels.copy_(torch::stack({-mean / std, (1 - mean) / std}));
}

torch::Tensor CategoryColumns::crossEntropy(const torch::Tensor& out,
                                            const torch::Tensor& rows) const {
    auto error = torch::zeros({out.size(0)}, out.options());
    for (const auto& [first, count] : m_groups) {
        auto logits = out.narrow(1, first, count);
        // The value a row takes: the one feature above its level of 0 (a 1 standardises to
        // above a 0's level, and where every row of the data takes one value its feature is
        // 0 throughout, as are the others).
        auto taken =
            (rows.narrow(1, first, count) - m_levels[0].narrow(0, first, count)).argmax(1, true);
        error = error + (torch::logsumexp(logits, 1) - logits.gather(1, taken).squeeze(1));
    }
    return error;
}

torch::Tensor CategoryColumns::draw(torch::Tensor out, double temperature,
                                    std::uint64_t seed) const {
    if (m_groups.empty()) return out;
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(seed ^ 0xC2B2AE3D27D4EB4FULL);
    for (const auto& [first, count] : m_groups) {
        auto logits = out.narrow(1, first, count).to(torch::kFloat);
        torch::Tensor taken;
        if (temperature <= 0) {
            taken = logits.argmax(1);
        } else {
            // Gumbel-max: argmax(logits / T + Gumbel noise) is a draw of softmax(logits / T),
            // and a latent moved a little changes few rows' values.
            auto u = torch::rand(logits.sizes(), gen).clamp_(1e-12, 1.0 - 1e-7).to(logits.device());
            taken = (logits / temperature - torch::log(-torch::log(u))).argmax(1);
        }
        auto oneHot = torch::one_hot(taken, count).to(out.scalar_type());
        auto off = m_levels[0].narrow(0, first, count), on = m_levels[1].narrow(0, first, count);
        out.narrow(1, first, count).copy_(off + oneHot * (on - off));
    }
    return out;
}

torch::Tensor CategoryColumns::relax(const torch::Tensor& out, double tau) const {
    if (m_groups.empty()) return out;
    // Pieces in order: the numbers between groups as they are, each group relaxed.
    std::vector<torch::Tensor> pieces;
    std::int64_t at = 0;
    for (const auto& [first, count] : m_groups) {
        if (first > at) pieces.push_back(out.narrow(1, at, first - at));
        auto logits = out.narrow(1, first, count);
        auto u = torch::rand_like(logits).clamp_(1e-12, 1.0 - 1e-7);
        auto soft = torch::softmax((logits - torch::log(-torch::log(u))) / tau, 1);
        // Straight through: the discriminator sees exactly one value, as in a real row (a
        // soft one it would tell apart by its fractions); the gradient is the softmax's.
        soft = torch::one_hot(soft.argmax(1), count).to(soft.scalar_type()) - soft.detach() + soft;
        auto off = m_levels[0].narrow(0, first, count).to(out.scalar_type());
        auto on = m_levels[1].narrow(0, first, count).to(out.scalar_type());
        pieces.push_back(off + soft * (on - off));
        at = first + count;
    }
    if (at < out.size(1)) pieces.push_back(out.narrow(1, at, out.size(1) - at));
    return torch::cat(pieces, 1);
}

}  // namespace ll
