#include "models/checkpointpickle.h"

#include <algorithm>
#include <cctype>
#include <memory>

namespace ll::checkpoint {

namespace {

constexpr std::size_t kMaxName = 256;
constexpr int kMaxDims = 32;
// Values nest at most this deep: LibTorch frees and walks them recursively, and the models'
// checkpoints nest them under a dozen deep.
constexpr int kMaxDepth = 64;

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

std::string printable(std::string_view text) {
    std::string out(text.substr(0, 80));
    for (auto& c : out)
        if (c < 0x20 || c >= 0x7f) c = '?';
    return text.size() > 80 ? out + "..." : out;
}

namespace {

// What a value on the model's stack is. Globals are Function, Storage (a storage type) or
// Class; Pending is a class after NEWOBJ, before BUILD makes it an Object; StorageData is
// what BINPERSID makes, Tensor and IntList what REDUCE makes of it and of a list.
enum class Kind {
    Str,
    Int,
    Float,
    Bool,
    None,
    Function,
    Storage,
    Class,
    Pending,
    Tuple,
    List,
    Dict,
    Object,
    StorageData,
    Tensor,
    IntList
};

struct Node {
    Kind kind;
    std::string text;                          // Str; Function and Class: the global's name
    std::int64_t number = 0;                   // Int; Storage: item size; StorageData: elements
    std::vector<std::shared_ptr<Node>> items;  // Tuple, List, IntList
    int depth = 1;
};
using Ref = std::shared_ptr<Node>;

Ref node(Kind kind, std::string text = {}, std::int64_t number = 0) {
    return std::make_shared<Node>(Node{kind, std::move(text), number, {}, 1});
}

// torch.<X>Storage: the storage types the writer uses, by item size.
std::int64_t storageItemSize(const std::string& name) {
    static const std::map<std::string, std::int64_t> sizes{
        {"torch FloatStorage", 4},    {"torch DoubleStorage", 8}, {"torch HalfStorage", 2},
        {"torch BFloat16Storage", 2}, {"torch LongStorage", 8},   {"torch IntStorage", 4},
        {"torch ShortStorage", 2},    {"torch CharStorage", 1},   {"torch ByteStorage", 1},
        {"torch BoolStorage", 1}};
    const auto it = sizes.find(name);
    return it == sizes.end() ? 0 : it->second;
}

constexpr const char* kRebuildTensor = "torch._utils _rebuild_tensor_v2";
constexpr const char* kOrderedDict = "collections OrderedDict";
constexpr const char* kIntList = "torch.jit._pickle build_intlist";

bool isKind(const Ref& n, Kind k) {
    return n && n->kind == k;
}

std::vector<std::int64_t> ints(const Ref& tuple, bool& ok) {
    std::vector<std::int64_t> out;
    ok = isKind(tuple, Kind::Tuple) && tuple->items.size() <= kMaxDims;
    for (const auto& item : ok ? tuple->items : std::vector<Ref>{}) {
        ok = ok && isKind(item, Kind::Int);
        if (ok) out.push_back(item->number);
    }
    return out;
}

// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]):
// LibTorch sets the sizes and strides on the storage without a look at its length.
Result<Ref> rebuildTensor(const Ref& args) {
    const auto& a = args->items;
    bool sizesOk = false, stridesOk = false;
    if (a.size() < 6 || a.size() > 7 || !isKind(a[0], Kind::StorageData) ||
        !isKind(a[1], Kind::Int) || !isKind(a[4], Kind::Bool) || !isKind(a[5], Kind::Dict) ||
        (a.size() == 7 && !isKind(a[6], Kind::Dict)))
        return fail("a tensor of other arguments than _rebuild_tensor_v2 takes");
    const auto sizes = ints(a[2], sizesOk), strides = ints(a[3], stridesOk);
    const std::int64_t elements = a[0]->number, offset = a[1]->number;
    if (!sizesOk || !stridesOk || sizes.size() != strides.size() || offset < 0 || offset > elements)
        return fail("a tensor of malformed sizes, strides or offset");
    // Every element inside the storage, and each its own: a tensor of more elements than its
    // storage (strides of 0) is one LibTorch would walk for as long as its sizes multiply.
    for (std::size_t i = 0; i < sizes.size(); ++i)
        if (sizes[i] < 0 || strides[i] < 0) return fail("a tensor of negative sizes or strides");
    if (std::count(sizes.begin(), sizes.end(), 0)) return node(Kind::Tensor);
    std::int64_t last = offset, count = 1;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        std::int64_t step = 0;
        if (__builtin_mul_overflow(sizes[i] - 1, strides[i], &step) ||
            __builtin_add_overflow(last, step, &last) ||
            __builtin_mul_overflow(count, sizes[i], &count))
            return fail("a tensor reaching past its storage");
    }
    if (last >= elements || count > elements) return fail("a tensor reaching past its storage");
    return node(Kind::Tensor);
}

class Machine {
public:
    Machine(std::string_view pickle, PickleKind kind, const Archive& archive)
        : m_in(pickle), m_kind(kind), m_archive(archive) {}
    Result<Ref> run();

private:
    // Bytes of the pickle; false past its end.
    bool take(std::size_t n, std::string_view& out) {
        if (m_in.size() - m_at < n) return false;
        out = m_in.substr(m_at, n);
        m_at += n;
        return true;
    }
    bool number(std::size_t n, std::uint64_t& out) {
        std::string_view b;
        if (!take(n, b)) return false;
        out = 0;
        for (std::size_t i = n; i-- > 0;) out = out << 8 | static_cast<unsigned char>(b[i]);
        return true;
    }
    std::size_t floor() const { return m_marks.empty() ? 0 : m_marks.back(); }
    bool has(std::size_t n) const { return m_stack.size() - floor() >= n; }
    // Where the mark below the innermost one is: a list or dict filled at the innermost mark
    // lies between the two.
    std::size_t outerFloor() const { return m_marks.size() < 2 ? 0 : m_marks[m_marks.size() - 2]; }
    Ref pop() {
        Ref n = std::move(m_stack.back());
        m_stack.pop_back();
        return n;
    }
    // Everything above the innermost mark, which is dropped.
    std::vector<Ref> popMark() {
        const std::size_t start = m_marks.back();
        m_marks.pop_back();
        std::vector<Ref> items(m_stack.begin() + static_cast<std::ptrdiff_t>(start), m_stack.end());
        m_stack.resize(start);
        return items;
    }
    Result<void> push(Ref n) {
        if (n->depth > kMaxDepth)
            return fail("values nested deeper than " + std::to_string(kMaxDepth));
        m_stack.push_back(std::move(n));
        return {};
    }
    Result<void> global();
    Result<void> persistentId();
    Result<void> call(bool build);

    std::string_view m_in;
    std::size_t m_at = 0;
    PickleKind m_kind;
    const Archive& m_archive;
    std::vector<Ref> m_stack, m_memo;
    std::vector<std::size_t> m_marks;
};

Result<void> Machine::global() {
    std::string name;
    for (int part = 0; part < 2; ++part) {
        const auto nl = m_in.find('\n', m_at);
        if (nl == std::string_view::npos || nl - m_at > kMaxName) return fail("a malformed GLOBAL");
        if (part) name += ' ';
        name.append(m_in.substr(m_at, nl - m_at));
        m_at = nl + 1;
    }
    const bool tensors = m_kind != PickleKind::Debug;
    if (name == kIntList || (tensors && (name == kRebuildTensor || name == kOrderedDict)))
        return push(node(Kind::Function, name));
    if (const auto size = storageItemSize(name); tensors && size)
        return push(node(Kind::Storage, name, size));
    // "__torch__.___torch_mangle_3 Module" is class __torch__.___torch_mangle_3.Module.
    std::string cls = name;
    std::replace(cls.begin(), cls.end(), ' ', '.');
    if (tensors && m_archive.classes.count(cls)) return push(node(Kind::Class, cls));
    return fail("global '" + printable(name) + "' is not one LibTorch's writer uses here");
}

// BINPERSID ('storage', torch.XStorage, key, location, elements): LibTorch gives the storage
// the bytes the tuple claims and the record's bytes, however many fewer those are.
Result<void> Machine::persistentId() {
    if (m_kind == PickleKind::Debug || !has(1)) return fail("a misplaced BINPERSID");
    const Ref t = pop();
    const auto& a = t->items;
    if (!isKind(t, Kind::Tuple) || a.size() != 5 || !isKind(a[0], Kind::Str) ||
        a[0]->text != "storage" || !isKind(a[1], Kind::Storage) || !isKind(a[2], Kind::Str) ||
        !isKind(a[3], Kind::Str) || !isKind(a[4], Kind::Int))
        return fail("a storage of other fields than LibTorch writes");
    const std::string& location = a[3]->text;
    if (location.empty() || location.size() > 16 ||
        !std::all_of(location.begin(), location.end(), [](char c) {
            return std::islower(static_cast<unsigned char>(c)) || isDigit(c) || c == ':';
        }))
        return fail("a storage on device '" + printable(location) + "'");
    std::string key = a[2]->text;
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::string record = (m_kind == PickleKind::Data ? "data/" : "constants/") + key;
    const auto it = m_archive.sizes.find(record);
    if (key.empty() || it == m_archive.sizes.end())
        return fail("a storage in record '" + printable(record) + "', which the archive lacks");
    const std::int64_t elements = a[4]->number, itemSize = a[1]->number;
    if (elements < 0 ||
        static_cast<std::uint64_t>(elements) > it->second / static_cast<std::uint64_t>(itemSize))
        return fail("a storage of " + std::to_string(elements) + " items in record '" +
                    printable(record) + "' of " + std::to_string(it->second) + " bytes");
    return push(node(Kind::StorageData, {}, elements));
}

// REDUCE (function, args) and BUILD (class after NEWOBJ, state): LibTorch 1.13 runs both the
// same way, swapping the two top items without a look at the stack's size.
Result<void> Machine::call(bool build) {
    if (!has(2)) return fail("a call on too short a stack");
    const Ref args = pop(), fn = pop();
    if (build) {
        if (!isKind(fn, Kind::Pending) || !isKind(args, Kind::Dict))
            return fail("a BUILD of other than an object's attributes");
        auto object = node(Kind::Object, fn->text);
        object->depth = args->depth + 1;
        return push(object);
    }
    if (!isKind(fn, Kind::Function) || !isKind(args, Kind::Tuple))
        return fail("a REDUCE of other than a function LibTorch's writer calls");
    if (fn->text == kRebuildTensor) {
        auto tensor = rebuildTensor(args);
        if (!tensor) return tl::unexpected(tensor.error());
        return push(*tensor);
    }
    if (fn->text == kOrderedDict) {
        if (!args->items.empty()) return fail("an OrderedDict made from values");
        return push(node(Kind::Dict));
    }
    // build_intlist([ints])
    if (args->items.size() != 1 || !isKind(args->items[0], Kind::List) ||
        !std::all_of(args->items[0]->items.begin(), args->items[0]->items.end(),
                     [](const Ref& n) { return isKind(n, Kind::Int); }))
        return fail("build_intlist of other than a list of ints");
    auto list = node(Kind::IntList);
    list->items = args->items[0]->items;
    return push(list);
}

}  // namespace

namespace {

Result<Ref> Machine::run() {
    while (m_at < m_in.size()) {
        const auto op = static_cast<unsigned char>(m_in[m_at++]);
        std::uint64_t v = 0;
        std::string_view bytes;
        Result<void> ok;
        switch (op) {
            case 0x80:  // PROTO
                if (!number(1, v)) return fail("cut short");
                break;
            case 'c':  // GLOBAL
                ok = global();
                break;
            case 'q':  // BINPUT: the memo is filled in order; LibTorch grows it to any index
            case 'r':  // LONG_BINPUT
                if (!number(op == 'q' ? 1 : 4, v) || v > m_memo.size() || !has(1))
                    return fail("a BINPUT out of order or on an empty stack");
                if (v == m_memo.size()) m_memo.emplace_back();
                m_memo[v] = m_stack.back();
                break;
            case 'h':  // BINGET: of a list or dict it could put one inside itself
            case 'j':  // LONG_BINGET
                if (!number(op == 'h' ? 1 : 4, v) || v >= m_memo.size() ||
                    isKind(m_memo[v], Kind::List) || isKind(m_memo[v], Kind::Dict))
                    return fail("a BINGET of nothing, a list or a dict");
                ok = push(m_memo[v]);
                break;
            case '(':  // MARK
                m_marks.push_back(m_stack.size());
                break;
            case ')':  // EMPTY_TUPLE
                ok = push(node(Kind::Tuple));
                break;
            case ']':  // EMPTY_LIST
                ok = push(node(Kind::List));
                break;
            case '}':  // EMPTY_DICT
                ok = push(node(Kind::Dict));
                break;
            case 'X':  // BINUNICODE
                if (!number(4, v) || !take(v, bytes)) return fail("a string cut short");
                ok = push(node(Kind::Str, std::string(bytes)));
                break;
            case 'K':  // BININT1
            case 'M':  // BININT2
            case 'J':  // BININT, signed
                if (!number(op == 'K' ? 1 : op == 'M' ? 2 : 4, v)) return fail("cut short");
                ok = push(node(Kind::Int, {},
                               op == 'J' ? std::int64_t{static_cast<std::int32_t>(v)}
                                         : static_cast<std::int64_t>(v)));
                break;
            case 0x8a:  // LONG1: LibTorch takes 8 bytes only
                if (!number(1, v) || v != 8 || !number(8, v))
                    return fail("a LONG1 of other than 8 bytes");
                ok = push(node(Kind::Int, {}, static_cast<std::int64_t>(v)));
                break;
            case 'G':  // BINFLOAT
                if (!take(8, bytes)) return fail("cut short");
                ok = push(node(Kind::Float));
                break;
            case 0x88:  // NEWTRUE
            case 0x89:  // NEWFALSE
                ok = push(node(Kind::Bool));
                break;
            case 'N':  // NONE
                ok = push(node(Kind::None));
                break;
            case 't':     // TUPLE
            case 0x85:    // TUPLE1
            case 0x86:    // TUPLE2
            case 0x87: {  // TUPLE3
                const std::size_t n = op == 't' ? 0 : op - 0x84;
                if (op == 't' ? m_marks.empty() : !has(n)) return fail("a TUPLE past the stack");
                auto tuple = node(Kind::Tuple);
                if (op == 't') {
                    tuple->items = popMark();
                } else {
                    tuple->items.assign(m_stack.end() - static_cast<std::ptrdiff_t>(n),
                                        m_stack.end());
                    m_stack.resize(m_stack.size() - n);
                }
                for (const auto& item : tuple->items)
                    tuple->depth = std::max(tuple->depth, item->depth + 1);
                ok = push(tuple);
                break;
            }
            case 'e':    // APPENDS
            case 'u': {  // SETITEMS: LibTorch reads items in pairs past the end of an odd count
                const Kind want = op == 'e' ? Kind::List : Kind::Dict;
                if (m_marks.empty() || m_marks.back() <= outerFloor() ||
                    !isKind(m_stack[m_marks.back() - 1], want))
                    return fail(op == 'e' ? "an APPENDS to other than a list"
                                          : "a SETITEMS to other than a dict");
                const Ref target = m_stack[m_marks.back() - 1];
                const auto items = popMark();
                if (op == 'u' && items.size() % 2) return fail("a SETITEMS of an odd count");
                for (std::size_t i = 0; i < items.size(); ++i) {
                    if (op == 'u' && i % 2 == 0 && !isKind(items[i], Kind::Str))
                        return fail("a dict key other than a string");
                    target->depth = std::max(target->depth, items[i]->depth + 1);
                    if (op == 'e') target->items.push_back(items[i]);
                }
                if (target->depth > kMaxDepth)
                    return fail("values nested deeper than " + std::to_string(kMaxDepth));
                break;
            }
            case 0x81:  // NEWOBJ cls (): LibTorch pops the arguments and keeps the class
                if (!has(2) || !isKind(m_stack.back(), Kind::Tuple) ||
                    !m_stack.back()->items.empty() ||
                    !isKind(m_stack[m_stack.size() - 2], Kind::Class))
                    return fail("a NEWOBJ of other than a class of the archive");
                m_stack.pop_back();
                m_stack.back() = node(Kind::Pending, m_stack.back()->text);
                break;
            case 'R':  // REDUCE
            case 'b':  // BUILD
                ok = call(op == 'b');
                break;
            case 'Q':  // BINPERSID
                ok = persistentId();
                break;
            case '.':  // STOP
                if (!m_marks.empty() || m_stack.size() != 1)
                    return fail("a STOP with other than one value");
                return m_stack.back();
            default:
                return fail("opcode " + std::to_string(op) +
                            ", which LibTorch's writer does not use");
        }
        if (!ok) return tl::unexpected(ok.error());
    }
    return fail("ends before its STOP");
}

}  // namespace

namespace {

// The debug records: ("FORMAT_WITH_STRING_TABLE", (text, ...), ((offset, ((pieces, file,
// line), start, end), handle), ...)). LibTorch reads them to word a compile error, indexing
// the string table with `pieces` and `file` and the joined text with start and end, unchecked.
Result<void> checkDebug(const Ref& top) {
    const auto bad = [] {
        return fail("debug records not in the form LibTorch 1.13 writes (or out of range)");
    };
    const auto triple = [](const Ref& n, Kind a, Kind b, Kind c) {
        return isKind(n, Kind::Tuple) && n->items.size() == 3 && isKind(n->items[0], a) &&
               isKind(n->items[1], b) && isKind(n->items[2], c);
    };
    if (!triple(top, Kind::Str, Kind::Tuple, Kind::Tuple) ||
        top->items[0]->text != "FORMAT_WITH_STRING_TABLE")
        return bad();
    const auto& table = top->items[1]->items;
    const auto inTable = [&](std::int64_t i) {
        return i >= 0 && static_cast<std::size_t>(i) < table.size() && isKind(table[i], Kind::Str);
    };
    std::map<const Node*, std::int64_t> lengths;  // of each list of pieces' text, once each
    for (const auto& entry : top->items[2]->items) {
        if (!triple(entry, Kind::Int, Kind::Tuple, Kind::Int)) return bad();
        const auto& range = entry->items[1];
        if (!triple(range, Kind::Tuple, Kind::Int, Kind::Int)) return bad();
        const auto& source = range->items[0];
        if (!triple(source, Kind::IntList, Kind::Int, Kind::Int) ||
            !inTable(source->items[1]->number) || source->items[2]->number < 0)
            return bad();
        auto [it, fresh] = lengths.emplace(source->items[0].get(), 0);
        if (fresh)
            for (const auto& piece : source->items[0]->items) {
                if (!inTable(piece->number)) return bad();
                it->second += static_cast<std::int64_t>(table[piece->number]->text.size());
            }
        const std::int64_t start = range->items[1]->number, end = range->items[2]->number;
        if (start < 0 || start > end || end > it->second) return bad();
    }
    return {};
}

}  // namespace

Result<void> checkPickle(std::string_view pickle, PickleKind kind, const Archive& archive) {
    auto top = Machine(pickle, kind, archive).run();
    if (!top) return tl::unexpected(top.error());
    switch (kind) {
        case PickleKind::Data:
            if (!isKind(*top, Kind::Object)) return fail("holds other than a module");
            return {};
        case PickleKind::Constants:
            if (!isKind(*top, Kind::Tuple)) return fail("holds other than a tuple");
            return {};
        case PickleKind::Debug:
            return checkDebug(*top);
    }
    return {};
}

}  // namespace ll::checkpoint
