#include "image/imageheader.h"

#include <cstdint>
#include <cstring>
#include <fstream>

namespace ll {

ImageHeader readImageHeader(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    unsigned char h[24] = {};
    if (!in.read(reinterpret_cast<char*>(h), 2)) return {};
    auto be16 = [](const unsigned char* p) { return (p[0] << 8) | p[1]; };
    if (h[0] == 0x89 && h[1] == 'P') {
        if (!in.read(reinterpret_cast<char*>(h) + 2, 22) || std::memcmp(h + 12, "IHDR", 4) != 0)
            return {};
        auto be32 = [](const unsigned char* p) {
            return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 |
                   std::uint32_t(p[2]) << 8 | p[3];
        };
        const std::uint32_t width = be32(h + 16), height = be32(h + 20);
        if (width > 0x7fffffff || height > 0x7fffffff) return {};  // 31 bits by the standard
        return {int(width), int(height)};
    }
    if (h[0] != 0xFF || h[1] != 0xD8) return {};
    // Segments up to the first frame header: SOF0..SOF15, except DHT (C4), JPG (C8), DAC (CC).
    for (int segment = 0; segment < 256; ++segment) {
        if (in.get() != 0xFF) return {};
        int marker = in.get();
        while (marker == 0xFF) marker = in.get();
        if (!in || marker == 0xD9 || marker == 0xDA) return {};
        if ((marker >= 0xD0 && marker <= 0xD8) || marker == 0x01) continue;  // no length
        unsigned char field[7];
        if (!in.read(reinterpret_cast<char*>(field), 2)) return {};
        const int length = be16(field);
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
            marker != 0xCC) {
            if (!in.read(reinterpret_cast<char*>(field) + 2, 5)) return {};
            return {be16(field + 5), be16(field + 3)};
        }
        in.seekg(length - 2, std::ios::cur);
    }
    return {};
}

}  // namespace ll
