#pragma once

// Prefix and suffix tests for the readers of outside bytes. C++20 strings have them as
// members; the readers also build as C++17 for the fuzzers (tests/fuzz: clang cannot take
// LibTorch 1.13's headers in C++20 with libstdc++ 12), so they use these.

#include <string_view>

namespace ll {

inline bool startsWith(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

inline bool endsWith(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace ll
