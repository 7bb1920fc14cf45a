#pragma once

// What every fuzz target shares: the fuzzer's bytes taken apart (a mode byte, length-prefixed
// parts) and written where the readers look for files, in a scratch folder of this process.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <unistd.h>

namespace ll::fuzz {

/// A fresh folder per process, in memory where /dev/shm exists.
inline const std::filesystem::path& scratch() {
    static const std::filesystem::path dir = [] {
        std::error_code ec;
        const std::filesystem::path shm = "/dev/shm";
        auto base =
            std::filesystem::is_directory(shm, ec) ? shm : std::filesystem::temp_directory_path();
        auto d = base / ("latentlab-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d, ec);
        return d;
    }();
    return dir;
}

/// A folder emptied for this input.
inline std::filesystem::path freshFolder(const std::string& name) {
    const auto dir = scratch() / name;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::filesystem::create_directories(dir, ec);
    return dir;
}

inline void writeFile(const std::filesystem::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// The input, read front to back; reading past its end gives zeros and empty parts.
class Input {
public:
    Input(const std::uint8_t* data, std::size_t size)
        : m_data(reinterpret_cast<const char*>(data)), m_size(size) {}
    std::uint8_t byte() { return m_at < m_size ? static_cast<std::uint8_t>(m_data[m_at++]) : 0; }
    /// A part whose length (two bytes, little-endian) comes first.
    std::string_view part() {
        const std::size_t n = byte() | (std::size_t{byte()} << 8);
        return take(n);
    }
    std::string_view rest() { return take(m_size - m_at); }

private:
    std::string_view take(std::size_t n) {
        n = std::min(n, m_size - m_at);
        std::string_view s(m_data + m_at, n);
        m_at += n;
        return s;
    }
    const char* m_data;
    std::size_t m_size;
    std::size_t m_at = 0;
};

}  // namespace ll::fuzz
