#pragma once

// How long a GUI test waits for what the app does in the background. A sanitized build runs
// many times slower, so tests/CMakeLists.txt sets LATENTLAB_WAIT_SCALE with the tests' time
// limits and every wait scales alike; a plain build waits as written.

#ifndef LATENTLAB_WAIT_SCALE
#define LATENTLAB_WAIT_SCALE 1
#endif

namespace ll::testing {

inline constexpr int kWaitScale = LATENTLAB_WAIT_SCALE;

/// A wait of `ms` milliseconds in a plain build, scaled for this one.
constexpr int waitMs(int ms) {
    return ms * kWaitScale;
}

}  // namespace ll::testing
