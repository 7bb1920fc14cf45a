#include "data/transforms.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <torch/torch.h>

#include "common/text.h"

namespace ll {

namespace {

torch::Tensor seededPermutation(std::int64_t n, std::uint64_t seed) {
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(seed);
    return torch::randperm(n, gen, torch::kInt64);
}

}  // namespace

Result<Dataset> keepClasses(const Dataset& d, const std::vector<int>& classes) {
    if (classes.empty()) return d;
    torch::Tensor mapping = torch::full({d.numClasses()}, -1, torch::kInt64);
    Dataset out = d;
    out.classNames.clear();
    out.keptClasses.clear();
    for (std::size_t i = 0; i < classes.size(); ++i) {
        const int k = classes[i];
        if (k < 0 || k >= d.numClasses())
            return fail(d.source + ": no class " + std::to_string(k) + " (the dataset has " +
                        std::to_string(d.numClasses()) + " classes, numbered from 0)");
        if (mapping[k].item<std::int64_t>() >= 0)
            return fail(d.source + ": class '" + d.classNames[static_cast<std::size_t>(k)] +
                        "' is listed twice");
        mapping[k] = static_cast<std::int64_t>(i);
        out.classNames.push_back(d.classNames[static_cast<std::size_t>(k)]);
        out.keptClasses.push_back(
            d.keptClasses.empty() ? k : d.keptClasses[static_cast<std::size_t>(k)]);
    }
    torch::Tensor newLabels = mapping.index_select(0, d.y);
    torch::Tensor keep = (newLabels >= 0).nonzero().squeeze(1);
    out.x = d.x.index_select(0, keep).contiguous();
    out.y = newLabels.index_select(0, keep).contiguous();
    return out;
}

Result<Dataset> longTail(const Dataset& d, double ratio, std::uint64_t seed) {
    if (ratio <= 1.0) return d;
    const auto counts = d.classCounts();
    std::vector<int> order(counts.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return counts[a] > counts[b]; });
    const double nMax = static_cast<double>(counts[static_cast<std::size_t>(order[0])]);
    const double k = std::max<double>(1.0, static_cast<double>(order.size()) - 1.0);
    torch::Tensor perm = seededPermutation(d.size(), seed);
    torch::Tensor shuffledY = d.y.index_select(0, perm);
    std::vector<torch::Tensor> kept;
    for (std::size_t rank = 0; rank < order.size(); ++rank) {
        const int c = order[rank];
        const auto want = static_cast<std::int64_t>(
            std::max(1.0, std::floor(nMax * std::pow(ratio, -static_cast<double>(rank) / k))));
        torch::Tensor members = perm.index_select(0, (shuffledY == c).nonzero().squeeze(1));
        kept.push_back(members.slice(0, 0, std::min<std::int64_t>(want, members.size(0))));
    }
    torch::Tensor indices = std::get<0>(torch::cat(kept).sort());
    return d.subset(indices);
}

Dataset randomSubset(const Dataset& d, std::int64_t count, std::uint64_t seed) {
    if (count <= 0 || count >= d.size()) return d;
    torch::Tensor indices =
        std::get<0>(seededPermutation(d.size(), seed).slice(0, 0, count).sort());
    return d.subset(indices);
}

Result<std::pair<Dataset, Dataset>> trainValidationSplit(const Dataset& d,
                                                         double validationFraction,
                                                         std::uint64_t seed) {
    if (!(validationFraction > 0.0 && validationFraction < 1.0))
        return fail("the validation fraction must lie strictly between 0 and 1");
    const auto nVal =
        static_cast<std::int64_t>(std::round(static_cast<double>(d.size()) * validationFraction));
    if (nVal < 1 || nVal >= d.size())
        return fail("the dataset has too few samples (" + std::to_string(d.size()) +
                    ") for this split");
    torch::Tensor perm = seededPermutation(d.size(), seed);
    return std::pair{d.subset(std::get<0>(perm.slice(0, nVal).sort())),
                     d.subset(std::get<0>(perm.slice(0, 0, nVal).sort()))};
}

namespace {

// The rows of `d` in original units, in the columns `names` (those with categories), matched
// by name; the features of a value `d` never takes are 0.
Result<torch::Tensor> matchedByName(const Dataset& d, const std::vector<std::string>& names,
                                    const std::vector<Categorical>& categorical) {
    const auto own =
        d.x.to(torch::kFloat64) * d.std.to(torch::kFloat64) + d.mean.to(torch::kFloat64);
    for (std::size_t j = 0; j < d.featureNames.size(); ++j) {
        if (std::find(names.begin(), names.end(), d.featureNames[j]) != names.end()) continue;
        const Categorical* c = categoryOf(d.categorical, j);
        if (!c)
            return fail(d.source + ": its column '" + d.featureNames[j] +
                        "' is not one of the run's (" + joinedNames(names, 200) + ")");
        const auto mine = std::find_if(categorical.begin(), categorical.end(),
                                       [&](const Categorical& r) { return r.column == c->column; });
        return fail(d.source + ": column '" + c->column + "' takes '" + c->values[j - c->first] +
                    "', " +
                    (mine == categorical.end() ? "but the run read it as no category"
                                               : "a value the run never saw (its values: " +
                                                     joinedNames(mine->values, 200) + ")"));
    }
    std::vector<torch::Tensor> columns;
    for (std::size_t k = 0; k < names.size(); ++k) {
        const auto at = std::find(d.featureNames.begin(), d.featureNames.end(), names[k]);
        if (at != d.featureNames.end()) {
            columns.push_back(own.select(1, at - d.featureNames.begin()));
        } else if (const Categorical* c = categoryOf(categorical, k)) {
            // A value the file never takes; but a column it did not read as categories (one
            // value, or one each in a small file) is not there at all.
            if (std::none_of(d.categorical.begin(), d.categorical.end(),
                             [&](const Categorical& mine) { return mine.column == c->column; }))
                return fail(d.source + ": has no column '" + c->column +
                            "' read as categories, as the run's data had" +
                            (d.note.empty() ? "" : " (" + d.note + ")"));
            columns.push_back(torch::zeros({d.size()}, torch::kFloat64));
        } else {
            return fail(d.source + ": has no column '" + names[k] +
                        "' (its columns: " + joinedNames(d.featureNames, 200) + ")");
        }
    }
    return torch::stack(columns, 1);
}

}  // namespace

Result<Dataset> restandardise(const Dataset& d, const std::vector<std::string>& names,
                              const std::vector<double>& mean, const std::vector<double>& std,
                              const std::vector<Categorical>& categorical) {
    if (mean.empty()) return d;
    // Named columns are matched by name (a file may order them its own way); categories
    // always are, a value the file never takes a column of zeros.
    const bool byName =
        !categorical.empty() || !d.categorical.empty() ||
        (d.featureNames != names && !numberedNames(d.featureNames) && !numberedNames(names));
    if (byName && d.mean.defined() && d.std.defined() && mean.size() == names.size() &&
        std.size() == names.size()) {
        auto original = matchedByName(d, names, categorical);
        if (!original) return tl::unexpected(original.error());
        Dataset out = d;
        const auto runMean = torch::tensor(mean, torch::kFloat64);
        const auto runStd = torch::tensor(std, torch::kFloat64);
        out.x = ((*original - runMean) / runStd).to(torch::kFloat32);
        out.mean = runMean.to(torch::kFloat32);
        out.std = runStd.to(torch::kFloat32);
        out.featureNames = names;
        out.categorical = categorical;
        out.decimals.clear();  // the file's columns', in its order
        return out;
    }
    const auto n = static_cast<std::size_t>(d.x.size(1));
    if (mean.size() != n || std.size() != n || !d.mean.defined() || !d.std.defined())
        return fail(d.source + ": " + std::to_string(n) + " columns, the run's data had " +
                    std::to_string(mean.size()));
    if (!numberedNames(d.featureNames) && !numberedNames(names) && d.featureNames != names)
        return fail(d.source + ": its columns (" + joinedNames(d.featureNames, 120) +
                    ") are not the run's (" + joinedNames(names, 120) + ")");
    Dataset out = d;
    const auto runMean = torch::tensor(mean, torch::kFloat64);
    const auto runStd = torch::tensor(std, torch::kFloat64);
    // In doubles: the file's own units, then the run's standardisation.
    out.x = ((d.x.to(torch::kFloat64) * d.std.to(torch::kFloat64) + d.mean.to(torch::kFloat64) -
              runMean) /
             runStd)
                .to(torch::kFloat32);
    out.mean = runMean.to(torch::kFloat32);
    out.std = runStd.to(torch::kFloat32);
    return out;
}

}  // namespace ll
