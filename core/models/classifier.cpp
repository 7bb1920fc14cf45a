#include "models/classifier.h"

#include "models/families.h"
#include "models/fusedadam.h"

namespace ll {

ClassifierNetImpl::ClassifierNetImpl(const ModelShape& shape, int width, int features,
                                     double dropoutRate)
    : tabular(shape.tabular()) {
    namespace nn = torch::nn;
    if (tabular) {
        body = nn::Sequential(nn::Linear(shape.features, features), nn::ReLU(),
                              nn::Linear(features, features), nn::ReLU());
    } else {
        // Two conv-BN-ReLU-pool stages (H/4 x W/4 left), then a dense layer: the features.
        const std::int64_t flat = std::int64_t(2 * width) * (shape.height / 4) * (shape.width / 4);
        body = nn::Sequential(
            nn::Conv2d(nn::Conv2dOptions(shape.channels, width, 3).padding(1).bias(false)),
            SyncBatchNorm2d(width), nn::ReLU(), nn::MaxPool2d(2),
            nn::Conv2d(nn::Conv2dOptions(width, 2 * width, 3).padding(1).bias(false)),
            SyncBatchNorm2d(2 * width), nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(),
            nn::Linear(flat, features), nn::ReLU());
    }
    register_module("body", body);
    dropout = register_module("dropout", nn::Dropout(dropoutRate));
    head = register_module("head", nn::Linear(features, shape.numClasses));
}

torch::Tensor ClassifierNetImpl::features(torch::Tensor x) {
    // Images in channels-last: oneDNN's convolutions, batch norm and above all max pooling run
    // vectorised over the channels there (classifier-cpu's step: 44 to 34 ms on two cores).
    return body->forward(tabular ? x : channelsLast(x));
}

torch::Tensor ClassifierNetImpl::forward(torch::Tensor x) {
    return head->forward(dropout->forward(features(std::move(x))));
}

Classifier::Classifier(const ModelShape& shape, const Settings& settings)
    : ModelBase("classifier", shape, settings) {
    const int width = settingWhole(settings, "width", 32, 1, 1024);
    const int features = settingWhole(settings, "features", 128, 2, 8192);
    const double dropout = settingNumber(settings, "dropout", 0.3);
    const double lr = settingNumber(settings, "lr", 1e-3);
    if (!(dropout >= 0 && dropout < 1))
        throw std::invalid_argument("setting 'dropout' must lie in [0, 1)");
    if (!shape.tabular() && (shape.height < 4 || shape.width < 4))
        throw std::invalid_argument("images must be at least 4x4 pixels");
    m_settings["width"] = std::to_string(width);
    m_settings["features"] = std::to_string(features);
    if (!m_settings.contains("dropout")) m_settings["dropout"] = "0.3";
    m_net = ClassifierNet(shape, width, features, dropout);
    m_net->to(m_device);
    m_optimizer = std::make_unique<FusedAdam>(m_net->parameters(), torch::optim::AdamOptions(lr));
}

LossMap Classifier::trainStep(const torch::Tensor& x, const torch::Tensor& y) {
    m_net->train();
    auto target = y.to(m_device);
    return classifierStep(*m_net, *m_optimizer, m_net->forward(x.to(m_device)), target);
}

torch::Tensor Classifier::sample(const SampleRequest&) {
    throw std::logic_error("a classifier has nothing to sample");
}

torch::Tensor Classifier::classify(const torch::Tensor& x) {
    torch::NoGradGuard noGrad;
    m_net->eval();
    return m_net->forward(x.to(m_device)).to(torch::kCPU);
}

torch::Tensor Classifier::features(const torch::Tensor& x) {
    torch::NoGradGuard noGrad;
    m_net->eval();
    return m_net->features(x.to(m_device)).to(torch::kCPU);
}

std::vector<std::pair<std::string, torch::nn::Module*>> Classifier::modules() {
    return {{"net", m_net.get()}};
}

std::vector<std::pair<std::string, torch::optim::Optimizer*>> Classifier::optimizers() {
    return {{"optimizer", m_optimizer.get()}};
}

Family classifierFamily() {
    Family f;
    f.models = {
        {{.name = "classifier",
          .description = "Clean classifier: 2-stage CNN (images) or MLP (tabular); measures "
                         "classifier agreement and gives the evaluation features",
          .family = ModelFamily::Classifier,
          .images = true,
          .tabular = true,
          .conditional = true,
          .generates = false,
          .defaults = {{"width", "32"}, {"features", "128"}, {"dropout", "0.3"}},
          .help = {{"width", "channels of the first conv stage (the second has twice as many)"},
                   {"features", "width of the penultimate (feature) layer"},
                   {"dropout", "dropout before the last layer, in [0, 1)"}}},
         [](const ModelShape& shape, const Settings& s, const LinkedModels&) {
             return std::make_unique<Classifier>(shape, s);
         }},
    };
    f.presets = {
        {.name = "classifier-cpu",
         .model = "classifier",
         .description = "CNN 32-64-128, batch 128, 2,000 steps (about 4 epochs of "
                        "Fashion-MNIST): about 33 steps/s on 2 CPU cores, a minute; then 91% "
                        "test accuracy",
         .steps = 2000,
         .learningRate = 1e-3,
         .batchSize = 128,
         .settings = {{"width", "32"}, {"features", "128"}}},
        {.name = "classifier-gpu",
         .model = "classifier",
         .description = "Wider CNN 64-128-256 for a GPU, batch 256, 10,000 steps",
         .steps = 10000,
         .learningRate = 1e-3,
         .batchSize = 256,
         .settings = {{"width", "64"}, {"features", "256"}}},
    };
    return f;
}

}  // namespace ll
