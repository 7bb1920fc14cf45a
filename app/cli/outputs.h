#pragma once

// What every command that writes files checks before it writes: a user's data is never
// written over.

#include <string>
#include <vector>

namespace ll::cli {

/// Empty, or why `out` must not be written: it is one of `sources` (what data is read from:
/// a run's training data, a --dataset) or lies inside one of those folders. Sources that
/// are no path on this machine (the built-in "fashion-mnist") are no matter.
std::string overwritesData(const std::string& out, const std::vector<std::string>& sources);

}  // namespace ll::cli
