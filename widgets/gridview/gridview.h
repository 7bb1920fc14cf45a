#pragma once

#include <memory>

#include <QImage>
#include <QPointF>
#include <QString>
#include <QWidget>

#include "common/samplegrid.h"

class QVulkanInstance;

namespace ll::widgets {

struct GridLayout;
class PainterGridWidget;
class RowLabelStrip;
class VulkanGridWindow;

/// Shows a SampleGrid as tiles with zoom (wheel, around the cursor), pan (left-drag), hover
/// and click by tile index, and the row labels at the left. Renders with Vulkan where a device
/// exists, else with QPainter; both place and sample tiles identically (GridLayout).
class GridView : public QWidget {
    Q_OBJECT
public:
    enum class Renderer { Vulkan, Painter };

    /// Uses Vulkan when `instance` is non-null, created successfully and offers a physical
    /// device, otherwise the QPainter fallback. A Vulkan failure after that (shaders, pipeline,
    /// upload) logs a warning and switches to the fallback. The instance must outlive the view.
    explicit GridView(QVulkanInstance* instance, QWidget* parent = nullptr);
    ~GridView() override;

    Renderer renderer() const { return m_renderer; }
    /// For the status bar, e.g. "Vulkan (llvmpipe ...)" or "QPainter (no Vulkan device)".
    QString rendererName() const { return m_rendererName; }

    /// Shows the grid, shared rather than copied (null shows nothing); only the newest is
    /// kept, a pending one is dropped, never queued. A malformed grid is refused with a warning.
    void setGrid(std::shared_ptr<const ll::SampleGrid> grid);
    /// The same for a grid the caller keeps: copies it.
    void setGrid(const ll::SampleGrid& grid);
    const ll::SampleGrid& grid() const { return *m_grid; }

    /// 1 fits the whole grid in the view; larger values magnify around the view centre.
    void setZoom(float zoom);
    float zoom() const { return m_zoom; }
    /// Offset of the grid from its centred position, in widget (logical) pixels.
    void setPan(QPointF pan);
    QPointF pan() const { return m_pan; }
    void resetView();

    /// The rendered pixels of the grid area as shown (device pixels, Format_RGB32 for Vulkan).
    /// Null for Vulkan while the view is not exposed.
    QImage grabFrame();
    /// The row labels at the left (hidden while the grid has none).
    RowLabelStrip* labelStrip() const { return m_labels; }

Q_SIGNALS:
    void tileHovered(int index);  // -1 when leaving the tiles
    void tileClicked(int index);
    void frameRendered();  // after a frame showing the current grid was presented or painted

protected:
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void leaveEvent(QEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void usePainter(const QString& reason);
    QWidget* canvas() const;
    void updateGeometries();
    void applyView();
    GridLayout canvasLayout() const;  // in device pixels
    int tileAt(QPointF canvasPos) const;
    void setHovered(int index);

    // Interaction, shared by both renderers; positions are canvas-local logical pixels.
    void pressAt(QPointF pos, Qt::MouseButton button);
    void moveTo(QPointF pos, Qt::MouseButtons buttons);
    void releaseAt(QPointF pos, Qt::MouseButton button);
    void wheelAt(QPointF pos, QPoint angleDelta);

    std::shared_ptr<const ll::SampleGrid> m_grid;
    Renderer m_renderer = Renderer::Painter;
    QString m_rendererName;
    VulkanGridWindow* m_vulkanWindow = nullptr;
    QWidget* m_container = nullptr;
    PainterGridWidget* m_painter = nullptr;
    RowLabelStrip* m_labels = nullptr;

    float m_zoom = 1.0f;
    QPointF m_pan;
    int m_hovered = -1;
    bool m_pressed = false;
    bool m_dragging = false;
    QPointF m_pressPos;
    QPointF m_panAtPress;
};

}  // namespace ll::widgets
