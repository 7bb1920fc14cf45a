#pragma once

// A table read against a run's (readCsv given a TableLayout): its classes and columns met as
// the run's. Internal to core/data, beside csvcells.h.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/error.h"

namespace ll {
struct TableLayout;
}

namespace ll::csv {

// The run's class a label cell names: by name, or by value where both are numbers ("1.0" is
// the run's "1"); -1 for none.
std::int64_t runClassOf(const std::string& cell, const TableLayout& like);

// The run's columns as its file had them: a feature each, a categorical column once.
std::vector<std::string> runColumns(const TableLayout& like);

// "of classes the run does not have ('hat'; its classes: coat, shirt)".
std::string foreignNote(const std::set<std::string>& classes, const TableLayout& like);

// Rows labelled `y` among the file's `classes`, given the run's classes: rows of one the run
// does not have are left out of x, y and lines (beside `foreign` rows the read passed over),
// the others labelled as the run's. The note says what was left out ("" for nothing).
Result<std::string> asRunsClasses(const std::string& file, const std::vector<std::string>& classes,
                                  const TableLayout& like, torch::Tensor& x, torch::Tensor& y,
                                  std::vector<std::size_t>& lines, std::int64_t foreign,
                                  std::set<std::string>& foreignClasses);

}  // namespace ll::csv
