// report: an HTML page (and a PDF) of runs and the workspace's studies, its charts the
// window's own.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <QApplication>

#include "cli/commands.h"
#include "cli/console.h"
#include "report/report.h"

namespace ll::cli {

namespace {

struct ReportArgs {
    std::vector<std::string> runs;
    std::vector<std::string> studies;
    std::string studiesOf;  // a workspace: its latest finished study of each kind
    std::string html;
    std::string pdf;
};

// Qt's own warnings (no XDG_RUNTIME_DIR on a server, a painter that could not begin) are
// not the user's business: the command says what failed in its one line.
void quietQt(QtMsgType type, const QMessageLogContext&, const QString& message) {
    if (type == QtFatalMsg) std::fprintf(stderr, "%s\n", qPrintable(message));
}

// --study folders, then --studies-of's, each once.
Result<std::vector<std::filesystem::path>> studyFolders(const ReportArgs& a) {
    std::vector<std::filesystem::path> studies(a.studies.begin(), a.studies.end());
    if (a.studiesOf.empty()) return studies;
    const auto latest = report::latestStudies(a.studiesOf);
    if (latest.empty())
        return fail("--studies-of " + a.studiesOf + ": no finished study in " +
                    (std::filesystem::path(a.studiesOf) / "studies").string());
    auto same = [](const std::filesystem::path& x, const std::filesystem::path& y) {
        return report::absoluteFolder(x) == report::absoluteFolder(y);
    };
    for (const auto& dir : latest)
        if (std::none_of(studies.begin(), studies.end(),
                         [&](const auto& given) { return same(given, dir); }))
            studies.push_back(dir);
    return studies;
}

int runReport(const ReportArgs& a) {
    std::vector<std::filesystem::path> runs(a.runs.begin(), a.runs.end());
    auto studies = studyFolders(a);
    if (!studies) return failure("report: " + studies.error().message);
    // Reading first: a missing run or study fails before any window system is touched.
    auto data = report::loadReport(runs, *studies);
    if (!data) return failure("report: " + data.error().message);
    // The charts are widgets: they need a QApplication, here one without a display, so the
    // report looks the same on a server as on a desktop.
    qInstallMessageHandler(quietQt);
    std::unique_ptr<QApplication> app;
    static int argc = 1;
    static char name[] = "latentlab-cli";
    static char* argv[] = {name, nullptr};
    if (!QCoreApplication::instance()) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
        app = std::make_unique<QApplication>(argc, argv);
    }
    const report::ReportRequest request{
        .runs = runs, .studies = *studies, .html = a.html, .pdf = a.pdf};
    auto files = report::renderReport(*data, request);
    if (!files) return failure("report: " + files.error().message);
    std::printf("wrote %s (%.1f kB)\n", files->html.string().c_str(),
                double(files->htmlBytes) / 1024.0);
    if (!files->pdf.empty())
        std::printf("wrote %s (%d pages)\n", files->pdf.string().c_str(), files->pdfPages);
    return 0;
}

}  // namespace

Command addReport(CLI::App& app) {
    auto a = std::make_shared<ReportArgs>();
    auto* cmd = app.add_subcommand(
        "report",
        "Write a self-contained HTML report (and a PDF) of runs and studies: each run's "
        "settings, loss curves, sample grids, metrics with floors, metrics over steps, guidance "
        "sweep, memorisation, a comparison table for several runs; then each study's numbers "
        "and charts (the imbalance lab, the learning curve, one-class detection). Give at "
        "least one run or study");
    cmd->add_option("--run", a->runs, "Run folder (repeat for several runs)");
    cmd->add_option("--study", a->studies,
                    "A finished study folder, WORKSPACE/studies/<kind>-<time> with its "
                    "result.json (repeat for several)");
    cmd->add_option("--studies-of", a->studiesOf,
                    "A workspace: add its latest finished study of each kind (rebalance, "
                    "learning-curve, oneclass)");
    cmd->add_option("--out", a->html, "HTML file to write")->required();
    cmd->add_option("--pdf", a->pdf, "PDF file to write too (A4, the same content)");
    return {cmd, [a] { return runReport(*a); }};
}

}  // namespace ll::cli
