#pragma once

#include <QImage>
#include <QString>
#include <QWidget>

#include "export/datasetexport.h"

namespace ll::widgets {

/// The export preview's tiles: the first samples, one row per class, each scaled up by a
/// whole factor, the ones a filter would drop crossed out in red with the reason in their
/// tooltip (and the confidence and training distance of every tile). Painted from the grid's
/// RGBA atlas: a preview is a few dozen tiles, and marks need no renderer of their own.
class PreviewTiles : public QWidget {
    Q_OBJECT
public:
    explicit PreviewTiles(QWidget* parent = nullptr);

    void setPreview(const ll::ExportPreview& preview, double minConfidence);
    void clear();
    const ll::ExportPreview& preview() const { return m_preview; }
    /// Tiles marked as dropped.
    int droppedCount() const;
    /// The tile under `pos`, or -1.
    int tileAt(QPoint pos) const;
    /// The tooltip text of tile `index`: kept or why dropped, confidence, distance.
    QString describe(int index) const;
    /// The centre of tile `index` in widget coordinates.
    QPoint tileCentre(int index) const;

    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;
    bool event(QEvent* event) override;

private:
    QRectF tileRect(int index) const;
    double scale() const;

    ll::ExportPreview m_preview;
    double m_minConfidence = 0;
    QImage m_atlas;
    int m_labelWidth = 0;
};

}  // namespace ll::widgets
