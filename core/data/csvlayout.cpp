#include "data/csvlayout.h"

#include <algorithm>

#include <torch/torch.h>

#include "common/text.h"
#include "data/csv.h"
#include "data/csvcells.h"

namespace ll::csv {

std::int64_t runClassOf(const std::string& cell, const TableLayout& like) {
    const auto& names = like.classNames;
    if (const auto at = std::find(names.begin(), names.end(), cell); at != names.end())
        return at - names.begin();
    double mine = 0, theirs = 0;
    if (parseCell(cell, mine) != Cell::Number) return -1;
    for (std::size_t r = 0; r < names.size(); ++r)
        if (parseCell(names[r], theirs) == Cell::Number && mine == theirs)
            return static_cast<std::int64_t>(r);
    return -1;
}

std::vector<std::string> runColumns(const TableLayout& like) {
    std::vector<std::string> columns;
    for (std::size_t f = 0; f < like.featureNames.size(); ++f) {
        const Categorical* c = categoryOf(like.categorical, f);
        if (!c)
            columns.push_back(like.featureNames[f]);
        else if (f == c->first)
            columns.push_back(c->column);
    }
    return columns;
}

std::string foreignNote(const std::set<std::string>& classes, const TableLayout& like) {
    std::vector<std::string> quoted;
    for (const auto& c : classes) quoted.push_back("'" + c + "'");
    return "of classes the run does not have (" + joinedNames(quoted, 200) +
           "; its classes: " + joinedNames(like.classNames, 200) + ")";
}

Result<std::string> asRunsClasses(const std::string& file, const std::vector<std::string>& classes,
                                  const TableLayout& like, torch::Tensor& x, torch::Tensor& y,
                                  std::vector<std::size_t>& lines, std::int64_t foreign,
                                  std::set<std::string>& foreignClasses) {
    std::vector<std::int64_t> runs(classes.size(), -1);
    for (std::size_t k = 0; k < classes.size(); ++k)
        if ((runs[k] = runClassOf(classes[k], like)) < 0) foreignClasses.insert(classes[k]);
    const auto mapped = torch::tensor(runs, torch::kInt64).index({y});
    const auto keep = mapped.ge(0);
    const auto left = keep.sum().item<std::int64_t>();
    const std::int64_t dropped = foreign + y.size(0) - left;
    if (left == 0) return fail(file + ": every row is " + foreignNote(foreignClasses, like));
    if (left < y.size(0)) {
        std::vector<std::size_t> keptLines;
        const auto k = keep.accessor<bool, 1>();
        for (std::int64_t i = 0; i < keep.size(0); ++i)
            if (k[i]) keptLines.push_back(lines[static_cast<std::size_t>(i)]);
        lines = std::move(keptLines);
        x = x.index({keep});
    }
    y = mapped.index({keep});
    if (dropped == 0) return std::string();
    return "left out " + std::to_string(dropped) + " of " + std::to_string(dropped + left) +
           " rows " + foreignNote(foreignClasses, like);
}

}  // namespace ll::csv
