#pragma once

#include <cstdint>
#include <span>

namespace ll::widgets {

/// Gap between tiles (and around the grid) in atlas pixels at zoom 1; it scales with the view.
inline constexpr float kTileGap = 2.0f;
inline constexpr float kMinZoom = 0.25f;
inline constexpr float kMaxZoom = 64.0f;

/// A tile's pixels on screen: [left, right) x [top, bottom), in whole canvas pixels.
struct TileRect {
    int left = 0;
    int top = 0;
    int right = 0;
    int bottom = 0;

    int width() const { return right - left; }
    int height() const { return bottom - top; }
    bool contains(int x, int y) const { return x >= left && x < right && y >= top && y < bottom; }
    bool operator==(const TileRect&) const = default;
};

/// Where a grid lands in a canvas. Both renderers draw from its texel map (fillTexelMap): the
/// QPainter fallback on the CPU, the Vulkan fragment shader from a buffer holding the same
/// numbers, so their pixels agree by construction. Std-only so it is trivially tested.
struct GridLayout {
    int viewWidth = 0;
    int viewHeight = 0;
    int rows = 0;
    int cols = 0;
    int tileWidth = 0;
    int tileHeight = 0;
    /// Screen pixels per atlas pixel (fit factor times zoom).
    float scale = 1.0f;
    /// Screen position of the padded content's top-left corner (centring plus pan).
    float originX = 0.0f;
    float originY = 0.0f;

    bool empty() const { return rows <= 0 || cols <= 0 || tileWidth <= 0 || tileHeight <= 0; }
    int tileCount() const { return empty() ? 0 : rows * cols; }

    /// The screen rectangle of tile (row, col). Edges are snapped with ceil(x - 0.5), which
    /// selects the pixels whose centres lie inside the float rectangle. Both renderers' pixels
    /// (through fillTexelMap) and hit-testing come from these edges.
    TileRect tileRect(int row, int col) const;
    TileRect tileRect(int index) const { return tileRect(index / cols, index % cols); }

    /// Index (row * cols + col) of the tile covering canvas pixel (x, y), or -1 for a gap,
    /// the background or an empty grid.
    int tileIndexAt(int x, int y) const;

    /// The atlas texel each canvas pixel shows, one axis at a time (the layout is separable:
    /// a tile's column decides its left and right edges, its row its top and bottom):
    /// `columns[x]` is the atlas column that canvas column x shows and `rows[y]` the atlas row
    /// of canvas row y, or -1 where no tile is (gaps and margins: the background). Entries
    /// past the canvas are -1 too; spans shorter than the canvas are filled as far as they go.
    void fillTexelMap(std::span<std::int32_t> columns, std::span<std::int32_t> rows) const;

    /// The pan that keeps the content under canvas point (x, y) fixed when zooming to newZoom.
    void panForZoomAround(float zoom, float newZoom, float x, float y, float& panX,
                          float& panY) const;
};

/// Lays out a rows x cols grid of tileWidth x tileHeight tiles in a viewWidth x viewHeight
/// canvas: at zoom 1 the grid plus a gap around it fits the canvas, centred; pan moves it by
/// whole screen pixels (fractions allowed).
GridLayout makeGridLayout(int viewWidth, int viewHeight, int rows, int cols, int tileWidth,
                          int tileHeight, float zoom, float panX, float panY);

/// The texel column (or row) inside a tile that screen pixel `pixel` shows, for a tile of
/// `tileSize` texels drawn over [start, end): nearest-neighbour, in integers.
inline int texelForPixel(int pixel, int start, int end, int tileSize) {
    const std::int64_t extent = std::int64_t(end) - start;
    if (extent <= 0) return 0;
    // 64 bits: a big tile zoomed far in takes 2 * extent * tileSize past 2^31.
    const std::int64_t t = ((2 * (std::int64_t(pixel) - start) + 1) * tileSize) / (2 * extent);
    return t < 0 ? 0 : (t >= tileSize ? tileSize - 1 : static_cast<int>(t));
}

}  // namespace ll::widgets
