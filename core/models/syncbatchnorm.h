#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "models/collectives.h"

namespace ll {

/// BatchNorm2d whose training statistics, in data-parallel training, are those of the global
/// batch: every rank's sums are added up (and so are their gradients on the way back), as
/// PyTorch's SyncBatchNorm does. So N processes with batch B normalise, and train, as one
/// process with batch N x B would, and their running statistics stay equal. Alone (no
/// collectives, or a world of one) it is LibTorch's batch norm. Its parameters and buffers
/// carry torch::nn::BatchNorm2d's names, so checkpoints read either way.
class SyncBatchNorm2dImpl : public torch::nn::Module, public CollectiveLayer {
public:
    explicit SyncBatchNorm2dImpl(std::int64_t channels, double momentum = 0.1, double eps = 1e-5);
    torch::Tensor forward(const torch::Tensor& x);
    void setCollectives(Collectives* collectives) override { m_collectives = collectives; }

    torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

private:
    torch::Tensor forwardAcrossRanks(const torch::Tensor& x);
    double m_momentum;
    double m_eps;
    Collectives* m_collectives = nullptr;
};
TORCH_MODULE(SyncBatchNorm2d);

}  // namespace ll
