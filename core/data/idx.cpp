#include "data/idx.h"

#include <array>
#include <cstring>
#include <limits>
#include <memory>

#include <torch/torch.h>
#include <zlib.h>

#include "common/cpu.h"
#include "common/format.h"
#include "common/text.h"

namespace ll {
namespace fs = std::filesystem;

namespace {

// Anything past this is refused before allocation: no real IDX dataset comes near it, and a
// hostile header must not make us reserve terabytes.
constexpr std::uint64_t kMaxPayloadBytes = 8ull << 30;
constexpr std::int64_t kMaxLabel = 9999;

// Reads through zlib, which passes uncompressed files through unchanged.
class GzReader {
public:
    explicit GzReader(const fs::path& path)
        : m_file(gzopen(path.c_str(), "rb")), m_prefix(path.string() + ": ") {}
    ~GzReader() {
        if (m_file) gzclose(m_file);
    }
    GzReader(const GzReader&) = delete;
    GzReader& operator=(const GzReader&) = delete;

    bool ok() const { return m_file != nullptr; }
    // Returns the bytes read; fewer than asked means end of data (or an error: see error()).
    std::size_t read(void* out, std::size_t bytes) {
        std::size_t total = 0;
        auto* dst = static_cast<char*>(out);
        while (total < bytes) {
            const unsigned chunk =
                static_cast<unsigned>(std::min<std::size_t>(bytes - total, 1u << 30));
            int n = gzread(m_file, dst + total, chunk);
            if (n <= 0) break;
            total += static_cast<std::size_t>(n);
        }
        return total;
    }
    // zlib's message, without the "path: " zlib puts before it (our messages name the file).
    std::string error() {
        int code = 0;
        const char* msg = gzerror(m_file, &code);
        std::string text = code < 0 && msg ? std::string(msg) : std::string();
        if (startsWith(text, m_prefix)) text.erase(0, m_prefix.size());
        return text;
    }

private:
    gzFile m_file;
    std::string m_prefix;
};

struct ElementType {
    std::uint8_t code;
    int bytes;
    const char* name;
};
constexpr std::array<ElementType, 6> kTypes{{{0x08, 1, "unsigned byte"},
                                             {0x09, 1, "signed byte"},
                                             {0x0B, 2, "short"},
                                             {0x0C, 4, "int"},
                                             {0x0D, 4, "float"},
                                             {0x0E, 8, "double"}}};

std::uint32_t bigEndian32(const unsigned char* p) {
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
           std::uint32_t(p[3]);
}

// IDX stores multi-byte values big-endian.
void swapToHost(std::vector<unsigned char>& data, int bytes) {
    if (bytes == 1) return;
    for (std::size_t i = 0; i + bytes <= data.size(); i += bytes)
        std::reverse(data.begin() + static_cast<std::ptrdiff_t>(i),
                     data.begin() + static_cast<std::ptrdiff_t>(i + bytes));
}

torch::Tensor toTensor(std::vector<unsigned char>& raw, const ElementType& type,
                       std::int64_t count) {
    swapToHost(raw, type.bytes);
    auto fromBlob = [&](torch::ScalarType st) {
        return torch::from_blob(raw.data(), {count}, st).clone();
    };
    switch (type.code) {
        case 0x08:
            return fromBlob(torch::kUInt8);
        case 0x09:
            return fromBlob(torch::kInt8);
        case 0x0B:
            return fromBlob(torch::kInt16);
        case 0x0C:
            return fromBlob(torch::kInt32);
        case 0x0D:
            return fromBlob(torch::kFloat32);
        default:
            return fromBlob(torch::kFloat64);
    }
}

}  // namespace

const std::vector<std::string>& fashionMnistClassNames() {
    static const std::vector<std::string> names{"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                "Bag",         "Ankle boot"};
    return names;
}

namespace {

// The header of an open IDX stream: its element type, dimensions and payload size, checked
// (a hostile header is refused here, before anything is allocated for its values).
struct Header {
    const ElementType* type = nullptr;
    std::vector<std::int64_t> dims;
    std::uint64_t count = 0;  // values
    std::uint64_t bytes = 0;  // payload bytes
};

Result<Header> readHeader(GzReader& in, const std::string& file) {
    unsigned char magic[4];
    if (in.read(magic, 4) != 4) {
        // A broken gzip stream yields no bytes either; say so rather than call the file short.
        if (const std::string zerr = in.error(); !zerr.empty())
            return fail(file + ": corrupt gzip data (" + zerr + ")");
        return fail(file + ": not an IDX file (shorter than its 4-byte magic number)");
    }
    Header h;
    for (const auto& t : kTypes)
        if (t.code == magic[2]) h.type = &t;
    if (magic[0] != 0 || magic[1] != 0 || h.type == nullptr || magic[3] == 0 || magic[3] > 4) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%02X%02X%02X%02X", magic[0], magic[1], magic[2],
                      magic[3]);
        return fail(file + ": wrong magic number " + hex +
                    " (an IDX file starts with 0x0000, a type code 08-0E and 1 to 4 dimensions)");
    }
    const int ndims = magic[3];
    std::vector<unsigned char> header(static_cast<std::size_t>(ndims) * 4);
    if (in.read(header.data(), header.size()) != header.size())
        return fail(file + ": truncated header (expected " + std::to_string(ndims) +
                    " dimensions)");
    std::uint64_t count = 1;
    for (int i = 0; i < ndims; ++i) {
        const std::uint32_t d = bigEndian32(header.data() + 4 * i);
        if (d == 0) return fail(file + ": dimension " + std::to_string(i) + " is zero");
        h.dims.push_back(d);
        if (count > kMaxPayloadBytes / d)
            count = kMaxPayloadBytes + 1;  // saturate, refused below
        else
            count *= d;
    }
    const std::uint64_t bytes = count * static_cast<std::uint64_t>(h.type->bytes);
    if (count > kMaxPayloadBytes || bytes > kMaxPayloadBytes) {
        std::string shape;
        for (auto d : h.dims) shape += (shape.empty() ? "" : " x ") + std::to_string(d);
        return fail(file + ": header declares " + shape + " " + h.type->name +
                    " values, more than the 8 GiB this reader accepts (hostile or corrupt header)");
    }
    h.count = count;
    h.bytes = bytes;
    return h;
}

Result<GzReader*> openIdx(const fs::path& path, std::unique_ptr<GzReader>& reader) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return fail(path.string() + ": no such file");
    reader = std::make_unique<GzReader>(path);
    if (!reader->ok()) return fail(path.string() + ": cannot open file");
    return reader.get();
}

// The header of the file at `path`, its payload unread.
Result<Header> headerOf(const fs::path& path) {
    std::unique_ptr<GzReader> reader;
    auto in = openIdx(path, reader);
    if (!in) return tl::unexpected(in.error());
    return readHeader(**in, path.string());
}

}  // namespace

Result<std::vector<std::int64_t>> readIdxDims(const fs::path& path) {
    auto h = headerOf(path);
    if (!h) return tl::unexpected(h.error());
    return h->dims;
}

Result<IdxArray> readIdx(const fs::path& path, bool asLabels) {
    const std::string file = path.string();
    std::unique_ptr<GzReader> reader;
    auto opened = openIdx(path, reader);
    if (!opened) return tl::unexpected(opened.error());
    GzReader& in = **opened;
    auto h = readHeader(in, file);
    if (!h) return tl::unexpected(h.error());
    const ElementType* type = h->type;
    const std::uint64_t count = h->count, bytes = h->bytes;
    if (asLabels && h->dims.size() != 1)
        return fail(file + ": a labels file must have 1 dimension, this one has " +
                    std::to_string(h->dims.size()));
    IdxArray array;
    array.dims = h->dims;

    // Grow the buffer only as data actually arrives, so a header that lies about its size
    // costs no more memory than the file holds.
    std::vector<unsigned char> raw;
    raw.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(bytes, 64ull << 20)));
    constexpr std::size_t kChunk = 4u << 20;
    while (raw.size() < bytes) {
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, bytes - raw.size()));
        const std::size_t old = raw.size();
        raw.resize(old + want);
        const std::size_t got = in.read(raw.data() + old, want);
        raw.resize(old + got);
        if (got < want) break;
    }
    if (raw.size() < bytes) {
        // A stream cut short is a truncated file; any other zlib error (a bad checksum) is
        // corrupt data, however many bytes came before it.
        const std::string zerr = in.error();
        if (!zerr.empty() && zerr != "unexpected end of file")
            return fail(file + ": corrupt gzip data (" + zerr + ") after " +
                        std::to_string(raw.size()) + " of the " + std::to_string(bytes) +
                        " bytes its header declares");
        return fail(file + ": truncated data (header promises " + std::to_string(bytes) +
                    " bytes, file holds " + std::to_string(raw.size()) + ")" +
                    (zerr.empty() ? "" : " [" + zerr + "]"));
    }
    // Bytes beyond what the header declares: a corrupt header, or not the file it claims.
    if (unsigned char extra[4096]; const std::size_t more = in.read(extra, sizeof extra))
        return fail(file + ": holds more data than its header declares (" + std::to_string(bytes) +
                    " bytes, then " + (more == sizeof extra ? "at least " : "") +
                    std::to_string(more) + " more)");
    torch::Tensor values = toTensor(raw, *type, static_cast<std::int64_t>(count));
    raw = {};  // the tensor holds its own copy
    if (asLabels) {
        if (values.is_floating_point()) {
            // Checked as they are: a class number beyond an integer has no integer to show.
            if (!torch::isfinite(values).all().item<bool>())
                return fail(file + ": labels must be whole numbers, not NaN or infinity");
            if (!torch::equal(values, values.round()))
                return fail(file + ": labels must be whole numbers");
            const double lo = values.min().item<double>(), hi = values.max().item<double>();
            if (lo < 0 || hi > kMaxLabel)
                return fail(file + ": label values must lie in 0.." + std::to_string(kMaxLabel) +
                            ", found " + formatNumber(lo) + ".." + formatNumber(hi));
        }
        values = values.to(torch::kInt64);
    } else if (type->code == 0x08) {
        values = values.to(torch::kFloat32).div_(255.0);
    } else {
        // Other element types have no fixed range: what is there is scaled to [0, 1], in
        // doubles and by halves (3e38 - -3e38 overflows a float, 1e308 - -1e308 a double).
        torch::Tensor v = values.to(torch::kFloat64);
        if (!torch::isfinite(v).all().item<bool>())
            return fail(file + ": contains NaN or infinite values");
        const double lo = v.min().item<double>() / 2, hi = v.max().item<double>() / 2;
        values = (hi > lo ? v.mul_(0.5).sub_(lo).div_(hi - lo) : v.zero_()).to(torch::kFloat32);
    }
    array.values = values;
    return array;
}

fs::path idxLabelsBeside(const fs::path& images) {
    std::string name = images.filename().string();
    for (auto [from, to] :
         {std::pair{"images-idx3", "labels-idx1"}, std::pair{"images-idx4", "labels-idx1"},
          std::pair{"images.idx3", "labels.idx1"}, std::pair{"images.idx4", "labels.idx1"},
          std::pair{"images", "labels"}}) {
        auto pos = name.find(from);
        if (pos == std::string::npos) continue;
        std::string candidate = name;
        candidate.replace(pos, std::strlen(from), to);
        for (const std::string& variant :
             {candidate, candidate + ".gz",
              endsWith(candidate, ".gz") ? candidate.substr(0, candidate.size() - 3) : candidate}) {
            std::error_code ec;
            if (fs::is_regular_file(images.parent_path() / variant, ec))
                return images.parent_path() / variant;
        }
    }
    return {};
}

Result<Dataset> readIdxDataset(const fs::path& images, const fs::path& labels, bool fashionNames,
                               const fs::path& otherSplitLabels) {
    // What can be checked before the images' payload is inflated is checked first: their
    // header, and the (small) labels file against it.
    auto header = headerOf(images);
    if (!header) return tl::unexpected(header.error());
    if (header->dims.size() < 3)
        return fail(images.string() +
                    ": an images file needs 3 dimensions (count x height x width), this one has " +
                    std::to_string(header->dims.size()));
    const auto& d0 = header->dims;
    const std::int64_t n = d0[0], h = d0[1], w = d0[2], c = d0.size() == 4 ? d0[3] : 1;
    if (c != 1 && c != 3)
        return fail(images.string() + ": images must have 1 or 3 channels, not " +
                    std::to_string(c));
    auto y = readIdx(labels, true);
    if (!y) return tl::unexpected(y.error());
    if (n != y->dims[0])
        return fail(images.string() + ": " + std::to_string(n) + " images but " + labels.string() +
                    " holds " + std::to_string(y->dims[0]) + " labels");
    const std::int64_t minLabel = y->values.min().item<std::int64_t>();
    const std::int64_t maxLabel = y->values.max().item<std::int64_t>();
    if (minLabel < 0 || maxLabel > kMaxLabel)
        return fail(labels.string() + ": label values must lie in 0.." + std::to_string(kMaxLabel) +
                    ", found " + std::to_string(minLabel) + ".." + std::to_string(maxLabel));
    // The classes are the label values either split holds, so that both number them alike;
    // the other split's file is its own load's to refuse.
    torch::Tensor present = torch::zeros({kMaxLabel + 1}, torch::kBool);
    present.index_fill_(0, y->values, true);
    if (!otherSplitLabels.empty())
        if (auto other = readIdx(otherSplitLabels, true);
            other && other->values.numel() > 0 && other->values.min().item<std::int64_t>() >= 0 &&
            other->values.max().item<std::int64_t>() <= kMaxLabel)
            present.index_fill_(0, other->values, true);
    const torch::Tensor values = present.nonzero().squeeze(1);  // ascending
    // The payload read, copied and made floats at once (a small gzip file may inflate to
    // gigabytes): refused when that cannot fit, before a byte of it is inflated.
    const double count = double(n) * double(h) * double(w) * double(c);
    if (const auto why = beyondMemory(count * (2.0 * header->type->bytes + 8.0)); !why.empty())
        return fail(images.string() + ": " + std::to_string(n) + " images of " + std::to_string(w) +
                    "x" + std::to_string(h) + (c == 3 ? " RGB" : "") + why);
    auto x = readIdx(images);
    if (!x) return tl::unexpected(x.error());

    Dataset d;
    d.modality = Modality::Image;
    d.source = images.string();
    d.x = x->values.view({n, h, w, c}).permute({0, 3, 1, 2}).contiguous();
    // Labels 1..26 (EMNIST Letters) or 0 and 7 make classes of the values present, named by
    // them: no class without a sample.
    torch::Tensor index = torch::full({kMaxLabel + 1}, -1, torch::kInt64);
    index.index_put_({values}, torch::arange(values.numel(), torch::kInt64));
    d.y = index.index_select(0, y->values);
    const bool fashion = fashionNames && values.max().item<std::int64_t>() < 10;
    for (std::int64_t k = 0; k < values.numel(); ++k) {
        const std::int64_t v = values[k].item<std::int64_t>();
        d.classNames.push_back(fashion ? fashionMnistClassNames()[static_cast<std::size_t>(v)]
                                       : std::to_string(v));
    }
    return d;
}

}  // namespace ll
