#pragma once

#include <optional>

#include <QString>

#include "common/samplegrid.h"

namespace ll::widgets {

/// What a browsed run offers the Train centre without drawing anything.
struct SavedSamples {
    /// Tabular runs and classifiers: the run sample bar draws them fresh (rows are cheap; a
    /// classifier says that it has nothing to sample).
    bool drawFresh = false;
    /// Image generators: the last grid saved while training (empty when none was saved).
    ll::SampleGrid grid;
    QString caption;
};

/// Reads a run's config, data description and last saved sample grid (samples/, through
/// core's run folder layout); nothing when the run cannot be read.
std::optional<SavedSamples> readSavedSamples(const QString& runDir);

}  // namespace ll::widgets
