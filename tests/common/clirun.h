#pragma once

// Running latentlab-cli (or any command) from a test: its exit code and everything it printed,
// and a scratch folder per test program.

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace ll::testing {

struct Outcome {
    int exitCode = -1;
    std::string output;  // stdout and stderr together
};

/// Runs a shell command line.
inline Outcome shell(const std::string& command) {
    Outcome out;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (!pipe) return out;
    std::array<char, 4096> buffer;
    while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe))
        out.output.append(buffer.data(), n);
    const int status = pclose(pipe);
    out.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
}

#ifdef LATENTLAB_CLI
/// Runs latentlab-cli with `args`.
inline Outcome cli(const std::string& args) {
    return shell(std::string(LATENTLAB_CLI) + " " + args);
}
#endif

/// A fresh folder for this test program, "latentlab-test-<name>-<pid>" in the temp folder.
inline std::filesystem::path scratchFolder(const std::string& name) {
    namespace fs = std::filesystem;
    fs::path d =
        fs::temp_directory_path() / ("latentlab-test-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

/// A whole file's bytes; empty when it cannot be read.
inline std::string fileBytes(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace ll::testing
