#include "gridview/rowlabelstrip.h"

#include <algorithm>
#include <cmath>

#include <QEvent>
#include <QFontMetricsF>
#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include "gridview/gridcolors.h"

namespace ll::widgets {

namespace {
constexpr int kPadding = 8;
}  // namespace

RowLabelStrip::RowLabelStrip(QWidget* parent) : QWidget(parent) {
    setAttribute(Qt::WA_OpaquePaintEvent);
    // Hover and drag over the strip belong to the view, which clears the hovered tile.
    setMouseTracking(true);
}

bool RowLabelStrip::setLabels(const QStringList& labels) {
    m_labels = labels;
    update();
    return std::any_of(labels.begin(), labels.end(), [](const QString& s) { return !s.isEmpty(); });
}

void RowLabelStrip::setRowSpans(std::vector<std::pair<int, int>> spans) {
    m_spans = std::move(spans);
    update();
}

int RowLabelStrip::preferredWidth() const {
    // Fractional widths, rounded up: an integer advance can fall short of the painted text by a
    // fraction of a pixel, and elidedText then cuts the longest label ("Ankle b…").
    const QFontMetricsF metrics(font());
    qreal widest = 0;
    for (const QString& label : m_labels)
        widest = std::max(widest, metrics.horizontalAdvance(label));
    return std::min(int(std::ceil(widest)) + 1 + 2 * kPadding, kMaxWidth);
}

QString RowLabelStrip::shownText(int row) const {
    if (row < 0 || row >= m_labels.size()) return {};
    const QFontMetricsF metrics(font());
    return metrics.elidedText(m_labels[row], Qt::ElideMiddle, width() - 2 * kPadding);
}

int RowLabelStrip::rowAt(int y) const {
    const QFontMetricsF metrics(font());
    for (std::size_t row = 0; row < m_spans.size(); ++row) {
        const auto [top, bottom] = m_spans[row];
        const int boxHeight = std::max(bottom - top, int(std::ceil(metrics.height())));
        const int boxTop = (top + bottom - boxHeight) / 2;
        if (y >= boxTop && y < boxTop + boxHeight) return int(row);
    }
    return -1;
}

bool RowLabelStrip::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        // The whole name, whether or not it was cut: the strip is narrow by design.
        auto* help = static_cast<QHelpEvent*>(event);
        const int row = rowAt(help->pos().y());
        if (row >= 0 && row < m_labels.size() && !m_labels[row].isEmpty())
            QToolTip::showText(help->globalPos(), m_labels[row], this);
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(event);
}

void RowLabelStrip::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), kBackgroundColor);
    painter.setPen(kLabelColor);
    const QFontMetricsF metrics(font());
    const int textWidth = width() - 2 * kPadding;
    const int count = std::min<int>(m_labels.size(), static_cast<int>(m_spans.size()));
    for (int row = 0; row < count; ++row) {
        const auto [top, bottom] = m_spans[static_cast<std::size_t>(row)];
        if (bottom <= 0 || top >= height()) continue;
        // Centred on the row, and never shorter than a line of text when zoomed far out.
        const int boxHeight = std::max(bottom - top, int(std::ceil(metrics.height())));
        const QRect box(kPadding, (top + bottom - boxHeight) / 2, textWidth, boxHeight);
        painter.drawText(box, Qt::AlignRight | Qt::AlignVCenter,
                         metrics.elidedText(m_labels[row], Qt::ElideMiddle, textWidth));
    }
}

}  // namespace ll::widgets
