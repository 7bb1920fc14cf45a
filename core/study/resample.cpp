#include "study/resample.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include <torch/torch.h>

namespace ll {

namespace {

using torch::Tensor;

// The row indices of each class, in row order.
using ClassRows = std::vector<std::vector<std::int64_t>>;

Result<ClassRows> rowsByClass(const Tensor& labels, int numClasses) {
    if (numClasses < 1)
        return fail("numClasses must be at least 1 (got " + std::to_string(numClasses) + ")");
    if (labels.dim() != 1)
        return fail("labels must be one value per row (got a tensor of " +
                    std::to_string(labels.dim()) + " dimensions)");
    if (at::isFloatingType(labels.scalar_type()) || labels.scalar_type() == torch::kBool)
        return fail("labels must be integers (got " +
                    std::string(c10::toString(labels.scalar_type())) + ")");
    const Tensor y = labels.to(torch::kCPU, torch::kInt64).contiguous();
    const auto* v = y.data_ptr<std::int64_t>();
    ClassRows rows(static_cast<std::size_t>(numClasses));
    for (std::int64_t i = 0; i < y.size(0); ++i) {
        if (v[i] < 0 || v[i] >= numClasses)
            return fail("label " + std::to_string(v[i]) + " of row " + std::to_string(i) +
                        " is outside 0.." + std::to_string(numClasses - 1));
        rows[static_cast<std::size_t>(v[i])].push_back(i);
    }
    return rows;
}

// The throwing form for the functions whose bad input is the caller's bug.
ClassRows rowsOrThrow(const Tensor& labels, int numClasses) {
    auto rows = rowsByClass(labels, numClasses);
    if (!rows) TORCH_CHECK(false, rows.error().message);
    return std::move(*rows);
}

std::vector<std::int64_t> countsOf(const ClassRows& rows) {
    std::vector<std::int64_t> counts;
    for (const auto& r : rows) counts.push_back(static_cast<std::int64_t>(r.size()));
    return counts;
}

Tensor toTensor(const std::vector<std::int64_t>& v) {
    return torch::tensor(v, torch::kInt64);
}

torch::Generator generator(std::uint64_t seed) {
    return torch::make_generator<torch::CPUGeneratorImpl>(seed);
}

// `keep` of `rows` drawn without replacement (all of them when keep >= their number).
void drawWithout(const std::vector<std::int64_t>& rows, std::int64_t keep, torch::Generator& g,
                 std::vector<std::int64_t>& out) {
    const auto n = static_cast<std::int64_t>(rows.size());
    if (keep >= n) {
        out.insert(out.end(), rows.begin(), rows.end());
        return;
    }
    const Tensor perm = torch::randperm(n, g, torch::kInt64);
    const auto* p = perm.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < keep; ++i) out.push_back(rows[static_cast<std::size_t>(p[i])]);
}

Tensor sortedTensor(std::vector<std::int64_t> rows) {
    std::sort(rows.begin(), rows.end());
    return toTensor(rows);
}

std::string number(double v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

Result<std::vector<std::int64_t>> longTailKeep(const std::vector<std::int64_t>& counts,
                                               const ImbalanceProfile& profile) {
    const int K = static_cast<int>(counts.size());
    if (!(profile.ratio >= 1) || !std::isfinite(profile.ratio))
        return fail("a long tail's ratio must be a number of at least 1 (got " +
                    number(profile.ratio) + ")");
    std::vector<int> order = profile.order;
    if (order.empty()) {
        order.resize(static_cast<std::size_t>(K));
        std::iota(order.begin(), order.end(), 0);
    }
    if (static_cast<int>(order.size()) != K)
        return fail("a long tail's order names " + std::to_string(order.size()) +
                    " classes; the data has " + std::to_string(K));
    std::vector<bool> seen(static_cast<std::size_t>(K), false);
    for (int c : order) {
        if (c < 0 || c >= K)
            return fail("a long tail's order names class " + std::to_string(c) + ", outside 0.." +
                        std::to_string(K - 1));
        if (seen[static_cast<std::size_t>(c)])
            return fail("a long tail's order names class " + std::to_string(c) + " twice");
        seen[static_cast<std::size_t>(c)] = true;
    }
    const auto smallest = std::min_element(counts.begin(), counts.end());
    if (*smallest == 0)
        return fail("class " + std::to_string(smallest - counts.begin()) +
                    " has no rows; a long tail needs rows of every class");
    const double n = double(*smallest);
    std::vector<std::int64_t> keep(counts.size());
    for (int k = 0; k < K; ++k) {
        const double fraction = K == 1 ? 1.0 : std::pow(profile.ratio, -double(k) / (K - 1));
        keep[static_cast<std::size_t>(order[static_cast<std::size_t>(k)])] =
            std::max<std::int64_t>(1, std::llround(n * fraction));
    }
    return keep;
}

Result<std::vector<std::int64_t>> minorityKeep(const std::vector<std::int64_t>& counts,
                                               const ImbalanceProfile& profile) {
    const int K = static_cast<int>(counts.size());
    if (profile.minority.empty()) return fail("a minority profile names no class");
    std::vector<bool> named(counts.size(), false);
    double shares = 0;
    for (const auto& [c, share] : profile.minority) {
        if (c < 0 || c >= K)
            return fail("minority class " + std::to_string(c) + " is outside 0.." +
                        std::to_string(K - 1));
        if (named[static_cast<std::size_t>(c)])
            return fail("minority class " + std::to_string(c) + " is named twice");
        named[static_cast<std::size_t>(c)] = true;
        if (!(share > 0 && share < 1))
            return fail("class " + std::to_string(c) +
                        "'s minority share must lie between 0 and 1 (got " + number(share) + ")");
        shares += share;
    }
    if (!(shares < 1))
        return fail("the minority shares sum to " + number(shares) +
                    "; they must leave room for the other classes (sum below 1)");
    std::int64_t others = 0;
    for (int c = 0; c < K; ++c)
        if (!named[static_cast<std::size_t>(c)]) others += counts[static_cast<std::size_t>(c)];
    std::vector<std::int64_t> keep = counts;
    for (const auto& [c, share] : profile.minority) {
        const auto m = std::llround(share * double(others) / (1 - shares));
        const auto has = counts[static_cast<std::size_t>(c)];
        if (m < 1)
            return fail("class " + std::to_string(c) + " would keep 0 rows: a share of " +
                        number(share) + " beside other classes of " + std::to_string(others) +
                        " rows rounds to none");
        if (m > has)
            return fail("class " + std::to_string(c) + " would need " + std::to_string(m) +
                        " rows for a share of " + number(share) + " but has " +
                        std::to_string(has));
        keep[static_cast<std::size_t>(c)] = m;
    }
    return keep;
}

// Each row of `from` (B x F) to its k nearest rows of `all` (n x F), itself (row selfRows[b] of
// `all`) excluded: B x k local indices, nearest first. Float64 throughout.
Tensor nearest(const Tensor& from, const Tensor& all, const Tensor& allNorms,
               const std::vector<std::int64_t>& selfRows, int k) {
    Tensor d = from.pow(2).sum(1, true) + allNorms.unsqueeze(0) - 2 * from.matmul(all.t());
    auto acc = d.accessor<double, 2>();
    for (std::size_t b = 0; b < selfRows.size(); ++b)
        acc[static_cast<std::int64_t>(b)][selfRows[b]] = std::numeric_limits<double>::infinity();
    return std::get<1>(d.topk(k, 1, /*largest=*/false, /*sorted=*/true));
}

// For each row i (local indices into xc, n x F float64), its k nearest other rows of xc:
// i.size() x k local indices, nearest first. Distances only for the distinct rows drawn, in
// blocks of about 4M distances (32 MB), so memory stays bounded however large the class.
Tensor drawnNeighbours(const Tensor& xc, const Tensor& i, int k) {
    const std::int64_t n = xc.size(0), m = i.size(0);
    const auto* iv = i.data_ptr<std::int64_t>();
    std::vector<std::int64_t> drawn(iv, iv + m);
    std::sort(drawn.begin(), drawn.end());
    drawn.erase(std::unique(drawn.begin(), drawn.end()), drawn.end());
    const Tensor norms = xc.pow(2).sum(1);
    const auto block = std::max<std::size_t>(1, std::size_t(4'000'000) / std::size_t(n));
    std::vector<Tensor> nn;
    for (std::size_t b0 = 0; b0 < drawn.size(); b0 += block) {
        const std::vector<std::int64_t> self(
            drawn.begin() + std::ptrdiff_t(b0),
            drawn.begin() + std::ptrdiff_t(std::min(drawn.size(), b0 + block)));
        nn.push_back(nearest(xc.index_select(0, toTensor(self)), xc, norms, self, k));
    }
    std::vector<std::int64_t> slot(static_cast<std::size_t>(n), -1), slots;
    for (std::size_t s = 0; s < drawn.size(); ++s)
        slot[static_cast<std::size_t>(drawn[s])] = std::int64_t(s);
    for (std::int64_t r = 0; r < m; ++r) slots.push_back(slot[static_cast<std::size_t>(iv[r])]);
    return torch::cat(nn).index_select(0, toTensor(slots));
}

}  // namespace

std::vector<std::int64_t> classCounts(const Tensor& labels, int numClasses) {
    return countsOf(rowsOrThrow(labels, numClasses));
}

Result<Tensor> imbalancedIndices(const Tensor& labels, int numClasses,
                                 const ImbalanceProfile& profile, std::uint64_t seed) {
    auto rows = rowsByClass(labels, numClasses);
    if (!rows) return tl::unexpected(rows.error());
    const auto counts = countsOf(*rows);
    Result<std::vector<std::int64_t>> keep = counts;
    switch (profile.kind) {
        case ImbalanceProfile::Kind::AsIs:
            return torch::arange(labels.size(0), torch::kInt64);
        case ImbalanceProfile::Kind::LongTail:
            keep = longTailKeep(counts, profile);
            break;
        case ImbalanceProfile::Kind::Minority:
            keep = minorityKeep(counts, profile);
            break;
    }
    if (!keep) return tl::unexpected(keep.error());
    auto g = generator(seed);
    std::vector<std::int64_t> kept;
    for (std::size_t c = 0; c < rows->size(); ++c) drawWithout((*rows)[c], (*keep)[c], g, kept);
    return sortedTensor(std::move(kept));
}

std::vector<int> minorityClasses(const std::vector<std::int64_t>& counts,
                                 const ImbalanceProfile& profile) {
    const int K = static_cast<int>(counts.size());
    std::vector<int> out;
    switch (profile.kind) {
        case ImbalanceProfile::Kind::Minority:
            for (const auto& [c, share] : profile.minority) out.push_back(c);
            break;
        case ImbalanceProfile::Kind::LongTail: {
            std::vector<int> order = profile.order;
            if (static_cast<int>(order.size()) != K) {
                order.resize(static_cast<std::size_t>(K));
                std::iota(order.begin(), order.end(), 0);
            }
            const int tail = (K + 2) / 3;
            out.assign(order.end() - tail, order.end());
            break;
        }
        case ImbalanceProfile::Kind::AsIs: {
            const std::int64_t largest =
                counts.empty() ? 0 : *std::max_element(counts.begin(), counts.end());
            for (int c = 0; c < K; ++c)
                if (2 * counts[static_cast<std::size_t>(c)] < largest) out.push_back(c);
            break;
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::pair<Tensor, Tensor> stratifiedSplit(const Tensor& y, int classes, double fraction,
                                          std::uint64_t seed) {
    auto g = at::detail::createCPUGenerator(seed);
    std::vector<Tensor> keep, held;
    for (int k = 0; k < classes; ++k) {
        const Tensor idx = torch::nonzero(y == k).squeeze(1);
        const Tensor perm = idx.index_select(0, torch::randperm(idx.size(0), g, torch::kInt64));
        const auto n = static_cast<std::int64_t>(std::llround(fraction * idx.size(0)));
        held.push_back(perm.slice(0, 0, n));
        keep.push_back(perm.slice(0, n));
    }
    return {std::get<0>(torch::cat(keep).sort()), std::get<0>(torch::cat(held).sort())};
}

Tensor randomUnderSample(const Tensor& labels, int numClasses, std::uint64_t seed,
                         const std::vector<std::int64_t>& target) {
    const auto rows = rowsOrThrow(labels, numClasses);
    const auto counts = countsOf(rows);
    std::vector<std::int64_t> keep = target;
    if (keep.empty()) {
        std::int64_t smallest = 0;
        for (auto n : counts)
            if (n > 0 && (smallest == 0 || n < smallest)) smallest = n;
        keep.assign(counts.size(), smallest);
    }
    TORCH_CHECK(keep.size() == counts.size(), "an under-sampling target has ", keep.size(),
                " classes; the labels have ", counts.size());
    auto g = generator(seed);
    std::vector<std::int64_t> kept;
    for (std::size_t c = 0; c < rows.size(); ++c) {
        TORCH_CHECK(keep[c] >= 0, "class ", c, "'s under-sampling target is negative");
        drawWithout(rows[c], keep[c], g, kept);
    }
    return sortedTensor(std::move(kept));
}

Tensor randomOverSample(const Tensor& labels, int numClasses, std::uint64_t seed,
                        const std::vector<std::int64_t>& target) {
    const auto rows = rowsOrThrow(labels, numClasses);
    const auto counts = countsOf(rows);
    std::vector<std::int64_t> want = target;
    if (want.empty()) {
        const std::int64_t largest = *std::max_element(counts.begin(), counts.end());
        for (auto n : counts) want.push_back(n > 0 ? largest : 0);
    }
    TORCH_CHECK(want.size() == counts.size(), "an over-sampling target has ", want.size(),
                " classes; the labels have ", counts.size());
    auto g = generator(seed);
    std::vector<Tensor> parts{torch::arange(labels.size(0), torch::kInt64)};
    for (std::size_t c = 0; c < rows.size(); ++c) {
        const std::int64_t more = want[c] - counts[c];
        if (more <= 0) continue;
        TORCH_CHECK(counts[c] > 0, "class ", c, " has no rows to over-sample to ", want[c]);
        const Tensor pick = torch::randint(counts[c], {more}, g, torch::kInt64);
        parts.push_back(toTensor(rows[c]).index_select(0, pick));
    }
    return torch::cat(parts);
}

Result<SmoteResult> smote(const Tensor& x, const Tensor& labels, int numClasses,
                          const SmoteOptions& options, std::uint64_t seed) {
    const int k = options.k;
    if (k < 1) return fail("SMOTE needs k of at least 1 neighbour (got " + std::to_string(k) + ")");
    if (x.dim() != 2 || x.size(1) < 1)
        return fail("SMOTE needs rows of features, N x F (got a tensor of " +
                    std::to_string(x.dim()) + " dimensions)");
    if (!x.is_floating_point())
        return fail("SMOTE needs floating-point features (got " +
                    std::string(c10::toString(x.scalar_type())) + ")");
    if (labels.dim() != 1 || labels.size(0) != x.size(0))
        return fail("SMOTE got " + std::to_string(x.size(0)) + " rows but " +
                    std::to_string(labels.numel()) + " labels");
    auto rows = rowsByClass(labels, numClasses);
    if (!rows) return tl::unexpected(rows.error());
    const auto counts = countsOf(*rows);
    std::vector<std::int64_t> want = options.target;
    if (want.empty()) want.assign(counts.size(), *std::max_element(counts.begin(), counts.end()));
    if (want.size() != counts.size())
        return fail("a SMOTE target has " + std::to_string(want.size()) +
                    " classes; the labels have " + std::to_string(counts.size()));
    for (std::size_t c = 0; c < counts.size(); ++c)
        if (want[c] > counts[c] && counts[c] < k + 1)
            return fail("SMOTE with k = " + std::to_string(k) + " needs at least " +
                        std::to_string(k + 1) + " rows of every class it oversamples; class " +
                        std::to_string(c) + " has " + std::to_string(counts[c]));
    const Tensor all = x.detach().to(torch::kCPU);
    if (!torch::isfinite(all).all().item<bool>())
        return fail("SMOTE got a feature that is not a finite number");

    auto g = generator(seed);
    std::vector<Tensor> xs, ys, parents, gaps;
    for (std::size_t c = 0; c < counts.size(); ++c) {
        const std::int64_t m = want[c] - counts[c];
        if (m <= 0) continue;
        const std::int64_t n = counts[c];
        const Tensor global = toTensor((*rows)[c]);
        const Tensor xc = all.index_select(0, global).to(torch::kFloat64);
        const Tensor i = torch::randint(n, {m}, g, torch::kInt64);
        const Tensor col = torch::randint(k, {m}, g, torch::kInt64);
        const Tensor gap = torch::rand({m}, g, torch::kFloat64);

        const Tensor j = drawnNeighbours(xc, i, k).gather(1, col.unsqueeze(1)).squeeze(1);
        const Tensor xi = xc.index_select(0, i), xj = xc.index_select(0, j);
        xs.push_back((xi + gap.unsqueeze(1) * (xj - xi)).to(x.scalar_type()));
        ys.push_back(torch::full({m}, std::int64_t(c), torch::kInt64));
        parents.push_back(torch::stack({global.index_select(0, i), global.index_select(0, j)}, 1));
        gaps.push_back(gap);
    }
    SmoteResult r;
    if (xs.empty()) {
        r.x = torch::zeros({0, x.size(1)}, torch::TensorOptions().dtype(x.scalar_type()));
        r.y = torch::zeros({0}, torch::kInt64);
        r.parents = torch::zeros({0, 2}, torch::kInt64);
        r.gaps = torch::zeros({0}, torch::kFloat64);
        return r;
    }
    r.x = torch::cat(xs);
    r.y = torch::cat(ys);
    r.parents = torch::cat(parents);
    r.gaps = torch::cat(gaps);
    return r;
}

}  // namespace ll
