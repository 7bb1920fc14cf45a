#include "common/wheelguard.h"

#include <QAbstractSlider>
#include <QAbstractSpinBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QEvent>
#include <QScrollArea>
#include <QScrollBar>

namespace ll::widgets {

namespace {

constexpr const char* kPanelScroll = "latentlabPanelScroll";

bool isValueControl(QWidget* w) {
    return (qobject_cast<QAbstractSpinBox*>(w) || qobject_cast<QComboBox*>(w) ||
            qobject_cast<QAbstractSlider*>(w)) &&
           !qobject_cast<QScrollBar*>(w);
}

QScrollArea* panelScroll(QWidget* w) {
    for (QWidget* p = w->parentWidget(); p; p = p->parentWidget())
        if (auto* area = qobject_cast<QScrollArea*>(p);
            area && area->property(kPanelScroll).toBool())
            return area;
    return nullptr;
}

}  // namespace

void markPanelScroll(QObject* scrollArea) {
    scrollArea->setProperty(kPanelScroll, true);
}

bool PanelWheelGuard::eventFilter(QObject* watched, QEvent* event) {
    const auto type = event->type();
    if (type != QEvent::Wheel && type != QEvent::Polish) return false;
    auto* w = qobject_cast<QWidget*>(watched);
    if (!w || !isValueControl(w)) return false;
    QScrollArea* area = panelScroll(w);
    if (!area) return false;
    if (type == QEvent::Polish) {
        // The wheel would give it focus, and then its value would change.
        if (w->focusPolicy() == Qt::WheelFocus) w->setFocusPolicy(Qt::StrongFocus);
        return false;
    }
    if (w->hasFocus()) return false;
    QCoreApplication::sendEvent(area->verticalScrollBar(), event);
    return true;
}

}  // namespace ll::widgets
