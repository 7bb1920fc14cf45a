#include "common/safetensors.h"

#include <algorithm>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/jsonnumber.h"

namespace ll::safetensors {

namespace {

using nlohmann::json;

struct DTypeInfo {
    DType dtype;
    std::string_view name;
    std::size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::Bool, "BOOL", 1}, {DType::U8, "U8", 1},   {DType::I8, "I8", 1},
    {DType::I16, "I16", 2},   {DType::U16, "U16", 2}, {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I32, "I32", 4}, {DType::U32, "U32", 4},
    {DType::F32, "F32", 4},   {DType::I64, "I64", 8}, {DType::U64, "U64", 8},
    {DType::F64, "F64", 8}};

const DTypeInfo& info(DType dtype) {
    for (const auto& d : kDTypes)
        if (d.dtype == dtype) return d;
    return kDTypes[0];
}

std::string shapeText(const std::vector<std::int64_t>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

std::string offsetsText(std::uint64_t begin, std::uint64_t end) {
    std::string s = "[";
    s.append(std::to_string(begin)).append(", ").append(std::to_string(end)).push_back(']');
    return s;
}

// The bytes a tensor of this shape and dtype takes, or nullopt when the count overflows (a
// lying header: no real buffer is that large). Dimensions are non-negative.
std::optional<std::uint64_t> byteCount(const std::vector<std::int64_t>& shape, DType dtype) {
    if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
    std::uint64_t n = dtypeSize(dtype);
    for (auto d : shape)
        if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n)) return std::nullopt;
    return n;
}

void putLe64(std::string& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t getLe64(const char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

// A JSON whole number >= 0 that fits an int64, or nullopt.
std::optional<std::uint64_t> wholeNumber(const json& v) {
    if (v.is_number_unsigned()) {
        const auto n = v.get<std::uint64_t>();
        if (n <= static_cast<std::uint64_t>(INT64_MAX)) return n;
    } else if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
        return static_cast<std::uint64_t>(v.get<std::int64_t>());
    }
    return std::nullopt;
}

// One tensor entry of the header, checked on its own; the buffer size bounds its offsets.
Result<TensorEntry> parseEntry(const std::string& name, const json& v, std::uint64_t bufferSize) {
    const std::string where = "tensor '" + name + "': ";
    if (!v.is_object()) return fail(where + "entry is not a JSON object");
    for (const char* field : {"dtype", "shape", "data_offsets"})
        if (!v.contains(field)) return fail(where + "missing '" + field + "'");
    TensorEntry t;
    t.name = name;
    if (!v["dtype"].is_string()) return fail(where + "dtype is not a string");
    const auto dtype = dtypeFromName(v["dtype"].get_ref<const std::string&>());
    if (!dtype)
        return fail(where + "unknown dtype '" + v["dtype"].get<std::string>() +
                    "' (known: BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64)");
    t.dtype = *dtype;
    if (!v["shape"].is_array()) return fail(where + "shape is not a list");
    for (const auto& d : v["shape"]) {
        if (d.is_number_integer() && !d.is_number_unsigned() && d.get<std::int64_t>() < 0)
            return fail(where + "negative dimension " + d.dump() + " in shape " +
                        v["shape"].dump());
        const auto n = wholeNumber(d);
        if (!n) return fail(where + "shape " + v["shape"].dump() + " holds " + d.dump());
        t.shape.push_back(static_cast<std::int64_t>(*n));
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !wholeNumber(off[0]) || !wholeNumber(off[1]))
        return fail(where + "data_offsets " + off.dump() + " are not two whole numbers");
    t.begin = *wholeNumber(off[0]);
    t.end = *wholeNumber(off[1]);
    const std::string offsets = "data_offsets " + offsetsText(t.begin, t.end);
    if (t.end < t.begin) return fail(where + offsets + " end before they begin");
    if (t.end > bufferSize)
        return fail(where + offsets + " lie outside the " + std::to_string(bufferSize) +
                    "-byte data buffer (truncated file or lying header)");
    const auto bytes = byteCount(t.shape, t.dtype);
    if (!bytes || *bytes != t.end - t.begin)
        return fail(where + "shape " + shapeText(t.shape) + " of " +
                    std::string(dtypeName(t.dtype)) + " needs " +
                    (bytes ? std::to_string(*bytes) : std::string("more than 2^64")) +
                    " bytes, but " + offsets + " span " + std::to_string(t.end - t.begin));
    return t;
}

}  // namespace

std::string_view dtypeName(DType dtype) {
    return info(dtype).name;
}

std::optional<DType> dtypeFromName(std::string_view name) {
    for (const auto& d : kDTypes)
        if (d.name == name) return d.dtype;
    return std::nullopt;
}

std::size_t dtypeSize(DType dtype) {
    return info(dtype).size;
}

std::string_view File::data(const TensorEntry& tensor) const {
    return std::string_view(bytes).substr(dataStart + tensor.begin, tensor.end - tensor.begin);
}

const TensorEntry* File::find(std::string_view name) const {
    for (const auto& t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

Result<std::string> encode(const std::vector<TensorIn>& tensors, const Metadata& metadata,
                           std::string_view what) {
    const std::string file(what);
    std::set<std::string_view> names;
    for (const auto& t : tensors) {
        if (t.name.empty() || t.name == "__metadata__")
            return fail(file + ": '" + t.name + "' cannot name a tensor");
        if (!names.insert(t.name).second)
            return fail(file + ": two tensors named '" + t.name + "'");
        if (std::any_of(t.shape.begin(), t.shape.end(), [](auto d) { return d < 0; }))
            return fail(file + ": tensor '" + t.name + "': negative dimension in shape " +
                        shapeText(t.shape));
        const auto bytes = byteCount(t.shape, t.dtype);
        if (!bytes || *bytes != t.bytes.size())
            return fail(file + ": tensor '" + t.name + "': " + std::to_string(t.bytes.size()) +
                        " bytes do not hold shape " + shapeText(t.shape) + " of " +
                        std::string(dtypeName(t.dtype)));
    }
    // Largest elements first: every offset is then a multiple of its tensor's element size,
    // so a reader may map the buffer and view each tensor in place.
    std::vector<std::size_t> order(tensors.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return dtypeSize(tensors[a].dtype) > dtypeSize(tensors[b].dtype);
    });
    json header = json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::uint64_t offset = 0;
    for (auto i : order) {
        const auto& t = tensors[i];
        header[t.name] = {{"dtype", std::string(dtypeName(t.dtype))},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + t.bytes.size()}}};
        offset += t.bytes.size();
    }
    std::string text;
    try {
        text = header.dump();
    } catch (const json::exception&) {
        return fail(file + ": tensor names and metadata must be UTF-8 text");
    }
    while ((8 + text.size()) % 8 != 0) text.push_back(' ');
    std::string out;
    out.reserve(8 + text.size() + offset);
    putLe64(out, text.size());
    out += text;
    for (auto i : order) out += tensors[i].bytes;
    return out;
}

Result<void> write(const std::filesystem::path& path, const std::vector<TensorIn>& tensors,
                   const Metadata& metadata) {
    auto bytes = encode(tensors, metadata, path.string());
    if (!bytes) return tl::unexpected(bytes.error());
    return writeFileAtomic(path, *bytes);
}

Result<File> parse(std::string bytes, std::string_view what) {
    const std::string file(what);
    auto refuse = [&](const std::string& why) { return fail(file + ": " + why); };
    if (bytes.size() < 8)
        return refuse("truncated: " + std::to_string(bytes.size()) +
                      " bytes, too short for a safetensors file's 8-byte header length");
    const std::uint64_t n = getLe64(bytes.data());
    if (n > kMaxHeaderBytes)
        return refuse("header length " + std::to_string(n) +
                      " exceeds the 100 MB limit (corrupt or not a safetensors file)");
    if (n > bytes.size() - 8)
        return refuse("header length " + std::to_string(n) + " runs past the end of the file (" +
                      std::to_string(bytes.size()) + " bytes): truncated or corrupt");
    const std::string_view text(bytes.data() + 8, n);
    // The header's own names must be unique: a JSON parser would silently keep the last one.
    std::set<std::string> seen;
    std::string duplicate;
    const json::parser_callback_t unique = [&](int depth, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::key && depth == 1 && parsed.is_string() &&
            !seen.insert(parsed.get<std::string>()).second && duplicate.empty())
            duplicate = parsed.get<std::string>();
        return true;
    };
    json header = parseJson(text, unique);
    if (header.is_discarded()) return refuse("header is " + kNotJson + ": corrupt or truncated");
    if (!header.is_object()) return refuse("header is not a JSON object");
    if (!duplicate.empty()) return refuse("header names '" + duplicate + "' twice");

    File out;
    out.dataStart = 8 + static_cast<std::size_t>(n);
    const std::uint64_t bufferSize = bytes.size() - out.dataStart;
    for (const auto& [key, value] : header.items()) {
        if (key == "__metadata__") {
            if (!value.is_object()) return refuse("__metadata__ is not a map of strings");
            for (const auto& [k, v] : value.items()) {
                if (!v.is_string())
                    return refuse("__metadata__ value of '" + k + "' is not a string");
                out.metadata[k] = v.get<std::string>();
            }
            continue;
        }
        auto entry = parseEntry(key, value, bufferSize);
        if (!entry) return refuse(entry.error().message);
        out.tensors.push_back(std::move(*entry));
    }
    // The data buffer must be covered exactly: no overlaps, no gaps, nothing left over.
    std::sort(out.tensors.begin(), out.tensors.end(), [](const auto& a, const auto& b) {
        return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
    });
    std::uint64_t covered = 0;
    const TensorEntry* previous = nullptr;
    for (const auto& t : out.tensors) {
        if (t.begin < covered)
            return refuse("tensors '" + previous->name + "' and '" + t.name +
                          "' overlap (data_offsets " + offsetsText(previous->begin, previous->end) +
                          " and " + offsetsText(t.begin, t.end) + ")");
        if (t.begin > covered)
            return refuse("bytes " + offsetsText(covered, t.begin) + " before tensor '" + t.name +
                          "' belong to no tensor (the data buffer must be covered exactly)");
        covered = t.end;
        previous = &t;
    }
    if (covered != bufferSize)
        return refuse("bytes " + offsetsText(covered, bufferSize) +
                      " of the data buffer belong to no tensor (lying header or trailing data)");
    out.bytes = std::move(bytes);
    for (const auto& t : out.tensors)
        if (t.dtype == DType::Bool) {
            const auto d = out.data(t);
            if (std::any_of(d.begin(), d.end(), [](char c) { return c != 0 && c != 1; }))
                return refuse("tensor '" + t.name + "': BOOL value other than 0 or 1");
        }
    return out;
}

Result<File> read(const std::filesystem::path& path) {
    auto bytes = readFile(path);
    if (!bytes) return tl::unexpected(bytes.error());
    return parse(std::move(*bytes), path.string());
}

}  // namespace ll::safetensors
