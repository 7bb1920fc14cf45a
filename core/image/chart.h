#pragma once

// Charts as PNG files, for the studies' results (ROC and PR curves, learning curves, error
// bars, confusion matrices) so that a run folder holds its pictures beside its JSON and the
// report can include them. Drawn with OpenCV; without it (the GPU-server build) writing a
// chart is an error that says so. Torch-free.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace ll::chart {

/// One line (or set of points) of a line chart. `low` and `high`, when given (as long as
/// `x`), draw a shaded band around it (mean +- sd).
struct Series {
    std::string name;
    std::vector<double> x, y;
    std::vector<double> low, high;
    bool points = false;  // a marker at every point as well as the line
    bool line = true;
};

/// A labelled point: a crossing, a threshold, the operating point of a detector.
struct Marker {
    double x = 0, y = 0;
    std::string text;
};

struct LineChart {
    std::string title, xLabel, yLabel;
    std::vector<Series> series;
    std::vector<Marker> markers;
    bool logX = false;
    /// Axis ranges; empty fits the data (with a margin).
    std::optional<std::pair<double, double>> xRange, yRange;
    /// The y = x diagonal, dashed (a ROC curve's chance line).
    bool diagonal = false;
};

/// Bars with a label each; `highlight` (an index, or -1) is drawn in the accent colour (the
/// class an image went to).
struct BarChart {
    std::string title, xLabel, yLabel;
    std::vector<std::string> labels;
    std::vector<double> values;
    int highlight = -1;
};

/// Bars in groups (one group per label, one bar per series in each, the series' colours in a
/// legend), each with an optional whisker of +- its error: methods x metrics with their sd.
struct GroupedBarSeries {
    std::string name;
    std::vector<double> values;  // one per group; NaN draws no bar
    std::vector<double> errors;  // empty, or one per group (NaN or 0: no whisker)
};
struct GroupedBarChart {
    std::string title, xLabel, yLabel;
    std::vector<std::string> groups;
    std::vector<GroupedBarSeries> series;
    /// The value axis; empty fits the bars and whiskers (from 0).
    std::optional<std::pair<double, double>> yRange;
};

/// A matrix of numbers as coloured cells with their values written in (a confusion matrix:
/// rows the true class, columns the predicted one).
struct Heatmap {
    std::string title, rowTitle, columnTitle;
    std::vector<std::string> rowLabels, columnLabels;
    std::vector<std::vector<double>> values;
    /// Digits after the point in the cells; counts use 0.
    int decimals = 0;
};

/// Writes the chart as a PNG of the given size, atomically. Series of unequal lengths, a
/// log axis with values <= 0, or no data at all are errors naming the problem.
Result<void> writeLineChart(const LineChart& chart, const std::filesystem::path& png,
                            int width = 800, int height = 520);
Result<void> writeBarChart(const BarChart& chart, const std::filesystem::path& png, int width = 800,
                           int height = 520);
/// Series whose values or errors do not match the groups, or no groups, are errors.
Result<void> writeGroupedBarChart(const GroupedBarChart& chart, const std::filesystem::path& png,
                                  int width = 900, int height = 520);
Result<void> writeHeatmap(const Heatmap& chart, const std::filesystem::path& png, int width = 720,
                          int height = 720);

}  // namespace ll::chart
