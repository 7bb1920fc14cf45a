#include "data/dataset.h"

#include <cmath>

#include <torch/torch.h>

namespace ll {

std::vector<std::int64_t> Dataset::classCounts() const {
    std::vector<std::int64_t> counts(classNames.size(), 0);
    if (!y.defined() || y.numel() == 0) return counts;
    auto bins = torch::bincount(y, {}, static_cast<std::int64_t>(classNames.size()));
    auto acc = bins.accessor<std::int64_t, 1>();
    for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = acc[static_cast<std::int64_t>(i)];
    return counts;
}

DatasetSummary Dataset::summary() const {
    DatasetSummary s{.name = name,
                     .source = source,
                     .modality = modality,
                     .count = size(),
                     .classNames = classNames,
                     .classCounts = classCounts(),
                     .featureNames = featureNames,
                     .note = note};
    if (modality == Modality::Image && x.defined()) {
        s.channels = static_cast<int>(x.size(1));
        s.height = static_cast<int>(x.size(2));
        s.width = static_cast<int>(x.size(3));
    } else if (x.defined()) {
        s.features = static_cast<int>(x.size(1));
    }
    return s;
}

Dataset Dataset::subset(const torch::Tensor& indices) const {
    Dataset d = *this;
    d.x = x.index_select(0, indices).contiguous();
    d.y = y.index_select(0, indices).contiguous();
    return d;
}

std::vector<double> Dataset::meanVector() const {
    if (!mean.defined()) return {};
    auto m = mean.to(torch::kFloat64).contiguous();
    return {m.data_ptr<double>(), m.data_ptr<double>() + m.numel()};
}

std::vector<double> Dataset::stdVector() const {
    if (!std.defined()) return {};
    auto s = std.to(torch::kFloat64).contiguous();
    return {s.data_ptr<double>(), s.data_ptr<double>() + s.numel()};
}

namespace {

// `v` rounded to `places` digits after the point (0.1 + 0.2 is still 0.30000000000000004 then:
// TableSamples::text writes it as 0.3); as it is where there are none, or it has no fraction a
// double could keep.
double roundedTo(double v, int places) {
    if (places < 0 || places > 15 || !std::isfinite(v)) return v;
    const double scale = std::pow(10.0, places);
    const double scaled = v * scale;
    if (std::fabs(scaled) >= 4503599627370496.0) return v;  // 2^52: whole already
    const double r = std::round(scaled) / scale;
    return r == 0 ? 0.0 : r;  // -0.2 to no places is 0, not -0
}

}  // namespace

TableSamples makeTable(const torch::Tensor& rows, const torch::Tensor& labels,
                       const std::vector<std::string>& columns, const std::vector<double>& mean,
                       const std::vector<double>& std, const std::vector<std::string>& classNames,
                       const std::vector<Categorical>& categorical,
                       const std::vector<int>& decimals) {
    TableSamples t;
    t.classNames = classNames;
    t.rows = rows.size(0);
    const auto d = static_cast<std::size_t>(rows.size(1));
    auto v = rows.to(torch::kCPU, torch::kFloat64).contiguous();
    const double* p = v.data_ptr<double>();
    const auto original = [&](std::int64_t r, std::size_t c) {
        return p[static_cast<std::size_t>(r) * d + c] * (c < std.size() ? std[c] : 1.0) +
               (c < mean.size() ? mean[c] : 0.0);
    };
    const bool named = columns.size() == d;
    const bool coded = named && categoricalFault(categorical, d).empty();
    // The table's columns: each feature, or a categorical column in place of its features.
    std::vector<std::size_t> from;           // the first feature of each column
    std::vector<const Categorical*> groups;  // its categories, or null
    auto next = coded ? categorical.begin() : categorical.end();
    for (std::size_t c = 0; c < d;) {
        if (next != categorical.end() && next->first == c) {
            t.columns.push_back(next->column);
            t.levels.push_back(next->values);
            from.push_back(c), groups.push_back(&*next);
            c = next++->end();
        } else {
            t.columns.push_back(named ? columns[c] : "x" + std::to_string(c));
            t.levels.emplace_back();
            t.decimals.resize(t.columns.size(), -1);
            if (decimals.size() == d) t.decimals.back() = decimals[c];
            from.push_back(c++), groups.push_back(nullptr);
        }
    }
    t.decimals.resize(t.columns.size(), -1);
    t.values.reserve(static_cast<std::size_t>(t.rows) * t.columns.size());
    for (std::int64_t r = 0; r < t.rows; ++r)
        for (std::size_t k = 0; k < t.columns.size(); ++k) {
            if (!groups[k]) {
                t.values.push_back(roundedTo(original(r, from[k]), t.decimals[k]));
                continue;
            }
            std::size_t best = 0;
            for (std::size_t j = 1; j < groups[k]->values.size(); ++j)
                if (original(r, from[k] + j) > original(r, from[k] + best)) best = j;
            t.values.push_back(static_cast<double>(best));
        }
    auto l = labels.to(torch::kCPU, torch::kInt64).contiguous();
    for (std::int64_t i = 0; i < l.numel(); ++i)
        t.labels.push_back(static_cast<int>(l.data_ptr<std::int64_t>()[i]));
    return t;
}

}  // namespace ll
