#include "image/grid.h"

#include <torch/torch.h>
#include <zlib.h>

#include "common/atomicfile.h"

namespace ll {

SampleGrid makeGrid(const torch::Tensor& images, int cols, std::vector<std::string> rowLabels) {
    SampleGrid grid;
    if (!images.defined() || images.numel() == 0 || cols <= 0) return grid;
    TORCH_CHECK(images.dim() == 4, "makeGrid expects N x C x H x W");
    const auto n = images.size(0);
    const int c = static_cast<int>(images.size(1));
    grid.cols = cols;
    grid.rows = static_cast<int>((n + cols - 1) / cols);
    grid.tileHeight = static_cast<int>(images.size(2));
    grid.tileWidth = static_cast<int>(images.size(3));
    grid.rowLabels = std::move(rowLabels);
    // N x C x H x W -> rows x H x cols x W x 4, all in one tensor op.
    torch::Tensor rgb = images.detach()
                            .to(torch::kCPU, torch::kFloat32)
                            .clamp(0, 1)
                            .mul(255)
                            .round()
                            .to(torch::kUInt8);
    rgb = c == 1 ? rgb.expand({n, 3, grid.tileHeight, grid.tileWidth}) : rgb.slice(1, 0, 3);
    torch::Tensor rgba = torch::cat(
        {rgb, torch::full({n, 1, grid.tileHeight, grid.tileWidth}, 255, torch::kUInt8)}, 1);
    const std::int64_t total = static_cast<std::int64_t>(grid.rows) * cols;
    if (total > n)
        rgba = torch::cat(
            {rgba, torch::zeros({total - n, 4, grid.tileHeight, grid.tileWidth}, torch::kUInt8)});
    rgba = rgba.view({grid.rows, cols, 4, grid.tileHeight, grid.tileWidth})
               .permute({0, 3, 1, 4, 2})
               .contiguous();
    grid.rgba.assign(rgba.data_ptr<std::uint8_t>(), rgba.data_ptr<std::uint8_t>() + rgba.numel());
    return grid;
}

namespace {

void appendBigEndian(std::string& out, std::uint32_t v) {
    out += static_cast<char>(v >> 24), out += static_cast<char>(v >> 16);
    out += static_cast<char>(v >> 8), out += static_cast<char>(v);
}

void appendChunk(std::string& out, const char* type, const std::string& data) {
    appendBigEndian(out, static_cast<std::uint32_t>(data.size()));
    std::string body = std::string(type, 4) + data;
    out += body;
    appendBigEndian(out,
                    static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()),
                                                     static_cast<uInt>(body.size()))));
}

}  // namespace

std::string encodePng(const SampleGrid& grid) {
    const auto w = static_cast<std::uint32_t>(grid.atlasWidth());
    const auto h = static_cast<std::uint32_t>(grid.atlasHeight());
    std::string out("\x89PNG\r\n\x1a\n", 8);
    std::string ihdr;
    appendBigEndian(ihdr, w), appendBigEndian(ihdr, h);
    ihdr +=
        std::string("\x08\x06\x00\x00\x00", 5);  // 8 bit, RGBA, deflate, no filter, no interlace
    appendChunk(out, "IHDR", ihdr);
    // Each scanline is prefixed by its filter type (0: none).
    std::string raw;
    raw.reserve((w * 4 + 1) * h);
    for (std::uint32_t y = 0; y < h; ++y) {
        raw += '\0';
        raw.append(reinterpret_cast<const char*>(grid.rgba.data()) + std::size_t(y) * w * 4, w * 4);
    }
    uLongf size = compressBound(static_cast<uLong>(raw.size()));
    std::string packed(size, '\0');
    compress2(reinterpret_cast<Bytef*>(packed.data()), &size,
              reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()), 6);
    packed.resize(size);
    appendChunk(out, "IDAT", packed);
    appendChunk(out, "IEND", {});
    return out;
}

Result<void> writePng(const SampleGrid& grid, const std::filesystem::path& path) {
    if (grid.empty()) return fail(path.string() + ": nothing to write (empty grid)");
    return writeFileAtomic(path, encodePng(grid));
}

}  // namespace ll
