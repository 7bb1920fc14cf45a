// The learning curve's diffusion method: a ddpm or latent-ddpm run scored as a classifier on the
// study's held-out images (study/diffusionclassifier.h), a point at the run's own training size.
#include <cmath>

#include "data/loader.h"
#include "run/runfolder.h"
#include "study/diffusionclassifier.h"
#include "study/learningcurvedata.h"

namespace ll::learningcurve {
namespace fs = std::filesystem;

Result<std::int64_t> diffusionRunRows(const LearningCurveRequest& r, const Prepared& p) {
    const std::string run = r.diffusionRun.string();
    auto config = readRunConfig(r.diffusionRun);
    if (!config) return fail("diffusion: " + config.error().message);
    if (config->model != "ddpm" && config->model != "latent-ddpm")
        return fail("diffusion: " + run + " is a " + config->model +
                    " run; the diffusion classifier needs a ddpm or latent-ddpm run");
    if (p.train.modality != Modality::Image)
        return fail("diffusion: the diffusion classifier scores images; " + r.data.source +
                    " is a table");
    // Held-out rows drawn out of the training data may be rows the run learnt from.
    if (!p.heldOutSplit)
        return fail("diffusion: " + r.data.source +
                    " has no test split, so its held-out rows may be ones the run trained on; "
                    "use data kept in splits (Fashion-MNIST, IDX train and test files, or an "
                    "image folder with train/ and test/ folders)");
    const DatasetSpec& trained = config->dataset;
    if (trained.split == p.heldSpec.split)
        return fail("diffusion: " + run + " was trained on the " + trained.split +
                    " split, which is this study's held-out part");
    auto data = loadDataset(trained);
    if (!data) return fail("diffusion: the run's data: " + data.error().message);
    if (data->name != p.train.name)
        return fail("diffusion: " + run + " was trained on " + data->name + ", not on " +
                    p.train.name);
    if (data->classNames != p.train.classNames)
        return fail("diffusion: " + run + " was trained on other classes than " + r.data.source +
                    "'s");
    return data->size();
}

Result<DiffusionPoint> diffusionPoint(const LearningCurveRequest& r, const Prepared& p,
                                      const fs::path& work,
                                      const std::function<bool(double)>& progress) {
    auto trainRows = diffusionRunRows(r, p);
    if (!trainRows) return tl::unexpected(trainRows.error());
    DiffusionPoint point{.trainRows = *trainRows};
    const auto classes = static_cast<std::int64_t>(p.train.classNames.size());
    point.size = std::max<std::int64_t>(1, std::llround(double(*trainRows) / double(classes)));
    // The first images of the held-out part (already a seeded subset when it was limited).
    std::vector<std::int64_t> rows = p.heldRows;
    if (r.diffusionImages > 0 && static_cast<std::int64_t>(rows.size()) > r.diffusionImages) {
        // Spread over the part rather than its first rows: every k-th, so classes stay mixed.
        std::vector<std::int64_t> spread;
        const double stride = double(rows.size()) / double(r.diffusionImages);
        for (std::int64_t i = 0; i < r.diffusionImages; ++i)
            spread.push_back(rows[static_cast<std::size_t>(double(i) * stride)]);
        rows = std::move(spread);
    }
    point.images = static_cast<std::int64_t>(rows.size());
    for (int s = 0; s < r.seeds; ++s) {
        DiffusionClassifyRequest request{.run = r.diffusionRun,
                                         .data = p.heldSpec,
                                         .rows = rows,
                                         .options = r.diffusionOptions,
                                         .unpruned = false,
                                         .explain = 0,
                                         .baseline = false,
                                         .out = work / ("diffusion-s" + std::to_string(s))};
        request.options.seed = r.diffusionOptions.seed + static_cast<std::uint64_t>(s);
        auto result = classifyWithDiffusion(request, [&](const std::string&, double f) {
            return !progress || progress((double(s) + f) / double(r.seeds));
        });
        if (!result) return fail("diffusion: " + result.error().message);
        point.accuracies.push_back(result->accuracy);
        point.evaluationsPerImage = result->evaluationsPerImage;
    }
    return point;
}

}  // namespace ll::learningcurve
