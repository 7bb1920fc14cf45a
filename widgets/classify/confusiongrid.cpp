#include "classify/confusiongrid.h"

#include <algorithm>

#include <QFontMetrics>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

namespace ll::widgets {

namespace {
constexpr int kMargin = 6;
constexpr int kMaxLabel = 110;  // a long class name is elided to this
}  // namespace

ConfusionGrid::ConfusionGrid(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("confusionGrid"));
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ConfusionGrid::setMatrix(const std::vector<std::vector<std::int64_t>>& counts,
                              const std::vector<std::string>& classes) {
    m_counts = counts;
    m_classes.clear();
    for (const auto& c : classes) m_classes.push_back(QString::fromStdString(c));
    while (m_classes.size() < m_counts.size())
        m_classes.push_back(QString::number(m_classes.size()));
    // Rows carry the number that heads their column.
    for (std::size_t k = 0; k < m_classes.size(); ++k)
        m_classes[k] = QStringLiteral("%1  %2").arg(m_classes[k]).arg(k);
    update();
}

int ConfusionGrid::labelWidth() const {
    const QFontMetrics fm(font());
    int w = 0;
    for (const QString& c : m_classes) w = std::max(w, fm.horizontalAdvance(c));
    return std::min(w, kMaxLabel) + kMargin;
}

QRect ConfusionGrid::gridRect() const {
    const int n = int(m_counts.size());
    if (n == 0) return {};
    const int title = QFontMetrics(font()).height() + kMargin;
    const int left = labelWidth() + kMargin;
    // The columns are headed by the class numbers, which the row names carry too.
    const int bottom = QFontMetrics(font()).height() + kMargin;
    const int side =
        std::max(1, std::min((width() - left - kMargin) / n, (height() - title - bottom) / n));
    return {left, title, side * n, side * n};
}

std::pair<int, int> ConfusionGrid::cellAt(const QPoint& pos) const {
    const QRect g = gridRect();
    if (!g.contains(pos) || m_counts.empty()) return {-1, -1};
    const int side = g.width() / int(m_counts.size());
    return {(pos.y() - g.top()) / side, (pos.x() - g.left()) / side};
}

void ConfusionGrid::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    const int n = int(m_counts.size());
    const QFontMetrics fm(font());
    if (n == 0) {
        p.drawText(rect(), Qt::AlignCenter, tr("No confusion matrix yet"));
        return;
    }
    const QRect g = gridRect();
    const int side = g.width() / n;
    p.drawText(QRect(0, 0, width(), fm.height() + kMargin), Qt::AlignCenter,
               fm.elidedText(tr("Rows: the true class. Columns: the chosen one."), Qt::ElideRight,
                             width()));
    for (int r = 0; r < n; ++r) {
        std::int64_t total = 0;
        for (auto v : m_counts[std::size_t(r)]) total += v;
        const QString rowName = fm.elidedText(m_classes[std::size_t(r)], Qt::ElideRight, kMaxLabel);
        p.setPen(palette().text().color());
        p.drawText(QRect(0, g.top() + r * side, g.left() - kMargin, side),
                   Qt::AlignRight | Qt::AlignVCenter, rowName);
        for (int c = 0; c < n && c < int(m_counts[std::size_t(r)].size()); ++c) {
            const std::int64_t v = m_counts[std::size_t(r)][std::size_t(c)];
            // The share of the row, for the shade: a display choice, not a figure shown.
            const double share = total > 0 ? double(v) / double(total) : 0.0;
            const QColor hue = r == c ? QColor(0x2e, 0x8b, 0x57) : QColor(0xc0, 0x39, 0x2b);
            QColor fill = hue;
            fill.setAlphaF(float(0.08 + 0.92 * share));
            const QRect cell(g.left() + c * side, g.top() + r * side, side, side);
            p.fillRect(cell, fill);
            p.setPen(QColor(0xd0, 0xd0, 0xd0));
            p.drawRect(cell.adjusted(0, 0, -1, -1));
            if (side >= fm.horizontalAdvance(QString::number(v)) + 2) {
                p.setPen(share > 0.55 ? Qt::white : palette().text().color());
                p.drawText(cell, Qt::AlignCenter, QString::number(v));
            }
        }
    }
    // Column numbers under the grid.
    p.setPen(palette().text().color());
    for (int c = 0; c < n; ++c)
        p.drawText(QRect(g.left() + c * side, g.bottom() + 2, side, fm.height()), Qt::AlignCenter,
                   QString::number(c));
}

void ConfusionGrid::mouseMoveEvent(QMouseEvent* event) {
    const auto [r, c] = cellAt(event->position().toPoint());
    if (r < 0 || c < 0 || r >= int(m_counts.size()) || c >= int(m_counts[std::size_t(r)].size())) {
        QToolTip::hideText();
        return;
    }
    QToolTip::showText(event->globalPosition().toPoint(),
                       tr("%1 images of %2 went to %3")
                           .arg(m_counts[std::size_t(r)][std::size_t(c)])
                           .arg(m_classes[std::size_t(r)], m_classes[std::size_t(c)]),
                       this);
}

}  // namespace ll::widgets
