#pragma once

// Tiles of a SampleGrid as numbers, for tests that compare pictures tile by tile.

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "common/samplegrid.h"

namespace ll::testing {

/// Tile `i`'s RGBA bytes, rows top to bottom; `inset` pixels of its edge left out (the Steer
/// grid frames locked tiles in their two outer pixels).
inline std::vector<int> tilePixels(const SampleGrid& g, int i, int inset = 0) {
    std::vector<int> out;
    const int row = i / g.cols, col = i % g.cols;
    for (int y = inset; y < g.tileHeight - inset; ++y)
        for (int x = inset * 4; x < (g.tileWidth - inset) * 4; ++x)
            out.push_back(g.rgba[std::size_t((row * g.tileHeight + y) * g.atlasWidth() * 4 +
                                             col * g.tileWidth * 4 + x)]);
    return out;
}

/// The largest difference of two tiles' bytes (256 when their sizes differ): a batch and a
/// single decode may round a byte apart.
inline int largestDifference(const std::vector<int>& a, const std::vector<int>& b) {
    if (a.size() != b.size()) return 256;
    int worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
    return worst;
}

}  // namespace ll::testing
