#pragma once

#include <string>
#include <vector>

#include <torch/types.h>

#include "common/table.h"
#include "data/datasetspec.h"

namespace ll {

/// A dataset in memory. Images are float32 N x C x H x W in [0, 1]; tabular rows are float32
/// N x D, standardised with the mean and std kept here so generated rows can be mapped back.
struct Dataset {
    std::string name;
    std::string source;
    Modality modality = Modality::Image;
    torch::Tensor x;
    torch::Tensor y;  // int64, N, values in [0, classNames.size())
    std::vector<std::string> classNames;
    /// The source's numbers of the classes kept, in their order here; empty where every class
    /// is kept as read. What a study keys its parts on, however the classes were named.
    std::vector<int> keptClasses;
    std::vector<std::string> featureNames;  // tabular only
    /// Tabular only: the text columns read as categories, one-hot among the features.
    std::vector<Categorical> categorical;
    /// Tabular only: how the file wrote its numbers, where its cells said ("point": 1,234.5;
    /// "comma": 1.234,5), or "" where none did. A run keeps it for the files it reads later.
    std::string decimal;
    /// Tabular only: per feature, the digits after the decimal separator its file wrote the
    /// numbers with (0: whole numbers), -1 where it wrote them freely (an exponent, a value's
    /// feature). What written rows are rounded to; empty where no file said.
    std::vector<int> decimals;
    std::string note;    // what loading did: image size and colour, table columns or rows left out
    torch::Tensor mean;  // tabular only, D
    torch::Tensor std;   // tabular only, D

    std::int64_t size() const { return x.defined() ? x.size(0) : 0; }
    int numClasses() const { return static_cast<int>(classNames.size()); }
    std::vector<std::int64_t> classCounts() const;
    DatasetSummary summary() const;
    /// The rows at `indices` (int64), sharing names and statistics.
    Dataset subset(const torch::Tensor& indices) const;
    /// Tabular only: the mean and std as plain vectors (for data.json and tables).
    std::vector<double> meanVector() const;
    std::vector<double> stdVector() const;
};

/// Standardised rows (N x D) and their labels as a table in original units. The features of a
/// categorical column make one column of the table, its value the one whose feature is largest.
/// A number column with `decimals` (per feature, as Dataset::decimals) is rounded to them.
TableSamples makeTable(const torch::Tensor& rows, const torch::Tensor& labels,
                       const std::vector<std::string>& columns, const std::vector<double>& mean,
                       const std::vector<double>& std, const std::vector<std::string>& classNames,
                       const std::vector<Categorical>& categorical = {},
                       const std::vector<int>& decimals = {});

}  // namespace ll
