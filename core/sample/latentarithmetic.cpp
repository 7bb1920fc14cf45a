#include "sample/latentarithmetic.h"

#include <string>

namespace ll {

Result<std::vector<float>> latentArithmetic(const std::vector<float>& a,
                                            const std::vector<float>& b,
                                            const std::vector<float>& c) {
    if (a.size() != b.size() || a.size() != c.size())
        return fail("latent arithmetic needs latents of one width, not " +
                    std::to_string(a.size()) + ", " + std::to_string(b.size()) + " and " +
                    std::to_string(c.size()));
    std::vector<float> z(a.size());
    for (std::size_t i = 0; i < z.size(); ++i) z[i] = a[i] - b[i] + c[i];
    return z;
}

Result<std::vector<float>> moveAlong(std::vector<float> z, const std::vector<float>& direction,
                                     double amount) {
    if (z.size() != direction.size())
        return fail("a latent of width " + std::to_string(z.size()) +
                    " cannot move along a direction of width " + std::to_string(direction.size()));
    for (std::size_t i = 0; i < z.size(); ++i) z[i] += float(amount * direction[i]);
    return z;
}

}  // namespace ll
