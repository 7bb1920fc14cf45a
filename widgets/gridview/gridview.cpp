#include "gridview/gridview.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>

#include <QApplication>
#include <QMouseEvent>
#include <QVulkanInstance>
#include <QWheelEvent>
#include <QtMath>

#include "gridview/gridlayout.h"
#include "gridview/paintergridwidget.h"
#include "gridview/rowlabelstrip.h"
#include "gridview/vulkangridwindow.h"

namespace ll::widgets {

namespace {

bool isValidGrid(const ll::SampleGrid& grid) {
    if (grid.rows < 0 || grid.cols < 0 || grid.tileWidth < 0 || grid.tileHeight < 0) return false;
    if (grid.empty()) return true;
    // Tiles of no pixels would make a texture of none, which Vulkan forbids.
    if (grid.tileWidth == 0 || grid.tileHeight == 0) return false;
    // In 64 bits from the fields: atlasWidth() and atlasHeight() are ints a hostile grid can
    // overflow.
    const auto width = std::uint64_t(grid.cols) * std::uint64_t(grid.tileWidth);
    const auto height = std::uint64_t(grid.rows) * std::uint64_t(grid.tileHeight);
    if (width > std::uint64_t(INT_MAX) || height > std::uint64_t(INT_MAX)) return false;
    return grid.rgba.size() / 4 / width >= height;
}

}  // namespace

GridView::GridView(QVulkanInstance* instance, QWidget* parent)
    : QWidget(parent), m_grid(std::make_shared<const ll::SampleGrid>()) {
    setMouseTracking(true);
    setMinimumSize(64, 64);
    m_labels = new RowLabelStrip(this);
    m_labels->setObjectName(QStringLiteral("rowLabelStrip"));
    m_labels->hide();

    if (!instance) {
        usePainter(QStringLiteral("no Vulkan instance"));
    } else if (!instance->isValid()) {
        usePainter(QStringLiteral("Vulkan instance not created"));
    } else {
        // Ask for a physical device before committing: a window container that never renders
        // would leave the centre of the app blank.
        auto* window = new VulkanGridWindow(instance);
        if (!window->hasPhysicalDevice()) {
            delete window;
            usePainter(QStringLiteral("no Vulkan device"));
        } else {
            m_vulkanWindow = window;
            m_renderer = Renderer::Vulkan;
            m_rendererName = QStringLiteral("Vulkan (%1)").arg(window->deviceName());
            m_container = QWidget::createWindowContainer(window, this);
            // Mouse input goes to the native window, not the container: route it through here.
            window->installEventFilter(this);
            connect(window, &VulkanGridWindow::frameRendered, this, &GridView::frameRendered);
            connect(window, &VulkanGridWindow::renderingFailed, this, [this](const QString& why) {
                usePainter(QStringLiteral("Vulkan failed: %1").arg(why));
            });
        }
    }
    updateGeometries();
}

GridView::~GridView() = default;

void GridView::usePainter(const QString& reason) {
    if (m_container) {
        m_vulkanWindow->removeEventFilter(this);
        m_vulkanWindow->disconnect(this);
        m_container->hide();
        m_container->deleteLater();  // owns the window; we may be inside its signal
        m_container = nullptr;
        m_vulkanWindow = nullptr;
    }
    m_renderer = Renderer::Painter;
    m_rendererName = QStringLiteral("QPainter (%1)").arg(reason);
    m_painter = new PainterGridWidget(this);
    connect(m_painter, &PainterGridWidget::frameRendered, this, &GridView::frameRendered);
    m_painter->setGrid(m_grid);
    updateGeometries();
    applyView();
    m_painter->show();
}

QWidget* GridView::canvas() const {
    return m_container ? m_container : static_cast<QWidget*>(m_painter);
}

void GridView::setGrid(const ll::SampleGrid& grid) {
    setGrid(std::make_shared<const ll::SampleGrid>(grid));
}

void GridView::setGrid(std::shared_ptr<const ll::SampleGrid> grid) {
    if (grid && isValidGrid(*grid)) {
        m_grid = std::move(grid);
    } else {
        if (grid)
            qWarning("GridView: ignoring a malformed grid (%dx%d tiles of %dx%d, %zu bytes)",
                     grid->rows, grid->cols, grid->tileWidth, grid->tileHeight, grid->rgba.size());
        m_grid = std::make_shared<const ll::SampleGrid>();
    }
    QStringList labels;
    for (const std::string& label : m_grid->rowLabels) labels << QString::fromStdString(label);
    const bool showLabels = m_labels->setLabels(labels);
    if (showLabels != m_labels->isVisibleTo(this)) {
        m_labels->setVisible(showLabels);
        updateGeometries();
    } else if (showLabels && m_labels->width() != m_labels->preferredWidth()) {
        updateGeometries();  // other names, another width
    }
    if (m_vulkanWindow) m_vulkanWindow->setGrid(m_grid);
    if (m_painter) m_painter->setGrid(m_grid);
    applyView();
}

void GridView::setZoom(float zoom) {
    m_zoom = std::clamp(zoom, kMinZoom, kMaxZoom);
    applyView();
}

void GridView::setPan(QPointF pan) {
    m_pan = pan;
    applyView();
}

void GridView::resetView() {
    m_zoom = 1.0f;
    m_pan = QPointF();
    applyView();
}

QImage GridView::grabFrame() {
    if (m_vulkanWindow) return m_vulkanWindow->grabFrame();
    // A hidden view has not had its resize event yet; lay out the canvas before grabbing.
    if (!isVisible()) updateGeometries();
    return m_painter->grabFrame();
}

void GridView::updateGeometries() {
    const int labelWidth = m_labels->isVisibleTo(this) ? m_labels->preferredWidth() : 0;
    m_labels->setGeometry(0, 0, labelWidth, height());
    if (QWidget* c = canvas()) c->setGeometry(labelWidth, 0, width() - labelWidth, height());
    applyView();
}

GridLayout GridView::canvasLayout() const {
    const QWidget* c = canvas();
    const qreal dpr = c->devicePixelRatioF();
    return makeGridLayout(qRound(c->width() * dpr), qRound(c->height() * dpr), m_grid->rows,
                          m_grid->cols, m_grid->tileWidth, m_grid->tileHeight, m_zoom,
                          float(m_pan.x() * dpr), float(m_pan.y() * dpr));
}

void GridView::applyView() {
    const QWidget* c = canvas();
    if (!c) return;  // still constructing
    const QPointF devicePan = m_pan * c->devicePixelRatioF();
    if (m_vulkanWindow) m_vulkanWindow->setView(m_zoom, devicePan);
    if (m_painter) m_painter->setView(m_zoom, devicePan);
    if (m_labels->isVisibleTo(this)) {
        const GridLayout layout = canvasLayout();
        const qreal dpr = c->devicePixelRatioF();
        std::vector<std::pair<int, int>> spans;
        for (int row = 0; row < layout.rows; ++row) {
            const TileRect rect = layout.tileRect(row, 0);
            spans.emplace_back(qFloor(rect.top / dpr), qCeil(rect.bottom / dpr));
        }
        m_labels->setRowSpans(std::move(spans));
    }
}

int GridView::tileAt(QPointF canvasPos) const {
    const qreal dpr = canvas()->devicePixelRatioF();
    return canvasLayout().tileIndexAt(int(std::floor(canvasPos.x() * dpr)),
                                      int(std::floor(canvasPos.y() * dpr)));
}

void GridView::setHovered(int index) {
    if (index == m_hovered) return;
    m_hovered = index;
    Q_EMIT tileHovered(index);
}

void GridView::pressAt(QPointF pos, Qt::MouseButton button) {
    if (button != Qt::LeftButton) return;
    m_pressed = true;
    m_dragging = false;
    m_pressPos = pos;
    m_panAtPress = m_pan;
}

void GridView::moveTo(QPointF pos, Qt::MouseButtons buttons) {
    if (m_pressed && (buttons & Qt::LeftButton)) {
        // A small wobble during a click must not pan.
        if (!m_dragging &&
            (pos - m_pressPos).manhattanLength() >= QApplication::startDragDistance())
            m_dragging = true;
        if (m_dragging) setPan(m_panAtPress + (pos - m_pressPos));
    }
    setHovered(tileAt(pos));
}

void GridView::releaseAt(QPointF pos, Qt::MouseButton button) {
    if (button != Qt::LeftButton || !m_pressed) return;
    m_pressed = false;
    if (m_dragging) {
        m_dragging = false;
        return;
    }
    const int index = tileAt(pos);
    if (index >= 0) Q_EMIT tileClicked(index);
}

void GridView::wheelAt(QPointF pos, QPoint angleDelta) {
    if (angleDelta.y() == 0 || m_grid->empty()) return;
    // 120 units (one notch) zoom by 1.25; smooth-scrolling devices send fractions of that.
    const float newZoom =
        std::clamp(m_zoom * std::pow(1.25f, angleDelta.y() / 120.0f), kMinZoom, kMaxZoom);
    const qreal dpr = canvas()->devicePixelRatioF();
    float panX = 0.0f;
    float panY = 0.0f;
    canvasLayout().panForZoomAround(m_zoom, newZoom, float(pos.x() * dpr), float(pos.y() * dpr),
                                    panX, panY);
    m_zoom = newZoom;
    m_pan = QPointF(panX, panY) / dpr;
    applyView();
    setHovered(tileAt(pos));
}

void GridView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    updateGeometries();
}

void GridView::mousePressEvent(QMouseEvent* event) {
    pressAt(event->position() - canvas()->pos(), event->button());
    event->accept();
}

void GridView::mouseMoveEvent(QMouseEvent* event) {
    moveTo(event->position() - canvas()->pos(), event->buttons());
    event->accept();
}

void GridView::mouseReleaseEvent(QMouseEvent* event) {
    releaseAt(event->position() - canvas()->pos(), event->button());
    event->accept();
}

void GridView::wheelEvent(QWheelEvent* event) {
    wheelAt(event->position() - canvas()->pos(), event->angleDelta());
    event->accept();
}

void GridView::leaveEvent(QEvent* event) {
    QWidget::leaveEvent(event);
    if (!m_pressed) setHovered(-1);
}

bool GridView::eventFilter(QObject* watched, QEvent* event) {
    if (watched != m_vulkanWindow) return QWidget::eventFilter(watched, event);
    // The Vulkan window's coordinates are already canvas-local.
    switch (event->type()) {
        case QEvent::MouseButtonPress: {
            auto* e = static_cast<QMouseEvent*>(event);
            pressAt(e->position(), e->button());
            return true;
        }
        case QEvent::MouseMove: {
            auto* e = static_cast<QMouseEvent*>(event);
            moveTo(e->position(), e->buttons());
            return true;
        }
        case QEvent::MouseButtonRelease: {
            auto* e = static_cast<QMouseEvent*>(event);
            releaseAt(e->position(), e->button());
            return true;
        }
        case QEvent::Wheel: {
            auto* e = static_cast<QWheelEvent*>(event);
            wheelAt(e->position(), e->angleDelta());
            return true;
        }
        case QEvent::Leave:
            if (!m_pressed) setHovered(-1);
            return false;
        default:
            return false;
    }
}

}  // namespace ll::widgets
