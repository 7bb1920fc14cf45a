#include "data/preview.h"

#include <torch/torch.h>

#include "data/loader.h"
#include "image/grid.h"

namespace ll {

namespace {

DatasetPreview previewOf(const Dataset& d, int perClass, int maxRows) {
    DatasetPreview preview{.summary = d.summary()};
    if (d.modality != Modality::Image) {
        const std::int64_t n = d.size();
        // At most kPreviewTableRows, and two million cells however wide the table.
        const std::int64_t shown =
            std::min({n, kPreviewTableRows, std::max<std::int64_t>(1, 2'000'000 / d.x.size(1))});
        const auto rows = torch::arange(shown, torch::kInt64).mul_(n).div_(shown, "floor");
        preview.table =
            makeTable(d.x.index_select(0, rows), d.y.index_select(0, rows), d.featureNames,
                      d.meanVector(), d.stdVector(), d.classNames, d.categorical, d.decimals);
        return preview;
    }
    const int rows = std::min(d.numClasses(), maxRows);
    std::vector<torch::Tensor> tiles;
    std::vector<std::string> labels;
    const auto blank = torch::zeros({1, d.x.size(1), d.x.size(2), d.x.size(3)});
    for (int c = 0; c < rows; ++c) {
        auto members = (d.y == c).nonzero().squeeze(1).slice(0, 0, perClass);
        auto images = d.x.index_select(0, members);
        tiles.push_back(images);
        for (auto k = images.size(0); k < perClass; ++k) tiles.push_back(blank);
        labels.push_back(d.classNames[static_cast<std::size_t>(c)]);
    }
    preview.grid = makeGrid(torch::cat(tiles), perClass, std::move(labels));
    return preview;
}

// What reading a source depends on: every field but the transforms'.
bool sameReading(const DatasetSpec& a, const DatasetSpec& b) {
    return a.source == b.source && a.split == b.split && a.labelColumn == b.labelColumn &&
           a.imageSize == b.imageSize && a.colour == b.colour;
}

}  // namespace

Result<DatasetPreview> previewDataset(const DatasetSpec& spec, int perClass, int maxRows) {
    auto d = loadDataset(spec);
    if (!d) return tl::unexpected(d.error());
    return previewOf(*d, perClass, maxRows);
}

struct DatasetPreviewer::Kept {
    DatasetSpec spec;
    Dataset whole;
};

DatasetPreviewer::DatasetPreviewer() = default;
DatasetPreviewer::~DatasetPreviewer() = default;

Result<DatasetPreview> DatasetPreviewer::load(const DatasetSpec& spec) {
    m_kept.reset();  // the old data goes before the new is read
    auto whole = loadWholeDataset(spec);
    if (!whole) return tl::unexpected(whole.error());
    auto shaped = shapeDataset(*whole, spec);
    if (!shaped) return tl::unexpected(shaped.error());
    DatasetPreview preview = previewOf(*shaped, 8, 10);
    if (whole->x.nbytes() + whole->y.nbytes() <= static_cast<std::size_t>(kKeptBytes))
        m_kept = std::make_unique<Kept>(Kept{spec, std::move(*whole)});
    return preview;
}

Result<DatasetPreview> DatasetPreviewer::reshape(const DatasetSpec& spec) {
    if (!holds(spec)) return load(spec);
    auto shaped = shapeDataset(m_kept->whole, spec);
    if (!shaped) return tl::unexpected(shaped.error());
    return previewOf(*shaped, 8, 10);
}

bool DatasetPreviewer::holds(const DatasetSpec& spec) const {
    return m_kept && sameReading(m_kept->spec, spec);
}

}  // namespace ll
