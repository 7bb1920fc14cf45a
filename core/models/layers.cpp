#include "models/layers.h"

#include <algorithm>
#include <cmath>

#include "models/fusedadam.h"

namespace ll {

MlpImpl::MlpImpl(std::int64_t in, const std::vector<int>& hidden, std::int64_t out) {
    std::int64_t width = in;
    for (int h : hidden) {
        layers->push_back(torch::nn::Linear(width, h));
        layers->push_back(torch::nn::ReLU(torch::nn::ReLUOptions().inplace(true)));
        width = h;
    }
    layers->push_back(torch::nn::Linear(width, out));
    register_module("layers", layers);
}

torch::Tensor MlpImpl::forward(torch::Tensor x) {
    return layers->forward(x);
}

ConditionalMlpImpl::ConditionalMlpImpl(std::int64_t in, std::int64_t condition,
                                       const std::vector<int>& hidden, std::int64_t out) {
    std::int64_t width = in;
    for (int h : hidden) {
        layers.push_back(register_module("fc" + std::to_string(layers.size()),
                                         torch::nn::Linear(width + condition, h)));
        width = h;
    }
    layers.push_back(register_module("fc" + std::to_string(layers.size()),
                                     torch::nn::Linear(width + condition, out)));
}

torch::Tensor ConditionalMlpImpl::forward(torch::Tensor x, const torch::Tensor& condition) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
        x = layers[i]->forward(torch::cat({x, condition}, 1));
        if (i + 1 < layers.size()) x = torch::relu(x);
    }
    return x;
}

torch::Tensor requestLabels(const SampleRequest& request, int numClasses) {
    const auto n = request.count;
    torch::Tensor labels = torch::empty({n}, torch::kInt64);
    auto* out = labels.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t k =
            request.labels.empty()
                ? i % numClasses
                : request.labels[static_cast<std::size_t>(i) % request.labels.size()];
        if (k < 0 || k >= numClasses)
            throw std::invalid_argument("no class " + std::to_string(k) + " (the model has " +
                                        std::to_string(numClasses) + ")");
        out[i] = k;
    }
    return labels;
}

torch::Tensor requestCondition(const SampleRequest& request, int numClasses) {
    if (request.mixture.empty()) return requestLabels(request, numClasses);
    auto weights = torch::zeros({numClasses + 1}, torch::kFloat32);
    double total = 0;
    for (const auto& [k, w] : request.mixture) {
        if (k < 0 || k >= numClasses)
            throw std::invalid_argument("mixture: no class " + std::to_string(k) +
                                        " (the model has " + std::to_string(numClasses) + ")");
        if (!(w >= 0) || !std::isfinite(w))
            throw std::invalid_argument("mixture: weights must be finite and not negative");
        weights[k] += w;
        total += w;
    }
    if (total <= 0) throw std::invalid_argument("mixture: the weights sum to 0");
    return (weights / total).unsqueeze(0).expand({request.count, numClasses + 1}).contiguous();
}

torch::Tensor embedClasses(torch::nn::Embedding& classes, const torch::Tensor& condition) {
    if (!condition.is_floating_point()) return classes->forward(condition);
    // Tables without a "no class" row (GANs) take the first K columns.
    return condition.slice(1, 0, classes->weight.size(0))
        .to(classes->weight.dtype())
        .mm(classes->weight);
}

torch::Tensor classCodes(const torch::Tensor& condition, int numClasses) {
    if (condition.is_floating_point()) return condition.slice(1, 0, numClasses).to(torch::kFloat32);
    return torch::one_hot(condition, numClasses).to(torch::kFloat32);
}

torch::Tensor nullCondition(const torch::Tensor& condition, std::int64_t nullLabel) {
    if (!condition.is_floating_point()) return torch::full_like(condition, nullLabel);
    auto none = torch::zeros_like(condition);
    none.select(1, nullLabel).fill_(1);
    return none;
}

torch::Tensor seededNormal(at::IntArrayRef shape, std::uint64_t seed, torch::Device device) {
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(seed);
    return torch::randn(shape, gen).to(device);
}

torch::Tensor truncatedNormal(at::IntArrayRef shape, std::uint64_t seed, double limit,
                              torch::Device device) {
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(seed);
    auto z = torch::randn(shape, gen);
    if (limit > 0) {
        // Redraw the entries outside the limit; each round keeps ~68% or more of them.
        for (int round = 0; round < 1000; ++round) {
            auto outside = z.abs() > limit;
            const auto n = outside.sum().item<std::int64_t>();
            if (n == 0) break;
            z.masked_scatter_(outside, torch::randn({n}, gen));
        }
        z.clamp_(-limit, limit);  // only reached for absurdly small limits
    }
    return z.to(device);
}

double adamLearningRate(torch::optim::Adam& optimizer) {
    return static_cast<torch::optim::AdamOptions&>(optimizer.param_groups().front().options()).lr();
}

void setAdamLearningRate(torch::optim::Adam& optimizer, double lr) {
    for (auto& group : optimizer.param_groups())
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

void dropGradients(torch::nn::Module& module) {
    for (auto& p : module.parameters()) p.mutable_grad().reset();
}

LossMap classifierStep(torch::nn::Module& net, torch::optim::Optimizer& optimizer,
                       const torch::Tensor& logits, const torch::Tensor& target) {
    auto loss = torch::nn::functional::cross_entropy(logits, target);
    dropGradients(net);
    loss.backward();
    optimizer.step();
    const double accuracy = (logits.argmax(1) == target).to(torch::kFloat32).mean().item<double>();
    return {{"loss", loss.item<double>()}, {"accuracy", accuracy}};
}

torch::Tensor channelsLast(const torch::Tensor& x) {
    if (x.dim() != 4) return x;
    if (x.suggest_memory_format() == torch::MemoryFormat::ChannelsLast)
        return x.contiguous(torch::MemoryFormat::ChannelsLast);  // dense, for the fused kernels
    // Not contiguous(ChannelsLast) alone: an N x 1 x H x W tensor (a grey image, or a filter of
    // one input channel) is contiguous in both layouts, so contiguous() keeps its NCHW strides,
    // and the convolution, which goes by the strides, stays in NCHW, and so does the rest of
    // the net (bench/README.md, "Grey images stayed in NCHW").
    return x.to(x.options(), /*non_blocking=*/false, /*copy=*/false,
                torch::MemoryFormat::ChannelsLast);
}

torch::Tensor toImages(const torch::Tensor& values, const ModelShape& shape) {
    // Contiguous NCHW whatever layout the net computed in (the GANs' is channels-last).
    return values.reshape({values.size(0), shape.channels, shape.height, shape.width})
        .clamp(0, 1)
        .to(torch::kCPU, torch::kFloat32)
        .contiguous();
}

void updateEma(torch::nn::Module& target, torch::nn::Module& source, double decay) {
    torch::NoGradGuard noGrad;
    fusedEma(target.parameters(), source.parameters(), decay);
    auto tb = target.buffers();
    auto sb = source.buffers();
    for (std::size_t i = 0; i < tb.size(); ++i) tb[i].copy_(sb[i]);
}

double emaDecay(double decay, std::int64_t step) {
    return std::min(decay, (1.0 + double(step)) / (10.0 + double(step)));
}

StepCountImpl::StepCountImpl() {
    step = register_buffer("step", torch::zeros({}, torch::kInt64));
}

}  // namespace ll
