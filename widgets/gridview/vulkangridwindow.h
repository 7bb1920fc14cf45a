#pragma once

#include <memory>

#include <QImage>
#include <QPointF>
#include <QVulkanWindow>

#include "common/samplegrid.h"

namespace ll::widgets {

class GridRenderer;

/// The Vulkan renderer of GridView: a QVulkanWindow (embedded with a window container) that
/// draws the grid's atlas as one texture with one draw (GridRenderer). Frames are rendered on
/// demand only (a new grid, zoom, pan or resize), never continuously.
class VulkanGridWindow : public QVulkanWindow {
    Q_OBJECT
public:
    explicit VulkanGridWindow(QVulkanInstance* instance);

    /// Whether the instance offers a physical device this window can use; call before showing.
    bool hasPhysicalDevice();
    /// Name of the physical device QVulkanWindow will pick (index 0 unless the user overrides
    /// it with QT_VK_PHYSICAL_DEVICE_INDEX).
    QString deviceName();

    QVulkanWindowRenderer* createRenderer() override;

    /// Keeps only the newest grid: one set while an upload is pending replaces it.
    void setGrid(std::shared_ptr<const ll::SampleGrid> grid);
    /// Pan is in device pixels, like GridLayout.
    void setView(float zoom, QPointF pan);
    /// Renders one more frame and reads it back as Format_RGB32, whatever the swapchain's
    /// channel order. Null when the window has no swapchain yet (not exposed).
    QImage grabFrame();
    /// Microseconds the last new grid took on the CPU in startNextFrame(): the copy into the
    /// staging buffer and the recorded transfer (bench_grid reads it). 0 before the first.
    qint64 lastUploadMicroseconds() const { return m_lastUploadMicroseconds; }

Q_SIGNALS:
    void frameRendered();
    /// A recoverable Vulkan error; the owner should switch to another renderer.
    void renderingFailed(const QString& reason);

private:
    friend class GridRenderer;

    std::shared_ptr<const ll::SampleGrid> m_grid;
    bool m_uploadPending = false;
    // frameRendered() promises the current grid: a frame of an older one stays silent.
    quint64 m_gridGeneration = 0;
    quint64 m_shownGeneration = 0;
    qint64 m_lastUploadMicroseconds = 0;
    float m_zoom = 1.0f;
    QPointF m_pan;
    bool m_grabbing = false;
    // Set by the renderer from the swapchain format: grab() returns the swapchain's raw bytes
    // in an RGBA8888 QImage, so a BGRA swapchain needs its red and blue swapped back.
    bool m_bgraSwapchain = false;
};

}  // namespace ll::widgets
