#pragma once

// GUI tests: a widget or action of the window by its object name.

#include <QLatin1String>
#include <QObject>
#include <QtGlobal>

namespace ll::testing {

/// The child of `parent` named `name`, or null with a warning naming it.
template <class T>
T* child(QObject& parent, const char* name) {
    auto* found = parent.findChild<T*>(QLatin1String(name));
    if (!found) qWarning("no child %s", name);
    return found;
}

}  // namespace ll::testing
