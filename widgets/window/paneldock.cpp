#include "window/paneldock.h"

#include <QScrollArea>
#include <QStackedWidget>

#include "common/wheelguard.h"

namespace ll::widgets {

PanelDock::PanelDock(QWidget* parent) : QDockWidget(modeName(Mode::Data), parent) {
    setObjectName(QStringLiteral("panelDock"));
    setFeatures(QDockWidget::DockWidgetMovable);
    m_stack = new QStackedWidget;
    setWidget(m_stack);
    setMinimumWidth(320);
}

void PanelDock::addPanel(Mode mode, QWidget* panel, bool scroll) {
    QWidget* page = panel;
    if (scroll) {
        auto* area = new QScrollArea;
        markPanelScroll(area);
        area->setWidget(panel);
        area->setWidgetResizable(true);
        area->setFrameShape(QFrame::NoFrame);
        area->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        page = area;
    }
    m_stack->addWidget(page);
    m_pages[mode] = page;
    m_panels[mode] = panel;
}

void PanelDock::showPanel(Mode mode) {
    auto it = m_pages.find(mode);
    if (it == m_pages.end()) return;
    m_current = mode;
    m_stack->setCurrentWidget(it->second);
    setWindowTitle(mode == Mode::Latent ? tr("Latent space") : modeName(mode));
}

QWidget* PanelDock::current() const {
    auto it = m_panels.find(m_current);
    return it == m_panels.end() ? nullptr : it->second;
}

}  // namespace ll::widgets
