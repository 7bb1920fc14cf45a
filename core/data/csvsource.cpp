#include "data/csvsource.h"

#include <cstdint>
#include <cstring>

#include "common/cpu.h"
#include "common/text.h"

namespace ll::csv {
namespace {

constexpr auto npos = std::string_view::npos;

unsigned char byteAt(std::string_view s, std::size_t at) {
    return static_cast<unsigned char>(s[at]);
}

// The length of the UTF-8 sequence at `at` (RFC 3629: no overlong forms, no surrogates, nothing
// past U+10FFFF), or 0 where the bytes there are none.
std::size_t sequenceLength(std::string_view s, std::size_t at) {
    const unsigned char c = byteAt(s, at);
    if (c < 0x80) return 1;
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c == 0xE0)
        n = 3, lo = 0xA0;
    else if (c == 0xED)
        n = 3, hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF)
        n = 3;
    else if (c == 0xF0)
        n = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3)
        n = 4;
    else if (c == 0xF4)
        n = 4, hi = 0x8F;
    else
        return 0;
    if (s.size() - at < n) return 0;
    if (byteAt(s, at + 1) < lo || byteAt(s, at + 1) > hi) return 0;
    for (std::size_t i = 2; i < n; ++i)
        if (byteAt(s, at + i) < 0x80 || byteAt(s, at + i) > 0xBF) return 0;
    return n;
}

// The first byte from `at` that is not ASCII (or the end), eight at a time: most of a table is.
std::size_t skipAscii(std::string_view s, std::size_t at) {
    while (s.size() - at >= 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, s.data() + at, 8);
        if (word & 0x8080808080808080ull) break;
        at += 8;
    }
    while (at < s.size() && byteAt(s, at) < 0x80) ++at;
    return at;
}

// The bytes that are not UTF-8 (each byte of a broken sequence once), and the characters of
// more than one byte that are.
struct Utf8Count {
    std::size_t bad = 0, wide = 0;
};
Utf8Count countUtf8(std::string_view s) {
    Utf8Count count;
    for (std::size_t at = 0; (at = skipAscii(s, at)) < s.size();) {
        const auto n = sequenceLength(s, at);
        (n ? count.wide : count.bad) += 1;
        at += n ? n : 1;
    }
    return count;
}

std::size_t utf8Length(char32_t c) {
    return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

void appendUtf8(std::string& out, char32_t c) {
    const auto byte = [&](std::uint32_t b) { out += static_cast<char>(b); };
    if (c < 0x80) {
        byte(c);
    } else if (c < 0x800) {
        byte(0xC0 | c >> 6), byte(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        byte(0xE0 | c >> 12), byte(0x80 | (c >> 6 & 0x3F)), byte(0x80 | (c & 0x3F));
    } else {
        byte(0xF0 | c >> 18), byte(0x80 | (c >> 12 & 0x3F)), byte(0x80 | (c >> 6 & 0x3F));
        byte(0x80 | (c & 0x3F));
    }
}

// Windows-1252's 0x80..0x9F; the five bytes it leaves undefined are the C1 controls of the same
// number, as WHATWG's decoder reads them. Its other bytes are Latin-1's, U+0000..U+00FF.
constexpr char16_t kCp1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

char32_t cp1252(unsigned char c) {
    return c >= 0x80 && c < 0xA0 ? kCp1252High[c - 0x80] : c;
}

// Calls each(code point) for UTF-16 text; an unpaired surrogate or an odd last byte is U+FFFD.
template <class Each>
void eachUtf16(std::string_view s, bool bigEndian, Each&& each) {
    const auto unit = [&](std::size_t i) -> char32_t {
        const char32_t a = byteAt(s, i), b = byteAt(s, i + 1);
        return bigEndian ? (a << 8 | b) : (b << 8 | a);
    };
    std::size_t i = 0;
    for (; s.size() - i >= 2; i += 2) {
        const char32_t u = unit(i);
        if (u >= 0xD800 && u < 0xDC00 && s.size() - i >= 4) {
            const char32_t v = unit(i + 2);
            if (v >= 0xDC00 && v < 0xE000) {
                each(0x10000 + ((u - 0xD800) << 10) + (v - 0xDC00));
                i += 2;
                continue;
            }
        }
        each(u >= 0xD800 && u < 0xE000 ? char32_t{0xFFFD} : u);
    }
    if (i < s.size()) each(char32_t{0xFFFD});
}

enum class Utf16 { No, Little, Big };

// Whether text without a byte-order mark is UTF-16 by its NULs: a table's characters are
// mostly ASCII, which UTF-16 writes with a NUL beside each (after it, little-endian) and none
// in the other byte. The first 64 KiB say; a binary file has NULs in both bytes.
Utf16 byNuls(std::string_view s) {
    const std::size_t pairs = std::min<std::size_t>(s.size(), std::size_t{1} << 16) / 2;
    if (pairs < 2) return Utf16::No;
    std::size_t evenNuls = 0, oddNuls = 0;
    for (std::size_t i = 0; i < pairs; ++i) {
        evenNuls += s[2 * i] == '\0' ? 1 : 0;
        oddNuls += s[2 * i + 1] == '\0' ? 1 : 0;
    }
    if (evenNuls * 100 <= pairs && oddNuls * 4 >= pairs * 3) return Utf16::Little;
    if (oddNuls * 100 <= pairs && evenNuls * 4 >= pairs * 3) return Utf16::Big;
    return Utf16::No;
}

Result<void> fits(std::size_t bytes, const std::string& as) {
    if (const auto why = beyondMemory(static_cast<double>(bytes)); !why.empty())
        return fail("read as " + as + ", its text would" + why);
    return {};
}

}  // namespace

Result<Decoded> decodeText(std::string_view bytes, std::string& storage) {
    Utf16 utf16 = Utf16::No;
    bool bom = true;
    if (startsWith(bytes, "\xFF\xFE"))
        utf16 = Utf16::Little;
    else if (startsWith(bytes, "\xFE\xFF"))
        utf16 = Utf16::Big;
    else if (startsWith(bytes, "\xEF\xBB\xBF"))
        bytes.remove_prefix(3);
    else
        bom = false, utf16 = byNuls(bytes);
    if (utf16 != Utf16::No) {
        if (bom) bytes.remove_prefix(2);
        const bool big = utf16 == Utf16::Big;
        const std::string as = big ? "UTF-16BE" : "UTF-16LE";
        std::size_t size = 0;
        eachUtf16(bytes, big, [&](char32_t c) { size += utf8Length(c); });
        if (auto ok = fits(size, as); !ok) return tl::unexpected(ok.error());
        storage.clear();
        storage.reserve(size);
        eachUtf16(bytes, big, [&](char32_t c) { appendUtf8(storage, c); });
        return Decoded{storage, "read as " + as + (bom ? "" : " (no byte-order mark)")};
    }
    const auto [bad, wide] = countUtf8(bytes);
    // Binary bytes are refused by line, as they are.
    if (bad == 0 || bytes.find('\0') != npos) return Decoded{bytes, ""};
    if (bom || wide >= bad) {
        // The byte-order mark, or more characters in UTF-8 than bytes that are not, say UTF-8
        // (a database export that cut a cell inside a character): the bytes that are not are
        // broken, not another encoding's, whose reading would turn every 'é' into two letters.
        if (auto ok = fits(bytes.size() + 2 * bad, "UTF-8"); !ok) return tl::unexpected(ok.error());
        storage.clear();
        storage.reserve(bytes.size() + 2 * bad);
        for (std::size_t at = 0; at < bytes.size();) {
            const std::size_t ascii = skipAscii(bytes, at);
            storage.append(bytes.data() + at, ascii - at);
            if ((at = ascii) == bytes.size()) break;
            const auto n = sequenceLength(bytes, at);
            if (n)
                storage.append(bytes.data() + at, n);
            else
                appendUtf8(storage, 0xFFFD);
            at += n ? n : 1;
        }
        return Decoded{storage, "read as UTF-8, " + std::to_string(bad) +
                                    (bad == 1 ? " byte that is" : " bytes that are") +
                                    " not UTF-8 as U+FFFD"};
    }
    std::size_t size = 0;
    for (std::size_t at = 0; at < bytes.size(); ++at) size += utf8Length(cp1252(byteAt(bytes, at)));
    if (auto ok = fits(size, "Windows-1252"); !ok) return tl::unexpected(ok.error());
    storage.clear();
    storage.reserve(size);
    for (std::size_t at = 0; at < bytes.size();) {
        const std::size_t ascii = skipAscii(bytes, at);
        storage.append(bytes.data() + at, ascii - at);
        if ((at = ascii) == bytes.size()) break;
        appendUtf8(storage, cp1252(byteAt(bytes, at++)));
    }
    return Decoded{storage, "read as Windows-1252 (not UTF-8)"};
}

std::string shownCell(std::string_view cell) {
    std::size_t end = std::min<std::size_t>(cell.size(), 40);
    while (end > 0 && end < cell.size() && (byteAt(cell, end) & 0xC0) == 0x80) --end;
    std::string shown;
    for (const char ch : cell.substr(0, end))
        shown += ch == '\n' ? std::string("\\n") : std::string(1, ch);
    return shown;
}

bool crLineEnds(std::string_view text) {
    const auto end = text.find_first_of("\r\n");
    return end != npos && text[end] == '\r' && (end + 1 == text.size() || text[end + 1] != '\n');
}

char excelSeparator(std::string_view& text, std::size_t& line) {
    if (text.size() < 5 || !startsWith(text, "sep=")) return 0;
    const char sep = text[4];
    if (sep == '\r' || sep == '\n' || sep == '"' || sep == '\0' || sep == ' ') return 0;
    std::size_t end = 5;
    if (end < text.size() && text[end] == '\r') ++end;
    if (end < text.size() && text[end] == '\n') ++end;
    // The line is "sep=X" alone: a header "sep=a,b" names columns.
    if (end == 5 && text.size() > 5) return 0;
    text.remove_prefix(end);
    ++line;
    return sep;
}

char detectDelimiter(std::string_view first, std::string_view second) {
    const auto count = [](std::string_view s, char d) {
        return static_cast<std::size_t>(std::count(s.begin(), s.end(), d));
    };
    std::size_t best = 0;
    char chosen = ',';
    for (char d : {'\t', ';', ','}) {
        const auto n = count(first, d);
        if (n > best) best = n, chosen = d;
    }
    // '|' is rarer as a separator than inside a cell: the file must use it on both lines.
    const auto pipes = count(first, '|');
    if (pipes > best && (second.empty() || count(second, '|') == pipes)) chosen = '|';
    return chosen;
}

bool lastCellEmpty(std::string_view record, char delimiter) {
    const auto last = record.rfind(delimiter);
    if (last == npos) return false;
    // Balanced and with no quote after it, the separator is no quoted cell's.
    return record.find_first_not_of(" \t\r\n", last + 1) == npos;
}

namespace {

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == npos) return {};
    auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

}  // namespace

bool splitRecord(std::string_view record, char delimiter, std::vector<std::string>& out) {
    out.clear();
    std::string field;
    bool quoted = false;
    for (std::size_t i = 0; i < record.size(); ++i) {
        const char ch = record[i];
        if (quoted) {
            if (ch == '"' && i + 1 < record.size() && record[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (ch == '"') {
                quoted = false;
            } else if (ch == '\r') {
                // A line break inside quotes is the cell's, one way whatever the file's way.
                field += '\n';
                if (i + 1 < record.size() && record[i + 1] == '\n') ++i;
            } else {
                field += ch;
            }
        } else if (ch == '"' && field.find_first_not_of(" \t") == std::string::npos) {
            quoted = true;
        } else if (ch == delimiter) {
            out.push_back(trim(field));
            field.clear();
        } else {
            field += ch;
        }
    }
    out.push_back(trim(field));
    return !quoted;
}

}  // namespace ll::csv
