#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ll {

/// A grid of equally sized image tiles stored as one RGBA8 atlas: tile (r, c) occupies
/// pixels [c*tileWidth, (c+1)*tileWidth) x [r*tileHeight, (r+1)*tileHeight) of the atlas,
/// which is cols*tileWidth pixels wide and rows*tileHeight pixels high, rows top to bottom,
/// 4 bytes per pixel (R, G, B, A), no padding between rows. A plain value: it crosses from
/// the compute core to the widgets without any torch or OpenCV type.
struct SampleGrid {
    int rows = 0;
    int cols = 0;
    int tileWidth = 0;
    int tileHeight = 0;
    std::vector<std::uint8_t> rgba;
    /// Optional label per row (for example the class name), shown beside the row.
    std::vector<std::string> rowLabels;
    /// Training step the grid shows, or -1 for real data.
    std::int64_t step = -1;

    int atlasWidth() const { return cols * tileWidth; }
    int atlasHeight() const { return rows * tileHeight; }
    bool empty() const { return rows == 0 || cols == 0; }
};

}  // namespace ll
