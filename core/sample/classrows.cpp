#include "sample/classrows.h"

#include <algorithm>

#include "models/catalog.h"

namespace ll {

ClassRows classRows(const std::string& modelName, const std::vector<std::string>& classNames,
                    int maxRows, int cols) {
    ClassRows out;
    out.rows = std::min(static_cast<int>(classNames.size()), std::max(1, maxRows));
    cols = std::max(1, cols);
    const bool conditional = modelInfo(modelName).conditional;
    for (int r = 0; r < out.rows; ++r) {
        if (conditional) out.names.push_back(classNames[static_cast<std::size_t>(r)]);
        out.labels.insert(out.labels.end(), static_cast<std::size_t>(cols), r);
    }
    return out;
}

}  // namespace ll
