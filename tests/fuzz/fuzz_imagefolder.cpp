// An image folder through loadDataset: two classes, one a well-formed 8x8 PNG, the other the
// fuzzer's bytes under a name the mode byte picks (.png, .jpg, .bmp, .pgm, .webp, .tif, .gif);
// the mode also picks the asked size and colour.
#include "data/loader.h"
#include "fuzzinput.h"

namespace {

// An 8x8 grey PNG, a few bytes of zlib stream in its IDAT.
const unsigned char kPng[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x08, 0x08, 0x00, 0x00, 0x00,
    0x00, 0xe1, 0x64, 0xe1, 0x57, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0x60, 0xa0, 0x0e, 0x00, 0x00, 0x00, 0x48, 0x00, 0x01, 0x2e, 0xb8, 0x3c,
    0x7e, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ll::fuzz::Input in(data, size);
    const std::uint8_t mode = in.byte();
    const auto dir = ll::fuzz::freshFolder("images");
    std::filesystem::create_directories(dir / "good");
    std::filesystem::create_directories(dir / "fuzzed");
    ll::fuzz::writeFile(dir / "good" / "a.png", {reinterpret_cast<const char*>(kPng), sizeof kPng});
    static const char* names[] = {"b.png",  "b.jpg", "b.bmp", "b.pgm",
                                  "b.webp", "b.tif", "b.gif", "b.tiff"};
    ll::fuzz::writeFile(dir / "fuzzed" / names[mode & 7], in.rest());
    static const int sizes[] = {0, 8, 28, 64};
    static const ll::ImageColour colours[] = {ll::ImageColour::FollowData, ll::ImageColour::Gray,
                                              ll::ImageColour::Rgb, ll::ImageColour::FollowData};
    ll::DatasetSpec spec{.source = dir.string(),
                         .imageSize = sizes[(mode >> 3) & 3],
                         .colour = colours[(mode >> 5) & 3]};
    (void)ll::loadDataset(spec);
    return 0;
}
