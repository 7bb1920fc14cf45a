#include "window/modebar.h"

#include <QAction>
#include <QActionGroup>
#include <QCoreApplication>

namespace ll::widgets {

namespace {
// The modes in the bar's order; `key` is the English name (translated for display, and the
// action's object name, by which tests and style sheets find it).
constexpr struct {
    Mode mode;
    const char* key;
    bool available;
} kModes[] = {{Mode::Data, QT_TRANSLATE_NOOP("Mode", "Data"), true},
              {Mode::Train, QT_TRANSLATE_NOOP("Mode", "Train"), true},
              {Mode::Steer, QT_TRANSLATE_NOOP("Mode", "Steer"), true},
              {Mode::Latent, QT_TRANSLATE_NOOP("Mode", "Latent"), true},
              {Mode::Inspect, QT_TRANSLATE_NOOP("Mode", "Inspect"), true},
              {Mode::Classify, QT_TRANSLATE_NOOP("Mode", "Classify"), true},
              {Mode::Export, QT_TRANSLATE_NOOP("Mode", "Export"), true}};
}  // namespace

QString modeName(Mode mode) {
    for (const auto& m : kModes)
        if (m.mode == mode) return QCoreApplication::translate("Mode", m.key);
    return {};
}

ModeBar::ModeBar(QWidget* parent) : QToolBar(tr("Modes"), parent) {
    setObjectName(QStringLiteral("modeBar"));
    setMovable(false);
    setToolButtonStyle(Qt::ToolButtonTextOnly);
    auto* group = new QActionGroup(this);
    for (const auto& m : kModes) {
        const QString name = modeName(m.mode);
        QAction* action = addAction(name);
        action->setObjectName(QStringLiteral("mode") + QLatin1String(m.key));
        action->setCheckable(true);
        action->setEnabled(m.available);
        if (!m.available) action->setToolTip(tr("%1: not available in this version yet").arg(name));
        group->addAction(action);
        m_actions[m.mode] = action;
        connect(action, &QAction::triggered, this,
                [this, mode = m.mode] { Q_EMIT modeChosen(mode); });
    }
}

void ModeBar::setCurrent(Mode mode) {
    for (const auto& [m, action] : m_actions) action->setChecked(m == mode);
}

QAction* ModeBar::action(Mode mode) const {
    auto it = m_actions.find(mode);
    return it == m_actions.end() ? nullptr : it->second;
}

}  // namespace ll::widgets
