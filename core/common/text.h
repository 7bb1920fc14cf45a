#pragma once

// Prefix and suffix tests for the readers of outside bytes. C++20 strings have them as
// members; the readers also build as C++17 for the fuzzers (tests/fuzz: clang cannot take
// LibTorch 1.13's headers in C++20 with libstdc++ 12), so they use these.

#include <string>
#include <string_view>
#include <vector>

namespace ll {

inline bool startsWith(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

inline bool endsWith(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

/// Whether `names` are 0, 1, 2 ...: what the CSV reader names the columns of a file without a
/// header (and pandas writes over a frame without names).
inline bool numberedNames(const std::vector<std::string>& names) {
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] != std::to_string(i)) return false;
    return true;
}

/// `text` for a message: as it is up to `maxBytes`, else cut there with "...", never inside a
/// UTF-8 character (a cut one would make the message invalid UTF-8, which JSON refuses).
inline std::string clipped(std::string_view text, std::size_t maxBytes) {
    if (text.size() <= maxBytes) return std::string(text);
    std::size_t cut = maxBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return std::string(text.substr(0, cut)) + "...";
}

/// `names` joined by ", " for a message, cut after `maxChars` with "...".
inline std::string joinedNames(const std::vector<std::string>& names, std::size_t maxChars) {
    std::string all;
    for (std::size_t i = 0; i < names.size(); ++i) all += (i ? ", " : "") + names[i];
    return clipped(all, maxChars);
}

/// `word` as a POSIX shell reads it back: as it is when it is plain, else in single quotes.
inline std::string shellWord(const std::string& word) {
    if (!word.empty() &&
        word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789-_./:,=+") == std::string::npos)
        return word;
    std::string quoted = "'";
    for (char ch : word) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return quoted + "'";
}

}  // namespace ll
