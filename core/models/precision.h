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
class PrecisionScope {
public:
    explicit PrecisionScope(Precision precision);
    ~PrecisionScope();
    PrecisionScope(const PrecisionScope&) = delete;
    PrecisionScope& operator=(const PrecisionScope&) = delete;

private:
    bool m_active = false;
    bool m_wasEnabled = false;
    c10::ScalarType m_wasType = c10::ScalarType::BFloat16;
};

}  // namespace ll
