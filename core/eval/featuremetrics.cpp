#include "eval/featuremetrics.h"

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/npy.h"

namespace ll {

using nlohmann::json;

Result<FeatureMetrics> measureFeatureFiles(const FeatureMetricsConfig& c) {
    if (c.train.empty() != c.test.empty())
        return fail("the data-copying test needs both --train and --test");
    auto real = readNpy(c.real);
    if (!real) return tl::unexpected(real.error());
    auto fake = readNpy(c.fake);
    if (!fake) return tl::unexpected(fake.error());
    FeatureMetrics m{.config = c,
                     .realCount = real->size(0),
                     .fakeCount = fake->size(0),
                     .features = real->dim() > 1 ? real->size(1) : 0};
    auto fid = frechetDistance(*real, *fake);
    if (!fid) return tl::unexpected(fid.error());
    m.fid = *fid;
    auto kid = kernelInceptionDistance(
        *real, *fake, KidConfig{.subsets = c.kidSubsets, .subsetSize = c.kidSize, .seed = c.seed});
    if (!kid) return tl::unexpected(kid.error());
    m.kid = *kid;
    auto pr = precisionRecall(*real, *fake, c.k);
    if (!pr) return tl::unexpected(pr.error());
    m.precisionRecall = *pr;
    auto dc = densityCoverage(*real, *fake, c.kDensity);
    if (!dc) return tl::unexpected(dc.error());
    m.densityCoverage = *dc;
    if (!c.train.empty()) {
        auto train = readNpy(c.train);
        if (!train) return tl::unexpected(train.error());
        auto test = readNpy(c.test);
        if (!test) return tl::unexpected(test.error());
        m.copyingConfig = DataCopyingConfig{.cells = c.cells};
        auto ct = dataCopying(*train, *test, *fake, m.copyingConfig);
        if (!ct) return tl::unexpected(ct.error());
        m.copying = std::move(*ct);
        m.trainCount = train->size(0);
        m.testCount = test->size(0);
    }
    return m;
}

std::string featureMetricsJson(const FeatureMetrics& m) {
    const auto& c = m.config;
    json protocol{{"real", c.real.string()},          {"fake", c.fake.string()},
                  {"real_count", m.realCount},        {"fake_count", m.fakeCount},
                  {"features", m.features},           {"k_precision_recall", c.k},
                  {"k_density_coverage", c.kDensity}, {"seed", c.seed},
                  {"kid_subsets", m.kid.subsets},     {"kid_subset_size", m.kid.subsetSize}};
    json result{{"fid", m.fid},
                {"kid", m.kid.mean},
                {"kid_std", m.kid.std},
                {"precision", m.precisionRecall.precision},
                {"recall", m.precisionRecall.recall},
                {"density", m.densityCoverage.density},
                {"coverage", m.densityCoverage.coverage}};
    if (m.copying) {
        result["ct"] = m.copying->ct;
        auto cells = json::array();
        for (const auto& cell : m.copying->cells)
            cells.push_back({{"cell", cell.id},
                             {"train", cell.train},
                             {"test", cell.test},
                             {"generated", cell.generated},
                             {"z", cell.z},
                             {"kept", cell.kept}});
        result["ct_cells"] = std::move(cells);
        protocol.update({{"train", c.train.string()},
                         {"test", c.test.string()},
                         {"train_count", m.trainCount},
                         {"test_count", m.testCount},
                         {"cells", m.copyingConfig.cells},
                         {"min_generated", m.copyingConfig.minGenerated}});
    }
    result["protocol"] = protocol;
    return result.dump(2) + "\n";
}

Result<void> writeFeatureMetrics(const FeatureMetrics& m, const std::filesystem::path& file) {
    return writeFileAtomic(file, featureMetricsJson(m));
}

}  // namespace ll
