#include "cli/latentrows.h"

#include <torch/torch.h>

#include "common/npy.h"

namespace ll::cli {

Result<torch::Tensor> readLatents(const std::string& path, std::int64_t dims) {
    auto array = readNpy(path);
    if (!array) return tl::unexpected(array.error());
    auto z = array->to(torch::kFloat32);
    if (z.dim() == 1) z = z.unsqueeze(0);
    if (z.dim() != 2 || z.size(0) < 1 || z.size(1) != dims) {
        std::string shape;
        for (auto n : z.sizes()) shape += (shape.empty() ? "" : " x ") + std::to_string(n);
        return fail(path + ": expected rows of " + std::to_string(dims) +
                    " numbers (this run's latents), got an array of shape " + shape);
    }
    if (!torch::isfinite(z).all().item<bool>())
        return fail(path + ": the latents hold NaN or infinite numbers");
    return z.contiguous();
}

std::vector<float> rowOf(const torch::Tensor& z, std::int64_t i) {
    const auto r = z[i].contiguous();
    return {r.data_ptr<float>(), r.data_ptr<float>() + r.numel()};
}

}  // namespace ll::cli
