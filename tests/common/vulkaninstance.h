#pragma once

// The Vulkan instance of a GUI test process.

#include <QVulkanInstance>

namespace ll::testing {

/// Made on first use (not yet created: the test calls create()), outlives every window as in
/// the app, and is never destroyed: destroying it unloads the driver (Mesa's lavapipe), and the
/// memory the driver's globals still held would then look leaked to LeakSanitizer (two 56-byte
/// blocks, in the sanitized build).
inline QVulkanInstance& vulkanInstance() {
    static QVulkanInstance* const instance = new QVulkanInstance;
    return *instance;
}

}  // namespace ll::testing
