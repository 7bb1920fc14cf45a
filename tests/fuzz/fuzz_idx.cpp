// IDX images and labels, raw or gzip, through loadDataset as a user's file goes. Mode byte:
// bit 0 names the files .gz, bit 1 gzips the images part (headers that promise more than the
// body, bodies that inflate far beyond the header), bit 2 loads the folder instead of the file.
#include <zlib.h>

#include "data/loader.h"
#include "fuzzinput.h"

namespace {

std::string gzipped(std::string_view raw) {
    z_stream z{};
    std::string out(compressBound(static_cast<uLong>(raw.size())) + 64, '\0');
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
    z.avail_in = static_cast<uInt>(raw.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ll::fuzz::Input in(data, size);
    const std::uint8_t mode = in.byte();
    const auto labels = in.part();
    const auto images = in.rest();
    const auto dir = ll::fuzz::freshFolder("idx");
    const std::string gz = mode & 1 ? ".gz" : "";
    const auto imagesFile = dir / ("train-images-idx3-ubyte" + gz);
    ll::fuzz::writeFile(imagesFile, mode & 2 ? gzipped(images) : std::string(images));
    ll::fuzz::writeFile(dir / ("train-labels-idx1-ubyte" + gz), labels);
    ll::DatasetSpec spec{.source = (mode & 4 ? dir : imagesFile).string()};
    (void)ll::loadDataset(spec);
    return 0;
}
