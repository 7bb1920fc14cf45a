#pragma once

#include <QLabel>

namespace ll::widgets {

/// A wrapping label in the quieter colour the panels use for explanations under a control.
inline QLabel* noteLabel() {
    auto* label = new QLabel;
    label->setWordWrap(true);
    // Wrapped in the width it is given: a long note does not widen its panel's dock.
    label->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    label->setStyleSheet(QStringLiteral("color: palette(shadow);"));
    return label;
}

}  // namespace ll::widgets
