#include "window/savedsamples.h"

#include <cstring>

#include <QCoreApplication>
#include <QFileInfo>
#include <QImage>

#include "models/catalog.h"
#include "run/runfolder.h"

namespace ll::widgets {

namespace {

// A run's saved sample PNG back into tiles: its rows and columns come from the run's config.
ll::SampleGrid gridFromImage(const QImage& image, int rows, int cols,
                             std::vector<std::string> labels) {
    ll::SampleGrid grid;
    if (image.isNull() || rows < 1 || cols < 1 || image.width() % cols || image.height() % rows)
        return grid;
    const QImage rgba = image.convertToFormat(QImage::Format_RGBA8888);
    grid.rows = rows;
    grid.cols = cols;
    grid.tileWidth = rgba.width() / cols;
    grid.tileHeight = rgba.height() / rows;
    grid.rowLabels = std::move(labels);
    grid.rgba.resize(static_cast<std::size_t>(rgba.width()) * rgba.height() * 4);
    for (int y = 0; y < rgba.height(); ++y)
        std::memcpy(grid.rgba.data() + std::size_t(y) * rgba.width() * 4, rgba.constScanLine(y),
                    rgba.width() * 4);
    return grid;
}

}  // namespace

std::optional<SavedSamples> readSavedSamples(const QString& runDir) {
    const std::filesystem::path run = runDir.toStdString();
    auto config = ll::readRunConfig(run);
    auto data = ll::readRunData(run);
    if (!config || !data) return std::nullopt;
    SavedSamples out;
    const ll::ModelInfo* model = ll::findModel(config->model);
    if (data->shape.tabular() || (model && !model->generates)) {
        out.drawFresh = true;
        return out;
    }
    const std::vector<std::int64_t> steps = ll::runfiles::sampleSteps(run);
    if (steps.empty()) return out;
    const auto png = ll::runfiles::samples(run, steps.back());
    const int rows = std::min(data->shape.numClasses, config->maxGridRows);
    std::vector<std::string> labels(
        data->classNames.begin(),
        data->classNames.begin() +
            std::min<std::size_t>(std::max(rows, 0), data->classNames.size()));
    out.grid = gridFromImage(QImage(QString::fromStdString(png.string())), rows,
                             config->samplesPerClass, std::move(labels));
    out.caption =
        QCoreApplication::translate("SavedSamples", "%1: samples at %2")
            .arg(QFileInfo(runDir).fileName(), QString::fromStdString(png.filename().string()));
    return out;
}

}  // namespace ll::widgets
