#include "models/latentdiffusion.h"

#include <cmath>
#include <optional>

#include "models/diffusionsampler.h"
#include "models/fusedadam.h"

namespace ll {

namespace nn = torch::nn;

ResidualMlpBlockImpl::ResidualMlpBlockImpl(int hidden, int embedding) {
    norm = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({hidden})));
    fc1 = register_module("fc1", nn::Linear(hidden, hidden));
    project = register_module("project", nn::Linear(embedding, hidden));
    fc2 = register_module("fc2", nn::Linear(hidden, hidden));
}

torch::Tensor ResidualMlpBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& embedding,
                                            const torch::Tensor& rows) {
    auto projected = project->forward(embedding);
    if (rows.defined()) projected = projected.index_select(0, rows);
    auto h = fc1->forward(torch::silu(norm->forward(x))) + projected;
    return x + fc2->forward(torch::silu(h));
}

LatentRangeImpl::LatentRangeImpl() {
    bound = register_buffer("bound", torch::zeros({}, torch::kFloat32));
}

LatentDenoiserImpl::LatentDenoiserImpl(int latent, int hidden, int depth, int numClasses)
    : hidden(hidden) {
    time1 = register_module("time1", nn::Linear(hidden, hidden));
    time2 = register_module("time2", nn::Linear(hidden, hidden));
    classes = register_module("classes", nn::Embedding(numClasses + 1, hidden));
    stem = register_module("stem", nn::Linear(latent, hidden));
    for (int i = 0; i < depth; ++i) blocks->push_back(ResidualMlpBlock(hidden, hidden));
    register_module("blocks", blocks);
    outNorm = register_module("out_norm", nn::LayerNorm(nn::LayerNormOptions({hidden})));
    out = register_module("out", nn::Linear(hidden, latent));
}

std::optional<DistinctConditions> distinctConditions(const torch::Tensor& t,
                                                     const torch::Tensor& labels) {
    if (torch::GradMode::is_enabled() || t.size(0) < 2) return std::nullopt;
    auto condition = labels.to(torch::kFloat64);
    if (condition.dim() == 1) condition = condition.unsqueeze(1);
    const auto keys = torch::cat({t.to(torch::kFloat64).unsqueeze(1), condition}, 1).cpu();
    const auto found = torch::unique_dim(keys, 0, /*sorted=*/false, /*return_inverse=*/true);
    const std::int64_t pairs = std::get<0>(found).size(0);
    const auto& inverse = std::get<1>(found);
    // Pays only where pairs repeat: training batches (random t) rarely do.
    if (pairs * 2 > t.size(0)) return std::nullopt;
    // Any row of a pair stands for it (whichever write lands: they are equal).
    auto first = torch::empty({pairs}, torch::kInt64);
    first.index_put_({inverse}, torch::arange(t.size(0), torch::kInt64));
    return DistinctConditions{first.to(t.device()), inverse.to(t.device())};
}

torch::Tensor LatentDenoiserImpl::forward(const torch::Tensor& x, const torch::Tensor& t,
                                          const torch::Tensor& labels) {
    // The embedding depends only on (t, class): at inference it is computed once per distinct
    // pair and each block's projection of it gathered to the rows (with guidance, 1,000 rows
    // of a sampling step share at most 11 pairs: 5 of the net's 14 products shrink to those).
    const auto distinct = distinctConditions(t, labels);
    const auto tt = distinct ? t.index_select(0, distinct->first) : t;
    const auto cc = distinct ? labels.index_select(0, distinct->first) : labels;
    auto emb = time2->forward(torch::silu(time1->forward(sinusoidalEmbedding(tt, hidden))));
    emb = torch::silu(emb + embedClasses(classes, cc));
    const torch::Tensor rows = distinct ? distinct->rows : torch::Tensor();
    auto h = stem->forward(x);
    for (const auto& block : *blocks) h = block->as<ResidualMlpBlock>()->forward(h, emb, rows);
    return out->forward(torch::silu(outNorm->forward(h)));
}

Settings LatentDdpm::defaults() {
    return {{"latent", "16"},         {"vae_hidden", "512,256"},  {"vae_net", "mlp"},
            {"vae_width", "32"},      {"vae_likelihood", "auto"}, {"vae_steps", "3000"},
            {"vae_beta", "1"},        {"vae_precision", "fp32"},  {"hidden", "256"},
            {"depth", "3"},           {"timesteps", "1000"},      {"schedule", "linear"},
            {"label_dropout", "0.1"}, {"ema", "0.999"},           {"sample_steps", "50"},
            {"autoencoder", ""}};
}

namespace {

std::string describe(const ModelShape& s) {
    return std::to_string(s.channels) + "x" + std::to_string(s.height) + "x" +
           std::to_string(s.width) + " images with " + std::to_string(s.numClasses) + " classes";
}

int wholeSetting(const Settings& s, Settings& effective, const std::string& key, int fallback,
                 int low, int high) {
    const int v = settingWhole(s, key, fallback, low, high);
    effective[key] = std::to_string(v);
    return v;
}

// The own VAE's settings, each under a vae_ prefix in this model's.
constexpr const char* kVaeKeys[] = {"hidden", "net", "width", "likelihood", "beta", "precision"};

/// A plain ll::Vae from the vae_* settings. Runs from before vae_net and vae_likelihood had
/// the MLP with the Bernoulli likelihood, which are still the defaults, and beta 1. The
/// denoiser is the prior, so the VAE keeps N(0, I); a KL weight below 1 (vae_beta) weighs
/// reconstruction more and the latents' closeness to N(0, I), which the denoiser does not
/// need, less (0.1 against 1 on latent-ddpm-cpu: FID 88.9 against 89.7, no clear gain).
std::shared_ptr<Vae> ownVae(const ModelShape& shape, const Settings& settings, int latent) {
    Settings vae{{"latent", std::to_string(latent)}, {"beta", "1"}, {"prior", "standard"}};
    for (const char* key : kVaeKeys)
        if (const auto it = settings.find(std::string("vae_") + key); it != settings.end())
            vae[key] = it->second;
    for (const char* key : {"lr", "device"})
        if (const auto it = settings.find(key); it != settings.end()) vae[key] = it->second;
    try {
        return std::make_shared<Vae>(Vae::Kind::Plain, shape, vae);
    } catch (const std::invalid_argument& e) {
        // Its messages name the VAE's settings; here they are the vae_ ones.
        std::string message = e.what();
        for (const char* key : kVaeKeys) {
            const std::string bare = std::string("'") + key + "'";
            for (auto at = message.find(bare); at != std::string::npos;
                 at = message.find(bare, at + bare.size() + 4))
                message.replace(at, bare.size(), std::string("'vae_") + key + "'");
        }
        throw std::invalid_argument(message);
    }
}

}  // namespace

LatentDdpm::LatentDdpm(const ModelShape& shape, const Settings& settings,
                       std::shared_ptr<GenerativeModel> autoencoder)
    : ModelBase("latent-ddpm", shape, settings),
      m_diffusion(readDiffusionSettings(settings, m_settings)) {
    if (shape.tabular())
        throw std::invalid_argument("'latent-ddpm' models images, not tabular rows");
    const int hidden = wholeSetting(settings, m_settings, "hidden", 256, 8, 8192);
    const int depth = wholeSetting(settings, m_settings, "depth", 3, 1, 32);
    const double lr = settingNumber(settings, "lr", 1e-3);
    const std::string autoencoderRun = settingText(settings, "autoencoder", "");
    m_settings["autoencoder"] = autoencoderRun;
    if (autoencoderRun.empty()) {
        m_latent = wholeSetting(settings, m_settings, "latent", 16, 2, 512);
        m_vaeSteps = wholeSetting(settings, m_settings, "vae_steps", 3000, 1, 100000000);
        m_ownVae = ownVae(shape, settings, m_latent);
        const auto vae = m_ownVae->settings();
        for (const char* key : kVaeKeys) {
            const auto it = vae.find(key);
            if (it == vae.end())
                m_settings.erase(std::string("vae_") + key);
            else
                m_settings[std::string("vae_") + key] = it->second;
        }
        m_external = m_ownVae.get();
    } else {
        if (!autoencoder)
            throw std::invalid_argument("setting 'autoencoder': the run " + autoencoderRun +
                                        " was not opened (the run loader hands it in)");
        m_external = dynamic_cast<Vae*>(autoencoder.get());
        if (!m_external)
            throw std::invalid_argument("setting 'autoencoder': " + autoencoderRun + " is a '" +
                                        autoencoder->name() +
                                        "' run, not a VAE (train a vae or cvae run first)");
        if (!(m_external->shape() == shape))
            throw std::invalid_argument("setting 'autoencoder': " + autoencoderRun +
                                        " was trained on " + describe(m_external->shape()) +
                                        ", this data has " + describe(shape));
        m_externalRun = std::move(autoencoder);
        m_latent = m_external->latentSize();
        m_vaeSteps = 0;
        m_settings["latent"] = std::to_string(m_latent);
        m_settings["vae_steps"] = "0";
        for (const char* key : kVaeKeys) m_settings.erase(std::string("vae_") + key);
    }
    m_net = LatentDenoiser(m_latent, hidden, depth, shape.numClasses);
    m_emaNet = LatentDenoiser(m_latent, hidden, depth, shape.numClasses);
    m_state = DiffusionState();
    m_range = LatentRange();
    m_net->to(m_device);
    m_emaNet->to(m_device);
    updateEma(*m_emaNet, *m_net, 0);
    m_optimizer = std::make_unique<FusedAdam>(m_net->parameters(), torch::optim::AdamOptions(lr));
}

void LatentDdpm::setLearningRate(double lr) {
    setAdamLearningRate(*m_optimizer, lr);
    if (m_ownVae) m_ownVae->setLearningRate(lr);
}

torch::Tensor LatentDdpm::encodeMean(const torch::Tensor& x, const torch::Tensor& y) {
    torch::NoGradGuard noGrad;
    return m_external->encode(x, y).first.to(m_device);
}

torch::Tensor LatentDdpm::decode(const torch::Tensor& z, const torch::Tensor& y) {
    torch::NoGradGuard noGrad;
    return m_external->decode(z, y);
}

Workload LatentDdpm::workload() const {
    if (ownsVae() && m_state->step.item<std::int64_t>() < m_vaeSteps) return m_ownVae->workload();
    return Workload::Mlp;
}

LossMap LatentDdpm::trainStep(const torch::Tensor& x, const torch::Tensor& y) {
    const auto step = m_state->step.item<std::int64_t>();
    m_state->step.fill_(step + 1);
    if (ownsVae() && step < m_vaeSteps) {
        auto losses = m_ownVae->trainStep(x, y);
        losses["vae_loss"] = losses.at("loss");
        return losses;
    }

    // The encoder no longer changes: an image seen before has the mean it had then.
    auto mean = m_encodings.lookup(
        x, y, [this](const torch::Tensor& a, const torch::Tensor& b) { return encodeMean(a, b); });
    if (m_state->scale.item<float>() == 0) {
        // Measured once, on the first denoiser batch: the diffused latents get unit variance
        // (Rombach et al. 2022), so the schedule's noise levels mean what they say.
        m_state->scale.fill_(1.0 / std::max(1e-6, mean.std().item<double>()));
    }
    m_net->train();
    const auto scaled = mean * m_state->scale.item<float>();
    if (scaled.numel() > 0) {
        auto& bound = m_range->bound;
        bound.copy_(torch::maximum(bound, scaled.abs().max().to(bound.device())));
    }
    auto b = noiseBatch(scaled, y.to(m_device), m_diffusion, m_shape.numClasses);
    auto loss = torch::mse_loss(m_net->forward(b.xt, b.t, b.labels), b.noise);
    dropGradients(*m_net);
    loss.backward();
    m_optimizer->step();
    updateEma(*m_emaNet, *m_net, emaDecay(m_diffusion.ema, step - m_vaeSteps));
    const double value = loss.item<double>();
    return {{"loss", value}, {"denoiser", value}};
}

torch::Tensor LatentDdpm::sample(const SampleRequest& request) {
    return decodeLatents(latents(request), request);
}

torch::Tensor LatentDdpm::latents(const SampleRequest& request) {
    return seededNormal({request.count, m_latent}, request.seed, m_device);
}

torch::Tensor LatentDdpm::decodeLatents(const torch::Tensor& z, const SampleRequest& r) {
    SampleRequest request = r;
    request.count = z.size(0);
    torch::NoGradGuard noGrad;
    if (request.classifier && request.classifierScale != 0)
        throw std::invalid_argument(
            "latent-ddpm has no classifier guidance: a noisy classifier judges images, this "
            "model diffuses VAE latents; use classifier-free guidance (the guidance weight)");
    auto labels = requestCondition(request, m_shape.numClasses);
    const float scale = m_state->scale.item<float>();
    if (scale == 0) {
        // Still training the VAE: show what it has learnt, samples from its prior.
        return decode(z.to(m_device), labels);
    }
    m_emaNet->eval();
    DiffusionSampling s{.schedule = &m_diffusion.schedule,
                        .shape = {request.count, m_latent},
                        .labels = labels.to(m_device),
                        .nullLabel = m_shape.numClasses,
                        .guidance = request.guidance,
                        .guidanceFrom = request.guidanceFrom,
                        .guidanceTo = request.guidanceTo,
                        .steps = request.steps > 0 ? request.steps : m_diffusion.sampleSteps,
                        .sampler = request.sampler,
                        .clip = m_range->bound.item<double>(),
                        .seed = request.seed,
                        .device = m_device,
                        .live = request.live,
                        .initial = z};
    if (request.onStep)
        s.onStep = [&](int done, int total, const torch::Tensor& x0) {
            return request.onStep(done, total, decode(x0 / scale, labels));
        };
    auto eps = [this](const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& l) {
        return m_emaNet->forward(x, t, l);
    };
    return decode(sampleDiffusion(eps, s) / scale, labels);
}

torch::Tensor LatentDdpm::diffusionSpace(const torch::Tensor& images) {
    const float scale = m_state->scale.item<float>();
    if (scale == 0)
        throw std::logic_error(
            "this latent-ddpm run is still training its VAE (vae_steps): its denoiser has not "
            "started; train it further");
    // A conditional autoencoder encodes with the class, which is what the classifier asks.
    if (m_external && m_external->name() == "cvae")
        throw std::logic_error(
            "this latent-ddpm run diffuses a cvae's latents, which depend on the class; the "
            "diffusion classifier needs its own VAE or a vae run as the autoencoder");
    auto none = torch::zeros({images.size(0)}, torch::kInt64);
    return encodeMean(images, none) * scale;
}

torch::Tensor LatentDdpm::denoisingErrors(const torch::Tensor& x0, const torch::Tensor& labels,
                                          const torch::Tensor& t, const torch::Tensor& noise,
                                          bool l1) {
    m_emaNet->eval();
    auto eps = [this](const torch::Tensor& x, const torch::Tensor& tt, const torch::Tensor& l) {
        return m_emaNet->forward(x, tt, l);
    };
    return denoisingErrorsOf(eps, m_diffusion.schedule, x0.to(m_device), labels.to(m_device),
                             t.to(m_device), noise.to(m_device), l1);
}

void LatentDdpm::restoreMissingModule(const std::string& key) {
    if (key == "range") m_range->bound.zero_();
}

std::vector<std::pair<std::string, torch::nn::Module*>> LatentDdpm::modules() {
    std::vector<std::pair<std::string, torch::nn::Module*>> out{{"net", m_net.get()},
                                                                {"ema", m_emaNet.get()},
                                                                {"state", m_state.get()},
                                                                {"range", m_range.get()}};
    if (m_ownVae) out.emplace_back("vae", &m_ownVae->network());
    return out;
}

std::vector<std::pair<std::string, torch::optim::Optimizer*>> LatentDdpm::optimizers() {
    std::vector<std::pair<std::string, torch::optim::Optimizer*>> out{
        {"optimizer", m_optimizer.get()}};
    if (m_ownVae) out.emplace_back("vae_optimizer", &m_ownVae->optimizer());
    return out;
}

}  // namespace ll
