#include "export/previewtiles.h"

#include <algorithm>
#include <cmath>

#include <QEvent>
#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

namespace ll::widgets {

namespace {
constexpr int kGap = 2;     // pixels between tiles
constexpr int kMargin = 8;  // around the grid
constexpr int kMaxScale = 4;
}  // namespace

PreviewTiles::PreviewTiles(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("exportPreviewTiles"));
    setMouseTracking(true);
    setMinimumSize(200, 120);
}

void PreviewTiles::setPreview(const ll::ExportPreview& preview, double minConfidence) {
    m_preview = preview;
    m_minConfidence = minConfidence;
    const auto& g = m_preview.grid;
    m_atlas = g.empty() ? QImage()
                        : QImage(g.rgba.data(), g.atlasWidth(), g.atlasHeight(), g.atlasWidth() * 4,
                                 QImage::Format_RGBA8888)
                              .copy();  // owns its pixels: the grid may go
    m_labelWidth = 0;
    for (const auto& label : g.rowLabels)
        m_labelWidth =
            std::max(m_labelWidth, fontMetrics().horizontalAdvance(QString::fromStdString(label)));
    if (m_labelWidth > 0) m_labelWidth += 8;
    updateGeometry();
    update();
}

void PreviewTiles::clear() {
    setPreview({}, 0);
}

int PreviewTiles::droppedCount() const {
    const auto& g = m_preview.grid;
    const int tiles = g.rows * g.cols;
    int n = 0;
    for (int i = 0; i < tiles && i < int(m_preview.dropped.size()); ++i)
        n += !m_preview.dropped[std::size_t(i)].empty();
    return n;
}

double PreviewTiles::scale() const {
    const auto& g = m_preview.grid;
    if (g.empty()) return 1;
    // As large as fits, at least 1: a whole factor from 2 up keeps pixels square and sharp;
    // below 2 the tiles are smoothed rather than unevenly doubled.
    const double w = width() - 2 * kMargin - m_labelWidth, h = height() - 2 * kMargin;
    const double sx = (w - (g.cols - 1) * kGap) / std::max(1, g.cols * g.tileWidth);
    const double sy = (h - (g.rows - 1) * kGap) / std::max(1, g.rows * g.tileHeight);
    const double s = std::clamp(std::min(sx, sy), 1.0, double(kMaxScale));
    return s >= 2 ? std::floor(s) : s;
}

QRectF PreviewTiles::tileRect(int index) const {
    const auto& g = m_preview.grid;
    const double s = scale();
    const int row = index / g.cols, col = index % g.cols;
    return {kMargin + m_labelWidth + col * (g.tileWidth * s + kGap),
            kMargin + row * (g.tileHeight * s + kGap), g.tileWidth * s, g.tileHeight * s};
}

QPoint PreviewTiles::tileCentre(int index) const {
    return tileRect(index).center().toPoint();
}

int PreviewTiles::tileAt(QPoint pos) const {
    const auto& g = m_preview.grid;
    for (int i = 0; i < g.rows * g.cols; ++i)
        if (tileRect(i).contains(pos)) return i;
    return -1;
}

QString PreviewTiles::describe(int index) const {
    const auto at = std::size_t(index);
    if (index < 0 || at >= m_preview.dropped.size()) return {};
    const std::string& why = m_preview.dropped[at];
    const double confidence = at < m_preview.confidence.size() ? m_preview.confidence[at] : NAN;
    const double distance = at < m_preview.distance.size() ? m_preview.distance[at] : NAN;
    QString text;
    if (why.empty())
        text = tr("Kept");
    else if (why == "confidence")
        text = tr("Dropped: the classifier's confidence in its class is below %1")
                   .arg(m_minConfidence);
    else if (why == "copy")
        text = tr("Dropped: a near-copy of a training image (distance below %1)")
                   .arg(m_preview.copyDistance, 0, 'g', 3);
    else
        text = tr("Dropped (%1)").arg(QString::fromStdString(why));
    if (!std::isnan(confidence))
        text += tr("\nConfidence in its class: %1").arg(confidence, 0, 'f', 3);
    if (!std::isnan(distance))
        text += tr("\nDistance to the nearest training image: %1").arg(distance, 0, 'g', 3);
    return text;
}

QSize PreviewTiles::sizeHint() const {
    const auto& g = m_preview.grid;
    if (g.empty()) return {400, 300};
    return {2 * kMargin + m_labelWidth + g.cols * (g.tileWidth * 3 + kGap),
            2 * kMargin + g.rows * (g.tileHeight * 3 + kGap)};
}

void PreviewTiles::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    const auto& g = m_preview.grid;
    if (g.empty() || m_atlas.isNull()) return;
    for (int row = 0; row < g.rows; ++row) {
        if (row >= int(g.rowLabels.size())) break;
        const QRectF first = tileRect(row * g.cols);
        p.setPen(palette().text().color());
        p.drawText(QRectF(kMargin, first.top(), m_labelWidth - 8, first.height()),
                   Qt::AlignRight | Qt::AlignVCenter, QString::fromStdString(g.rowLabels[row]));
    }
    const QColor red(0xd7, 0x30, 0x27);
    p.setRenderHint(QPainter::SmoothPixmapTransform, scale() < 2);
    for (int i = 0; i < g.rows * g.cols; ++i) {
        const QRectF target = tileRect(i);
        const QRectF source((i % g.cols) * g.tileWidth, (i / g.cols) * g.tileHeight, g.tileWidth,
                            g.tileHeight);
        p.drawImage(target, m_atlas, source);
        if (i >= int(m_preview.dropped.size()) || m_preview.dropped[std::size_t(i)].empty())
            continue;
        // Dropped: dimmed, a red frame and a cross.
        p.fillRect(target, QColor(255, 255, 255, 90));
        p.setPen(QPen(red, 2));
        p.drawRect(target.adjusted(1, 1, -1, -1));
        p.drawLine(target.topLeft() + QPointF(3, 3), target.bottomRight() - QPointF(3, 3));
        p.drawLine(target.topRight() + QPointF(-3, 3), target.bottomLeft() + QPointF(3, -3));
    }
}

bool PreviewTiles::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const QString text = describe(tileAt(help->pos()));
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return QWidget::event(event);
}

}  // namespace ll::widgets
