#include "models/precision.h"

#include <ATen/autocast_mode.h>

#include <stdexcept>

namespace ll {

Precision readPrecision(const Settings& settings, Settings& effective,
                        const torch::Device& device) {
    const auto it = settings.find("precision");
    const std::string name = it == settings.end() || it->second.empty() ? "fp32" : it->second;
    if (name != "fp32" && name != "bf16")
        throw std::invalid_argument("setting 'precision' must be fp32 or bf16; got '" + name + "'");
    // bf16 is CPU autocast, measured on the CPU only: a *-cpu preset that a GPU machine runs
    // (device auto) trains in fp32 there, and the run's settings say so.
    const bool bf16 = name == "bf16" && device.is_cpu();
    effective["precision"] = bf16 ? "bf16" : "fp32";
    return bf16 ? Precision::BFloat16 : Precision::Float32;
}

PrecisionScope::PrecisionScope(Precision precision) {
    if (precision != Precision::BFloat16) return;
    m_active = true;
    m_nested = true;
    m_wasEnabled = at::autocast::is_cpu_enabled();
    m_wasType = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
    at::autocast::increment_nesting();
}

PrecisionScope::PrecisionScope(Off) {
    m_wasEnabled = at::autocast::is_cpu_enabled();
    if (!m_wasEnabled) return;
    m_active = true;
    m_wasType = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_cpu_enabled(false);
}

PrecisionScope::~PrecisionScope() {
    if (!m_active) return;
    // The weights' bf16 copies are cached for the region; the outermost one drops them.
    if (m_nested && at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_cpu_enabled(m_wasEnabled);
    at::autocast::set_autocast_cpu_dtype(m_wasType);
}

void dropCastWeights() {
    if (at::autocast::is_cpu_enabled()) at::autocast::clear_cache();
}

}  // namespace ll
