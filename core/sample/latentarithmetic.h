#pragma once

// Torch-free: the latent panel and the CLI's decode do the same arithmetic on latents.

#include <vector>

#include "common/error.h"

namespace ll {

/// A - B + C, entry by entry: what A has and B lacks, added to C (the vector arithmetic of
/// Radford et al. 2016). An error when the three differ in width.
Result<std::vector<float>> latentArithmetic(const std::vector<float>& a,
                                            const std::vector<float>& b,
                                            const std::vector<float>& c);

/// z + amount * direction: a latent moved along a direction (a principal direction of the
/// latent map; its spread gives the unit of a standard deviation). Each step amount x
/// direction[i] is taken in double, rounded to float and added. An error when the widths
/// differ.
Result<std::vector<float>> moveAlong(std::vector<float> z, const std::vector<float>& direction,
                                     double amount);

}  // namespace ll
