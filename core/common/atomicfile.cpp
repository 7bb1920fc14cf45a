#include "common/atomicfile.h"

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace ll {
namespace fs = std::filesystem;

namespace {

fs::path temporaryBeside(const fs::path& path) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return path.parent_path() /
           ("." + path.filename().string() + "." + std::to_string(rng()) + ".tmp");
}

// The data must reach the disk before the rename makes it visible, or a power cut could
// leave the new name pointing at an empty file.
void syncFile(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

}  // namespace

Result<void> writeAtomicWith(const fs::path& path,
                             const std::function<Result<void>(const fs::path&)>& writer) {
    std::error_code ec;
    if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
    const fs::path tmp = temporaryBeside(path);
    Result<void> written;
    try {
        written = writer(tmp);
    } catch (const std::exception& e) {
        written = fail(path.string() + ": " + e.what());
    }
    if (!written) {
        fs::remove(tmp, ec);
        return written;
    }
    syncFile(tmp);
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return fail(path.string() + ": cannot write (" + ec.message() + ")");
    }
    return {};
}

Result<void> writeFileAtomic(const fs::path& path, std::string_view bytes) {
    return writeAtomicWith(path, [&](const fs::path& tmp) -> Result<void> {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.close();
        if (!out) return fail(path.string() + ": cannot write (disk full or no permission?)");
        return {};
    });
}

Result<std::string> readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(path.string() + ": cannot open file");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) return fail(path.string() + ": read error");
    return buffer.str();
}

}  // namespace ll
