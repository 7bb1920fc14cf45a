// The GAN family's networks: the generator (images or table rows) and the discriminator, with
// the normalisations it can take. The model that trains them is gan.cpp's.
#include "models/gan.h"

namespace ll {

namespace nn = torch::nn;

GanGeneratorImpl::GanGeneratorImpl(const ModelShape& shape, int latent, int width,
                                   const std::vector<int>& hidden, bool conditional, int refine)
    : shape(shape), latent(latent), conditional(conditional), top(2 * width) {
    if (shape.tabular()) {
        mlp = register_module("mlp", ConditionalMlp(latent, conditional ? shape.numClasses : 0,
                                                    hidden, shape.features));
        return;
    }
    // The class enters as an embedding beside z, as wide as z, so neither can drown the other.
    const std::int64_t in = conditional ? 2 * latent : latent;
    if (conditional) embed = register_module("embed", nn::Embedding(shape.numClasses, latent));
    project = register_module(
        "project",
        nn::Linear(
            nn::LinearOptions(in, top * (shape.height / 4) * (shape.width / 4)).bias(false)));
    norm = register_module("norm", SyncBatchNorm2d(top));
    auto up = [] {
        return nn::Upsample(
            nn::UpsampleOptions().scale_factor(std::vector<double>{2, 2}).mode(torch::kNearest));
    };
    // Without refine, one expression as before: its layers draw their initial weights in GCC's
    // right-to-left order, so a seed builds the generator it built before refine existed.
    if (refine == 0) {
        body = register_module(
            "body", nn::Sequential(
                        up(), nn::Conv2d(nn::Conv2dOptions(top, width, 3).padding(1).bias(false)),
                        SyncBatchNorm2d(width), nn::ReLU(nn::ReLUOptions().inplace(true)), up(),
                        nn::Conv2d(nn::Conv2dOptions(width, shape.channels, 3).padding(1))));
        return;
    }
    body = nn::Sequential();  // in order, each layer drawing its weights as it comes
    body->push_back(up());
    body->push_back(nn::Conv2d(nn::Conv2dOptions(top, width, 3).padding(1).bias(false)));
    body->push_back(SyncBatchNorm2d(width));
    body->push_back(nn::ReLU(nn::ReLUOptions().inplace(true)));
    body->push_back(up());
    std::int64_t channels = width;
    for (int i = 0; i < refine; ++i) {
        const std::int64_t next = std::max<std::int64_t>(1, width / 2);
        body->push_back(nn::Conv2d(nn::Conv2dOptions(channels, next, 3).padding(1).bias(false)));
        body->push_back(SyncBatchNorm2d(next));
        body->push_back(nn::ReLU(nn::ReLUOptions().inplace(true)));
        channels = next;
    }
    body->push_back(nn::Conv2d(nn::Conv2dOptions(channels, shape.channels, 3).padding(1)));
    register_module("body", body);
}

torch::Tensor GanGeneratorImpl::forward(const torch::Tensor& z, const torch::Tensor& labels) {
    if (shape.tabular()) {
        auto condition = conditional ? classCodes(labels, shape.numClasses).to(z.dtype())
                                     : torch::empty({z.size(0), 0}, z.options());
        return mlp->forward(z, condition);
    }
    auto h = conditional ? torch::cat({z, embedClasses(embed, labels)}, 1) : z;
    h = channelsLast(project->forward(h).view({z.size(0), top, shape.height / 4, shape.width / 4}));
    h = torch::relu(norm->forward(h));
    return body->forward(h);
}

namespace {

// Layer norm of a batch of feature maps (one group: each sample over channels and positions),
// in fp32 whatever the autocast: CPU autocast leaves group norm's weights fp32 beside bf16
// activations, which it refuses.
struct LayerNorm2dImpl : nn::Module {
    explicit LayerNorm2dImpl(std::int64_t channels)
        : norm(register_module("norm", nn::GroupNorm(1, channels))) {}
    torch::Tensor forward(const torch::Tensor& x) { return norm(x.to(torch::kFloat)); }
    nn::GroupNorm norm;
};
TORCH_MODULE(LayerNorm2d);

}  // namespace

GanDiscriminatorImpl::GanDiscriminatorImpl(const ModelShape& shape, int width,
                                           const std::vector<int>& hidden, GanCondition condition,
                                           GanNorm norm) {
    const bool spectral = norm == GanNorm::Spectral;
    auto leaky = [] { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); };
    auto linear = [&](std::int64_t in, std::int64_t out) {
        if (spectral)
            body->push_back(SpectralLinear(in, out));
        else
            body->push_back(nn::Linear(in, out));
    };
    // A 4x4 convolution of stride 2 (padding 1) that halves the size.
    auto conv = [&](std::int64_t in, std::int64_t out, bool bias) {
        if (spectral)
            body->push_back(SpectralConv2d(in, out, 4, 2, 1, bias));
        else
            body->push_back(
                nn::Conv2d(nn::Conv2dOptions(in, out, 4).stride(2).padding(1).bias(bias)));
    };
    std::int64_t features = 0;
    body = nn::Sequential();
    if (shape.tabular()) {
        std::int64_t in = shape.features;
        for (int h : hidden) {
            linear(in, h);
            body->push_back(leaky());
            in = h;
        }
        features = in;
    } else {
        const bool batchNorm = norm == GanNorm::Batch;
        conv(shape.channels, width, true);
        body->push_back(leaky());
        conv(width, 2 * width, !batchNorm && norm != GanNorm::Layer);
        if (batchNorm) body->push_back(SyncBatchNorm2d(2 * width));
        if (norm == GanNorm::Layer) body->push_back(LayerNorm2d(2 * width));
        body->push_back(leaky());
        body->push_back(nn::Flatten());
        features = std::int64_t(2 * width) * (shape.height / 4) * (shape.width / 4);
    }
    register_module("body", body);
    if (spectral)
        spectralHead = register_module("head", SpectralLinear(features, 1));
    else
        head = register_module("head", nn::Linear(features, 1));
    if (condition.projection) {
        embed = register_module("embed", nn::Embedding(shape.numClasses, features));
        nn::init::normal_(embed->weight, 0, 0.02);
    }
    if (condition.auxiliary)
        classHead = register_module("class_head", nn::Linear(features, shape.numClasses));
}

GanScores GanDiscriminatorImpl::forward(const torch::Tensor& x, const torch::Tensor& labels) {
    auto features = body->forward(channelsLast(x));
    auto score = spectralHead ? spectralHead->forward(features) : head->forward(features);
    // Scores in fp32 whatever precision the layers ran in: the losses take them.
    GanScores out{.adversarial = score.squeeze(1).to(torch::kFloat)};
    if (embed) out.adversarial = out.adversarial + (embed->forward(labels) * features).sum(1);
    if (classHead) out.classes = classHead->forward(features).to(torch::kFloat);
    return out;
}

}  // namespace ll
