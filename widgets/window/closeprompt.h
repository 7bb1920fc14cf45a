#pragma once

#include <cstdint>

#include <QString>

class QWidget;

namespace ll::widgets {

/// What to do with a run that trains while its window closes.
enum class CloseChoice {
    Stop,        // save a checkpoint, stop; Continue resumes it later
    Background,  // save a checkpoint, then latentlab-cli trains it on without the window
    Cancel,      // keep the window open
};

/// Asks, in a modal box whose buttons are named closeStopButton, closeBackgroundButton and
/// closeCancelButton (tests click them).
CloseChoice askHowToClose(QWidget* parent, const QString& runDir, std::int64_t step,
                          std::int64_t totalSteps);

}  // namespace ll::widgets
