#include "common/npy.h"

#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/atomicfile.h"
#include "common/text.h"

namespace ll {

namespace {

// The values are copied byte for byte; a big-endian host would need swapping.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__);

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::size_t kPrefix = kMagic.size() + 2;  // magic, major and minor version

struct Header {
    std::string descr;
    bool fortranOrder = false;
    std::vector<std::int64_t> shape;
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

// The text of one value in the header's Python dict literal: 'x', (a, b) or a bare word.
std::optional<std::string_view> valueOf(std::string_view dict, std::string_view key) {
    std::string quoted = "'";
    quoted.append(key).push_back('\'');
    const auto at = dict.find(quoted);
    if (at == std::string_view::npos) return std::nullopt;
    const auto colon = dict.find(':', at);
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view rest = trim(dict.substr(colon + 1));
    if (rest.empty()) return std::nullopt;
    const char open = rest.front();
    const auto end = open == '\''  ? rest.find('\'', 1)
                     : open == '(' ? rest.find(')')
                                   : rest.find_first_of(",}");
    if (end == std::string_view::npos) return std::nullopt;
    return trim(rest.substr(0, open == '\'' || open == '(' ? end + 1 : end));
}

std::optional<std::vector<std::int64_t>> parseShape(std::string_view tuple) {
    if (tuple.size() < 2 || tuple.front() != '(' || tuple.back() != ')') return std::nullopt;
    std::vector<std::int64_t> shape;
    std::string_view rest = tuple.substr(1, tuple.size() - 2);
    while (!trim(rest).empty()) {
        const auto comma = rest.find(',');
        const std::string_view item = trim(rest.substr(0, comma));
        std::int64_t n = -1;
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
        if (ec != std::errc() || end != item.data() + item.size() || n < 0) return std::nullopt;
        shape.push_back(n);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return shape;
}

Result<Header> parseHeader(std::string_view dict, const std::string& file) {
    const auto descr = valueOf(dict, "descr");
    const auto order = valueOf(dict, "fortran_order");
    const auto shapeText = valueOf(dict, "shape");
    const auto shape = shapeText ? parseShape(*shapeText) : std::nullopt;
    if (!descr || descr->size() < 2 || descr->front() != '\'' || !order || !shape ||
        (*order != "True" && *order != "False"))
        return fail(file + ": malformed .npy header");
    return Header{.descr = std::string(descr->substr(1, descr->size() - 2)),
                  .fortranOrder = *order == "True",
                  .shape = *shape};
}

std::uint32_t littleEndian(std::string_view bytes) {
    std::uint32_t v = 0;
    for (std::size_t i = bytes.size(); i-- > 0;)
        v = (v << 8) | static_cast<unsigned char>(bytes[i]);
    return v;
}

// The shape as numpy's header writes it: (3, 4), (5,) or ().
std::string pythonTuple(c10::IntArrayRef sizes) {
    std::string out = "(";
    for (std::size_t i = 0; i < sizes.size(); ++i)
        out += (i ? ", " : "") + std::to_string(sizes[i]);
    return out + (sizes.size() == 1 ? ",)" : ")");
}

}  // namespace

Result<torch::Tensor> readNpy(const std::filesystem::path& path) {
    const std::string file = path.string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return fail(file + ": no such file");
    auto bytes = readFile(path);
    if (!bytes) return tl::unexpected(bytes.error());
    const std::string_view all = *bytes;
    if (all.size() < kPrefix + 2 || !startsWith(all, kMagic))
        return fail(file + ": not a NumPy .npy file");
    const int major = static_cast<unsigned char>(all[kMagic.size()]);
    if (major < 1 || major > 3)
        return fail(file + ": .npy format version " + std::to_string(major) + " is not supported");
    // Format 1.0 stores the header length in 2 bytes, 2.0 and 3.0 in 4.
    const std::size_t lengthBytes = major == 1 ? 2 : 4;
    if (all.size() < kPrefix + lengthBytes) return fail(file + ": truncated .npy header");
    const std::size_t headerLength = littleEndian(all.substr(kPrefix, lengthBytes));
    const std::size_t dataStart = kPrefix + lengthBytes + headerLength;
    if (all.size() < dataStart) return fail(file + ": truncated .npy header");
    auto header = parseHeader(all.substr(kPrefix + lengthBytes, headerLength), file);
    if (!header) return tl::unexpected(header.error());

    const bool f4 = header->descr == "<f4", f8 = header->descr == "<f8";
    if (!f4 && !f8)
        return fail(file + ": values of type '" + header->descr +
                    "' are not supported (float32 '<f4' or float64 '<f8', little-endian)");
    if (header->fortranOrder)
        return fail(file +
                    ": Fortran-order arrays are not supported (save a C-order array, "
                    "e.g. numpy.ascontiguousarray)");
    // The size the header declares, checked against the file before anything is allocated
    // (a hostile header may claim 10^12 values in a 200-byte file). The dimensions other than
    // zero must multiply to a size that exists, even when a zero makes the array empty: torch
    // checks that product too, and would throw where a message belongs.
    const std::size_t have = all.size() - dataStart;
    const std::size_t limit = std::numeric_limits<std::int64_t>::max();
    std::size_t bytesOfNonZero = f4 ? 4 : 8;
    bool empty = false;
    for (const std::int64_t d : header->shape) {
        if (d == 0) {
            empty = true;
        } else if (bytesOfNonZero > limit / static_cast<std::size_t>(d)) {
            return fail(file + ": its shape " + pythonTuple(header->shape) +
                        " is larger than any array can be");
        } else {
            bytesOfNonZero *= static_cast<std::size_t>(d);
        }
    }
    const std::size_t need = empty ? 0 : bytesOfNonZero;
    if (have != need)
        return fail(file + ": holds " + std::to_string(have) + " bytes of values, its shape " +
                    pythonTuple(header->shape) + " needs " + std::to_string(need));
    auto values = torch::empty(header->shape, f4 ? torch::kFloat32 : torch::kFloat64);
    if (need > 0) std::memcpy(values.data_ptr(), all.data() + dataStart, need);
    return values;
}

Result<void> writeNpy(const std::filesystem::path& path, const torch::Tensor& array) {
    if (!array.defined() ||
        (array.scalar_type() != torch::kFloat32 && array.scalar_type() != torch::kFloat64))
        return fail(path.string() + ": only float32 or float64 arrays are written as .npy");
    const auto values = array.to(torch::kCPU).contiguous();
    std::string dict = std::string("{'descr': '") +
                       (values.scalar_type() == torch::kFloat32 ? "<f4" : "<f8") +
                       "', 'fortran_order': False, 'shape': " + pythonTuple(values.sizes()) + ", }";
    // As numpy.save does: room for the first axis to grow to 21 digits, then spaces up to a
    // 64-byte boundary, so that our files come out byte for byte as numpy's.
    if (values.dim() > 0) dict.append(21 - std::to_string(values.size(0)).size(), ' ');
    const std::size_t used = kPrefix + 2 + dict.size() + 1;
    dict.append(64 - used % 64, ' ');
    dict += '\n';
    std::string bytes(kMagic);
    bytes += '\x01';
    bytes += '\x00';
    bytes += static_cast<char>(dict.size() & 0xff);
    bytes += static_cast<char>(dict.size() >> 8);
    bytes += dict;
    bytes.append(static_cast<const char*>(values.data_ptr()), values.nbytes());
    return writeFileAtomic(path, bytes);
}

}  // namespace ll
