#include "gridview/vulkangridwindow.h"

#include <QTimer>

#include "gridview/vulkangridrenderer.h"

namespace ll::widgets {

VulkanGridWindow::VulkanGridWindow(QVulkanInstance* instance) {
    setVulkanInstance(instance);
    // With an sRGB swapchain the hardware would encode our output and the pixels would no
    // longer match the QPainter fallback; prefer UNORM (the shader compensates otherwise).
    setPreferredColorFormats({VK_FORMAT_B8G8R8A8_UNORM, VK_FORMAT_R8G8B8A8_UNORM});
}

bool VulkanGridWindow::hasPhysicalDevice() {
    return vulkanInstance() && vulkanInstance()->isValid() && !availablePhysicalDevices().isEmpty();
}

QString VulkanGridWindow::deviceName() {
    const QList<VkPhysicalDeviceProperties> devices = availablePhysicalDevices();
    if (devices.isEmpty()) return {};
    const int index = qEnvironmentVariableIntValue("QT_VK_PHYSICAL_DEVICE_INDEX");
    const auto& props = devices.value(index >= 0 && index < devices.size() ? index : 0);
    return QString::fromUtf8(props.deviceName);
}

QVulkanWindowRenderer* VulkanGridWindow::createRenderer() {
    return new GridRenderer(this);
}

void VulkanGridWindow::setGrid(std::shared_ptr<const ll::SampleGrid> grid) {
    // The upload itself is recorded by the next startNextFrame(); until then a newer grid
    // simply replaces this one, so stale grids are dropped rather than queued.
    m_grid = std::move(grid);
    m_uploadPending = true;
    ++m_gridGeneration;
    requestUpdate();
}

void VulkanGridWindow::setView(float zoom, QPointF pan) {
    m_zoom = zoom;
    m_pan = pan;
    requestUpdate();
}

QImage VulkanGridWindow::grabFrame() {
    if (!isExposed()) return {};
    m_grabbing = true;
    QImage image = grab();  // renders synchronously: GridRenderer calls frameReady() at once
    m_grabbing = false;
    if (image.isNull()) return image;
    if (m_bgraSwapchain) image = std::move(image).rgbSwapped();
    return std::move(image).convertToFormat(QImage::Format_RGB32);
}

}  // namespace ll::widgets
