#pragma once

#include <QColor>

namespace ll::widgets {

/// Shared by both renderers and the row-label strip so the view is one dark surface.
inline const QColor kBackgroundColor{0x20, 0x21, 0x24};
inline const QColor kLabelColor{0xbd, 0xc1, 0xc6};

}  // namespace ll::widgets
