#pragma once

#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <torch/optim/adam.h>

namespace ll {

/// Where a LibTorch optimiser keeps a parameter's state: under its TensorImpl's address, as
/// text before LibTorch 2 and as the pointer itself since.
template <class StateMap>
typename StateMap::key_type optimizerStateKey(const StateMap&, const torch::Tensor& p) {
    if constexpr (std::is_same_v<typename StateMap::key_type, std::string>) {
        std::ostringstream text;
        text << p.unsafeGetTensorImpl();
        return text.str();
    } else {
        return p.unsafeGetTensorImpl();
    }
}

class Collectives;

/// torch::optim::Adam with its update fused into one pass over each parameter: the same
/// arithmetic as LibTorch's Adam (and PyTorch's, without weight decay or AMSGrad), the same
/// state and the same checkpoints, but one loop reading gradient, moments and weights once
/// instead of six tensor operations that each sweep the whole parameter. It matters most for
/// the MLP models, whose step is short enough for the optimiser to be a fifth of it.
/// Where a parameter cannot be fused (on a GPU, or not float32 or not contiguous), the step
/// takes the same formula through ATen's multi-tensor (_foreach_) kernels: a handful of
/// launches for all parameters instead of six per parameter, as PyTorch's default Adam on a
/// GPU. Groups with weight decay or AMSGrad, and sparse gradients, take LibTorch's own step.
/// In data-parallel training (setCollectives), each step first averages the gradients over
/// every rank, so that every rank takes the same step from the same weights.
class FusedAdam : public torch::optim::Adam {
public:
    using torch::optim::Adam::Adam;
    torch::Tensor step(LossClosure closure = nullptr) override;
    /// nullptr (the default): this process alone trains.
    void setCollectives(Collectives* collectives) { m_collectives = collectives; }

private:
    enum class Path { Fused, MultiTensor, LibTorch };
    Path choosePath() const;
    torch::optim::AdamParamState& stateOf(const torch::Tensor& p);
    void fusedStep(torch::optim::OptimizerParamGroup& group);
    void multiTensorStep(torch::optim::OptimizerParamGroup& group);
    void averageGradients();
    Collectives* m_collectives = nullptr;
};

/// The exponential moving average target = decay * target + (1 - decay) * source, one pass
/// over each float32 CPU parameter (others through tensor operations); buffers are copied.
/// Used for the EMA weights of diffusion models.
void fusedEma(const std::vector<torch::Tensor>& target, const std::vector<torch::Tensor>& source,
              double decay);

}  // namespace ll
