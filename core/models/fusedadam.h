#pragma once

#include <vector>

#include <torch/optim/adam.h>

namespace ll {

class Collectives;

/// torch::optim::Adam with its update fused into one pass over each parameter: the same
/// arithmetic as LibTorch's Adam (and PyTorch's, without weight decay or AMSGrad), the same
/// state and the same checkpoints, but one loop reading gradient, moments and weights once
/// instead of six tensor operations that each sweep the whole parameter. It matters most for
/// the MLP models, whose step is short enough for the optimiser to be a fifth of it.
/// Parameters it cannot fuse (not float32, not contiguous, not on the CPU) and groups with
/// weight decay or AMSGrad take LibTorch's own step.
/// In data-parallel training (setCollectives), each step first averages the gradients over
/// every rank, so that every rank takes the same step from the same weights.
class FusedAdam : public torch::optim::Adam {
public:
    using torch::optim::Adam::Adam;
    torch::Tensor step(LossClosure closure = nullptr) override;
    /// nullptr (the default): this process alone trains.
    void setCollectives(Collectives* collectives) { m_collectives = collectives; }

private:
    void averageGradients();
    Collectives* m_collectives = nullptr;
};

/// The exponential moving average target = decay * target + (1 - decay) * source, one pass
/// over each float32 CPU parameter (others through tensor operations); buffers are copied.
/// Used for the EMA weights of diffusion models.
void fusedEma(const std::vector<torch::Tensor>& target, const std::vector<torch::Tensor>& source,
              double decay);

}  // namespace ll
