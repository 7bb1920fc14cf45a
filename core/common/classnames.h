#pragma once

// The classes a user names on a command line (--classes, --class, --mix, a sweep's class axis):
// by name first, then by number from 0. A table labelled 1, 2 and 3 (wine) names its classes
// "1", "2" and "3", numbered 0, 1 and 2: "--classes 1,2" means the classes labelled 1 and 2,
// and reading it as numbers would keep the wrong two without a word.

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace ll {

/// `token` without the spaces around it ("cat, dog" splits into "cat" and " dog").
inline std::string_view trimmedToken(std::string_view token) {
    const auto first = token.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return token.substr(first, token.find_last_not_of(" \t") - first + 1);
}

/// Whether `a` and `b` are the same name but for ASCII case ("sneaker", "Sneaker").
inline bool sameButCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

/// The class `token` names among `classNames`: the one of that name (as typed, then without
/// the spaces around it), else the only one of that name but for case, else the one of that
/// number (0-based), else a message listing the classes.
inline Result<int> classIndex(std::string_view token, const std::vector<std::string>& classNames) {
    const int count = static_cast<int>(classNames.size());
    for (int k = 0; k < count; ++k)  // a name with spaces, quoted on the command line
        if (!token.empty() && classNames[static_cast<std::size_t>(k)] == token) return k;
    const std::string_view name = trimmedToken(token);
    if (name.empty()) return fail("a class is missing in the list (two commas, or one at an end)");
    for (int k = 0; k < count; ++k)
        if (classNames[static_cast<std::size_t>(k)] == name) return k;
    std::vector<std::string> caseless;
    int only = -1;
    for (int k = 0; k < count; ++k)
        if (sameButCase(classNames[static_cast<std::size_t>(k)], name)) {
            caseless.push_back(classNames[static_cast<std::size_t>(k)]);
            only = k;
        }
    if (caseless.size() == 1) return only;
    if (caseless.size() > 1)
        return fail("'" + std::string(name) + "' matches the classes " + caseless[0] + " and " +
                    caseless[1] + " but for case: write it as the class is written");
    int number = 0;
    bool digits = name.size() <= 9;
    for (char c : name) {
        digits = digits && c >= '0' && c <= '9';
        number = number * 10 + (c - '0');
    }
    if (digits && number < count) return number;
    std::string all;
    for (std::size_t k = 0; k < classNames.size() && all.size() < 200; ++k)
        all += (k ? ", " : "") + classNames[k];
    if (all.size() >= 200) all += ", ...";
    return fail("no class '" + std::string(name) + "': the classes are " + all +
                (count > 0 ? " (or their numbers 0 to " + std::to_string(count - 1) + ")" : ""));
}

/// The classes `tokens` name, in their order (a class may come twice: --class cycles a list).
inline Result<std::vector<int>> classIndices(const std::vector<std::string>& tokens,
                                             const std::vector<std::string>& classNames) {
    std::vector<int> out;
    for (const auto& token : tokens) {
        auto k = classIndex(token, classNames);
        if (!k) return tl::unexpected(k.error());
        out.push_back(*k);
    }
    return out;
}

/// How a command line names class `k` so that classIndex() reads it back (quoted by the
/// caller for a shell): its name, or its number where the name cannot stand in a list (empty,
/// or with ',' or ':'). Where that number names another class too, no token names the class:
/// the name is returned, which a list splits apart; its parts name no class unless the data
/// has classes named like them too.
inline std::string classToken(int k, const std::vector<std::string>& classNames) {
    const std::string number = std::to_string(k);
    if (k < 0 || static_cast<std::size_t>(k) >= classNames.size()) return number;
    const std::string& name = classNames[static_cast<std::size_t>(k)];
    if (!name.empty() && name.find_first_of(",:") == std::string::npos) return name;
    for (const auto& other : classNames)
        if (other == number) return name;
    return number;
}

}  // namespace ll
