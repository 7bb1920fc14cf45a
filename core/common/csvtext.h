#pragma once

// CSV cells as text (RFC 4180 quoting), for the manifests and tables core writes and reads.

#include <string>
#include <vector>

namespace ll {

/// `text` as one CSV cell: quoted (inner quotes doubled) when it holds a comma, a quote or a
/// line break, else as it is.
std::string csvCell(const std::string& text);

/// One CSV line split into its cells, quotes removed. A line break inside quotes is not
/// supported: the manifests never write one.
std::vector<std::string> splitCsvLine(const std::string& line);

}  // namespace ll
