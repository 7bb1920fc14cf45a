#pragma once

// JSON written outside (run files, records, parts a user may edit or damage): parseJson reads
// it without exceptions or unbounded nesting, and the whole-number readers refuse what
// nlohmann's get<T>() of an integer type would cast unchecked (1e300 is undefined behaviour,
// found by tests/fuzz) or wrap out of T's range, with std::out_of_range naming the value.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ll {

/// The deepest nesting accepted from a file: nlohmann's parser is iterative, but copying,
/// comparing and dumping a value recurse, and a file of a million '[' overflowed the stack.
inline constexpr int kMaxJsonDepth = 64;
/// What a file parseJson discards is, for messages: "<file>: " + kNotJson.
inline const std::string kNotJson =
    "not valid JSON (or nested more than " + std::to_string(kMaxJsonDepth) + " deep)";

/// The deepest nesting of brackets and braces in JSON text, outside its strings; a quick scan,
/// cheaper than a parser callback.
inline int jsonDepth(std::string_view text) {
    int depth = 0, deepest = 0;
    bool inString = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return deepest;
}

/// JSON text written outside: discarded (is_discarded()) when malformed or nested deeper than
/// kMaxJsonDepth, never an exception. `callback`, when given, sees every event as nlohmann's
/// parser callback would.
inline nlohmann::json parseJson(std::string_view text,
                                const nlohmann::json::parser_callback_t& callback = nullptr) {
    if (jsonDepth(text) > kMaxJsonDepth) return nlohmann::json(nlohmann::json::value_t::discarded);
    return nlohmann::json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
}

/// nlohmann's message without its "[json.exception.type_error.302] " tag: what a person reads
/// after the file's name ("type must be object, but is null", "key 'model' not found").
inline std::string jsonMessage(const std::exception& e) {
    std::string what = e.what();
    if (what.rfind("[json.exception.", 0) == 0)
        if (const auto end = what.find("] "); end != std::string::npos) what.erase(0, end + 2);
    return what;
}

/// `value` as a T, if it is an integer in T's range.
template <class T>
std::optional<T> asWholeNumber(const nlohmann::json& value) {
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    constexpr auto min = static_cast<std::int64_t>(std::numeric_limits<T>::min());
    if (value.is_number_unsigned()) {
        if (const auto v = value.get<std::uint64_t>(); v <= max) return static_cast<T>(v);
    } else if (value.is_number_integer()) {
        const auto v = value.get<std::int64_t>();
        if (v >= 0 ? static_cast<std::uint64_t>(v) <= max : v >= min) return static_cast<T>(v);
    }
    return std::nullopt;
}

/// `value` as a T; std::out_of_range naming `what` if it is not an integer in T's range.
template <class T>
T wholeNumber(const nlohmann::json& value, const std::string& what) {
    if (const auto v = asWholeNumber<T>(value)) return *v;
    const std::string text = value.dump();
    throw std::out_of_range("'" + what + "' is " + text.substr(0, 40) +
                            (text.size() > 40 ? "..." : "") + ", not a whole number from " +
                            std::to_string(std::numeric_limits<T>::min()) + " to " +
                            std::to_string(std::numeric_limits<T>::max()));
}

/// The whole number at `key` of object `j`, or `fallback` where there is none.
template <class T>
T wholeNumber(const nlohmann::json& j, const std::string& key, T fallback) {
    const auto it = j.find(key);
    return it == j.end() ? fallback : wholeNumber<T>(*it, key);
}

/// The array at `key` of object `j` as whole numbers, or `fallback` where there is none.
template <class T>
std::vector<T> wholeNumbers(const nlohmann::json& j, const std::string& key,
                            std::vector<T> fallback) {
    const auto it = j.find(key);
    if (it == j.end()) return fallback;
    if (!it->is_array()) throw std::out_of_range("'" + key + "' is not a list");
    std::vector<T> out;
    for (const auto& v : *it) out.push_back(wholeNumber<T>(v, key));
    return out;
}

}  // namespace ll
