#pragma once

#include <memory>

#include <QImage>
#include <QPointF>
#include <QWidget>

#include "common/samplegrid.h"
#include "gridview/gridlayout.h"

namespace ll::widgets {

/// The QPainter renderer of GridView, used where no Vulkan device exists. It draws the layout
/// of GridLayout from its texel map, as grid.frag does, so both renderers look the same.
/// Mouse events are left to the parent GridView, which owns interaction for both renderers.
class PainterGridWidget : public QWidget {
    Q_OBJECT
public:
    explicit PainterGridWidget(QWidget* parent = nullptr);

    void setGrid(std::shared_ptr<const ll::SampleGrid> grid);
    /// Pan is in device pixels, like GridLayout.
    void setView(float zoom, QPointF pan);
    QImage grabFrame();

    /// Renders `grid` with `layout` into an opaque image of the layout's view size: the
    /// background colour, then each tile scaled nearest-neighbour, alpha ignored.
    static QImage renderGrid(const ll::SampleGrid& grid, const GridLayout& layout);

Q_SIGNALS:
    void frameRendered();

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    std::shared_ptr<const ll::SampleGrid> m_grid;
    float m_zoom = 1.0f;
    QPointF m_pan;
    QImage m_frame;  // cached until the grid, view or size changes
    bool m_dirty = true;
    quint64 m_gridGeneration = 0;  // see VulkanGridWindow: frames of an older grid stay silent
    bool m_grabbing = false;
};

}  // namespace ll::widgets
