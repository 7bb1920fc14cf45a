#include "inspect/cellmap.h"

#include <algorithm>
#include <cmath>

#include <QMouseEvent>
#include <QPainter>

namespace ll::widgets {

namespace {

QColor zColour(double z, bool kept) {
    if (!kept || std::isnan(z)) return QColor(0xa0, 0xa0, 0xa0);
    // Red for copying (Z < 0), blue for underfitting (Z > 0), saturating at |Z| = 5.
    const double t = std::clamp(std::abs(z) / 5.0, 0.0, 1.0);
    const QColor end = z < 0 ? QColor(0xd7, 0x30, 0x27) : QColor(0x31, 0x6b, 0xd6);
    const QColor mid(0xd0, 0xd0, 0xd0);
    return QColor(int(mid.red() + t * (end.red() - mid.red())),
                  int(mid.green() + t * (end.green() - mid.green())),
                  int(mid.blue() + t * (end.blue() - mid.blue())));
}

}  // namespace

// ---- The cell map ----

CellMap::CellMap(QWidget* parent) : QWidget(parent) {
    setMinimumSize(320, 260);
    setObjectName(QStringLiteral("cellMap"));
}

void CellMap::setRecord(const ll::EvalRecord* record) {
    m_record = record;
    m_selected = -1;
    if (record && !record->mapX.empty()) {
        const auto [x0, x1] = std::minmax_element(record->mapX.begin(), record->mapX.end());
        const auto [y0, y1] = std::minmax_element(record->mapY.begin(), record->mapY.end());
        m_minX = *x0, m_maxX = *x1, m_minY = *y0, m_maxY = *y1;
        if (m_maxX - m_minX < 1e-9) m_maxX = m_minX + 1;
        if (m_maxY - m_minY < 1e-9) m_maxY = m_minY + 1;
    }
    update();
}

QPointF CellMap::toWidget(double x, double y) const {
    const double margin = 24;
    const double w = std::max(1.0, width() - 2 * margin),
                 h = std::max(1.0, height() - 2 * margin - 20);
    return {margin + (x - m_minX) / (m_maxX - m_minX) * w,
            margin + 20 + (1 - (y - m_minY) / (m_maxY - m_minY)) * h};  // 20: the caption
}

QPointF CellMap::cellPosition(int cell) const {
    if (!m_record) return {};
    for (const auto& c : m_record->cells)
        if (c.id == cell) return toWidget(c.x, c.y);
    return {};
}

void CellMap::selectCell(int cell) {
    m_selected = cell;
    update();
}

void CellMap::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    p.setRenderHint(QPainter::Antialiasing);
    if (!m_record || m_record->cells.empty()) {
        p.setPen(palette().text().color());
        p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
                   tr("No data-copying cells in this record: evaluate with the 'ct' metric "
                      "(needs held-out data)."));
        return;
    }
    std::vector<QColor> colours(m_record->cells.size() + 1, Qt::gray);
    for (const auto& c : m_record->cells)
        if (c.id >= 0 && c.id < int(colours.size()))
            colours[std::size_t(c.id)] = zColour(c.z, c.kept);
    p.setPen(Qt::NoPen);
    for (std::size_t i = 0; i < m_record->mapX.size() && i < m_record->mapCell.size(); ++i) {
        const int cell = m_record->mapCell[i];
        QColor colour =
            cell >= 0 && cell < int(colours.size()) ? colours[std::size_t(cell)] : Qt::gray;
        colour.setAlpha(m_selected < 0 || cell == m_selected ? 150 : 45);
        p.setBrush(colour);
        p.drawEllipse(toWidget(m_record->mapX[i], m_record->mapY[i]), 2.0, 2.0);
    }
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    for (const auto& c : m_record->cells) {
        const QPointF at = toWidget(c.x, c.y);
        p.setBrush(zColour(c.z, c.kept));
        p.setPen(QPen(c.id == m_selected ? palette().highlight().color() : QColor(0x30, 0x30, 0x30),
                      c.id == m_selected ? 3 : 1));
        p.drawEllipse(at, 13, 13);
        p.setPen(Qt::black);
        p.drawText(QRectF(at.x() - 13, at.y() - 13, 26, 26), Qt::AlignCenter,
                   QString::number(c.id));
    }
    p.setFont(font());
    p.setPen(palette().text().color());
    p.drawText(QRectF(8, 2, width() - 16, 36), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap,
               tr("Training features on their first two principal axes. Cell colour: Z of the "
                  "cell (red < 0: copying, blue > 0: underfitting, grey: too few samples)."));
}

void CellMap::mousePressEvent(QMouseEvent* event) {
    if (!m_record) return;
    int best = -1;
    double bestDistance = 30;
    for (const auto& c : m_record->cells) {
        const QPointF d = toWidget(c.x, c.y) - event->position();
        const double distance = std::hypot(d.x(), d.y());
        if (distance < bestDistance) bestDistance = distance, best = c.id;
    }
    if (best < 0) return;
    selectCell(best);
    Q_EMIT cellClicked(best);
}

}  // namespace ll::widgets
