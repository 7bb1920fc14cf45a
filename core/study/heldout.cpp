#include "study/heldout.h"

#include <cmath>

#include <torch/torch.h>

#include "data/loader.h"
#include "study/resample.h"

namespace ll {

using torch::Tensor;

Result<HeldOutPart> splitOffHeldOut(const DatasetSpec& spec, Dataset data, double fraction,
                                    std::int64_t limit, std::uint64_t seed) {
    HeldOutPart p;
    Tensor rows;
    if (auto held = loadHeldOut(spec, data)) {
        p.train = std::move(data);
        p.held = std::move(*held);
        p.text = "the " + std::string(spec.split == "test" ? "train" : "test") + " split";
        p.heldSpec = heldOutSpec(spec, p.train);  // the other split, whole
        p.otherSplit = true;
        rows = torch::arange(p.held.size(), torch::kInt64);
    } else {
        auto [keep, split] = stratifiedSplit(data.y, data.numClasses(), fraction, seed);
        p.train = data.subset(keep);
        p.held = data.subset(split);
        p.heldSpec = spec;
        rows = split;
        p.text = "a stratified " + std::to_string(static_cast<int>(std::lround(100 * fraction))) +
                 "% of the rows";
    }
    if (limit > 0 && p.held.size() > limit) {
        auto g = at::detail::createCPUGenerator(seed);
        const Tensor pick = torch::randperm(p.held.size(), g, torch::kInt64);
        const Tensor kept = std::get<0>(pick.slice(0, 0, limit).sort());
        p.held = p.held.subset(kept);
        rows = rows.index_select(0, kept);
    }
    if (p.held.size() < 1) return fail(spec.source + ": no held-out rows to score on");
    rows = rows.contiguous();
    p.heldRows.assign(rows.data_ptr<std::int64_t>(), rows.data_ptr<std::int64_t>() + rows.numel());
    return p;
}

}  // namespace ll
