// report: an HTML page (and a PDF) of one or more runs, its charts the window's own.
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
    std::string html;
    std::string pdf;
};

// Qt's own warnings (no XDG_RUNTIME_DIR on a server, a painter that could not begin) are
// not the user's business: the command says what failed in its one line.
void quietQt(QtMsgType type, const QMessageLogContext&, const QString& message) {
    if (type == QtFatalMsg) std::fprintf(stderr, "%s\n", qPrintable(message));
}

int runReport(const ReportArgs& a) {
    std::vector<std::filesystem::path> runs(a.runs.begin(), a.runs.end());
    // Reading first: a missing run fails before any window system is touched.
    auto data = report::loadReport(runs);
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
    const report::ReportRequest request{.runs = runs, .html = a.html, .pdf = a.pdf};
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
        "Write a self-contained HTML report (and a PDF) of runs: settings, loss curves, sample "
        "grids, metrics with floors, metrics over steps, guidance sweep, memorisation, and a "
        "comparison table for several runs");
    cmd->add_option("--run", a->runs, "Run folder (repeat for several runs)")->required();
    cmd->add_option("--out", a->html, "HTML file to write")->required();
    cmd->add_option("--pdf", a->pdf, "PDF file to write too (A4, the same content)");
    return {cmd, [a] { return runReport(*a); }};
}

}  // namespace ll::cli
