#pragma once

// What the benchmarks share with their Python references: run a command line, read its
// output, and take the JSON object its last line prints.

#include <sys/wait.h>

#include <cstdio>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace bench {

/// Runs `command` through the shell and parses the last non-empty line of its output as JSON
/// holding `key`; on any failure says so on stderr (naming `program`) and returns nothing.
inline std::optional<nlohmann::json> runPythonJson(const std::string& command, const char* program,
                                                   const char* key) {
    std::fflush(stdout);
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) {
        std::fprintf(stderr, "%s: cannot start: %s\n", program, command.c_str());
        return std::nullopt;
    }
    std::string out;
    char buf[4096];
    while (std::size_t got = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, got);
    const int status = pclose(pipe);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    const auto newline = out.find_last_of('\n');
    const std::string last = out.substr(newline == std::string::npos ? 0 : newline + 1);
    auto json = nlohmann::json::parse(last, nullptr, false);
    if (code != 0 || json.is_discarded() || !json.contains(key)) {
        std::fprintf(stderr, "%s: the run failed (exit code %d): %s\n%s\n", program, code,
                     command.c_str(), out.c_str());
        return std::nullopt;
    }
    return json;
}

}  // namespace bench
