#pragma once

#include <map>

#include <QToolBar>

#include "window/mode.h"

class QAction;

namespace ll::widgets {

/// The mode bar across the top: one checkable action per mode (object name "mode" + its
/// name), the current one checked. Modes not in this version yet are shown disabled.
class ModeBar : public QToolBar {
    Q_OBJECT
public:
    explicit ModeBar(QWidget* parent = nullptr);

    /// Checks `mode`'s action; emits nothing.
    void setCurrent(Mode mode);
    QAction* action(Mode mode) const;

Q_SIGNALS:
    void modeChosen(ll::widgets::Mode mode);

private:
    std::map<Mode, QAction*> m_actions;
};

}  // namespace ll::widgets
