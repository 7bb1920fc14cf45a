#pragma once

// A study's parts/ folder: one small JSON per finished piece of work (a seed, a size), so that
// a rerun with the same options resumes. parts/options.json says which options made them.

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/error.h"
#include "common/jsonnumber.h"

namespace ll {

/// Makes `parts` ready for a study of `options`: parts made with other options are cleared
/// (with a note in `notes`), the folder is created and options.json written.
inline Result<void> prepareParts(const std::filesystem::path& parts, const nlohmann::json& options,
                                 std::vector<std::string>& notes) {
    std::error_code ec;
    if (auto old = readFile(parts / "options.json"))
        if (parseJson(*old) != options) {
            std::filesystem::remove_all(parts, ec);
            notes.push_back("parts/ held a study with other options: started over");
        }
    std::filesystem::create_directories(parts, ec);
    if (ec) return fail(parts.string() + ": cannot create the folder (" + ec.message() + ")");
    return writeFileAtomic(parts / "options.json", options.dump(2) + "\n");
}

}  // namespace ll
