#include "models/checkpointarchive.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <zlib.h>

#include "models/checkpointpickle.h"

namespace ll {

namespace {

using checkpoint::Archive;

constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kEnd = 0x06054b50;
constexpr std::uint32_t kEnd64 = 0x06064b50;
constexpr std::uint32_t kEnd64Locator = 0x07064b50;
// Deflate expands at most 1032:1; a record that claims more is one miniz would allocate for.
constexpr std::uint64_t kDeflateRatio = 1032;
constexpr std::size_t kMaxName = 256;  // of an attribute
constexpr std::size_t kMaxTuple = 16;  // elements of a Tuple[...] attribute type
// Class references may nest this deep: LibTorch resolves them recursively, and the models'
// checkpoints nest them under a dozen deep.
constexpr int kMaxClassDepth = 64;

// Little-endian fields; every caller has checked the range.
std::uint32_t le(std::string_view s, std::size_t at, int bytes) {
    std::uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
    return v;
}
std::uint16_t u16(std::string_view s, std::size_t at) {
    return static_cast<std::uint16_t>(le(s, at, 2));
}
std::uint32_t u32(std::string_view s, std::size_t at) {
    return le(s, at, 4);
}
std::uint64_t u64(std::string_view s, std::size_t at) {
    return u32(s, at) | std::uint64_t{u32(s, at + 4)} << 32;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

struct Record {
    std::string name;  // as written
    std::uint16_t method = 0;
    std::uint32_t crc = 0;
    std::uint64_t packed = 0, size = 0;
    std::uint64_t header = 0, data = 0;  // offsets of the local header and of the data
};

std::string quote(const std::string& name) {
    return "record '" + checkpoint::printable(name) + "'";
}

// The central directory, each entry checked against the local header it points at.
Result<std::vector<Record>> readDirectory(std::string_view zip) {
    // torch::jit::load reads a file as a zip only when it starts as one, and as a flatbuffer
    // module (another reader altogether) when bytes 4..7 say "PTMF".
    if (zip.size() < 22 || u32(zip, 0) != kLocalHeader || zip.substr(4, 4) == "PTMF")
        return fail("not a zip archive");
    const std::size_t end = zip.size() - 22;
    // LibTorch writes no archive comment, so the end record closes the file; miniz searches
    // from the back, and one found anywhere else could be read differently by it and here.
    if (u32(zip, end) != kEnd || u16(zip, end + 20) != 0)
        return fail("no zip end record at its end");
    const std::uint64_t entries = u16(zip, end + 10), dirSize = u32(zip, end + 12),
                        dirAt = u32(zip, end + 16);
    if (u16(zip, end + 4) != 0 || u16(zip, end + 6) != 0 || u16(zip, end + 8) != entries)
        return fail("a zip split over disks");
    if (entries == 0xffff || dirSize == 0xffffffff || dirAt == 0xffffffff)
        return fail("a zip64 archive (over 4 GiB or 65535 records)");
    std::uint64_t dirEnd = end;
    // LibTorch adds zip64 end records to every archive, and miniz takes its numbers from them
    // when they are there: they must say what the end record says.
    if (end >= 20 && u32(zip, end - 20) == kEnd64Locator) {
        const std::size_t locator = end - 20;
        const std::uint64_t at = u64(zip, locator + 8);
        if (u32(zip, locator + 4) != 0 || u32(zip, locator + 16) != 1 || at > locator ||
            locator - at < 56 || u32(zip, at) != kEnd64 || u64(zip, at + 4) != locator - at - 12)
            return fail("a damaged zip64 end record");
        if (u32(zip, at + 16) != 0 || u32(zip, at + 20) != 0 || u64(zip, at + 24) != entries ||
            u64(zip, at + 32) != entries || u64(zip, at + 40) != dirSize ||
            u64(zip, at + 48) != dirAt)
            return fail("the zip64 end record disagrees with the end record");
        dirEnd = at;
    }
    if (dirAt > dirEnd || dirEnd - dirAt != dirSize)
        return fail("the central directory does not end where the end record begins");

    std::vector<Record> records;
    std::set<std::string> names;
    std::uint64_t p = dirAt;
    for (std::uint64_t i = 0; i < entries; ++i) {
        if (dirEnd - p < 46 || u32(zip, p) != kCentralHeader)
            return fail("the central directory is cut short");
        const std::uint64_t nameLength = u16(zip, p + 28),
                            entryLength = 46 + nameLength + u16(zip, p + 30) + u16(zip, p + 32);
        if (dirEnd - p < entryLength) return fail("the central directory is cut short");
        Record r;
        r.name = std::string(zip.substr(p + 46, nameLength));
        const std::uint16_t flags = u16(zip, p + 8);
        r.method = u16(zip, p + 10);
        r.crc = u32(zip, p + 16);
        r.packed = u32(zip, p + 20);
        r.size = u32(zip, p + 24);
        r.header = u32(zip, p + 42);
        if (r.name.empty()) return fail("a record without a name");
        // miniz finds records by name regardless of case: two that differ only in case are
        // one name to it, and this check could read the other one.
        if (!names.insert(lower(r.name)).second) return fail(quote(r.name) + " comes twice");
        if (flags & 1) return fail(quote(r.name) + " is encrypted");
        if (r.method != 0 && r.method != 8)
            return fail(quote(r.name) + " is packed by method " + std::to_string(r.method));
        if (u16(zip, p + 34) != 0 || r.packed == 0xffffffff || r.size == 0xffffffff)
            return fail(quote(r.name) + " is a zip64 or multi-disk entry");
        if (r.header > dirAt || dirAt - r.header < 30 || u32(zip, r.header) != kLocalHeader ||
            u16(zip, r.header + 6) != flags || u16(zip, r.header + 8) != r.method)
            return fail(quote(r.name) + " has no local header that matches it");
        // miniz finds the data past the local header's own name and extra field.
        const std::uint64_t localName = u16(zip, r.header + 26);
        r.data = r.header + 30 + localName + u16(zip, r.header + 28);
        if (r.data > dirAt || dirAt - r.data < r.packed ||
            zip.substr(r.header + 30, localName) != r.name)
            return fail(quote(r.name) + " runs past the data or is named otherwise inside");
        if (r.method == 0 ? r.packed != r.size : r.size > r.packed * kDeflateRatio)
            return fail(quote(r.name) + " claims " + std::to_string(r.size) + " bytes from " +
                        std::to_string(r.packed));
        records.push_back(std::move(r));
        p += entryLength;
    }
    if (p != dirEnd) return fail("the central directory holds more than its records");
    // Records that share bytes would let a small file claim many times its size.
    std::vector<const Record*> order;
    for (const auto& r : records) order.push_back(&r);
    std::sort(order.begin(), order.end(),
              [](const Record* a, const Record* b) { return a->header < b->header; });
    for (std::size_t i = 1; i < order.size(); ++i)
        if (order[i - 1]->data + order[i - 1]->packed > order[i]->header)
            return fail(quote(order[i]->name) + " overlaps " + quote(order[i - 1]->name));
    return records;
}

// Checks a record's CRC-32 (which LibTorch's miniz skips) and that a deflated one inflates to
// the size it claims; keeps its bytes in `out` where given.
Result<void> unpack(std::string_view zip, const Record& r, std::string* out) {
    const std::string_view packed = zip.substr(r.data, r.packed);
    uLong crc = crc32(0, nullptr, 0);
    if (r.method == 0) {
        crc = crc32_z(crc, reinterpret_cast<const Bytef*>(packed.data()), packed.size());
        if (out) out->assign(packed);
    } else {
        z_stream z{};
        if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return fail("zlib cannot inflate");
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
        z.avail_in = static_cast<uInt>(packed.size());  // under 4 GiB: no zip64
        unsigned char buffer[1 << 15];
        std::uint64_t total = 0;
        int status = Z_OK;
        while (status == Z_OK && total <= r.size) {
            z.next_out = buffer;
            z.avail_out = sizeof buffer;
            status = inflate(&z, Z_NO_FLUSH);
            const std::size_t n = sizeof buffer - z.avail_out;
            total += n;
            crc = crc32_z(crc, buffer, n);
            if (out && total <= r.size) out->append(reinterpret_cast<const char*>(buffer), n);
        }
        inflateEnd(&z);
        if (status != Z_STREAM_END || total != r.size)
            return fail(quote(r.name) + " does not inflate to the " + std::to_string(r.size) +
                        " bytes it claims");
    }
    if (crc != r.crc) return fail(quote(r.name) + " fails its CRC-32 (damaged)");
    return {};
}

bool endsWith(std::string_view s, std::string_view tail) {
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// The class a code record declares: "code/__torch__.py" declares __torch__.Module,
// "code/__torch__/___torch_mangle_7.py" __torch__.___torch_mangle_7.Module.
std::string className(std::string_view path) {
    if (path == "code/__torch__.py") return "__torch__.Module";
    constexpr std::string_view head = "code/__torch__/___torch_mangle_";
    if (path.substr(0, head.size()) != head || !endsWith(path, ".py")) return {};
    const auto digits = path.substr(head.size(), path.size() - head.size() - 3);
    if (digits.empty() || digits.size() > 9 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return {};
    return "__torch__.___torch_mangle_" + std::string(digits) + ".Module";
}

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

// A cursor over one line of a class declaration.
struct Line {
    std::string_view s;

    bool eat(std::string_view literal) {
        if (s.substr(0, literal.size()) != literal) return false;
        s.remove_prefix(literal.size());
        return true;
    }
    bool identifier(std::string& out) {
        std::size_t n = 0;
        while (n < s.size() && (std::isalnum(static_cast<unsigned char>(s[n])) || s[n] == '_')) ++n;
        if (n == 0 || n > kMaxName || isDigit(s[0])) return false;
        out = std::string(s.substr(0, n));
        s.remove_prefix(n);
        return true;
    }
    // "text": printable ASCII without quotes or backslashes, so no escape reaches the lexer.
    bool quoted(std::string& out) {
        if (!eat("\"")) return false;
        std::size_t n = 0;
        while (n < s.size() && s[n] >= 0x20 && s[n] < 0x7f && s[n] != '"' && s[n] != '\\') ++n;
        if (n == 0 || n > kMaxName || n == s.size()) return false;
        out = std::string(s.substr(0, n));
        s.remove_prefix(n);
        return eat("\"");
    }
    // ["a", "b", ]
    bool names(std::vector<std::string>& out) {
        if (!eat("[")) return false;
        while (!eat("]")) {
            std::string name;
            if (!quoted(name) || !eat(", ")) return false;
            out.push_back(std::move(name));
        }
        return true;
    }
    bool plainType() {
        for (const char* t : {"Tensor", "int", "float", "str", "bool"})
            if (eat(t)) return true;
        return false;
    }
    bool type(std::string& out, std::vector<std::string>& refs) {
        const std::string_view start = s;
        if (eat("Tuple[")) {
            std::size_t n = 0;
            do {
                if (!plainType()) return false;
            } while (++n < kMaxTuple && eat(", "));
            if (!eat("]")) return false;
        } else if (eat("__torch__.")) {
            std::string cls = "__torch__.";
            if (eat("___torch_mangle_")) {
                std::size_t n = 0;
                while (n < s.size() && isDigit(s[n])) ++n;
                if (n == 0 || n > 9) return false;
                cls += "___torch_mangle_" + std::string(s.substr(0, n)) + ".";
                s.remove_prefix(n);
                if (!eat(".")) return false;
            }
            if (!eat("Module")) return false;
            refs.push_back(cls + "Module");
        } else if (!plainType()) {
            return false;
        }
        out = std::string(start.substr(0, start.size() - s.size()));
        return true;
    }
};

// One class declaration as the writer prints it: "class Module(Module):", its __parameters__
// and __buffers__ lists, then attributes ("  name : Type" or "  __annotations__[\"key\"] =
// Type") of the types it uses (Tensor, int, float, str, bool, a Tuple of those, a class of
// the archive). Returns the classes it refers to. Anything else would reach LibTorch's
// TorchScript compiler, which crashes on some of it (an unknown class constant).
Result<std::vector<std::string>> checkClassSource(std::string_view text) {
    std::vector<std::string_view> lines;
    for (std::size_t at = 0; at <= text.size();) {
        const auto nl = std::min(text.find('\n', at), text.size());
        lines.push_back(text.substr(at, nl - at));
        at = nl + 1;
    }
    // The writer's first three lines, always.
    std::vector<std::string> parameters, buffers;
    Line header{lines[0]};
    if (!header.eat("class Module(Module):") || !header.s.empty())
        return fail("does not start with the declaration LibTorch writes");
    if (lines.size() < 3) return fail("lacks __parameters__ or __buffers__");
    Line p{lines[1]}, b{lines[2]};
    if (!p.eat("  __parameters__ = ") || !p.names(parameters) || !p.s.empty() ||
        !b.eat("  __buffers__ = ") || !b.names(buffers) || !b.s.empty())
        return fail("lacks __parameters__ or __buffers__ as LibTorch writes them");
    std::map<std::string, std::string> attributes;  // name -> type
    std::vector<std::string> refs;
    bool annotations = false, ended = false;
    for (std::size_t i = 3; i < lines.size(); ++i) {
        Line line{lines[i]};
        if (line.s.empty()) {
            ended = true;
            continue;
        }
        const std::string where = "line " + std::to_string(i + 1);
        if (ended) return fail(where + " follows an empty line");
        std::string name, type;
        if (line.eat("  __annotations__ = []") && line.s.empty()) {
            if (annotations) return fail(where + " declares __annotations__ again");
            annotations = true;
            continue;
        }
        line.s = lines[i];
        const bool ok = line.eat("  __annotations__[")
                            ? annotations && line.quoted(name) && line.eat("] = ")
                            : line.eat("  ") && line.identifier(name) && line.eat(" : ");
        if (!ok || !line.type(type, refs) || !line.s.empty())
            return fail(where + " is not an attribute as LibTorch writes one");
        if (!attributes.emplace(name, type).second)
            return fail(where + " declares '" + name + "' again");
    }
    std::set<std::string> tensors;
    for (const auto* list : {&parameters, &buffers})
        for (const auto& name : *list) {
            const auto it = attributes.find(name);
            if (it == attributes.end() || it->second != "Tensor" || !tensors.insert(name).second)
                return fail("'" + name + "' is listed as a parameter or buffer but no one tensor");
        }
    return refs;
}

// The classes reference each other without a cycle and at most kMaxClassDepth deep: their
// longest chain, in topological order.
Result<void> checkClassGraph(const std::map<std::string, std::vector<std::string>>& refs) {
    std::map<std::string, int> pending;  // references into each class not yet resolved
    for (const auto& [cls, to] : refs) {
        pending.emplace(cls, 0);
        for (const auto& target : to) {
            if (!refs.count(target))
                return fail("class " + cls + " refers to " + target + ", which the archive lacks");
            ++pending[target];
        }
    }
    std::vector<std::string> ready;
    for (const auto& [cls, n] : pending)
        if (n == 0) ready.push_back(cls);
    std::map<std::string, int> depth;
    std::size_t done = 0;
    while (!ready.empty()) {
        const std::string cls = ready.back();
        ready.pop_back();
        ++done;
        const int d = depth[cls] + 1;
        if (d > kMaxClassDepth)
            return fail("classes nest deeper than " + std::to_string(kMaxClassDepth));
        for (const auto& target : refs.at(cls)) {
            depth[target] = std::max(depth[target], d);
            if (--pending[target] == 0) ready.push_back(target);
        }
    }
    if (done != refs.size()) return fail("classes refer to each other in a cycle");
    return {};
}

}  // namespace

Result<void> checkCheckpointArchive(std::string_view bytes) {
    auto records = readDirectory(bytes);
    if (!records) return tl::unexpected(records.error());
    if (records->empty()) return fail("an empty zip archive");
    // PyTorchStreamReader takes the folder of the first record as the archive's and looks up
    // every name inside it, regardless of case.
    const std::string& first = records->front().name;
    const auto slash = first.find('/');
    if (slash == std::string::npos) return fail("records outside a folder");
    const std::string folder = lower(first.substr(0, slash + 1));

    Archive archive;
    std::map<std::string, std::string> texts;  // the records LibTorch parses, by lower-case path
    for (const auto& r : *records) {
        const std::string path = lower(r.name);
        const bool inside = path.compare(0, folder.size(), folder) == 0;
        const std::string local = inside ? path.substr(folder.size()) : std::string();
        const bool parsed = inside && (endsWith(local, ".py") || endsWith(local, ".pkl") ||
                                       endsWith(local, ".debug_pkl") || local == "version" ||
                                       local == ".data/version" || local == "model.json");
        std::string text;
        if (auto ok = unpack(bytes, r, parsed ? &text : nullptr); !ok) return ok;
        if (inside) archive.sizes[local] = r.size;
        if (parsed) texts[local] = std::move(text);
    }
    // An archive with model.json goes to LibTorch's importer of the pre-1.0 format.
    if (texts.count("model.json")) return fail("a pre-1.0 TorchScript archive (model.json)");
    if (!texts.count("version") && !texts.count(".data/version")) return fail("no version record");
    for (const char* name : {"version", ".data/version"}) {
        const auto it = texts.find(name);
        if (it == texts.end()) continue;
        std::string_view v = it->second;
        if (!v.empty() && v.back() == '\n') v.remove_suffix(1);
        if (v.empty() || v.size() > 4 ||
            !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return fail("record '" + std::string(name) + "' is not a version number");
    }
    std::map<std::string, std::vector<std::string>> refs;
    for (const auto& [path, text] : texts) {
        if (path.compare(0, 5, "code/") != 0 || !endsWith(path, ".py")) continue;
        const std::string cls = className(path);
        if (cls.empty()) return fail(quote(path) + " is not a class LibTorch's writer names");
        auto to = checkClassSource(text);
        if (!to) return fail(quote(path) + ": " + to.error().message);
        refs[cls] = std::move(*to);
        archive.classes.insert(cls);
    }
    if (auto ok = checkClassGraph(refs); !ok) return ok;
    for (const auto& [path, text] : texts) {
        checkpoint::PickleKind kind;
        if (path == "data.pkl")
            kind = checkpoint::PickleKind::Data;
        else if (path == "constants.pkl")
            kind = checkpoint::PickleKind::Constants;
        else if (endsWith(path, ".debug_pkl"))
            kind = checkpoint::PickleKind::Debug;
        else
            continue;
        if (auto ok = checkpoint::checkPickle(text, kind, archive); !ok)
            return fail(quote(path) + ": " + ok.error().message);
    }
    if (!texts.count("data.pkl")) return fail("no data.pkl");
    return {};
}

}  // namespace ll
