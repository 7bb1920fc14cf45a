#pragma once

#include <QString>

namespace ll::widgets {

/// The window's modes, in the order of the user's day (design.md, "The window"). Panels,
/// the centre and the mode bar are keyed by these, never by a position in a list.
enum class Mode { Data, Train, Steer, Latent, Inspect, Classify, Export };

/// The mode's name as the mode bar and the panel dock show it.
QString modeName(Mode mode);

/// The modes that show the runs browser's choice (Steer, Latent, Inspect, Classify, Export):
/// training and a browsed run's saved samples do not take the centre from them.
constexpr bool followsBrowser(Mode mode) {
    return mode == Mode::Steer || mode == Mode::Latent || mode == Mode::Inspect ||
           mode == Mode::Classify || mode == Mode::Export;
}

}  // namespace ll::widgets
