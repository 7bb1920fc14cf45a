#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

namespace ll {

namespace {

using torch::Tensor;

// Distance matrices are computed a block of rows at a time: 64 MiB of float64 per block keeps
// 10,000 x 10,000 comparisons in bounded memory.
constexpr std::int64_t kBlockElements = std::int64_t{1} << 23;

std::int64_t blockRows(std::int64_t columns) {
    return std::max<std::int64_t>(1, kBlockElements / std::max<std::int64_t>(1, columns));
}

std::string shapeOf(const Tensor& x) {
    if (!x.defined()) return "none";
    std::string out = "[";
    for (std::int64_t i = 0; i < x.dim(); ++i) out += (i ? ", " : "") + std::to_string(x.size(i));
    return out + "]";
}

// The features as a contiguous float64 matrix, or why they cannot be used.
Result<Tensor> asFeatures(const Tensor& x, const std::string& name) {
    if (!x.defined() || x.dim() != 2 || x.size(1) == 0)
        return fail(name + ": expected an array of samples x features, got shape " + shapeOf(x));
    if (!x.is_floating_point()) return fail(name + ": features must be floating-point values");
    if (x.size(0) == 0) return fail(name + ": holds no samples");
    auto features = x.to(torch::kCPU, torch::kFloat64).contiguous();
    const auto bad = torch::isfinite(features).logical_not().any(1).nonzero();
    if (bad.numel() > 0)
        return fail(name + ": row " + std::to_string(bad[0][0].item<std::int64_t>()) +
                    " holds NaN or infinite values");
    return features;
}

Result<void> sameWidth(const Tensor& a, const std::string& aName, const Tensor& b,
                       const std::string& bName) {
    if (a.size(1) == b.size(1)) return {};
    return fail(aName + " has " + std::to_string(a.size(1)) + " features per sample, " + bName +
                " has " + std::to_string(b.size(1)));
}

struct FeaturePair {
    Tensor real;
    Tensor fake;
};

Result<FeaturePair> realAndFake(const Tensor& real, const Tensor& fake) {
    auto r = asFeatures(real, "real");
    if (!r) return tl::unexpected(r.error());
    auto f = asFeatures(fake, "fake");
    if (!f) return tl::unexpected(f.error());
    if (auto ok = sameWidth(*r, "real", *f, "fake"); !ok) return tl::unexpected(ok.error());
    return FeaturePair{*r, *f};
}

Result<void> needRows(const Tensor& x, const std::string& name, std::int64_t need,
                      const std::string& metric, const std::string& why) {
    if (x.size(0) >= need) return {};
    return fail(metric + " needs at least " + std::to_string(need) + " " + name + " samples (" +
                why + "), got " + std::to_string(x.size(0)));
}

Result<void> checkK(int k, const std::string& metric) {
    if (k >= 1) return {};
    return fail(metric + ": k must be at least 1, got " + std::to_string(k));
}

// Squared distances between the rows of `a` and of `b` as |a|^2 + |b|^2 - 2 a.b: one matrix
// product instead of an a x b x features tensor of differences.
Tensor squaredDistances(const Tensor& a, const Tensor& b, const Tensor& bNorms) {
    return torch::addmm(bNorms.unsqueeze(0), a, b.t(), 1, -2)
        .add_(a.pow(2).sum(1, true))
        .clamp_min_(0);
}

// Distances are screened in float32 (the matrix product runs about five times faster than in
// float64 on these CPUs: 10,000 samples against 60,000 training images took 14 s, now 3) and
// what the screen cannot decide is measured again exactly, in float64 from the differences,
// so the results are those of float64 throughout. The bound on a screened squared distance's
// error: the dot product's rounding, about (features + 4) float32 epsilons of |a|^2 + |b|^2
// (a generous form of the standard gamma_n bound).
Tensor screenTolerance(const Tensor& aNorms, double bNormMax, std::int64_t features) {
    return aNorms.add(bNormMax).mul_(4.0 * double(features + 4) *
                                     std::numeric_limits<float>::epsilon());
}

// A few more candidates than asked: the k nearest are among them unless more points than this
// lie within the screen's error of the k-th; a block where that could be so is measured again.
constexpr std::int64_t kSpare = 8;

struct Screened {
    Tensor points32, norms32, norms;  // float32 points and norms, float64 norms
    double normMax = 0;
};

Screened screen(const Tensor& points) {
    Screened s{.points32 = points.to(torch::kFloat32), .norms = points.pow(2).sum(1)};
    s.norms32 = s.norms.to(torch::kFloat32);
    s.normMax = s.norms.max().item<double>();
    return s;
}

// Each row of `block` (queries start..start+rows, float64): its k nearest `points`, exact
// distances ascending and their indices. With `self` the queries are the points and a row is
// not its own neighbour. Copies of a point come out at exactly 0.
std::pair<Tensor, Tensor> nearestInBlock(const Tensor& block, std::int64_t start,
                                         const Tensor& points, const Screened& s, int k,
                                         bool self) {
    const std::int64_t available = points.size(0) - (self ? 1 : 0);
    const std::int64_t c = std::min<std::int64_t>(k + kSpare, available);
    const auto exactOf = [&](const Tensor& rows, const Tensor& candidates) {
        const auto n = candidates.size(1);
        return (rows.unsqueeze(1) - points.index_select(0, candidates.flatten())
                                        .view({rows.size(0), n, points.size(1)}))
            .norm(2, 2);
    };
    auto d2 = squaredDistances(block.to(torch::kFloat32), s.points32, s.norms32);
    if (self) d2.diagonal(start).fill_(std::numeric_limits<float>::infinity());
    auto [screened, candidates] = d2.topk(c, 1, /*largest=*/false);
    auto [sorted, order] = exactOf(block, candidates).sort(1);
    Tensor indices = candidates.gather(1, order);
    if (c < available) {
        // A point outside the candidates is at least screened[c-1] - tol away (squared): if
        // that may be nearer than the k-th exact distance, measure the row in float64.
        const auto tol =
            screenTolerance(block.pow(2).sum(1), s.normMax, points.size(1)).to(torch::kFloat64);
        const auto kth = sorted.select(1, k - 1);
        const auto unsure =
            (screened.select(1, c - 1).to(torch::kFloat64) - tol).le(kth * kth + tol).nonzero();
        for (std::int64_t u = 0; u < unsure.size(0); ++u) {
            const auto row = unsure[u][0].item<std::int64_t>();
            auto exact = (block[row].unsqueeze(0) - points).norm(2, 1);
            if (self) exact[start + row] = std::numeric_limits<double>::infinity();
            auto [d, i] = exact.topk(c, 0, /*largest=*/false);
            sorted[row].copy_(d);
            indices[row].copy_(i);
        }
    }
    return {sorted.slice(1, 0, k), indices.slice(1, 0, k)};
}

// The distance from each query to its k-th nearest row of `points`; with `self`, the queries
// are the points and a row is not its own neighbour.
Tensor kthNearestDistances(const Tensor& queries, const Tensor& points, int k, bool self) {
    const Screened s = screen(points);
    const auto step = blockRows(std::max(points.size(0), (k + kSpare) * points.size(1)));
    auto out = torch::empty({queries.size(0)}, torch::kFloat64);
    for (std::int64_t start = 0; start < queries.size(0); start += step) {
        const auto block = queries.slice(0, start, start + step);
        out.slice(0, start, start + step)
            .copy_(nearestInBlock(block, start, points, s, k, self).first.select(1, k - 1));
    }
    return out;
}

struct BallHits {
    Tensor perQuery;   // how many balls hold each query
    Tensor perCentre;  // whether each ball holds some query
};

// Which closed balls (centre, radius) hold which queries, a block of queries at a time: the
// float32 screen decides where it can, the pairs within its error of a radius are measured
// exactly (the distance computed as the radii were, so a centre's k-th neighbour is inside).
BallHits ballHits(const Tensor& queries, const Tensor& centres, const Tensor& radii) {
    const Screened s = screen(centres);
    const auto r2 = radii.pow(2).unsqueeze(0);
    const auto step = blockRows(centres.size(0));
    BallHits hits{torch::empty({queries.size(0)}, torch::kInt64),
                  torch::zeros({centres.size(0)}, torch::kBool)};
    for (std::int64_t start = 0; start < queries.size(0); start += step) {
        const auto block = queries.slice(0, start, start + step);
        const auto d2 =
            squaredDistances(block.to(torch::kFloat32), s.points32, s.norms32).to(torch::kFloat64);
        const auto tol = screenTolerance(block.pow(2).sum(1), s.normMax, centres.size(1))
                             .unsqueeze(1)
                             .to(torch::kFloat64);
        auto inside = d2.le(r2 - tol);
        const auto unsure = (d2 - r2).abs().le(tol).nonzero();
        if (unsure.size(0) > 0) {
            const auto q = unsure.select(1, 0), c = unsure.select(1, 1);
            const auto exact = (block.index_select(0, q) - centres.index_select(0, c)).norm(2, 1);
            inside.index_put_({q, c}, exact.le(radii.index_select(0, c)));
        }
        hits.perQuery.slice(0, start, start + step).copy_(inside.sum(1));
        hits.perCentre.logical_or_(inside.any(0));
    }
    return hits;
}

double share(const Tensor& flags) {
    return flags.to(torch::kFloat64).mean().item<double>();
}

// Mean and unbiased covariance of the rows.
std::pair<Tensor, Tensor> moments(const Tensor& x) {
    const auto mean = x.mean(0);
    const auto centred = x - mean;
    return {mean, centred.t().matmul(centred) / double(x.size(0) - 1)};
}

// Eigenvalues of a symmetric positive semi-definite matrix that rounding left near 0 (a
// hair below, or a hair above: features that are constant, such as dead ReLU units, give
// exactly singular covariances) count as 0, as a rank-revealing solver would count them;
// their square roots would otherwise add noise of order sqrt(eps) to FID.
Tensor psdEigenvalues(Tensor values) {
    const double tolerance = values.abs().max().item<double>() * double(values.size(0)) *
                             std::numeric_limits<double>::epsilon();
    return values.masked_fill(values.lt(tolerance), 0);
}

// The square root of a symmetric positive semi-definite matrix.
Tensor sqrtPsd(const Tensor& s) {
    const auto [values, vectors] = torch::linalg_eigh(s, "L");
    return (vectors * psdEigenvalues(values).sqrt()).matmul(vectors.t());
}

constexpr const char* kUnbiasedWhy = "an unbiased MMD leaves each sample's kernel with itself out";

// KID's polynomial kernel (x.y / d + 1)^3.
Tensor polynomialKernel(const Tensor& a, const Tensor& b) {
    return (a.matmul(b.t()) / double(a.size(1)) + 1).pow(3);
}

// The unbiased MMD^2: the within-set means leave out each point's kernel with itself.
double unbiasedMmd2(const Tensor& x, const Tensor& y) {
    const double m = double(x.size(0)), n = double(y.size(0));
    const auto kxx = polynomialKernel(x, x), kyy = polynomialKernel(y, y);
    const double within = (kxx.sum() - kxx.trace()).item<double>() / (m * (m - 1)) +
                          (kyy.sum() - kyy.trace()).item<double>() / (n * (n - 1));
    return within - 2 * polynomialKernel(x, y).mean().item<double>();
}

Result<Tensor> subsetRows(const Tensor& x, const std::vector<std::int64_t>& rows,
                          const std::string& name) {
    if (rows.size() < 2)
        return fail("KID needs at least 2 " + name + " samples in every subset (" + kUnbiasedWhy +
                    "), got " + std::to_string(rows.size()));
    for (auto row : rows)
        if (row < 0 || row >= x.size(0))
            return fail("KID subset row " + std::to_string(row) + " is out of range: " + name +
                        " has " + std::to_string(x.size(0)) + " samples");
    return x.index_select(0, torch::tensor(rows, torch::kInt64));
}

Result<Kid> kid(const FeaturePair& sets, const std::vector<KidSubset>& subsets) {
    if (subsets.empty()) return fail("KID needs at least 1 subset");
    std::vector<double> mmds;
    for (const auto& subset : subsets) {
        auto x = subsetRows(sets.real, subset.real, "real");
        if (!x) return tl::unexpected(x.error());
        auto y = subsetRows(sets.fake, subset.fake, "fake");
        if (!y) return tl::unexpected(y.error());
        mmds.push_back(unbiasedMmd2(*x, *y));
    }
    const auto values = torch::tensor(mmds, torch::kFloat64);
    return Kid{.mean = values.mean().item<double>(),
               .std = values.std(/*unbiased=*/false).item<double>(),
               .subsets = static_cast<int>(subsets.size()),
               .subsetSize = static_cast<std::int64_t>(subsets.front().real.size())};
}

// SplitMix64 (Steele, Lea and Flood 2014): a few lines, and the same stream in any language.
class SplitMix64 {
public:
    explicit SplitMix64(std::uint64_t seed) : m_state(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }

private:
    std::uint64_t m_state;
};

// `size` distinct values of 0..n-1 (all n if size is larger) by a partial Fisher-Yates
// shuffle. The modulo's bias, below n / 2^64, is far under anything a metric can show.
std::vector<std::int64_t> drawDistinct(std::int64_t n, std::int64_t size, SplitMix64& rng) {
    size = std::min(size, n);
    std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
    std::iota(rows.begin(), rows.end(), 0);
    for (std::int64_t i = 0; i < size; ++i) {
        const auto j =
            i + static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(n - i));
        std::swap(rows[static_cast<std::size_t>(i)], rows[static_cast<std::size_t>(j)]);
    }
    rows.resize(static_cast<std::size_t>(size));
    return rows;
}

// Each row's nearest centroid; on a tie the lowest index, as numpy's argmin.
Tensor nearestCentroid(const Tensor& x, const Tensor& centroids) {
    return squaredDistances(x, centroids, centroids.pow(2).sum(1)).argmin(1);
}

// Lloyd's algorithm from the rows floor(i n / cells): a start any language can repeat, spread
// over the whole set even when it is sorted by class.
Tensor kMeans(const Tensor& x, int cells, int maxIterations) {
    std::vector<std::int64_t> starts;
    for (std::int64_t i = 0; i < cells; ++i) starts.push_back(i * x.size(0) / cells);
    auto centroids = x.index_select(0, torch::tensor(starts, torch::kInt64));
    Tensor assignment;
    for (int iteration = 0; iteration < maxIterations; ++iteration) {
        auto next = nearestCentroid(x, centroids);
        if (assignment.defined() && next.equal(assignment)) break;
        assignment = next;
        const auto sums = torch::zeros_like(centroids).index_add_(0, assignment, x);
        const auto counts = torch::bincount(assignment, {}, cells);
        const auto filled = counts.gt(0);
        centroids.index_put_({filled}, sums.index({filled}) /
                                           counts.index({filled}).unsqueeze(1).to(torch::kFloat64));
    }
    return centroids;
}

std::vector<double> toVector(const Tensor& t) {
    const auto c = t.contiguous();
    return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

// Z of the Mann-Whitney U of `generated` against `test` under the hypothesis that both come
// from one distribution: mid-ranks for ties and the tie-corrected variance (exact copies tie
// at distance 0), no continuity correction. Below 0: the generated points lie closer.
double mannWhitneyZ(const std::vector<double>& generated, const std::vector<double>& test) {
    std::vector<std::pair<double, bool>> all;  // value, from the generated set
    for (double v : generated) all.emplace_back(v, true);
    for (double v : test) all.emplace_back(v, false);
    std::sort(all.begin(), all.end());
    double generatedRanks = 0, ties = 0;
    for (std::size_t i = 0; i < all.size();) {
        std::size_t j = i;
        while (j < all.size() && all[j].first == all[i].first) ++j;
        const double midRank = double(i + 1 + j) / 2, tied = double(j - i);
        for (std::size_t t = i; t < j; ++t)
            if (all[t].second) generatedRanks += midRank;
        ties += tied * tied * tied - tied;
        i = j;
    }
    const double m = double(generated.size()), n = double(test.size()), total = m + n;
    const double u = generatedRanks - m * (m + 1) / 2;
    const double variance = m * n / 12 * ((total + 1) - ties / (total * (total - 1)));
    return variance > 0 ? (u - m * n / 2) / std::sqrt(variance) : 0.0;
}

}  // namespace

Result<double> frechetDistance(const Tensor& real, const Tensor& fake) {
    auto sets = realAndFake(real, fake);
    if (!sets) return tl::unexpected(sets.error());
    const auto d = sets->real.size(1);
    const std::string why =
        "one more than the " + std::to_string(d) + " features, for a full-rank covariance";
    for (const auto& [x, name] : {std::pair{sets->real, "real"}, std::pair{sets->fake, "fake"}})
        if (auto ok = needRows(x, name, d + 1, "FID", why); !ok) return tl::unexpected(ok.error());
    const auto [muR, sR] = moments(sets->real);
    const auto [muF, sF] = moments(sets->fake);
    // tr sqrt(S_r S_f) = tr sqrt(A S_f A) with A = sqrt(S_r): the second matrix is symmetric
    // and positive semi-definite, so its eigenvalues come out real and stable.
    const auto a = sqrtPsd(sR);
    const auto inner = a.matmul(sF).matmul(a);
    const auto traceSqrt =
        psdEigenvalues(torch::linalg_eigvalsh((inner + inner.t()) / 2, "L")).sqrt().sum();
    return ((muR - muF).pow(2).sum() + sR.trace() + sF.trace() - 2 * traceSqrt).item<double>();
}

Result<Kid> kernelInceptionDistance(const Tensor& real, const Tensor& fake,
                                    const std::vector<KidSubset>& subsets) {
    auto sets = realAndFake(real, fake);
    if (!sets) return tl::unexpected(sets.error());
    return kid(*sets, subsets);
}

Result<Kid> kernelInceptionDistance(const Tensor& real, const Tensor& fake,
                                    const KidConfig& config) {
    if (config.subsets < 1)
        return fail("KID needs at least 1 subset, got " + std::to_string(config.subsets));
    auto sets = realAndFake(real, fake);
    if (!sets) return tl::unexpected(sets.error());
    const auto size = std::min({config.subsetSize, sets->real.size(0), sets->fake.size(0)});
    for (const auto& [x, name] : {std::pair{sets->real, "real"}, std::pair{sets->fake, "fake"}})
        if (auto ok = needRows(x, name, 2, "KID", kUnbiasedWhy); !ok)
            return tl::unexpected(ok.error());
    if (size < 2) return fail("KID subsets need at least 2 samples, got " + std::to_string(size));
    return kid(*sets, drawKidSubsets(sets->real.size(0), sets->fake.size(0), config.subsets, size,
                                     config.seed));
}

std::vector<KidSubset> drawKidSubsets(std::int64_t realCount, std::int64_t fakeCount, int count,
                                      std::int64_t size, std::uint64_t seed) {
    SplitMix64 rng(seed);
    std::vector<KidSubset> subsets;
    for (int i = 0; i < count; ++i) {
        auto real = drawDistinct(realCount, size, rng);
        subsets.push_back({std::move(real), drawDistinct(fakeCount, size, rng)});
    }
    return subsets;
}

Result<PrecisionRecall> precisionRecall(const Tensor& real, const Tensor& fake, int k) {
    if (auto ok = checkK(k, "precision/recall"); !ok) return tl::unexpected(ok.error());
    auto sets = realAndFake(real, fake);
    if (!sets) return tl::unexpected(sets.error());
    const std::string metric = "precision/recall with k = " + std::to_string(k);
    for (const auto& [x, name] : {std::pair{sets->real, "real"}, std::pair{sets->fake, "fake"}})
        if (auto ok = needRows(x, name, k + 1, metric, "k neighbours besides each sample"); !ok)
            return tl::unexpected(ok.error());
    const auto& [r, f] = *sets;
    const auto fakesInRealBalls = ballHits(f, r, kthNearestDistances(r, r, k, true));
    const auto realsInFakeBalls = ballHits(r, f, kthNearestDistances(f, f, k, true));
    return PrecisionRecall{.precision = share(fakesInRealBalls.perQuery.gt(0)),
                           .recall = share(realsInFakeBalls.perQuery.gt(0))};
}

Result<DensityCoverage> densityCoverage(const Tensor& real, const Tensor& fake, int k) {
    if (auto ok = checkK(k, "density/coverage"); !ok) return tl::unexpected(ok.error());
    auto sets = realAndFake(real, fake);
    if (!sets) return tl::unexpected(sets.error());
    if (auto ok =
            needRows(sets->real, "real", k + 1, "density/coverage with k = " + std::to_string(k),
                     "k neighbours besides each sample");
        !ok)
        return tl::unexpected(ok.error());
    const auto& [r, f] = *sets;
    const auto hits = ballHits(f, r, kthNearestDistances(r, r, k, true));
    const double fakes = double(f.size(0));
    return DensityCoverage{.density = hits.perQuery.sum().item<double>() / (double(k) * fakes),
                           .coverage = share(hits.perCentre)};
}

Result<DataCopying> dataCopying(const Tensor& train, const Tensor& test, const Tensor& generated,
                                const DataCopyingConfig& config) {
    if (config.cells < 1 || config.minGenerated < 1 || config.maxIterations < 1)
        return fail(
            "the data-copying test needs at least 1 cell, 1 generated sample per cell "
            "and 1 k-means iteration");
    auto t = asFeatures(train, "train");
    if (!t) return tl::unexpected(t.error());
    auto p = asFeatures(test, "test");
    if (!p) return tl::unexpected(p.error());
    auto q = asFeatures(generated, "generated");
    if (!q) return tl::unexpected(q.error());
    if (auto ok = sameWidth(*t, "train", *p, "test"); !ok) return tl::unexpected(ok.error());
    if (auto ok = sameWidth(*t, "train", *q, "generated"); !ok) return tl::unexpected(ok.error());
    const std::string metric = "the data-copying test";
    if (auto ok = needRows(*t, "train", config.cells, metric,
                           "one per cell of " + std::to_string(config.cells));
        !ok)
        return tl::unexpected(ok.error());
    if (auto ok = needRows(*q, "generated", config.minGenerated, metric,
                           "a cell counts only with that many");
        !ok)
        return tl::unexpected(ok.error());

    DataCopying out{.centroids = kMeans(*t, config.cells, config.maxIterations)};
    const auto tCell = nearestCentroid(*t, out.centroids);
    const auto pCell = nearestCentroid(*p, out.centroids);
    const auto qCell = nearestCentroid(*q, out.centroids);
    double weighted = 0, weights = 0;
    for (int c = 0; c < config.cells; ++c) {
        const auto tIn = t->index({tCell.eq(c)}), pIn = p->index({pCell.eq(c)}),
                   qIn = q->index({qCell.eq(c)});
        CopyingCell cell{
            .id = c, .train = tIn.size(0), .test = pIn.size(0), .generated = qIn.size(0)};
        if (cell.train > 0 && cell.test > 0 && cell.generated > 0)
            cell.z = mannWhitneyZ(toVector(kthNearestDistances(qIn, tIn, 1, false)),
                                  toVector(kthNearestDistances(pIn, tIn, 1, false)));
        cell.kept = cell.train > 0 && cell.test > 0 && cell.generated >= config.minGenerated;
        if (cell.kept) {
            const double weight = double(cell.test) / double(p->size(0));
            weighted += weight * cell.z;
            weights += weight;
        }
        out.cells.push_back(cell);
    }
    if (weights == 0)
        return fail("the data-copying test found no cell with both test samples and at least " +
                    std::to_string(config.minGenerated) +
                    " generated samples; use fewer cells or more samples");
    out.ct = weighted / weights;
    return out;
}

Result<Nearest> nearestNeighbours(const Tensor& queries, const Tensor& points, int k) {
    if (auto ok = checkK(k, "nearest neighbours"); !ok) return tl::unexpected(ok.error());
    auto pair = realAndFake(points, queries);
    if (!pair) return tl::unexpected(pair.error());
    const auto& [p, q] = *pair;
    if (auto ok = needRows(p, "reference", k, "nearest neighbours", "k = " + std::to_string(k));
        !ok)
        return tl::unexpected(ok.error());
    const Screened screened = screen(p);
    const auto step = blockRows(std::max(p.size(0), (k + kSpare) * p.size(1)));
    Nearest out{torch::empty({q.size(0), k}, torch::kFloat64),
                torch::empty({q.size(0), k}, torch::kInt64)};
    for (std::int64_t start = 0; start < q.size(0); start += step) {
        auto [distances, indices] =
            nearestInBlock(q.slice(0, start, start + step), start, p, screened, k, false);
        out.distances.slice(0, start, start + step).copy_(distances);
        out.indices.slice(0, start, start + step).copy_(indices);
    }
    return out;
}

Result<double> inceptionScore(const Tensor& logits) {
    auto l = asFeatures(logits, "logits");
    if (!l) return tl::unexpected(l.error());
    if (auto ok = needRows(*l, "logits", 2, "the Inception Score",
                           "the class marginal of one sample is that sample");
        !ok)
        return tl::unexpected(ok.error());
    if (l->size(1) < 2)
        return fail("the Inception Score needs at least 2 classes, got " +
                    std::to_string(l->size(1)));
    const auto logP = torch::log_softmax(*l, 1);
    // log p(y) through logsumexp: a class that no sample favours costs no log(0).
    const auto logMarginal = torch::logsumexp(logP, 0) - std::log(double(l->size(0)));
    const auto kl = (logP.exp() * (logP - logMarginal)).sum(1);
    return std::exp(kl.mean().item<double>());
}

}  // namespace ll
