#pragma once

#include <map>

#include <QDockWidget>

#include "window/mode.h"

class QStackedWidget;

namespace ll::widgets {

/// The right dock: each mode's panel, keyed by the mode, under the mode's name. Showing a mode
/// swaps the panel; the others keep their state (design.md: switching mode never loses the
/// user's settings).
class PanelDock : public QDockWidget {
    Q_OBJECT
public:
    explicit PanelDock(QWidget* parent = nullptr);

    /// Adds `panel` for `mode`; `scroll` puts it in a vertical scroll area (panels that grow
    /// with their settings scroll rather than squeeze).
    void addPanel(Mode mode, QWidget* panel, bool scroll = true);
    /// Shows `mode`'s panel (a mode without one keeps the current panel).
    void showPanel(Mode mode);
    /// The panel shown now, as added (not its scroll area).
    QWidget* current() const;

private:
    QStackedWidget* m_stack;
    std::map<Mode, QWidget*> m_pages;   // what the stack holds: the panel or its scroll area
    std::map<Mode, QWidget*> m_panels;  // the panels themselves
    Mode m_current = Mode::Data;
};

}  // namespace ll::widgets
