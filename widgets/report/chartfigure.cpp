#include "report/chartfigure.h"

#include <QBuffer>
#include <QChart>
#include <QChartView>
#include <QCoreApplication>
#include <QGraphicsScene>
#include <QPainter>
#include <QRegularExpression>
#include <QResizeEvent>
#include <QSvgGenerator>

namespace ll::report {

namespace {

// Coordinates to a tenth of a pixel: QSvgGenerator writes six digits, which a chart of many
// points (the data-copying map) pays for in size and nobody sees.
QString roundCoordinates(const QString& svg) {
    static const QRegularExpression attribute(
        QStringLiteral(R"re(\b(points|cx|cy|x|y|x1|y1|x2|y2|rx|ry|r|width|height|d)="([^"]*)")re"));
    static const QRegularExpression decimals(QStringLiteral(R"re((\d+\.\d)\d+)re"));
    QString out;
    out.reserve(svg.size());
    qsizetype last = 0;
    for (auto it = attribute.globalMatch(svg); it.hasNext();) {
        const auto m = it.next();
        out += QStringView(svg).mid(last, m.capturedStart(2) - last);
        out += m.captured(2).replace(decimals, QStringLiteral("\\1"));
        last = m.capturedEnd(2);
    }
    out += QStringView(svg).mid(last);
    return out;
}

// QSvgGenerator writes a standalone file; inline in HTML the <svg> element needs neither the
// XML prolog nor the DOCTYPE, and its namespace declarations are the only URLs in it (an
// HTML parser puts <svg> in the SVG namespace by itself).
QByteArray inlineSvg(QByteArray svg, QSize size) {
    if (const auto at = svg.indexOf("<svg"); at > 0) svg.remove(0, at);
    QString text = QString::fromUtf8(svg);
    static const QRegularExpression namespaces(QStringLiteral(R"re(\s+xmlns(:\w+)?="[^"]*")re"));
    text.remove(namespaces);
    // Its size in pixels (the page scales it), not in millimetres.
    static const QRegularExpression root(
        QStringLiteral(R"re(<svg width="[^"]*" height="[^"]*")re"));
    text.replace(
        root,
        QStringLiteral("<svg width=\"%1\" height=\"%2\"").arg(size.width()).arg(size.height()));
    // QSvgGenerator's <title> and <desc> carry no content of ours.
    static const QRegularExpression boilerplate(
        QStringLiteral(R"re(<title>[^<]*</title>\s*|<desc>[^<]*</desc>\s*)re"));
    text.remove(boilerplate);
    // It opens a group at every change of the painter's state, most of them left empty, each
    // with the font (which every <text> names again) and often an identity transform.
    static const QRegularExpression groupFont(QStringLiteral(
        R"re(\s*font-family="[^"]*" font-size="[^"]*" font-weight="[^"]*" font-style="[^"]*"\s*\n>)re"));
    text.replace(groupFont, QStringLiteral(">"));
    text.remove(QStringLiteral(" transform=\"matrix(1,0,0,1,0,0)\""));
    // The font the charts were laid out with, else the browser's sans serif: a family the
    // browser does not know would fall back to a serif one.
    static const QRegularExpression family(QStringLiteral(R"re(font-family="([^"]*)")re"));
    text.replace(family, QStringLiteral("font-family=\"\\1, DejaVu Sans, sans-serif\""));
    text.remove(QStringLiteral(" vector-effect=\"none\""));
    static const QRegularExpression empty(QStringLiteral(R"re(<g [^>]*>\s*</g>\s*)re"));
    text.remove(empty);
    static const QRegularExpression blankLines(QStringLiteral(R"re(\n\s*\n)re"));
    text.replace(blankLines, QStringLiteral("\n"));
    return roundCoordinates(text).toUtf8();
}

}  // namespace

ChartFigure::ChartFigure(std::shared_ptr<QWidget> owner, QWidget* widget, QSize size)
    : m_owner(std::move(owner)), m_widget(widget), m_size(size) {}

void ChartFigure::layOut(QSize size) const {
    // The widget is never shown, so nothing delivers its resize or its chart's layout
    // requests: resize the chart itself and lay it out here, before painting.
    const QSize old = m_widget->size();
    m_widget->resize(size);
    if (auto* view = qobject_cast<QChartView*>(m_widget)) {
        view->chart()->resize(QSizeF(size));
        view->setSceneRect(view->chart()->geometry());
    } else {
        QResizeEvent resized(size, old);
        QCoreApplication::sendEvent(m_widget, &resized);
    }
    QCoreApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest);
}

void ChartFigure::paint(QPainter& painter, const QRectF& target) const {
    // Laid out at its own size and scaled to the target, as the SVG scales in a page: a chart
    // laid out smaller would drop labels that no longer fit (a class axis elides them).
    layOut(m_size);
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    if (auto* view = qobject_cast<QChartView*>(m_widget)) {
        view->scene()->render(&painter, target, view->chart()->geometry(), Qt::KeepAspectRatio);
    } else {
        painter.translate(target.topLeft());
        painter.scale(target.width() / m_size.width(), target.height() / m_size.height());
        m_widget->render(&painter, QPoint(), QRegion(), QWidget::DrawChildren);
    }
    painter.restore();
}

QByteArray ChartFigure::svg() const {
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    QSvgGenerator generator;
    generator.setOutputDevice(&buffer);
    generator.setSize(m_size);
    generator.setViewBox(QRect(QPoint(0, 0), m_size));
    generator.setResolution(m_widget->logicalDpiX());
    {
        QPainter painter(&generator);
        paint(painter, QRectF(QPointF(0, 0), QSizeF(m_size)));
    }
    return inlineSvg(buffer.data(), m_size);
}

}  // namespace ll::report
