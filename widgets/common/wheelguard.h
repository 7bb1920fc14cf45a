#pragma once

#include <QObject>

namespace ll::widgets {

/// Scrolling a long panel must not change the values it passes over: a wheel over a spin
/// box, combo box or slider inside a panel's scroll area (one marked by markPanelScroll)
/// scrolls the panel unless that control has the keyboard focus (clicked into first). Such
/// controls take focus by click or Tab, no longer by the wheel. Installed once on the
/// application; it sees controls created later too.
class PanelWheelGuard : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
};

/// Marks a scroll area as a panel's: PanelWheelGuard looks after the controls inside it.
void markPanelScroll(QObject* scrollArea);

}  // namespace ll::widgets
