#include "gridview/paintergridwidget.h"

#include <algorithm>
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

    const int tileW = layout.tileWidth;
    const int tileH = layout.tileHeight;
    const int atlasW = grid.atlasWidth();
    std::vector<int> srcX;
    for (int index = 0; index < layout.tileCount(); ++index) {
        const int row = index / layout.cols;
        const int col = index % layout.cols;
        const TileRect rect = layout.tileRect(row, col);
        const int x0 = std::max(rect.left, 0);
        const int x1 = std::min(rect.right, image.width());
        const int y0 = std::max(rect.top, 0);
        const int y1 = std::min(rect.bottom, image.height());
        if (x0 >= x1 || y0 >= y1) continue;

        // One texel column per screen column, computed once per tile.
        srcX.resize(static_cast<std::size_t>(x1 - x0));
        for (int x = x0; x < x1; ++x)
            srcX[x - x0] = col * tileW + texelForPixel(x, rect.left, rect.right, tileW);
        for (int y = y0; y < y1; ++y) {
            const int sy = row * tileH + texelForPixel(y, rect.top, rect.bottom, tileH);
            const std::uint8_t* src = grid.rgba.data() + static_cast<std::size_t>(sy) * atlasW * 4;
            auto* dst = reinterpret_cast<QRgb*>(image.scanLine(y));
            for (int x = x0; x < x1; ++x) {
                const std::uint8_t* p = src + static_cast<std::size_t>(srcX[x - x0]) * 4;
                dst[x] = qRgb(p[0], p[1], p[2]);
            }
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
