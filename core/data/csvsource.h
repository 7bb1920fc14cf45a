#pragma once

// A CSV file's bytes as readCsv reads them: its text in UTF-8 whatever the file's encoding, its
// records (a quoted cell may run over lines) and their cells, and its separator. Internal to
// core/data, beside csvcells.h.
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace ll::csv {

// The file's text in UTF-8 and, where it was not UTF-8, what it was read as ("read as
// Windows-1252 (not UTF-8)"), for the Dataset's note.
struct Decoded {
    std::string_view text;
    std::string note;
};

/// `bytes` as UTF-8 text: as they are where they are UTF-8 (a byte-order mark dropped), else
/// decoded into `storage`: UTF-16 by its byte-order mark, or by a NUL in every other byte where
/// it has none (Excel's "Unicode text"); any other bytes that are not UTF-8 as Windows-1252
/// (what Excel on Windows saves), every byte of the file. Bytes that hold a NUL and are no
/// UTF-16 are left as they are, for the reader to refuse by line. Refused where the decoded
/// text would not fit in memory.
Result<Decoded> decodeText(std::string_view bytes, std::string& storage);

/// A cell as a message quotes it: its first 40 bytes, cut between characters, a line break in
/// it (a quoted cell's) written "\n" so that the message stays on one line.
std::string shownCell(std::string_view cell);

/// Whether the text ends its lines in a lone '\r' (old Mac files), as its first line does; such
/// a file's lines may end in "\r\n" or '\n' too. Elsewhere a '\r' before '\n' is the line's.
bool crLineEnds(std::string_view text);

/// The separator Excel's first line "sep=;" names, that line taken off `text` and counted in
/// `line` (the number of the text's first line); 0 where the text has no such line.
char excelSeparator(std::string_view& text, std::size_t& line);

/// The separator the first record uses most: a tab, ';' (whose files write decimal commas:
/// "1,5;2,5;a" is three cells), ',' on a tie in that order; '|' where it beats them and the
/// second record (if any) has as many.
char detectDelimiter(std::string_view first, std::string_view second);

/// Whether the record's last cell is empty: a separator ends it, but for spaces.
bool lastCellEmpty(std::string_view record, char delimiter);

/// The record's cells (RFC 4180: fields may be quoted, quotes doubled inside, a line break
/// inside quotes is the cell's, written '\n'; a quote inside an unquoted cell is the cell's),
/// trimmed of spaces. False where a quote is not closed.
bool splitRecord(std::string_view record, char delimiter, std::vector<std::string>& out);

// A record of the file: a line, or the lines a quoted cell runs over. `line` is the file's line
// where it starts, `lastLine` where it ends; `balanced` is false where a quote it opens never
// closes (the record then runs to the end of the file).
struct Record {
    std::size_t line = 0;
    std::size_t lastLine = 0;
    std::string_view text;
    bool balanced = true;
};

/// Whether a quoted cell is still open after `line`, given whether one was open before it
/// (RFC 4180, as Python's csv reads it): a quote opens a cell only at its start (the line's,
/// or after the separator, spaces aside), a doubled one inside is a quote, and one inside an
/// unquoted cell (32" for inches) is the cell's. `delimiter` 0: any of tab ; , |.
inline bool quoteOpenAfter(std::string_view line, bool quoted, char delimiter) {
    bool cellStart = !quoted;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char ch = line[i];
        if (quoted) {
            if (ch != '"') continue;
            if (i + 1 < line.size() && line[i + 1] == '"')
                ++i;
            else
                quoted = false, cellStart = false;
        } else if (ch == '"' && cellStart) {
            quoted = true;
        } else if (delimiter ? ch == delimiter
                             : ch == ',' || ch == ';' || ch == '\t' || ch == '|') {
            cellStart = true;
        } else if (ch != ' ') {
            cellStart = false;
        }
    }
    return quoted;
}

/// Calls each(record) for the records that are not blank, in order, while it returns true.
/// Line numbers count from `firstLine` and include blank lines and the lines inside quotes, so
/// that errors point at the file. A line ends in '\n' (its '\r' before it is trimmed as a
/// cell's space), or, where `crLines`, in '\r', "\r\n" or '\n'. Quotes as quoteOpenAfter
/// reads them with `delimiter`.
template <class Each>
void forEachRecord(std::string_view text, std::size_t firstLine, bool crLines, char delimiter,
                   Each&& each) {
    std::size_t at = 0, line = firstLine;
    while (at < text.size()) {
        Record record;
        record.line = line;
        const std::size_t start = at;
        std::size_t end = at;
        bool quoted = false;
        do {
            end = crLines ? text.find_first_of("\r\n", at) : text.find('\n', at);
            if (end == std::string_view::npos) end = text.size();
            quoted = quoteOpenAfter(text.substr(at, end - at), quoted, delimiter);
            const bool crlf =
                crLines && end + 1 < text.size() && text[end] == '\r' && text[end + 1] == '\n';
            at = end + (crlf ? 2 : 1);
            ++line;
        } while (quoted && at < text.size());
        record.lastLine = line - 1;
        record.text = text.substr(start, end - start);
        record.balanced = !quoted;
        if (record.text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        if (!each(static_cast<const Record&>(record))) return;
    }
}

}  // namespace ll::csv
