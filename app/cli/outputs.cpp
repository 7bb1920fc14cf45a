#include "cli/outputs.h"

#include <filesystem>

namespace ll::cli {

namespace fs = std::filesystem;

std::string overwritesData(const std::string& out, const std::vector<std::string>& sources) {
    if (out.empty()) return {};
    std::error_code ec;
    const fs::path target = fs::weakly_canonical(fs::absolute(out, ec), ec);
    if (ec || target.empty()) return {};
    for (const auto& source : sources) {
        if (source.empty() || !fs::exists(source, ec)) continue;
        const fs::path data = fs::weakly_canonical(fs::absolute(source, ec), ec);
        if (ec) continue;
        if (target == data)
            return out + " is the data (" + source +
                   ") the run learns from: write to another file or folder";
        if (fs::is_directory(data, ec)) {
            const auto inside = target.lexically_relative(data);
            if (!inside.empty() && *inside.begin() != "..")
                return out + " lies inside the data folder " + source +
                       ": write to a file or folder outside it";
        }
    }
    return {};
}

}  // namespace ll::cli
