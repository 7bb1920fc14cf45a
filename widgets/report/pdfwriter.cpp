// The report on A4 pages: the same blocks as the HTML, flowed top to bottom, each run on a
// new page. Charts are painted as vectors, pictures pixel for pixel.
#include <algorithm>
#include <numeric>
#include <span>

#include <QFontMetricsF>
#include <QGuiApplication>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QScreen>

#include "report/reportdocument.h"

namespace ll::report {

namespace {

// Pages measured in the screen's logical pixels, which the chart widgets were laid out in
// (96 dpi offscreen, as CSS pixels in the HTML): their text keeps its size.
int logicalDpi() {
    const QScreen* screen = QGuiApplication::primaryScreen();
    return screen ? std::max(48, qRound(screen->logicalDotsPerInchX())) : 96;
}
constexpr double kGap = 8;
constexpr double kPad = 4;

QFont font(double points, bool bold = false, bool italic = false) {
    QFont f(QStringLiteral("DejaVu Sans"));
    f.setPointSizeF(points);
    f.setBold(bold);
    f.setItalic(italic);
    return f;
}

class Flow {
public:
    Flow(QPdfWriter& writer, QPainter& painter) : m_writer(writer), m_p(painter) {
        const QRect page = writer.pageLayout().paintRectPixels(writer.resolution());
        m_width = page.width();
        m_height = page.height();
    }

    int pages() const { return m_pages; }

    /// Lays out `b`; `next` is what follows it (empty at the end), which a heading keeps with.
    void block(const Block& b, std::span<const Block> next) {
        switch (b.kind) {
            case Block::Kind::Title:
                text(b.text, font(20, true), 4);
                break;
            case Block::Kind::Section:
                // Each run (and the comparison) on pages of its own; the first after the title.
                if (m_sections++ > 0) newPage();
                text(b.text, font(15, true), 2);
                m_p.setPen(QPen(QColor(0x4c, 0x8b, 0xf5), 2));
                m_p.drawLine(QPointF(0, m_y), QPointF(m_width, m_y));
                m_p.setPen(Qt::black);
                m_y += kGap;
                break;
            case Block::Kind::Heading:
                // Never a heading alone at the foot of a page: it goes with what follows.
                // A line of text under it goes with it too, and the figure after that.
                need(40 + std::min(following(next), 0.8 * m_height));
                m_y += 6;
                text(b.text, font(11.5, true), 2);
                break;
            case Block::Kind::Text:
                text(b.text, font(8.5), kGap);
                break;
            case Block::Kind::Note:
                m_p.setPen(QColor(0x77, 0x77, 0x77));
                text(b.text, font(8.5, false, true), kGap);
                m_p.setPen(Qt::black);
                break;
            case Block::Kind::Table:
                table(b.table);
                break;
            case Block::Kind::Charts:
                charts(b);
                break;
            case Block::Kind::Image:
                image(b.image, b.text);
                break;
        }
    }

private:
    double following(std::span<const Block> next) {
        double h = 0;
        for (const auto& b : next) {
            h += height(b);
            if (b.kind != Block::Kind::Text) break;
        }
        return h;
    }

    // About how tall a block will be (what a heading needs below it).
    double height(const Block& b) {
        switch (b.kind) {
            case Block::Kind::Charts:
                return chartSizes(b).second;
            case Block::Kind::Image:
                return imageLayout(b.image).second.height();
            case Block::Kind::Table:
                return 50;
            default:
                return 30;
        }
    }

    // Each chart's size on the page, and the row's height. Every chart is scaled alike (the
    // HTML's width of charts to the page's), so that their text has one size; a row that
    // would still be too wide shrinks.
    std::pair<std::vector<QSizeF>, double> chartSizes(const Block& b) const {
        double total = kGap * double(b.charts.size() - 1);
        for (const auto& chart : b.charts) total += chart->size().width();
        const double scale = std::min(m_width / double(kChartsWidth), m_width / total);
        double rowHeight = 0;
        std::vector<QSizeF> sizes;
        for (const auto& chart : b.charts) {
            sizes.push_back(QSizeF(chart->size()) * scale);
            rowHeight = std::max(rowHeight, sizes.back().height());
        }
        return {sizes, rowHeight};
    }

    // The labels' width and the picture's size: at most the page's width beside the labels,
    // and most of its height.
    std::pair<double, QSizeF> imageLayout(const LabelledImage& im) {
        const QFontMetricsF metrics(font(8), m_p.device());
        double labelWidth = 0;
        for (const auto& label : im.rowLabels)
            labelWidth = std::max(labelWidth, metrics.horizontalAdvance(label) + kGap);
        const QSizeF size = QSizeF(im.image.size()) * im.scale;
        const double fit =
            std::min({1.0, (m_width - labelWidth) / size.width(), 0.8 * m_height / size.height()});
        return {labelWidth, size * fit};
    }

    void newPage() {
        m_writer.newPage();
        m_y = 0;
        ++m_pages;
    }

    void need(double h) {
        if (m_y > 0 && m_y + h > m_height) newPage();
    }

    void text(const QString& s, const QFont& f, double after) {
        m_p.setFont(f);
        const QRectF r = m_p.boundingRect(QRectF(0, 0, m_width, 1e6), Qt::TextWordWrap, s);
        need(r.height());
        m_p.drawText(QRectF(0, m_y, m_width, r.height()), Qt::TextWordWrap, s);
        m_y += r.height() + after;
    }

    // Columns as wide as their text, the widest shrunk (and wrapped) to fit the page.
    std::vector<double> columns(const Table& t) {
        const std::size_t n = std::max<std::size_t>(
            t.header.size(), t.rows.empty() ? 0 : std::size_t(t.rows.front().size()));
        std::vector<double> natural(n, 2 * kPad + 10);
        const QFontMetricsF body(font(8), m_p.device()), bold(font(8, true), m_p.device());
        for (std::size_t c = 0; c < n && c < std::size_t(t.header.size()); ++c)
            natural[c] =
                std::max(natural[c], bold.horizontalAdvance(t.header[qsizetype(c)]) + 2 * kPad + 2);
        for (const auto& row : t.rows)
            for (std::size_t c = 0; c < n && c < std::size_t(row.size()); ++c)
                natural[c] =
                    std::max(natural[c], body.horizontalAdvance(row[qsizetype(c)]) + 2 * kPad + 2);
        std::vector<double> width = natural;
        double left = m_width;
        std::vector<std::size_t> wide;
        for (std::size_t c = 0; c < n; ++c)
            if (natural[c] <= m_width / double(n))
                left -= natural[c];
            else
                wide.push_back(c);
        double wanted = 0;
        for (auto c : wide) wanted += natural[c];
        if (wanted > left)
            for (auto c : wide) width[c] = left * natural[c] / wanted;
        return width;
    }

    void table(const Table& t) {
        const std::vector<double> width = columns(t);
        auto rowHeight = [&](const QStringList& cells, const QFont& f) {
            m_p.setFont(f);
            double h = 0;
            for (qsizetype c = 0; c < cells.size() && std::size_t(c) < width.size(); ++c)
                h = std::max(h,
                             m_p.boundingRect(QRectF(0, 0, width[std::size_t(c)] - 2 * kPad, 1e6),
                                              Qt::TextWordWrap, cells[c])
                                 .height());
            return h + 2 * kPad;
        };
        auto drawRow = [&](const QStringList& cells, const QFont& f, bool header, double h) {
            m_p.setFont(f);
            double x = 0;
            for (std::size_t c = 0; c < width.size(); ++c) {
                const QRectF cell(x, m_y, width[c], h);
                if (header || (c == 0 && t.header.value(0).isEmpty()))
                    m_p.fillRect(cell, QColor(0xee, 0xf2, 0xf8));
                m_p.setPen(QColor(0xcc, 0xcc, 0xcc));
                m_p.drawRect(cell);
                m_p.setPen(Qt::black);
                if (qsizetype(c) < cells.size())
                    m_p.drawText(cell.adjusted(kPad, kPad, -kPad, -kPad), Qt::TextWordWrap,
                                 cells[qsizetype(c)]);
                x += width[c];
            }
            m_y += h;
        };
        const double headerHeight = t.header.isEmpty() ? 0 : rowHeight(t.header, font(8, true));
        auto header = [&] {
            if (!t.header.isEmpty()) drawRow(t.header, font(8, true), true, headerHeight);
        };
        need(headerHeight + (t.rows.empty() ? 0 : rowHeight(t.rows.front(), font(8))));
        header();
        for (const auto& row : t.rows) {
            const double h = rowHeight(row, font(8));
            if (m_y + h > m_height) {
                newPage();
                header();  // a table that runs on says what its columns are again
            }
            drawRow(row, font(8), false, h);
        }
        m_y += kGap;
    }

    void caption(const QString& s) {
        if (s.isEmpty()) return;
        m_p.setPen(QColor(0x55, 0x55, 0x55));
        text(s, font(8), kGap);
        m_p.setPen(Qt::black);
    }

    void charts(const Block& b) {
        const auto [sizes, rowHeight] = chartSizes(b);
        need(rowHeight);
        double x = 0;
        for (std::size_t i = 0; i < b.charts.size(); ++i) {
            b.charts[i]->paint(m_p, QRectF(QPointF(x, m_y), sizes[i]));
            x += sizes[i].width() + kGap;
        }
        m_y += rowHeight + 4;
        caption(b.text);
        m_y += 4;
    }

    void image(const LabelledImage& im, const QString& text) {
        // Scaled pixel for pixel here: a PDF viewer would smooth the small tiles.
        const QImage picture = im.image.scaled(im.image.size() * im.scale, Qt::IgnoreAspectRatio,
                                               Qt::FastTransformation);
        const auto [labelWidth, size] = imageLayout(im);
        need(size.height());
        m_p.setFont(font(8));
        const QRectF target(QPointF(labelWidth, m_y), size);
        m_p.drawImage(target, picture);
        const double row = size.height() / std::max<qsizetype>(1, im.rowLabels.size());
        for (qsizetype i = 0; i < im.rowLabels.size(); ++i)
            m_p.drawText(QRectF(0, m_y + row * double(i), labelWidth - kGap, row),
                         Qt::AlignRight | Qt::AlignVCenter, im.rowLabels[i]);
        m_y += size.height() + 4;
        caption(text);
        m_y += 4;
    }

    QPdfWriter& m_writer;
    QPainter& m_p;
    double m_width = 0, m_height = 0, m_y = 0;
    int m_pages = 1;
    int m_sections = 0;
};

}  // namespace

PdfResult writePdf(const Document& document, const QString& file) {
    QPdfWriter writer(file);
    writer.setPageSize(QPageSize(QPageSize::A4));
    writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout::Millimeter);
    writer.setResolution(logicalDpi());
    writer.setCreator(QStringLiteral("LatentLab"));
    for (const auto& b : document)
        if (b.kind == Block::Kind::Title) writer.setTitle(b.text);
    QPainter painter;
    if (!painter.begin(&writer)) return {false, 0, QStringLiteral("cannot write the PDF")};
    Flow flow(writer, painter);
    for (std::size_t i = 0; i < document.size(); ++i)
        flow.block(document[i], std::span(document).subspan(i + 1));
    if (!painter.end()) return {false, 0, QStringLiteral("cannot write the PDF")};
    return {true, flow.pages(), {}};
}

}  // namespace ll::report
