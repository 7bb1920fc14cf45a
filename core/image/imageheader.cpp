#include "image/imageheader.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "common/atomicfile.h"

namespace ll {

namespace {

std::uint32_t le16(const unsigned char* p) {
    return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8;
}
std::uint32_t le24(const unsigned char* p) {
    return le16(p) | std::uint32_t(p[2]) << 16;
}
std::uint32_t le32(const unsigned char* p) {
    return le24(p) | std::uint32_t(p[3]) << 24;
}
std::uint32_t be16(const unsigned char* p) {
    return std::uint32_t(p[0]) << 8 | p[1];
}
std::uint32_t be32(const unsigned char* p) {
    return be16(p) << 16 | be16(p + 2);
}

// Sides that fit an int (31 bits, as PNG's standard says) make a header; others none.
ImageHeader sides(std::uint64_t width, std::uint64_t height, ImageFormat format) {
    if (width == 0 || height == 0 || width > 0x7fffffff || height > 0x7fffffff) return {};
    return {int(width), int(height), format};
}

// The bytes read from the file's start, and how many.
struct Start {
    unsigned char b[32] = {};
    std::size_t size = 0;
    bool is(const char* magic, std::size_t at = 0) const {
        const std::size_t n = std::strlen(magic);
        return at + n <= size && std::memcmp(b + at, magic, n) == 0;
    }
};

ImageHeader png(const Start& s) {
    if (s.size < 24 || !s.is("IHDR", 12)) return {};
    return sides(be32(s.b + 16), be32(s.b + 20), ImageFormat::Png);
}

// The info header's sides and bit depth (BITMAPCOREHEADER of 12 bytes, or one of 40 and
// more); a negative height is a top-down image. Depths OpenCV's decoder does not know are none.
ImageHeader bmp(const Start& s) {
    if (s.size < 30) return {};
    const std::uint32_t info = le32(s.b + 14);
    std::int64_t width = 0, height = 0;
    std::uint32_t depth = 0;
    if (info == 12) {
        width = le16(s.b + 18), height = le16(s.b + 20), depth = le16(s.b + 24);
    } else if (info >= 40 && info <= 124) {
        width = std::int32_t(le32(s.b + 18)), height = std::int32_t(le32(s.b + 22));
        depth = le16(s.b + 28);
    }
    if (depth != 1 && depth != 4 && depth != 8 && depth != 16 && depth != 24 && depth != 32)
        return {};
    if (width <= 0) return {};
    return sides(std::uint64_t(width), std::uint64_t(height < 0 ? -height : height),
                 ImageFormat::Bmp);
}

// RIFF....WEBP and its first chunk: lossy (VP8, 14-bit sides after the start code), lossless
// (VP8L, 14-bit sides minus one) or extended (VP8X, the canvas's 24-bit sides minus one).
ImageHeader webp(const Start& s) {
    if (!s.is("WEBP", 8) || s.size < 30) return {};
    const unsigned char* data = s.b + 20;
    if (s.is("VP8 ", 12) && data[3] == 0x9d && data[4] == 0x01 && data[5] == 0x2a)
        return sides(le16(data + 6) & 0x3fff, le16(data + 8) & 0x3fff, ImageFormat::WebP);
    if (s.is("VP8L", 12) && data[0] == 0x2f) {
        const std::uint32_t bits = le32(data + 1);
        return sides((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1, ImageFormat::WebP);
    }
    if (s.is("VP8X", 12)) return sides(le24(data + 4) + 1, le24(data + 7) + 1, ImageFormat::WebP);
    return {};
}

// A TIFF's first image file directory: its ImageWidth (256) and ImageLength (257) entries in
// the byte order the header names, as libtiff reads them (the first of a tag repeated wins; a
// size of another type than SHORT or LONG is no header here). BigTIFF is none. So is a block
// OpenCV decodes at once, a tile (TileWidth 322, TileLength 323) or a strip of rows
// (RowsPerStrip 278), far larger than the image: OpenCV allocates it as the header says before
// it reads a pixel (up to a gigabyte).
ImageHeader tiff(std::ifstream& in, const Start& s) {
    const bool little = s.is("II*", 0) && s.b[3] == 0;
    if (s.size < 8 || (!little && !(s.is("MM", 0) && s.b[2] == 0 && s.b[3] == 42))) return {};
    auto u16 = [&](const unsigned char* p) { return little ? le16(p) : be16(p); };
    auto u32 = [&](const unsigned char* p) { return little ? le32(p) : be32(p); };
    unsigned char count[2];
    in.clear();
    in.seekg(std::streamoff(u32(s.b + 4)));
    if (!in.read(reinterpret_cast<char*>(count), 2)) return {};
    constexpr std::uint32_t kTags[] = {256, 257, 278, 322, 323};
    std::uint64_t value[5] = {};
    bool seen[5] = {};
    for (std::uint32_t i = 0, n = std::min<std::uint32_t>(u16(count), 4096); i < n; ++i) {
        unsigned char entry[12];
        if (!in.read(reinterpret_cast<char*>(entry), 12)) return {};
        const std::uint32_t tag = u16(entry), type = u16(entry + 2);
        for (int t = 0; t < 5; ++t) {
            if (tag != kTags[t] || seen[t]) continue;
            if (type != 3 && type != 4) return {};
            seen[t] = true;
            value[t] = type == 3 ? u16(entry + 8) : u32(entry + 8);
        }
    }
    const std::uint64_t width = value[0], height = value[1], rowsPerStrip = value[2];
    std::uint64_t blockWidth = value[3], blockHeight = value[4];
    if (blockWidth == 0 && blockHeight == 0)  // strips: all rows for 0 or 2^32 - 1
        blockWidth = width, blockHeight = rowsPerStrip == 0xFFFFFFFFu ? height : rowsPerStrip;
    // Each side below 2^32, so no product overflows. A writer's "one strip" of 65535 rows over
    // a small image passes; a block of gigabytes over a few pixels does not.
    const std::uint64_t block = blockWidth * blockHeight;
    if (width > 0x7fffffff || height > 0x7fffffff ||
        (block > (1u << 24) && block / 4 > width * height))
        return {};
    return sides(width, height, ImageFormat::Tiff);
}

// Segments up to the first frame header: SOF0..SOF15, except DHT (C4), JPG (C8), DAC (CC).
ImageHeader jpeg(std::ifstream& in) {
    in.clear();
    in.seekg(2);
    for (int segment = 0; segment < 256; ++segment) {
        if (in.get() != 0xFF) return {};
        int marker = in.get();
        while (marker == 0xFF) marker = in.get();
        if (!in || marker == 0xD9 || marker == 0xDA) return {};
        if ((marker >= 0xD0 && marker <= 0xD8) || marker == 0x01) continue;  // no length
        unsigned char field[7];
        if (!in.read(reinterpret_cast<char*>(field), 2)) return {};
        const std::uint32_t length = be16(field);
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
            marker != 0xCC) {
            if (!in.read(reinterpret_cast<char*>(field) + 2, 5)) return {};
            return sides(be16(field + 5), be16(field + 3), ImageFormat::Jpeg);
        }
        in.seekg(std::streamoff(length) - 2, std::ios::cur);
    }
    return {};
}

}  // namespace

bool isImageExtension(const std::string& e) {
    return e == ".png" || e == ".jpg" || e == ".jpeg" || e == ".bmp" || e == ".webp" ||
           e == ".tif" || e == ".tiff";
}

ImageHeader readImageHeader(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    Start s;
    in.read(reinterpret_cast<char*>(s.b), sizeof s.b);
    s.size = std::size_t(in.gcount());
    if (s.size < 2) return {};
    if (s.b[0] == 0x89 && s.b[1] == 'P') return png(s);
    if (s.b[0] == 0xFF && s.b[1] == 0xD8) return jpeg(in);
    if (s.is("BM")) return bmp(s);
    if (s.is("RIFF")) return webp(s);
    if (s.is("II") || s.is("MM")) return tiff(in, s);
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
