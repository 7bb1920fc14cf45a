#include "image/imageheader.h"

#include <cstdint>
#include <cstring>
#include <fstream>

#include "common/atomicfile.h"

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

bool jpegComplete(const unsigned char* bytes, std::size_t size) {
    if (size < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8) return true;  // not a JPEG
    // Segments by their lengths up to the first scan (an EXIF thumbnail's own end marker lies
    // inside APP1 and is skipped), then the end marker anywhere after it: inside entropy-coded
    // data FF is always followed by 00 or a restart marker, never by D9.
    std::size_t at = 2;
    while (at + 4 <= size) {
        if (bytes[at] != 0xFF) break;  // out of step (bytes libjpeg skips): search from here
        const unsigned char marker = bytes[at + 1];
        if (marker == 0xFF) {  // fill byte
            ++at;
            continue;
        }
        if (marker == 0xD9) return false;  // ends before any scan
        if ((marker >= 0xD0 && marker <= 0xD8) || marker == 0x01) {
            at += 2;
            continue;
        }
        const std::size_t length = std::size_t(bytes[at + 2]) << 8 | bytes[at + 3];
        if (length < 2) return false;
        at += 2 + length;
        if (marker == 0xDA) break;
    }
    for (std::size_t i = at; i + 1 < size; ++i)
        if (bytes[i] == 0xFF && bytes[i + 1] == 0xD9) return true;
    return false;
}

bool jpegFileComplete(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (in.get() != 0xFF || in.get() != 0xD8) return true;  // no JPEG: read no further
    in.close();
    const auto bytes = readFile(path);
    return !bytes ||
           jpegComplete(reinterpret_cast<const unsigned char*>(bytes->data()), bytes->size());
}

}  // namespace ll
