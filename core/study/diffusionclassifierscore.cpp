#include "study/diffusionclassifierscore.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <torch/torch.h>

namespace ll::diffusionclassify {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// 0..n-1 in bit-reversed order (of the next power of two, skipping what is past n): every
/// prefix is spread over the whole range, 0 n/2 n/4 3n/4 ...
std::vector<int> bitReversed(int n) {
    int bits = 0;
    while ((1 << bits) < n) ++bits;
    std::vector<int> order;
    order.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < (1 << bits); ++i) {
        int r = 0;
        for (int b = 0; b < bits; ++b)
            if (i & (1 << b)) r |= 1 << (bits - 1 - b);
        if (r < n) order.push_back(r);
    }
    return order;
}

torch::Tensor indexTensor(const std::vector<std::int64_t>& v, torch::Device device) {
    return torch::tensor(v, torch::kInt64).to(device);
}

}  // namespace

Pairs makePairs(const DiffusionClassifierOptions& options, const NoiseSchedule& schedule,
                torch::IntArrayRef item, torch::Device device) {
    const int k = options.timesteps;
    const double T = schedule.timesteps();
    Pairs p;
    for (int i = 0; i < k; ++i)
        p.timesteps.push_back(
            std::min(static_cast<int>(T) - 1, static_cast<int>((i + 0.5) * T / k)));
    const auto order = bitReversed(k);
    std::vector<std::int64_t> t;
    for (int m = 0; m < options.noiseDraws; ++m)
        for (int i : order) {
            t.push_back(p.timesteps[static_cast<std::size_t>(i)]);
            p.column.push_back(i);
        }
    p.t = indexTensor(t, device);
    std::vector<std::int64_t> shape{static_cast<std::int64_t>(t.size())};
    shape.insert(shape.end(), item.begin(), item.end());
    auto gen = at::detail::createCPUGenerator(options.seed);
    p.noise = torch::randn(shape, gen, torch::kFloat32).to(device);
    return p;
}

Scored scoreImages(DenoisingClassifiable& model, const torch::Tensor& x0, int numClasses,
                   const Pairs& pairs, const DiffusionClassifierOptions& options,
                   bool keepPairErrors, const std::function<bool(double)>& progress) {
    const auto n = x0.size(0);
    const auto pairCount = static_cast<int>(pairs.size());
    const auto device = x0.device();
    // Stages that prune nothing are merged into the next: larger network calls, and pruning
    // that keeps every class runs exactly the unpruned computation (a row's result can depend
    // on what else is in its batch, in the last bits).
    std::vector<int> bounds{0}, keeps;
    int planned = numClasses;
    for (std::size_t s = 0; s < options.stages.size(); ++s) {
        if (options.keep[s] >= planned) continue;
        planned = options.keep[s];
        bounds.push_back(options.stages[s]);
        keeps.push_back(planned);
    }
    bounds.push_back(pairCount);

    // The work ahead, for the fraction done: every stage at its planned class count.
    double total = 0, done = 0;
    for (std::size_t s = 0; s + 1 < bounds.size(); ++s) {
        const int classes = s == 0 ? numClasses : keeps[s - 1];
        if (classes > 1 || s == 0) total += double(n) * classes * (bounds[s + 1] - bounds[s]);
    }

    Scored out;
    std::vector<std::vector<int>> active(static_cast<std::size_t>(n));
    for (auto& a : active) {
        a.resize(static_cast<std::size_t>(numClasses));
        std::iota(a.begin(), a.end(), 0);
    }
    std::vector<std::vector<double>> sums(static_cast<std::size_t>(n),
                                          std::vector<double>(std::size_t(numClasses), 0.0));
    std::vector<std::vector<std::int64_t>> counts(
        static_cast<std::size_t>(n), std::vector<std::int64_t>(std::size_t(numClasses), 0));
    out.evaluations.assign(static_cast<std::size_t>(n), 0);
    float* all = nullptr;
    if (keepPairErrors) {
        out.pairErrors = torch::full({n, numClasses, pairCount}, kNaN, torch::kFloat32);
        all = out.pairErrors.data_ptr<float>();
    }
    const std::int64_t chunk = std::max<std::int64_t>(1, model.denoisingBatch());

    for (std::size_t s = 0; s + 1 < bounds.size(); ++s) {
        const int p0 = bounds[s], p1 = bounds[s + 1];
        // Rows (image, class, pair), pairs ascending within each (image, class).
        std::vector<std::int64_t> image, label, pair;
        // A class left alone has won: it needs no more evaluations.
        const auto alone = [&](std::int64_t i) {
            return s > 0 && active[static_cast<std::size_t>(i)].size() < 2;
        };
        for (std::int64_t i = 0; i < n; ++i)
            for (int c : active[static_cast<std::size_t>(i)])
                for (int p = alone(i) ? p1 : p0; p < p1; ++p) {
                    image.push_back(i);
                    label.push_back(c);
                    pair.push_back(p);
                }
        const auto rows = static_cast<std::int64_t>(image.size());
        std::vector<float> errors(static_cast<std::size_t>(rows));
        for (std::int64_t r0 = 0; r0 < rows; r0 += chunk) {
            const auto r1 = std::min(rows, r0 + chunk);
            const auto slice = [&](const std::vector<std::int64_t>& v) {
                return indexTensor(std::vector<std::int64_t>(v.begin() + r0, v.begin() + r1),
                                   device);
            };
            auto p = slice(pair);
            auto e =
                model
                    .denoisingErrors(x0.index_select(0, slice(image)), slice(label),
                                     pairs.t.index_select(0, p), pairs.noise.index_select(0, p),
                                     options.loss == DenoisingLoss::L1)
                    .to(torch::kCPU, torch::kFloat32)
                    .contiguous();
            std::copy_n(e.data_ptr<float>(), r1 - r0, errors.begin() + r0);
            done += double(r1 - r0);
            if (progress && !progress(std::min(1.0, done / total))) return {};
        }
        for (std::int64_t r = 0; r < rows; ++r) {
            const auto i = static_cast<std::size_t>(image[r]);
            const auto c = static_cast<std::size_t>(label[r]);
            sums[i][c] += double(errors[static_cast<std::size_t>(r)]);
            counts[i][c] += 1;
            if (all) all[(image[r] * numClasses + label[r]) * pairCount + pair[r]] = errors[r];
        }
        for (std::int64_t i = 0; i < n; ++i) {
            auto& a = active[static_cast<std::size_t>(i)];
            if (!alone(i))
                out.evaluations[static_cast<std::size_t>(i)] += std::int64_t(a.size()) * (p1 - p0);
            if (s >= keeps.size()) continue;
            const auto keep = static_cast<std::size_t>(keeps[s]);
            if (keep >= a.size()) continue;
            // The best so far go on; a tie goes to the lower class, as the final choice does.
            const auto& sum = sums[static_cast<std::size_t>(i)];
            const auto& count = counts[static_cast<std::size_t>(i)];
            std::stable_sort(a.begin(), a.end(), [&](int x, int y) {
                return sum[std::size_t(x)] / double(count[std::size_t(x)]) <
                       sum[std::size_t(y)] / double(count[std::size_t(y)]);
            });
            a.resize(keep);
            std::sort(a.begin(), a.end());
        }
    }

    for (std::int64_t i = 0; i < n; ++i) {
        const auto& sum = sums[static_cast<std::size_t>(i)];
        const auto& count = counts[static_cast<std::size_t>(i)];
        std::vector<double> score(static_cast<std::size_t>(numClasses), kNaN);
        for (std::size_t c = 0; c < score.size(); ++c)
            if (count[c] > 0) score[c] = sum[c] / double(count[c]);
        int best = -1;
        for (int c : active[static_cast<std::size_t>(i)])
            if (best < 0 || score[std::size_t(c)] < score[std::size_t(best)]) best = c;
        out.scores.push_back(std::move(score));
        out.predictions.push_back(best);
    }
    return out;
}

std::vector<int> budgetPredictions(const torch::Tensor& pairErrors,
                                   const std::vector<int>& budgets) {
    auto e = pairErrors.to(torch::kCPU, torch::kFloat32).contiguous();
    const auto classes = e.size(0), pairs = e.size(1);
    const float* data = e.data_ptr<float>();
    std::vector<double> sums(static_cast<std::size_t>(classes), 0.0);
    std::vector<int> out;
    std::int64_t p = 0;
    for (int budget : budgets) {
        for (; p < std::min<std::int64_t>(budget, pairs); ++p)
            for (std::int64_t c = 0; c < classes; ++c)
                sums[std::size_t(c)] += double(data[c * pairs + p]);
        out.push_back(static_cast<int>(std::min_element(sums.begin(), sums.end()) - sums.begin()));
    }
    return out;
}

DiffusionExplanation explanationOf(const torch::Tensor& pairErrors, const Pairs& pairs,
                                   const std::vector<std::string>& classes, int label) {
    auto e = pairErrors.to(torch::kCPU, torch::kFloat32).contiguous();
    const auto numClasses = e.size(0), pairCount = e.size(1);
    const float* data = e.data_ptr<float>();
    DiffusionExplanation x;
    x.classes = classes;
    x.timesteps = pairs.timesteps;
    x.label = label;
    x.evaluations = numClasses * pairCount;
    const auto columns = pairs.timesteps.size();
    for (std::int64_t c = 0; c < numClasses; ++c) {
        double sum = 0;
        std::vector<double> curve(columns, 0.0), draws(columns, 0.0);
        for (std::int64_t p = 0; p < pairCount; ++p) {
            const double v = data[c * pairCount + p];
            sum += v;
            const auto k = static_cast<std::size_t>(pairs.column[static_cast<std::size_t>(p)]);
            curve[k] += v;
            draws[k] += 1;
        }
        for (std::size_t k = 0; k < columns; ++k) curve[k] /= std::max(1.0, draws[k]);
        x.errors.push_back(sum / double(pairCount));
        x.curves.push_back(std::move(curve));
    }
    x.predicted =
        static_cast<int>(std::min_element(x.errors.begin(), x.errors.end()) - x.errors.begin());
    return x;
}

std::vector<int> defaultBudgets(int pairs) {
    std::vector<int> out;
    for (int decade = 1; decade < pairs; decade *= 10)
        for (int m : {1, 2, 5})
            if (m * decade < pairs) out.push_back(m * decade);
    out.push_back(pairs);
    return out;
}

}  // namespace ll::diffusionclassify
