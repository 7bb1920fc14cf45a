#pragma once

// GUI tests: a word-wrapped label drawn whole.

#include <QLabel>
#include <QString>

namespace ll::testing {

/// Empty when `label` is at least as high as its text needs at its width; else how much it
/// lacks, named.
inline QString cutOff(const QLabel& label) {
    const int needed = label.heightForWidth(label.width());
    if (label.height() >= needed) return {};
    return QStringLiteral("%1: %2 px high, %3 needed at width %4")
        .arg(label.objectName())
        .arg(label.height())
        .arg(needed)
        .arg(label.width());
}

}  // namespace ll::testing
