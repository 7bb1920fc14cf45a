#pragma once

#include <string>
#include <vector>

#include <QImage>
#include <QWidget>

#include "common/samplegrid.h"
#include "sample/latentmap.h"

namespace ll::widgets {

/// The latent browser's map (design.md, the Steer modes): every point of a run's latent map
/// on its two leading principal axes, coloured by class, encoded data as dots and the model's
/// own draws as rings. Hovering shows a point's image; a click on a point or on an empty place
/// asks the panel to decode it. The marked latents (A, B, C, the current one) and the latest
/// interpolation strip are drawn over it. Paints only; the panel computes.
class LatentView : public QWidget {
    Q_OBJECT
public:
    struct Mark {
        QString name;        // A, B, C; empty: the current latent, drawn as a ring
        float x = 0, y = 0;  // map coordinates
        QColor colour;
    };

    explicit LatentView(QWidget* parent = nullptr);

    /// `images`: one tile per point, in the map's order (cols 64); `drawnImages` false when
    /// the drawn points' tiles are not decoded (pixel-space diffusion).
    void setMap(ll::LatentMap map, ll::SampleGrid images, std::vector<std::string> classNames,
                bool drawnImages);
    /// No map: says why (or what is happening) in the middle.
    void clear(const QString& message);
    const ll::LatentMap& map() const { return m_map; }
    bool hasMap() const { return !m_map.x.empty(); }
    void setShown(bool real, bool drawn);
    void setMarks(std::vector<Mark> marks);
    /// The strip along the bottom (an interpolation); an empty grid removes it.
    void setStrip(const ll::SampleGrid& strip, const QString& caption);
    bool hasStrip() const { return !m_strip.isNull(); }

    /// The point nearest to a widget position (within a few pixels), or -1.
    int pointAt(QPointF position) const;
    QPointF toWidget(float x, float y) const;
    QPointF toMap(QPointF position) const;
    int hovered() const { return m_hover; }

Q_SIGNALS:
    void pointClicked(int index);
    void placeClicked(float x, float y);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    QRectF plotArea() const;
    QImage pointImage(int index) const;
    QColor classColour(int label) const;
    bool visible(std::size_t i) const;

    ll::LatentMap m_map;
    QImage m_images;  // the points' tiles as one atlas
    int m_tileWidth = 0, m_tileHeight = 0;
    std::vector<std::string> m_classNames;
    bool m_drawnImages = true;
    bool m_showReal = true, m_showDrawn = true;
    float m_minX = 0, m_maxX = 1, m_minY = 0, m_maxY = 1;
    std::vector<Mark> m_marks;
    QImage m_strip;
    QString m_stripCaption;
    QString m_message;
    int m_hover = -1;
    QPointF m_cursor;
};

/// The grid's atlas as an image (a deep copy).
QImage gridImage(const ll::SampleGrid& grid);

}  // namespace ll::widgets
