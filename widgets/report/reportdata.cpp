#include "report/reportdata.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <system_error>

#include "report/report.h"

namespace ll::report {

namespace fs = std::filesystem;

namespace {

QImage readImage(const fs::path& file) {
    if (file.empty()) return {};
    return QImage(QString::fromStdString(file.string()));
}

Result<RunReport> loadRun(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) return fail(dir.string() + ": no such run folder");
    if (!fs::is_directory(dir, ec)) return fail(dir.string() + ": not a folder");
    if (!fs::exists(dir / runfiles::kConfig, ec))
        return fail(dir.string() + ": not a run folder (no " + runfiles::kConfig + ")");
    RunReport run;
    // Absolute, so that the commands the report suggests work from anywhere.
    run.dir = absoluteFolder(dir);
    run.name = QString::fromStdString(run.dir.filename().string());
    if (run.name.isEmpty()) run.name = QString::fromStdString(run.dir.string());
    auto config = readRunConfig(dir);
    if (!config) return fail(config.error().message);
    run.config = std::move(*config);
    // Older runs may lack data.json or a readable status: the report shows what there is.
    if (auto data = readRunData(dir)) run.data = std::move(*data);
    if (auto info = readRunInfo(dir)) run.info = std::move(*info);
    run.log = readLossLog(dir);
    run.records = listEvaluations(dir, &run.unreadableRecords);
    if (const auto steps = runfiles::sampleSteps(dir); !steps.empty()) {
        run.grid = readImage(runfiles::samples(dir, steps.back()));
        if (!run.grid.isNull()) run.gridStep = steps.back();
    }
    if (const EvalRecord* r = run.mainRecord()) {
        run.neighbours = readImage(r->neighboursImage);
        run.cells = readImage(r->cellsImage);
    }
    const fs::path study = diffusionClassifierFolder(dir);
    if (auto classification = readDiffusionClassifyResult(study)) {
        run.classification = std::move(*classification);
        run.confusion = readImage(study / "confusion.png");
        run.budget = readImage(study / "budget.png");
    }
    return run;
}

}  // namespace

const EvalRecord* RunReport::mainRecord() const {
    const EvalRecord* best = nullptr;
    for (const auto& r : records) {
        if (!best || r.step > best->step) {
            best = &r;
            continue;
        }
        // Same step: guidance 0 (the unguided model), else the weakest guidance.
        if (r.step == best->step && std::abs(r.guidance) < std::abs(best->guidance)) best = &r;
    }
    return best;
}

std::int64_t RunReport::sweepStep() const {
    std::map<std::int64_t, int> weights;
    for (const auto& r : records) ++weights[r.step];
    for (auto it = weights.rbegin(); it != weights.rend(); ++it)
        if (it->second >= 2) return it->first;
    return -1;
}

Result<ReportData> loadReport(const std::vector<fs::path>& runs,
                              const std::vector<fs::path>& studies) {
    if (runs.empty() && studies.empty()) return fail("nothing to report on: no run and no study");
    ReportData data;
    for (const auto& dir : runs) {
        auto run = loadRun(dir);
        if (!run) return fail(run.error().message);
        data.runs.push_back(std::move(*run));
    }
    for (const auto& dir : studies) {
        auto study = loadStudy(dir);
        if (!study) return fail(study.error().message);
        data.studies.push_back(std::move(*study));
    }
    return data;
}

}  // namespace ll::report
