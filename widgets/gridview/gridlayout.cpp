#include "gridview/gridlayout.h"

#include <algorithm>
#include <cmath>

namespace ll::widgets {

namespace {

float contentExtent(int count, int tileSize) {
    return static_cast<float>(count * tileSize) + static_cast<float>(count + 1) * kTileGap;
}

// Centring offset of the padded content for a given scale; pan is added on top.
float centringOffset(int viewExtent, float content, float scale) {
    return (static_cast<float>(viewExtent) - content * scale) * 0.5f;
}

int snapEdge(float x) {
    return static_cast<int>(std::ceil(x - 0.5f));
}

}  // namespace

GridLayout makeGridLayout(int viewWidth, int viewHeight, int rows, int cols, int tileWidth,
                          int tileHeight, float zoom, float panX, float panY) {
    GridLayout layout;
    layout.viewWidth = viewWidth;
    layout.viewHeight = viewHeight;
    layout.rows = rows;
    layout.cols = cols;
    layout.tileWidth = tileWidth;
    layout.tileHeight = tileHeight;
    if (layout.empty() || viewWidth <= 0 || viewHeight <= 0) return layout;

    const float contentW = contentExtent(cols, tileWidth);
    const float contentH = contentExtent(rows, tileHeight);
    const float fit = std::min(static_cast<float>(viewWidth) / contentW,
                               static_cast<float>(viewHeight) / contentH);
    layout.scale = fit * zoom;
    layout.originX = centringOffset(viewWidth, contentW, layout.scale) + panX;
    layout.originY = centringOffset(viewHeight, contentH, layout.scale) + panY;
    return layout;
}

TileRect GridLayout::tileRect(int row, int col) const {
    // p0 = origin + (gap + cell * (tile + gap)) * scale, p1 = p0 + tile * scale; both
    // renderers draw from these edges (fillTexelMap), and hit-testing uses them too.
    const float stepX = static_cast<float>(tileWidth) + kTileGap;
    const float stepY = static_cast<float>(tileHeight) + kTileGap;
    const float x0 = originX + (kTileGap + static_cast<float>(col) * stepX) * scale;
    const float y0 = originY + (kTileGap + static_cast<float>(row) * stepY) * scale;
    const float x1 = x0 + static_cast<float>(tileWidth) * scale;
    const float y1 = y0 + static_cast<float>(tileHeight) * scale;
    return TileRect{snapEdge(x0), snapEdge(y0), snapEdge(x1), snapEdge(y1)};
}

int GridLayout::tileIndexAt(int x, int y) const {
    if (empty() || scale <= 0.0f) return -1;
    // Invert the float placement to find the candidate cell, then confirm with the snapped
    // rectangle so hit-testing agrees with what is drawn even at rounding boundaries.
    const float cx = ((static_cast<float>(x) + 0.5f - originX) / scale - kTileGap) /
                     (static_cast<float>(tileWidth) + kTileGap);
    const float cy = ((static_cast<float>(y) + 0.5f - originY) / scale - kTileGap) /
                     (static_cast<float>(tileHeight) + kTileGap);
    const int col = static_cast<int>(std::floor(cx));
    const int row = static_cast<int>(std::floor(cy));
    for (int r = row - 1; r <= row + 1; ++r) {
        for (int c = col - 1; c <= col + 1; ++c) {
            if (r < 0 || c < 0 || r >= rows || c >= cols) continue;
            if (tileRect(r, c).contains(x, y)) return r * cols + c;
        }
    }
    return -1;
}

void GridLayout::fillTexelMap(std::span<std::int32_t> columns,
                              std::span<std::int32_t> rowsOut) const {
    std::fill(columns.begin(), columns.end(), -1);
    std::fill(rowsOut.begin(), rowsOut.end(), -1);
    if (empty()) return;
    // Tiles are disjoint along each axis (snapped edges never cross), so every canvas pixel
    // gets at most one tile's texel.
    const auto fill = [](std::span<std::int32_t> out, int canvas, int start, int end, int tileSize,
                         int cell) {
        const int from = std::max(start, 0);
        const int to = std::min({end, canvas, static_cast<int>(out.size())});
        for (int p = from; p < to; ++p)
            out[std::size_t(p)] = cell * tileSize + texelForPixel(p, start, end, tileSize);
    };
    for (int col = 0; col < cols; ++col) {
        const TileRect rect = tileRect(0, col);
        fill(columns, viewWidth, rect.left, rect.right, tileWidth, col);
    }
    for (int row = 0; row < rows; ++row) {
        const TileRect rect = tileRect(row, 0);
        fill(rowsOut, viewHeight, rect.top, rect.bottom, tileHeight, row);
    }
}

void GridLayout::panForZoomAround(float zoom, float newZoom, float x, float y, float& panX,
                                  float& panY) const {
    if (empty() || zoom <= 0.0f || scale <= 0.0f) return;
    const float newScale = scale / zoom * newZoom;
    // The content point under (x, y) in atlas units must stay under (x, y).
    const float ax = (x - originX) / scale;
    const float ay = (y - originY) / scale;
    const float contentW = contentExtent(cols, tileWidth);
    const float contentH = contentExtent(rows, tileHeight);
    panX = x - ax * newScale - centringOffset(viewWidth, contentW, newScale);
    panY = y - ay * newScale - centringOffset(viewHeight, contentH, newScale);
}

}  // namespace ll::widgets
