#include "gridview/rowlabelstrip.h"

#include <algorithm>

#include <QFontMetrics>
#include <QPainter>

#include "gridview/gridcolors.h"

namespace ll::widgets {

namespace {
constexpr int kPadding = 8;
constexpr int kMaxWidth = 180;
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
    const QFontMetrics metrics(font());
    int widest = 0;
    for (const QString& label : m_labels)
        widest = std::max(widest, metrics.horizontalAdvance(label));
    return std::min(widest + 2 * kPadding, kMaxWidth);
}

void RowLabelStrip::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), kBackgroundColor);
    painter.setPen(kLabelColor);
    const QFontMetrics metrics(font());
    const int textWidth = width() - 2 * kPadding;
    const int count = std::min<int>(m_labels.size(), static_cast<int>(m_spans.size()));
    for (int row = 0; row < count; ++row) {
        const auto [top, bottom] = m_spans[static_cast<std::size_t>(row)];
        if (bottom <= 0 || top >= height()) continue;
        // Centred on the row, and never shorter than a line of text when zoomed far out.
        const int boxHeight = std::max(bottom - top, metrics.height());
        const QRect box(kPadding, (top + bottom - boxHeight) / 2, textWidth, boxHeight);
        painter.drawText(box, Qt::AlignRight | Qt::AlignVCenter,
                         metrics.elidedText(m_labels[row], Qt::ElideRight, textWidth));
    }
}

}  // namespace ll::widgets
