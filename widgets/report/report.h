#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "report/reportdata.h"

namespace ll::report {

// A report of runs and of the workspace's studies (report/studyreport.h): one self-contained HTML
// file (pictures as data: URIs, charts as inline SVG, no script, no external reference) and,
// optionally, a PDF with the same content on A4 pages. The charts are the window's own (LossChart,
// MetricsOverSteps, ClassChart, SweepCharts, CellMap), painted into SVG and PDF so that they stay
// vector.
//
// Threads: loadReport() reads files only and may run on any thread (a JobBridge worker);
// renderReport() and writeReport() create chart widgets and must run on the GUI thread (a
// QApplication must exist; the CLI makes an offscreen one). Rendering a typical report takes
// well under a second: the window loads on a worker and renders in the continuation.

struct ReportRequest {
    std::vector<std::filesystem::path> runs;
    /// Finished study folders (`<workspace>/studies/<kind>-<time>/`), each a section after
    /// the runs; latestStudies() finds a workspace's.
    std::vector<std::filesystem::path> studies;
    std::filesystem::path html;
    std::filesystem::path pdf;  // empty: no PDF
};

struct ReportFiles {
    std::filesystem::path html;
    std::filesystem::path pdf;  // empty when none was asked for
    std::uintmax_t htmlBytes = 0;
    int pdfPages = 0;
};

/// Stage name ("reading", "charts", "HTML", "PDF") and the fraction of the whole done.
using ReportProgressFn = std::function<void(const std::string& stage, double fraction)>;

/// Reads every run the report shows (config, data, log, sample grid, evaluation records) and
/// every study (its result.json and charts). Fails on a folder that does not exist or is not
/// a run or a finished study, naming it, and when both lists are empty. Any thread.
Result<ReportData> loadReport(const std::vector<std::filesystem::path>& runs,
                              const std::vector<std::filesystem::path>& studies);

/// Paints the report and writes its files, each atomically: either the files are complete
/// or nothing is written (the PDF first, then the HTML). GUI thread.
Result<ReportFiles> renderReport(const ReportData& data, const ReportRequest& request,
                                 const ReportProgressFn& progress = {});

/// loadReport() then renderReport(). GUI thread.
Result<ReportFiles> writeReport(const ReportRequest& request,
                                const ReportProgressFn& progress = {});

}  // namespace ll::report
