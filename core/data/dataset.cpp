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
                     .featureNames = featureNames};
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

}  // namespace ll
