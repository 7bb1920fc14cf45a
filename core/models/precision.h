#pragma once

// Mixed precision for training steps ("precision" setting): bf16 autocast on the CPU.

#include <string>

#include "models/model.h"

namespace ll {

/// What a training step computes its convolutions and matrix products in. Weights, gradients,
/// optimiser state, losses and samples stay fp32 either way.
enum class Precision {
    Float32,   // "fp32": everything in fp32 (default)
    BFloat16,  // "bf16": CPU autocast to bfloat16 (oneDNN's bf16 paths on avx512_bf16 cores)
};

/// The "precision" setting's help, the same for every family that takes it.
inline constexpr const char* kPrecisionHelp =
    "what training steps compute convolutions and products in: fp32 (default) or bf16 (CPU "
    "autocast; weights, gradients, losses and samples stay fp32; on a GPU: fp32)";

/// The "precision" setting, written back to `effective` as it will run: bf16 on the CPU only
/// (elsewhere fp32); unknown names are refused.
Precision readPrecision(const Settings& settings, Settings& effective, const torch::Device& device);

/// Autocast to bfloat16 on this thread's CPU ops for its lifetime when `precision` is bf16,
/// restoring what was on before (as Python's torch.autocast does); nothing for fp32.
/// PrecisionScope::fp32() turns autocast off within a bf16 region, for a part that must
/// compute in fp32.
class PrecisionScope {
public:
    explicit PrecisionScope(Precision precision);
    /// Autocast off for this scope's lifetime, whatever was on before; restored after.
    [[nodiscard]] static PrecisionScope fp32() { return PrecisionScope(Off{}); }
    ~PrecisionScope();
    PrecisionScope(const PrecisionScope&) = delete;
    PrecisionScope& operator=(const PrecisionScope&) = delete;

private:
    struct Off {};
    explicit PrecisionScope(Off);

    bool m_active = false;
    bool m_nested = false;
    bool m_wasEnabled = false;
    c10::ScalarType m_wasType = c10::ScalarType::BFloat16;
};

/// Drops the bf16 copies autocast keeps of weights that require gradients. It keys them by
/// tensor, not by version: a step that updates weights and uses them again in one bf16 region
/// calls this between the two.
void dropCastWeights();

}  // namespace ll
