#include "models/vaeparts.h"

#include <algorithm>
#include <stdexcept>

namespace ll {

namespace nn = torch::nn;

CvaeNetImpl::CvaeNetImpl(std::int64_t dataDim, int conditionDim, int latent,
                         const std::vector<int>& hidden)
    : VaeNetImpl(latent) {
    std::vector<int> reversed(hidden.rbegin(), hidden.rend());
    encoder = register_module("encoder", Mlp(dataDim + conditionDim, hidden, 2 * latent));
    decoder = register_module("decoder", ConditionalMlp(latent, conditionDim, reversed, dataDim));
}

std::pair<torch::Tensor, torch::Tensor> CvaeNetImpl::encode(const torch::Tensor& x,
                                                            const torch::Tensor& condition) {
    auto h = encoder->forward(torch::cat({x, condition}, 1));
    auto parts = h.chunk(2, 1);
    return {parts[0], parts[1].clamp(-12, 8)};
}

torch::Tensor CvaeNetImpl::decode(const torch::Tensor& z, const torch::Tensor& condition) {
    return decoder->forward(z, condition);
}

namespace {
// Down-sampling stops once the longer side is at most this many pixels.
constexpr std::int64_t kSmallest = 8;
constexpr std::int64_t kMaxChannels = 256;
}  // namespace

ConvVaeNetImpl::ConvVaeNetImpl(const ModelShape& shape, int conditionDim, int latent, int width,
                               int fc)
    : VaeNetImpl(latent), shape(shape) {
    if (shape.tabular())
        throw std::invalid_argument(
            "setting 'net' = conv is for images; tabular rows take net = mlp");
    if (shape.height < 4 || shape.width < 4)
        throw std::invalid_argument(
            "setting 'net' = conv needs images of at least 4 x 4 pixels, "
            "these are " +
            std::to_string(shape.width) + " x " + std::to_string(shape.height) + ": use net = mlp");
    sizes.emplace_back(shape.height, shape.width);
    for (;;) {
        const auto [h, w] = sizes.back();
        const bool smallEnough = std::max(h, w) <= kSmallest && sizes.size() >= 3;
        if (smallEnough || std::min(h, w) < 2) break;
        sizes.emplace_back(h / 2, w / 2);
    }
    const auto levels = static_cast<int>(sizes.size()) - 1;
    auto channels = [&](int level) {  // channels at sizes[level], level >= 1
        return std::min<std::int64_t>(kMaxChannels, std::int64_t(width) << (level - 1));
    };
    top = channels(levels);
    const std::int64_t flat = top * sizes.back().first * sizes.back().second;

    down = register_module("down", nn::Sequential());
    std::int64_t in = shape.channels;
    for (int level = 1; level <= levels; ++level) {
        down->push_back(nn::Conv2d(nn::Conv2dOptions(in, channels(level), 4).stride(2).padding(1)));
        down->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)));
        in = channels(level);
    }
    // Built layer by layer, in this order (an argument list's evaluation order is the
    // compiler's, and each layer's initialisation draws from the seeded generator).
    encoderFc = register_module("encoder_fc", nn::Sequential());
    encoderFc->push_back(nn::Linear(flat + conditionDim, fc));
    encoderFc->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)));
    encoderFc->push_back(nn::Linear(fc, 2 * latent));
    decoderFc = register_module("decoder_fc", nn::Sequential());
    decoderFc->push_back(nn::Linear(latent + conditionDim, fc));
    decoderFc->push_back(nn::ReLU());
    decoderFc->push_back(nn::Linear(fc, flat));
    decoderFc->push_back(nn::ReLU());
    in = top;
    for (int level = levels - 1; level >= 0; --level) {
        const std::int64_t outChannels = level > 0 ? channels(level) : std::max(4, width / 2);
        up.push_back(register_module(
            "up" + std::to_string(up.size()),
            nn::Conv2d(nn::Conv2dOptions(in + conditionDim, outChannels, 3).padding(1))));
        in = outChannels;
    }
    out = register_module("out", nn::Conv2d(nn::Conv2dOptions(in, shape.channels, 3).padding(1)));
}

torch::Tensor ConvVaeNetImpl::withClassMaps(const torch::Tensor& h,
                                            const torch::Tensor& condition) const {
    if (condition.size(1) == 0) return h;
    auto maps = condition.unsqueeze(2).unsqueeze(3).expand(
        {condition.size(0), condition.size(1), h.size(2), h.size(3)});
    // In h's layout, so that the join stays channels-last (cat keeps a layout its inputs share).
    return torch::cat({h, maps.contiguous(h.suggest_memory_format())}, 1);
}

std::pair<torch::Tensor, torch::Tensor> ConvVaeNetImpl::encode(const torch::Tensor& x,
                                                               const torch::Tensor& condition) {
    auto images = channelsLast(x.reshape({x.size(0), shape.channels, shape.height, shape.width}));
    auto h = down->forward(images).flatten(1);
    auto parts = encoderFc->forward(torch::cat({h, condition}, 1)).chunk(2, 1);
    return {parts[0], parts[1].clamp(-12, 8)};
}

torch::Tensor ConvVaeNetImpl::decode(const torch::Tensor& z, const torch::Tensor& condition) {
    const auto n = z.size(0);
    auto h = channelsLast(decoderFc->forward(torch::cat({z, condition}, 1))
                              .view({n, top, sizes.back().first, sizes.back().second}));
    for (std::size_t i = 0; i < up.size(); ++i) {
        const auto& [height, width] = sizes[sizes.size() - 2 - i];
        h = torch::upsample_nearest2d(h, {height, width});
        h = torch::relu(up[i]->forward(withClassMaps(h, condition)));
    }
    return out->forward(h).reshape({n, -1});
}

// --- the fitted prior ---------------------------------------------------------------------------

namespace {
// Each component averages over about its last this many rows: long enough for a steady
// estimate of a 16 x 16 covariance, short enough to follow an encoder that still learns.
constexpr double kWindow = 4096;
// Added to every covariance's diagonal: a component fitted to nearly equal rows stays
// positive definite.
constexpr double kJitter = 1e-4;
}  // namespace

FittedPriorImpl::FittedPriorImpl(int components, int latent) {
    if (components < 1) throw std::invalid_argument("the fitted prior needs a component");
    // A latent x latent covariance per class: refuse what would not fit in 64 MiB.
    const double floats = double(components) * latent * latent;
    if (floats > 16.0 * (1 << 20))
        throw std::invalid_argument("setting 'prior' = fitted keeps a " + std::to_string(latent) +
                                    " x " + std::to_string(latent) + " covariance for each of " +
                                    std::to_string(components) + " classes (" +
                                    std::to_string(std::int64_t(floats * 4 / (1 << 20))) +
                                    " MiB): lower 'latent' or take prior = standard");
    mean = register_buffer("mean", torch::zeros({components, latent}));
    second =
        register_buffer("second", torch::eye(latent).expand({components, latent, latent}).clone());
    count = register_buffer("count", torch::zeros({components}, torch::kFloat64));
}

void FittedPriorImpl::update(const torch::Tensor& mu, const torch::Tensor& labels) {
    torch::NoGradGuard noGrad;
    const auto k = mean.size(0);
    auto z = mu.detach().to(mean.device(), torch::kFloat32);
    auto oneHot = torch::one_hot(labels.to(mean.device(), torch::kInt64).clamp(0, k - 1), k)
                      .to(torch::kFloat32);                       // N x K
    auto rows = oneHot.sum(0);                                    // K
    auto sums = oneHot.t().mm(z);                                 // K x L
    auto outer = torch::einsum("nk,nl,nm->klm", {oneHot, z, z});  // K x L x L
    if (m_collectives && m_collectives->worldSize() > 1) {
        std::vector<torch::Tensor> totals{rows, sums, outer};
        m_collectives->allReduceSum(totals);
        rows = totals[0];
        sums = totals[1];
        outer = totals[2];
    }
    auto seen = rows.to(torch::kFloat64);
    // A component's first rows set it; later ones move it by their share of the window, at
    // most all of it (a batch with more rows of a class than the window replaces it).
    auto rate = (seen / torch::clamp_max(count + seen, kWindow).clamp_min(seen))
                    .nan_to_num(0)
                    .to(torch::kFloat32);
    auto safeRows = rows.clamp_min(1);
    mean += rate.unsqueeze(1) * (sums / safeRows.unsqueeze(1) - mean);
    second += rate.view({k, 1, 1}) * (outer / safeRows.view({k, 1, 1}) - second);
    count += seen;
}

torch::Tensor FittedPriorImpl::draw(const torch::Tensor& components,
                                    const torch::Tensor& noise) const {
    torch::NoGradGuard noGrad;
    const auto latent = mean.size(1);
    auto eye = torch::eye(latent, mean.options());
    auto cov = second - mean.unsqueeze(2) * mean.unsqueeze(1);
    cov = 0.5 * (cov + cov.transpose(1, 2)) + kJitter * eye;
    auto [factor, info] = torch::linalg_cholesky_ex(cov);
    // A covariance that rounding left indefinite: its variances alone.
    auto diagonal = torch::diag_embed(cov.diagonal(0, 1, 2).clamp_min(kJitter).sqrt());
    factor = torch::where(info.ne(0).view({-1, 1, 1}), diagonal, factor);
    auto fitted = count.gt(0).to(mean.device());
    factor = torch::where(fitted.view({-1, 1, 1}), factor, eye);
    auto centres = torch::where(fitted.view({-1, 1}), mean, torch::zeros_like(mean));
    auto c = components.to(mean.device(), torch::kInt64);
    auto e = noise.to(mean.device(), torch::kFloat32).unsqueeze(2);
    return centres.index_select(0, c) + factor.index_select(0, c).bmm(e).squeeze(2);
}

torch::Tensor FittedPriorImpl::pick(std::int64_t n, std::uint64_t seed) const {
    auto weights = count.to(torch::kCPU, torch::kFloat64);
    if (weights.sum().item<double>() <= 0) weights = torch::ones_like(weights);
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(seed ^ 0x5851F42D4C957F2DULL);
    return torch::multinomial(weights, n, /*replacement=*/true, gen);
}

torch::Tensor FittedPriorImpl::centre(const torch::Tensor& condition, std::int64_t n) const {
    auto fitted = count.gt(0).to(mean.device());
    auto centres = torch::where(fitted.view({-1, 1}), mean, torch::zeros_like(mean));
    if (!condition.defined()) {
        auto w = count.to(mean.device(), torch::kFloat32);
        auto total = w.sum().clamp_min(1);
        return (w.unsqueeze(0).mm(centres) / total).expand({n, mean.size(1)});
    }
    if (!condition.is_floating_point())
        return centres.index_select(0, condition.to(mean.device(), torch::kInt64));
    auto w = condition.to(mean.device(), torch::kFloat32).slice(1, 0, mean.size(0));
    return w.mm(centres) / w.sum(1, true).clamp_min(1e-12);
}

}  // namespace ll
