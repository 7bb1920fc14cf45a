#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include <QImage>
#include <QString>

#include "common/error.h"
#include "study/learningcurve.h"
#include "study/oneclass.h"
#include "study/rebalance.h"

namespace ll::report {

// The workspace's dataset studies in a report: `<workspace>/studies/<kind>-<yyyyMMdd-HHmmss>/`,
// finished when core has written result.json (and its chart PNGs) there. The kinds are the
// imbalance lab ("rebalance"), the learning curve ("learning-curve") and one-class detection
// ("oneclass"). The diffusion classifier is a run's study and comes with its run.

/// A finished study as the report shows it: the parsed result and the PNGs beside it.
struct StudyReport {
    std::string kind;  // "rebalance", "learning-curve", "oneclass"
    std::filesystem::path folder;
    QString name;  // the folder's name
    std::variant<RebalanceResult, LearningCurveResult, OneClassResult> result;
    /// The charts and figures core wrote, by file name ("metrics.png", "samples-smote.png");
    /// a file that is missing or unreadable is not in the map.
    std::map<std::string, QImage> images;

    /// The picture `file` names (its file name is the key), or a null image.
    QImage image(const std::filesystem::path& file) const;
};

/// The kinds a report reads, in the order the report shows them.
std::vector<std::string> studyKinds();

/// Reads a finished study folder. The kind is result.json's "study", else the folder name's
/// stem ("rebalance-20260101-000000"). Fails, naming the folder, on one that does not exist,
/// holds no result.json, is of no known kind (the error lists them), or whose result.json
/// cannot be read. Any thread.
Result<StudyReport> loadStudy(const std::filesystem::path& folder);

/// The latest finished study of each kind in `workspace` (studyKinds() order): the newest
/// folder by name among `studies/<kind>-*` that holds result.json; a kind with none is left
/// out. The window's Export mode and `latentlab-cli report --studies-of` both ask this.
std::vector<std::filesystem::path> latestStudies(const std::filesystem::path& workspace);

/// `dir` absolute and normal, without a trailing separator (the report prints the folders it
/// shows so that they can be opened from anywhere).
std::filesystem::path absoluteFolder(const std::filesystem::path& dir);

}  // namespace ll::report
