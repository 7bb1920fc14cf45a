#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include <QImage>
#include <QString>

#include "eval/evaluate.h"
#include "report/studyreport.h"
#include "run/runfolder.h"
#include "run/trainconfig.h"
#include "study/diffusionclassifier.h"

namespace ll::report {

/// What a report shows of one run, read from its folder. Plain values: loaded on any
/// thread, painted on the GUI thread.
struct RunReport {
    std::filesystem::path dir;
    QString name;  // the folder's name
    TrainConfig config;
    RunData data;
    RunInfo info;
    std::vector<std::pair<std::int64_t, LossMap>> log;
    std::vector<EvalRecord> records;             // by step, then guidance
    std::vector<std::string> unreadableRecords;  // why each record file that did not read
    /// The latest saved sample grid (samples/step-NNNNNN.png), one row per class.
    std::optional<std::int64_t> gridStep;
    QImage grid;
    /// The pictures of mainRecord(): nearest-neighbour rows and data-copying cells.
    QImage neighbours;
    QImage cells;
    /// The run as a classifier (the Classify mode's diffusion classifier, or `classify`
    /// without --out), when it was studied so, and that study's charts.
    std::optional<DiffusionClassifyResult> classification;
    QImage confusion, budget;

    /// The record the metrics and memorisation sections show: the latest step's record at
    /// guidance 0 (else its lowest weight); null when the run was never evaluated.
    const EvalRecord* mainRecord() const;
    /// The latest step with records at two or more guidance weights; -1 when none.
    std::int64_t sweepStep() const;
};

struct ReportData {
    std::vector<RunReport> runs;
    std::vector<StudyReport> studies;  // the workspace's studies, after the runs
};

}  // namespace ll::report
