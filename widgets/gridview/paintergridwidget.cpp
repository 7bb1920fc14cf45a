#include "gridview/paintergridwidget.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include <QPainter>
#include <QTimer>

#include "gridview/gridcolors.h"

namespace ll::widgets {

PainterGridWidget::PainterGridWidget(QWidget* parent) : QWidget(parent) {
    // Every pixel is painted from m_frame, so Qt need not clear first.
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMouseTracking(true);
}

void PainterGridWidget::setGrid(std::shared_ptr<const ll::SampleGrid> grid) {
    m_grid = std::move(grid);
    ++m_gridGeneration;
    m_dirty = true;
    update();
}

void PainterGridWidget::setView(float zoom, QPointF pan) {
    m_zoom = zoom;
    m_pan = pan;
    m_dirty = true;
    update();
}

QImage PainterGridWidget::grabFrame() {
    m_grabbing = true;
    QImage image = grab().toImage();
    m_grabbing = false;
    return image;
}

QImage PainterGridWidget::renderGrid(const ll::SampleGrid& grid, const GridLayout& layout) {
    QImage image(std::max(layout.viewWidth, 1), std::max(layout.viewHeight, 1),
                 QImage::Format_RGB32);
    image.fill(kBackgroundColor);
    if (layout.empty() || grid.empty()) return image;

    // The texel map grid.frag reads, so both renderers show the same texel in every pixel.
    std::vector<std::int32_t> columns(std::size_t(image.width()));
    std::vector<std::int32_t> rows(std::size_t(image.height()));
    layout.fillTexelMap(columns, rows);
    // Only the canvas columns a tile covers, each with its atlas byte offset: every row then
    // copies without a test per pixel, and the margins cost nothing.
    std::vector<std::int32_t> tileX;
    std::vector<std::size_t> srcOffset;
    for (int x = 0; x < image.width(); ++x) {
        if (columns[std::size_t(x)] < 0) continue;
        tileX.push_back(x);
        srcOffset.push_back(std::size_t(columns[std::size_t(x)]) * 4);
    }
    const auto rowBytes = static_cast<std::size_t>(grid.atlasWidth()) * 4;
    for (int y = 0; y < image.height(); ++y) {
        const std::int32_t sy = rows[std::size_t(y)];
        if (sy < 0) continue;
        const std::uint8_t* src = grid.rgba.data() + std::size_t(sy) * rowBytes;
        auto* dst = reinterpret_cast<QRgb*>(image.scanLine(y));
        for (std::size_t i = 0; i < tileX.size(); ++i) {
            const std::uint8_t* p = src + srcOffset[i];
            dst[tileX[i]] = qRgb(p[0], p[1], p[2]);
        }
    }
    return image;
}

void PainterGridWidget::paintEvent(QPaintEvent* event) {
    const qreal dpr = devicePixelRatioF();
    if (m_dirty || m_frame.isNull()) {
        const int w = qRound(width() * dpr);
        const int h = qRound(height() * dpr);
        static const ll::SampleGrid kNoGrid;
        const ll::SampleGrid& grid = m_grid ? *m_grid : kNoGrid;
        const GridLayout layout =
            makeGridLayout(w, h, grid.rows, grid.cols, grid.tileWidth, grid.tileHeight, m_zoom,
                           float(m_pan.x()), float(m_pan.y()));
        m_frame = renderGrid(grid, layout);
        m_frame.setDevicePixelRatio(dpr);
        m_dirty = false;
    }
    QPainter painter(this);
    painter.drawImage(QPointF(0, 0), m_frame);
    painter.end();
    // Queued so that a receiver may grab or change the view without re-entering paintEvent.
    if (!m_grabbing) {
        QTimer::singleShot(0, this, [this, generation = m_gridGeneration] {
            if (generation == m_gridGeneration) Q_EMIT frameRendered();
        });
    }
}

void PainterGridWidget::resizeEvent(QResizeEvent* event) {
    m_dirty = true;
    QWidget::resizeEvent(event);
}

}  // namespace ll::widgets
