#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <QString>

#include "models/catalog.h"
#include "models/request.h"

namespace ll::widgets {

/// The Steer grid: 8 columns; one row per class (at most 10), or 4 rows of one class or
/// mixture.
constexpr int kSteerCols = 8;
constexpr int kSteerRows = 10;
constexpr int kSteerSingleRows = 4;

/// The run the Steer mode steers, as its pieces (controls, tiles, sweeps, draws) see it.
struct SteerRun {
    QString dir;  // empty: no run to steer
    std::string model;
    std::string dataset;
    std::vector<std::string> classNames;
    bool conditional = false;

    /// What the model can do (the catalogue's facts, never its name).
    const ll::ModelInfo& info() const { return ll::modelInfo(model); }
    int numClasses() const { return int(classNames.size()); }
    /// Tiles in the grid of `r`: one row per class, or rows of one class or mixture.
    int tileCount(const ll::SampleRequest& r) const {
        const bool classRows = r.labels.empty() && r.mixture.empty() && conditional;
        return (classRows ? std::min(numClasses(), kSteerRows) : kSteerSingleRows) * kSteerCols;
    }
    QString className(std::size_t k) const {
        return k < classNames.size() ? QString::fromStdString(classNames[k]) : QString();
    }
};

}  // namespace ll::widgets
