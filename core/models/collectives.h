#pragma once

#include <vector>

#include <torch/types.h>

namespace ll {

/// What data-parallel training asks of a model's optimisers and layers: sums over every
/// process of the run. The process group behind it (train/dataparallel.h, on PyTorch's c10d)
/// stays out of the models layer. Every rank calls in the same order with the same shapes.
class Collectives {
public:
    virtual ~Collectives() = default;
    /// How many processes train the run, and which of them this one is.
    virtual int worldSize() const = 0;
    virtual int rank() const = 0;
    /// Replaces each tensor by its sum over every rank. Throws std::runtime_error saying which
    /// peer was lost when one stops or cannot be reached.
    virtual void allReduceSum(std::vector<torch::Tensor>& tensors) = 0;
};

/// A layer whose training step depends on the whole global batch (batch statistics, running
/// moments, a noise sequence the batch consumes): given the collectives, it computes as one
/// process with the global batch would. GenerativeModel::setCollectives finds these.
class CollectiveLayer {
public:
    virtual ~CollectiveLayer() = default;
    /// nullptr: this process alone.
    virtual void setCollectives(Collectives* collectives) = 0;
};

}  // namespace ll
