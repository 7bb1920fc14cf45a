#pragma once

#include <functional>
#include <memory>

#include <QByteArray>
#include <QSize>
#include <QString>

class QPainter;
class QRectF;
class QWidget;

namespace ll::report {

/// One of the window's charts, painted as vectors: into SVG for the HTML and onto a PDF page.
/// It owns the widget, which is never shown: it is laid out at the figure's size and scaled
/// to wherever it is painted, as the SVG scales in a browser. GUI thread.
class ChartFigure {
public:
    /// `widget` is the chart to paint: a QChartView (the chart alone) or any QWidget that
    /// paints itself (CellMap). `owner` keeps it alive (the chart's parent widget, if any).
    ChartFigure(std::shared_ptr<QWidget> owner, QWidget* widget, QSize size);

    /// Inline SVG (no XML prolog, no namespace URLs) of the chart at `size()`.
    QByteArray svg() const;
    /// Paints the chart, laid out at size(), scaled into `target` (painter's units).
    void paint(QPainter& painter, const QRectF& target) const;
    QSize size() const { return m_size; }

private:
    void layOut(QSize size) const;

    std::shared_ptr<QWidget> m_owner;
    QWidget* m_widget;
    QSize m_size;
};

}  // namespace ll::report
