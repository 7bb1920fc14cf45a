#include "models/cvae.h"

namespace ll {

MlpImpl::MlpImpl(std::int64_t in, const std::vector<int>& hidden, std::int64_t out) {
    std::int64_t width = in;
    for (std::size_t i = 0; i < hidden.size(); ++i) {
        layers->push_back(torch::nn::Linear(width, hidden[i]));
        layers->push_back(torch::nn::ReLU(torch::nn::ReLUOptions().inplace(true)));
        width = hidden[i];
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

CvaeNetImpl::CvaeNetImpl(std::int64_t dataDim, int numClasses, int latent,
                         const std::vector<int>& hidden)
    : latent(latent) {
    std::vector<int> reversed(hidden.rbegin(), hidden.rend());
    encoder = register_module("encoder", Mlp(dataDim + numClasses, hidden, 2 * latent));
    decoder = register_module("decoder", ConditionalMlp(latent, numClasses, reversed, dataDim));
}

std::pair<torch::Tensor, torch::Tensor> CvaeNetImpl::encode(const torch::Tensor& x,
                                                            const torch::Tensor& onehot) {
    auto h = encoder->forward(torch::cat({x, onehot}, 1));
    auto parts = h.chunk(2, 1);
    return {parts[0], parts[1].clamp(-12, 8)};
}

torch::Tensor CvaeNetImpl::decode(const torch::Tensor& z, const torch::Tensor& onehot) {
    return decoder->forward(z, onehot);
}

Cvae::Cvae(const ModelShape& shape, const Settings& settings)
    : m_shape(shape), m_settings(settings) {
    const int latent = static_cast<int>(settingNumber(settings, "latent", 16));
    const auto hidden = settingInts(settings, "hidden", {512, 256});
    m_beta = settingNumber(settings, "beta", 1.0);
    const double lr = settingNumber(settings, "lr", 1e-3);
    if (latent < 1 || latent > 4096)
        throw std::invalid_argument("setting 'latent' must lie in 1..4096");
    if (m_beta < 0) throw std::invalid_argument("setting 'beta' must not be negative");
    m_settings["latent"] = std::to_string(latent);
    m_settings["beta"] = settings.contains("beta") ? settings.at("beta") : "1";
    std::string h;
    for (int v : hidden) h += (h.empty() ? "" : ",") + std::to_string(v);
    m_settings["hidden"] = h;
    m_settings.erase("lr");
    m_net = CvaeNet(shape.dataDim(), shape.numClasses, latent, hidden);
    m_optimizer =
        std::make_unique<torch::optim::Adam>(m_net->parameters(), torch::optim::AdamOptions(lr));
}

LossMap Cvae::trainStep(const torch::Tensor& x, const torch::Tensor& y) {
    m_net->train();
    const auto n = x.size(0);
    auto flat = x.reshape({n, -1});
    auto onehot = torch::one_hot(y, m_shape.numClasses).to(torch::kFloat32);
    auto [mu, logvar] = m_net->encode(flat, onehot);
    auto z = mu + torch::randn_like(mu) * (0.5 * logvar).exp();
    auto out = m_net->decode(z, onehot);
    torch::Tensor recon;
    if (m_shape.tabular())
        recon = 0.5 * (out - flat).pow(2).sum() / n;
    else
        recon = torch::binary_cross_entropy_with_logits(out, flat, {}, {}, at::Reduction::Sum) / n;
    auto kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum() / n;
    auto loss = recon + m_beta * kl;
    // Dropping the gradients instead of zeroing them saves a memset per parameter, and the
    // backward pass then writes them fresh instead of accumulating into zeros.
    for (auto& p : m_net->parameters()) p.mutable_grad().reset();
    loss.backward();
    m_optimizer->step();
    return {{"loss", loss.item<double>()},
            {"reconstruction", recon.item<double>()},
            {"kl", kl.item<double>()}};
}

torch::Tensor Cvae::sample(const SampleRequest& request) {
    torch::NoGradGuard noGrad;
    m_net->eval();
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(request.seed);
    const auto n = request.count;
    torch::Tensor labels = torch::empty({n}, torch::kInt64);
    for (std::int64_t i = 0; i < n; ++i)
        labels[i] = request.labels.empty()
                        ? i % m_shape.numClasses
                        : request.labels[static_cast<std::size_t>(i) % request.labels.size()];
    auto z = torch::randn({n, m_net->latent}, gen) * request.temperature;
    auto out = m_net->decode(z, torch::one_hot(labels, m_shape.numClasses).to(torch::kFloat32));
    if (m_shape.tabular()) return out;
    return torch::sigmoid(out).view({n, m_shape.channels, m_shape.height, m_shape.width});
}

double Cvae::learningRate() const {
    return static_cast<torch::optim::AdamOptions&>(m_optimizer->param_groups().front().options())
        .lr();
}

void Cvae::setLearningRate(double lr) {
    for (auto& group : m_optimizer->param_groups())
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

std::vector<std::pair<std::string, torch::nn::Module*>> Cvae::modules() {
    return {{"net", m_net.get()}};
}

std::vector<std::pair<std::string, torch::optim::Optimizer*>> Cvae::optimizers() {
    return {{"optimizer", m_optimizer.get()}};
}

}  // namespace ll
