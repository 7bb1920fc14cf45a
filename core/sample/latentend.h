#pragma once

// Torch-free: the widgets name interpolation ends.

#include <cstdint>
#include <vector>

namespace ll {

enum class Interpolation { Linear, Spherical };

/// One end of an interpolation: a seed's latent, or a given latent when `latent` is not
/// empty (a point of the latent browser), and a class (-1: none, for unconditional models).
struct LatentEnd {
    std::uint64_t seed = 0;
    int label = -1;
    std::vector<float> latent;
};

}  // namespace ll
