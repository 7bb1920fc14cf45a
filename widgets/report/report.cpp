#include "report/report.h"

#include <fstream>
#include <system_error>

#include <QApplication>
#include <QThread>

#include "common/atomicfile.h"
#include "report/reportdocument.h"

namespace ll::report {

namespace fs = std::filesystem;

Result<ReportFiles> renderReport(const ReportData& data, const ReportRequest& request,
                                 const ReportProgressFn& progress) {
    auto report = [&](const char* stage, double fraction) {
        if (progress) progress(stage, fraction);
    };
    if (!qobject_cast<QApplication*>(QCoreApplication::instance()))
        return fail("report: needs a QApplication (its charts are widgets)");
    if (QThread::currentThread() != QCoreApplication::instance()->thread())
        return fail("report: must be painted on the GUI thread");
    if (request.html.empty()) return fail("report: no HTML file to write");
    if (!request.pdf.empty() && fs::absolute(request.pdf) == fs::absolute(request.html))
        return fail("report: the HTML and the PDF would be the same file");

    report("charts", 0.1);
    const Document document = buildDocument(data);
    report("HTML", 0.3);
    const QByteArray html = writeHtml(document);

    ReportFiles files;
    files.html = request.html;
    files.htmlBytes = std::uintmax_t(html.size());
    // The HTML's own rename happens only after the PDF is complete, so that a failure leaves
    // neither file; a PDF that fails leaves no temporary file either.
    auto written = writeAtomicWith(request.html, [&](const fs::path& htmlTmp) -> Result<void> {
        std::ofstream out(htmlTmp, std::ios::binary | std::ios::trunc);
        out.write(html.constData(), html.size());
        out.close();
        if (!out)
            return fail(request.html.string() + ": cannot write (no permission or disk full?)");
        if (request.pdf.empty()) return {};
        report("PDF", 0.5);
        return writeAtomicWith(request.pdf, [&](const fs::path& pdfTmp) -> Result<void> {
            const PdfResult pdf = writePdf(document, QString::fromStdString(pdfTmp.string()));
            if (!pdf.ok)
                return fail(request.pdf.string() + ": " + pdf.error.toStdString() +
                            " (no permission or disk full?)");
            files.pdf = request.pdf;
            files.pdfPages = pdf.pages;
            return {};
        });
    });
    if (!written) return fail(written.error().message);
    report("done", 1.0);
    return files;
}

Result<ReportFiles> writeReport(const ReportRequest& request, const ReportProgressFn& progress) {
    if (progress) progress("reading", 0.0);
    auto data = loadReport(request.runs, request.studies);
    if (!data) return fail(data.error().message);
    return renderReport(*data, request, progress);
}

}  // namespace ll::report
