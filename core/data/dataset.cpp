#include "data/dataset.h"

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

TableSamples makeTable(const torch::Tensor& rows, const torch::Tensor& labels,
                       const std::vector<std::string>& columns, const std::vector<double>& mean,
                       const std::vector<double>& std, const std::vector<std::string>& classNames) {
    TableSamples t;
    t.columns = columns;
    t.classNames = classNames;
    t.rows = rows.size(0);
    const auto d = static_cast<std::size_t>(rows.size(1));
    auto v = rows.to(torch::kCPU, torch::kFloat64).contiguous();
    const double* p = v.data_ptr<double>();
    t.values.assign(p, p + v.numel());
    for (std::size_t i = 0; i < t.values.size(); ++i) {
        const std::size_t c = i % d;
        t.values[i] =
            t.values[i] * (c < std.size() ? std[c] : 1.0) + (c < mean.size() ? mean[c] : 0.0);
    }
    auto l = labels.to(torch::kCPU, torch::kInt64).contiguous();
    for (std::int64_t i = 0; i < l.numel(); ++i)
        t.labels.push_back(static_cast<int>(l.data_ptr<std::int64_t>()[i]));
    if (t.columns.size() != d) {
        t.columns.clear();
        for (std::size_t c = 0; c < d; ++c) t.columns.push_back("x" + std::to_string(c));
    }
    return t;
}

}  // namespace ll
