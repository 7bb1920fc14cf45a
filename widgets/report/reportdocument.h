#pragma once

#include <memory>
#include <vector>

#include <QImage>
#include <QString>
#include <QStringList>

#include "report/chartfigure.h"

namespace ll::report {

// The report's content as a list of blocks, built once (reportbuilder.cpp) and written twice:
// as HTML (htmlwriter.cpp) and as PDF pages (pdfwriter.cpp). Both writers show every block,
// so the two files hold the same content.

/// The width charts are laid out for: a row of the HTML page (the PDF scales them to its).
inline constexpr int kChartsWidth = 880;

struct Table {
    QStringList header;
    std::vector<QStringList> rows;
};

/// A picture of rows (a sample grid: one row per class) with a label beside each row.
struct LabelledImage {
    QImage image;
    QStringList rowLabels;  // empty, or one per row of the image
    int scale = 1;          // drawn this many times its size (pixels stay sharp)
};

struct Block {
    enum class Kind {
        Title,    // the report's title
        Section,  // a run or the comparison: a new page in the PDF
        Heading,  // a part of a section: settings, losses, ...
        Text,
        Note,  // a section without data: one line saying so
        Table,
        Charts,  // one or more charts side by side
        Image,
    };
    Kind kind = Kind::Text;
    QString text;  // Title, Section, Heading, Text, Note; the caption of Image and Charts
    Table table;
    std::vector<std::shared_ptr<ChartFigure>> charts;
    LabelledImage image;
};

using Document = std::vector<Block>;

struct ReportData;

/// The report of `data` as blocks; creates the chart widgets (GUI thread).
Document buildDocument(const ReportData& data);

/// The document as one self-contained HTML page.
QByteArray writeHtml(const Document& document);

/// The document as A4 PDF pages into `file`; returns the page count, or an error.
struct PdfResult {
    bool ok = false;
    int pages = 0;
    QString error;
};
PdfResult writePdf(const Document& document, const QString& file);

}  // namespace ll::report
