#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace ll {

/// The most pixels an image file read by LatentLab may have: 2^27, about 134 megapixels
/// (400 MB decoded as RGB). A larger claim is refused before anything is decoded.
inline constexpr std::int64_t kMaxImagePixels = std::int64_t(1) << 27;

/// The most bytes an image file read by LatentLab may hold: a 16-bit RGBA PNG of
/// kMaxImagePixels, stored, is about this size; more is refused before it is read.
inline constexpr std::uint64_t kMaxImageFileBytes = std::uint64_t(kMaxImagePixels) * 8 + (1 << 20);

/// What a JPEG without its end-of-image marker is called where it is refused.
inline constexpr const char* kCutJpeg =
    "a JPEG cut short (no end-of-image marker): its missing rows would read as gray";

/// The image formats whose headers LatentLab reads, by content (not by name).
enum class ImageFormat { None, Png, Jpeg, Bmp, WebP, Tiff };

/// An image file's format, width and height as its header gives them.
struct ImageHeader {
    int width = 0;
    int height = 0;
    ImageFormat format = ImageFormat::None;
    /// A file of a known format whose sides are both positive.
    bool known() const { return width > 0 && height > 0; }
    std::int64_t pixels() const { return std::int64_t(width) * height; }
};

/// Width and height from the file's first bytes without decoding, whatever the file is named:
/// a PNG's IHDR chunk, a JPEG's start-of-frame marker, a BMP's info header (of a bit depth
/// OpenCV decodes), a WebP's VP8/VP8L/VP8X chunk, a TIFF's first directory. OpenCV decodes by
/// content and allocates what a header claims before it reads a pixel, so a reader of outside
/// images asks this first. {0, 0, None} when the file is none of these inside, or its header
/// is cut short or out of range.
ImageHeader readImageHeader(const std::filesystem::path& path);

/// The file name extensions of the formats readImageHeader reads (lower case, with the dot).
bool isImageExtension(const std::string& lowerCaseExtension);

/// Whether a JPEG's bytes hold the end-of-image marker after their first scan. A file cut
/// short (a failed download or copy) lacks it, and libjpeg decodes it all the same, its missing
/// rows gray, with a warning on stderr only. True for bytes that are not a JPEG.
bool jpegComplete(const unsigned char* bytes, std::size_t size);

/// jpegComplete of a file's bytes; true when it cannot be read (its reader says why).
bool jpegFileComplete(const std::filesystem::path& path);

}  // namespace ll
