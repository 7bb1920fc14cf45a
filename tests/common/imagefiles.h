#pragma once

// Image files as bytes for the readers' tests: a BMP (which OpenCV decodes whatever the file
// is named) and PNG headers that claim any size.

#include <cstdint>
#include <string>

namespace ll::testing {

/// A 24-bit BMP's header claiming w x h, followed by its rows (gray ramps) when `pixels`.
inline std::string bmp(int w, int h, bool pixels) {
    const int row = (w * 3 + 3) / 4 * 4;
    std::string b(54, '\0');
    auto le32 = [&](int at, std::uint32_t v) {
        for (int i = 0; i < 4; ++i) b[at + i] = char(v >> (8 * i));
    };
    b[0] = 'B', b[1] = 'M';
    le32(2, 54 + std::uint32_t(row) * std::uint32_t(h));
    le32(10, 54), le32(14, 40), le32(18, std::uint32_t(w)), le32(22, std::uint32_t(h));
    b[26] = 1, b[28] = 24;
    if (pixels)
        for (int y = 0; y < h; ++y) {
            std::string r(row, '\0');
            for (int x = 0; x < w * 3; ++x) r[x] = char(x * 10 + y);
            b += r;
        }
    return b;
}

/// A PNG's signature and IHDR chunk claiming w x h (8-bit RGB), and nothing after.
inline std::string pngHeader(std::uint32_t w, std::uint32_t h) {
    std::string p("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
    for (std::uint32_t v : {w, h})
        for (int i = 3; i >= 0; --i) p += char(v >> (8 * i));
    return p + std::string("\x08\x02\0\0\0", 5);
}

}  // namespace ll::testing
