// The report as one HTML page that needs nothing else: pictures as data: URIs, charts as
// inline SVG, the style in the page, no script, no link out.
#include <QBuffer>
#include <QImage>

#include "report/reportdocument.h"

namespace ll::report {

namespace {

const char* kStyle = R"(
body { font-family: "DejaVu Sans", Verdana, sans-serif; font-size: 14px; color: #222;
       max-width: 940px; margin: 24px auto; padding: 0 16px; line-height: 1.4; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 21px; border-bottom: 2px solid #4c8bf5; padding-bottom: 3px; margin-top: 40px; }
h3 { font-size: 16px; margin: 22px 0 6px; }
p.note { color: #777; font-style: italic; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #eef2f8; }
.charts { display: flex; flex-wrap: wrap; gap: 8px; }
.charts > div { min-width: 0; }
.charts svg { width: 100%; height: auto; display: block; }
figure { margin: 6px 0 14px; }
figcaption { color: #555; font-size: 13px; margin-top: 4px; }
.labelled { display: flex; align-items: flex-start; gap: 8px; }
.labels div { font-size: 12px; text-align: right; white-space: nowrap; overflow: hidden; }
img.pixels { image-rendering: pixelated; image-rendering: crisp-edges; }
)";

QString esc(const QString& s) {
    return s.toHtmlEscaped();
}

QByteArray png(const QImage& image) {
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return bytes;
}

QString caption(const QString& text) {
    return text.isEmpty() ? QString()
                          : QStringLiteral("<figcaption>%1</figcaption>").arg(esc(text));
}

QString tableHtml(const Table& t) {
    QString html = QStringLiteral("<table>");
    if (!t.header.isEmpty()) {
        html += QStringLiteral("<tr>");
        for (const auto& h : t.header) html += QStringLiteral("<th>%1</th>").arg(esc(h));
        html += QStringLiteral("</tr>");
    }
    for (const auto& row : t.rows) {
        html += QStringLiteral("<tr>");
        for (qsizetype c = 0; c < row.size(); ++c)
            html += (c == 0 && t.header.value(0).isEmpty() ? QStringLiteral("<th>%1</th>")
                                                           : QStringLiteral("<td>%1</td>"))
                        .arg(esc(row[c]));
        html += QStringLiteral("</tr>\n");
    }
    return html + QStringLiteral("</table>\n");
}

QString imageHtml(const LabelledImage& im, const QString& text) {
    const int w = im.image.width() * im.scale, h = im.image.height() * im.scale;
    QString html = QStringLiteral("<figure><div class=\"labelled\">");
    if (!im.rowLabels.isEmpty()) {
        const double row = double(h) / double(im.rowLabels.size());
        html += QStringLiteral("<div class=\"labels\">");
        for (const auto& label : im.rowLabels)
            html += QStringLiteral("<div style=\"height:%1px;line-height:%1px\">%2</div>")
                        .arg(row, 0, 'f', 2)
                        .arg(esc(label));
        html += QStringLiteral("</div>");
    }
    html += QStringLiteral(
                "<img src=\"data:image/png;base64,%1\" class=\"pixels\" width=\"%2\" "
                "height=\"%3\" alt=\"%4\">")
                .arg(QString::fromLatin1(png(im.image).toBase64()))
                .arg(w)
                .arg(h)
                .arg(esc(text));
    return html + QStringLiteral("</div>") + caption(text) + QStringLiteral("</figure>\n");
}

}  // namespace

QByteArray writeHtml(const Document& document) {
    QString title = QStringLiteral("LatentLab report");
    for (const auto& b : document)
        if (b.kind == Block::Kind::Title) title = b.text;
    QString html = QStringLiteral(
                       "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<title>%1</title>\n<style>%2</style>\n</head>\n<body>\n")
                       .arg(esc(title), QString::fromLatin1(kStyle));
    for (const auto& b : document) {
        switch (b.kind) {
            case Block::Kind::Title:
                html += QStringLiteral("<h1>%1</h1>\n").arg(esc(b.text));
                break;
            case Block::Kind::Section:
                html += QStringLiteral("<h2>%1</h2>\n").arg(esc(b.text));
                break;
            case Block::Kind::Heading:
                html += QStringLiteral("<h3>%1</h3>\n").arg(esc(b.text));
                break;
            case Block::Kind::Text:
                html += QStringLiteral("<p>%1</p>\n").arg(esc(b.text));
                break;
            case Block::Kind::Note:
                html += QStringLiteral("<p class=\"note\">%1</p>\n").arg(esc(b.text));
                break;
            case Block::Kind::Table:
                html += tableHtml(b.table);
                break;
            case Block::Kind::Charts:
                html += QStringLiteral("<figure><div class=\"charts\">");
                for (const auto& chart : b.charts)
                    // Each chart at most its own width, narrower when the page is.
                    html +=
                        QStringLiteral("<div style=\"flex:0 1 %1px\">").arg(chart->size().width()) +
                        QString::fromUtf8(chart->svg()) + QStringLiteral("</div>\n");
                html += QStringLiteral("</div>") + caption(b.text) + QStringLiteral("</figure>\n");
                break;
            case Block::Kind::Image:
                html += imageHtml(b.image, b.text);
                break;
        }
    }
    html += QStringLiteral("</body>\n</html>\n");
    return html.toUtf8();
}

}  // namespace ll::report
