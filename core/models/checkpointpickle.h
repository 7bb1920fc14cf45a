#pragma once

// The pickles of a checkpoint archive, checked against what torch::serialize::OutputArchive
// writes and what LibTorch 1.13's unpickler survives (models/checkpointarchive.h checks the
// rest of the archive). Torch-free.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace ll::checkpoint {

/// What the pickles may refer to.
struct Archive {
    /// Record sizes by lower-case path inside the archive's folder ("data/3").
    std::map<std::string, std::uint64_t> sizes;
    /// The classes code/ declares: "__torch__.Module", "__torch__.___torch_mangle_3.Module".
    std::set<std::string> classes;
};

/// Text from the file fit for a message: at most 80 characters, anything not printable ASCII
/// as '?'.
std::string printable(std::string_view text);

enum class PickleKind {
    Data,       // data.pkl: the module, its tensors in data/
    Constants,  // constants.pkl: a tuple, its tensors in constants/
    Debug       // <class>.py.debug_pkl: source ranges over a string table
};

/// Runs a pickle on a model of LibTorch 1.13's unpickler and refuses what would make it
/// misbehave (see checkpointarchive.h).
Result<void> checkPickle(std::string_view pickle, PickleKind kind, const Archive& archive);

}  // namespace ll::checkpoint
