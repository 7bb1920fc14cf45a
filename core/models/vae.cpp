#include "models/vae.h"

#include <algorithm>
#include <cmath>

#include "data/dataset.h"
#include "models/families.h"
#include "models/fusedadam.h"
#include "models/precision.h"

namespace ll {

namespace {

std::string kindName(Vae::Kind kind) {
    using Kind = Vae::Kind;
    switch (kind) {
        case Kind::Plain:
            return "vae";
        case Kind::Conditional:
            return "cvae";
        case Kind::Chaotic:
            return "chaotic-vae";
    }
    return "vae";
}

}  // namespace

namespace {

std::string textSetting(const Settings& s, const std::string& key, const std::string& fallback) {
    const auto it = s.find(key);
    return it == s.end() || it->second.empty() ? fallback : it->second;
}

}  // namespace

Vae::Vae(Kind kind, const ModelShape& shape, const Settings& settings)
    : ModelBase(kindName(kind), shape, settings), m_kind(kind) {
    const int latent = settingWhole(settings, "latent", 16, 1, 4096);
    const auto hidden = settingInts(settings, "hidden", {512, 256});
    m_beta = settingNumber(settings, "beta", 1.0);
    const double lr = settingNumber(settings, "lr", 1e-3);
    if (m_beta < 0) throw std::invalid_argument("setting 'beta' must not be negative");
    std::string h;
    for (int v : hidden) h += (h.empty() ? "" : ",") + std::to_string(v);
    m_settings["latent"] = std::to_string(latent);
    m_settings["hidden"] = h;
    if (!m_settings.contains("beta")) m_settings["beta"] = "1";

    // Runs from before these settings had none of them: the MLP, the data's own likelihood
    // and the standard prior, which are still the defaults.
    std::string net = textSetting(settings, "net", "mlp");
    std::string likelihood = textSetting(settings, "likelihood", "auto");
    const std::string prior = textSetting(settings, "prior", "standard");
    if (likelihood == "auto") likelihood = shape.tabular() ? "unit-gaussian" : "bernoulli";
    // auto (the presets): the conv net wherever it fits, so one preset serves any data.
    if (net == "auto")
        net = !shape.tabular() && shape.height >= 4 && shape.width >= 4 ? "conv" : "mlp";
    if (net != "mlp" && net != "conv")
        throw std::invalid_argument("setting 'net' must be mlp, conv or auto, not '" + net + "'");
    if (likelihood == "bernoulli") {
        if (shape.tabular())
            throw std::invalid_argument(
                "setting 'likelihood' = bernoulli is for pixels in [0, 1]; tabular rows take "
                "unit-gaussian or gaussian");
        m_likelihood = Likelihood::Bernoulli;
    } else if (likelihood == "unit-gaussian") {
        m_likelihood = Likelihood::UnitGaussian;
    } else if (likelihood == "gaussian") {
        m_likelihood = Likelihood::Gaussian;
    } else {
        throw std::invalid_argument(
            "setting 'likelihood' must be auto, bernoulli, unit-gaussian or gaussian, not '" +
            likelihood + "'");
    }
    if (prior != "standard" && prior != "fitted")
        throw std::invalid_argument("setting 'prior' must be standard or fitted, not '" + prior +
                                    "'");
    m_precision = readPrecision(settings, m_settings, m_device);
    m_settings["net"] = net;
    m_settings["likelihood"] = likelihood;
    m_settings["prior"] = prior;

    const int conditionDim = kind == Kind::Conditional ? shape.numClasses : 0;
    if (net == "conv") {
        const int width = settingWhole(settings, "width", 32, 4, 256);
        if (hidden.empty() || hidden.front() < 1)
            throw std::invalid_argument(
                "setting 'hidden' needs a width for the conv net's "
                "fully connected layer");
        m_settings["width"] = std::to_string(width);
        m_conv = true;
        m_net =
            std::make_shared<ConvVaeNetImpl>(shape, conditionDim, latent, width, hidden.front());
    } else {
        m_settings.erase("width");
        m_net = CvaeNet(shape.dataDim(), conditionDim, latent, hidden).ptr();
    }
    // A table's columns may each have a standard deviation of their own (an id-like column
    // known to the digit beside a noisy one; a constant column): runs before this setting
    // shared one, and still do without it.
    const std::string sigma = textSetting(settings, "sigma", "shared");
    if (sigma != "shared" && sigma != "columns")
        throw std::invalid_argument("setting 'sigma' must be shared or columns, not '" + sigma +
                                    "'");
    m_sigmaPerColumn =
        shape.tabular() && m_likelihood == Likelihood::Gaussian && sigma == "columns";
    if (sigma == "columns" && !shape.tabular())
        throw std::invalid_argument(
            "setting 'sigma' = columns is for a table's columns; images share one");
    if (shape.tabular() && m_likelihood == Likelihood::Gaussian)
        m_settings["sigma"] = sigma;
    else
        m_settings.erase("sigma");  // no learned deviation to share or not
    if (m_sigmaPerColumn)
        // Standardised columns start at 1. Not a parameter: a gradient step moves a log
        // deviation by about the learning rate, so a column known to the digit would take tens
        // of thousands of steps to reach its own (see trainStep).
        m_logSigma = m_net->register_buffer("log_sigma", torch::zeros({shape.features}));
    else if (m_likelihood == Likelihood::Gaussian)
        // Pixels start at a standard deviation of 0.37, standardised rows at 1.
        m_logSigma =
            m_net->register_parameter("log_sigma", torch::full({1}, shape.tabular() ? 0.0 : -1.0));
    if (shape.tabular()) {
        m_categories =
            CategoryColumns(settingCategories(settings, shape.features), shape.features, *m_net);
        m_settings["categories"] = textSetting(settings, "categories", "");
        m_categories.to(m_device);
    } else {
        if (!settingCategories(settings, shape.dataDim()).empty())
            throw std::invalid_argument(
                "setting 'categories' is for a table's categorical columns, not images");
        m_settings.erase("categories");
    }
    m_net->to(m_device);
    if (prior == "fitted") {
        m_prior = FittedPrior(std::max(1, shape.numClasses), latent);
        m_prior->to(m_device);
    }
    if (kind == Kind::Chaotic) {
        const double r = settingNumber(settings, "r", 4.0);
        if (!m_settings.contains("r")) m_settings["r"] = "4";
        const std::string transform =
            m_settings.contains("transform") ? m_settings.at("transform") : "";
        if (!transform.empty() && transform != "standardise" && transform != "inverse-normal")
            throw std::invalid_argument(
                "setting 'transform' must be standardise or "
                "inverse-normal, not '" +
                transform + "'");
        const std::string start = m_settings.contains("start") ? m_settings.at("start") : "";
        // Seeded by the run's seed through torch's global generator (the trainer sets it),
        // unless the settings give the start value.
        auto initial =
            start.empty() || start == "random"
                ? torch::rand({latent}, torch::kFloat64)
                : ChaoticNoiseImpl::startsFrom(latent, r, settingNumber(settings, "start", 0));
        m_noise = ChaoticNoise(latent, r, initial, transform == "inverse-normal");
        if (transform.empty()) m_settings["transform"] = "standardise";
        if (start.empty()) m_settings["start"] = "random";
    }
    m_optimizer = std::make_unique<FusedAdam>(m_net->parameters(), torch::optim::AdamOptions(lr));
}

torch::Tensor Vae::condition(const torch::Tensor& y) const {
    if (m_kind != Kind::Conditional)
        return torch::empty({y.size(0), 0}, torch::TensorOptions(m_device));
    return classCodes(y.to(m_device), m_shape.numClasses);
}

std::pair<torch::Tensor, torch::Tensor> Vae::encode(const torch::Tensor& x,
                                                    const torch::Tensor& y) {
    auto flat = x.reshape({x.size(0), -1}).to(m_device);
    return m_net->encode(flat, condition(y));
}

torch::Tensor Vae::outputMean(const torch::Tensor& out) const {
    return m_shape.tabular() ? out : torch::sigmoid(out);
}

void Vae::fitToData(const Dataset& data) {
    m_categories.fit(data);
}

torch::Tensor Vae::decode(const torch::Tensor& z, const torch::Tensor& y) {
    return decodeDrawn(z, y, 0, 0);
}

torch::Tensor Vae::decodeDrawn(const torch::Tensor& z, const torch::Tensor& y, double temperature,
                               std::uint64_t seed) {
    auto out = outputMean(m_net->decode(z.to(m_device), condition(y)));
    if (m_shape.tabular()) return m_categories.draw(out, temperature, seed).to(torch::kCPU);
    return toImages(out, m_shape);
}

torch::Tensor Vae::rowError(const torch::Tensor& out, const torch::Tensor& flat,
                            const torch::Tensor& givenLogSigma) const {
    switch (m_likelihood) {
        case Likelihood::Bernoulli:
            return torch::binary_cross_entropy_with_logits(out, flat, {}, {}, at::Reduction::None)
                .sum(1);
        case Likelihood::UnitGaussian:
            if (m_categories.empty()) return 0.5 * (outputMean(out) - flat).pow(2).sum(1);
            return 0.5 * ((out - flat).pow(2) * m_categories.numeric()).sum(1) +
                   m_categories.crossEntropy(out, flat);
        case Likelihood::Gaussian: {
            // The negative log-likelihood without its constant 0.5 log(2 pi) per value; the
            // floor keeps a net that reproduces some values exactly from a vanishing sigma.
            // One deviation shared by every value, or one per column ([features]).
            auto logSigma = (givenLogSigma.defined() ? givenLogSigma : m_logSigma).clamp_min(-7);
            auto scaled = (outputMean(out) - flat) * torch::exp(-logSigma);
            if (m_categories.empty())
                return 0.5 * scaled.pow(2).sum(1) + logSigma.expand({flat.size(1)}).sum();
            return 0.5 * (scaled.pow(2) * m_categories.numeric()).sum(1) +
                   (logSigma.expand({flat.size(1)}) * m_categories.numeric()).sum() +
                   m_categories.crossEntropy(out, flat);
        }
    }
    return {};
}

std::pair<torch::Tensor, torch::Tensor> Vae::anomalyScores(const torch::Tensor& x,
                                                           const torch::Tensor& y, int draws,
                                                           std::uint64_t seed) {
    torch::NoGradGuard noGrad;
    m_net->eval();
    const auto n = x.size(0);
    auto flat = x.reshape({n, -1}).to(m_device);
    auto c = condition(y);
    auto [mu, logvar] = m_net->encode(flat, c);
    auto recon = rowError(m_net->decode(mu, c), flat);
    auto expected = torch::zeros_like(recon);
    const int k = std::max(1, draws);
    for (int i = 0; i < k; ++i) {
        auto noise =
            seededNormal({n, m_net->latent}, seed + static_cast<std::uint64_t>(i), m_device);
        expected += rowError(m_net->decode(mu + noise * (0.5 * logvar).exp(), c), flat);
    }
    auto kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1);
    return {(expected / k + m_beta * kl).to(torch::kCPU), recon.to(torch::kCPU)};
}

LossMap Vae::trainStep(const torch::Tensor& x, const torch::Tensor& y) {
    m_net->train();
    const auto n = x.size(0);
    auto flat = x.reshape({n, -1}).to(m_device);
    auto c = condition(y);
    const PrecisionScope precision(m_precision);
    // The nets may compute in bf16 ("precision"); what comes out is taken in fp32.
    auto [mu, logvar] = m_net->encode(flat, c);
    mu = mu.to(torch::kFloat);
    logvar = logvar.to(torch::kFloat);
    if (m_prior) m_prior->update(mu, y);
    auto noise = m_kind == Kind::Chaotic ? m_noise->next(n).to(m_device) : torch::randn_like(mu);
    auto z = mu + noise * (0.5 * logvar).exp();
    auto out = m_net->decode(z, c).to(torch::kFloat);
    // A deviation per column is the one that fits this batch best for the decoder as it is
    // (sigma-VAE, Rybkin et al. 2021: the likelihood's optimum, not a gradient step towards
    // it), over the global batch in data-parallel training; the model keeps their running
    // mean for sampling and scoring.
    torch::Tensor batchLogSigma;
    if (m_sigmaPerColumn) {
        torch::NoGradGuard noGrad;
        std::vector<torch::Tensor> sums{(outputMean(out) - flat).pow(2).sum(0),
                                        torch::full({1}, double(n), flat.options())};
        if (m_net->collectives && m_net->collectives->worldSize() > 1)
            m_net->collectives->allReduceSum(sums);
        batchLogSigma = (0.5 * (sums[0] / sums[1]).clamp_min(1e-12).log()).clamp_min(-7);
        m_logSigma.mul_(0.95).add_(batchLogSigma, 0.05);
    }
    torch::Tensor recon;
    if (m_likelihood == Likelihood::Bernoulli)
        recon = torch::binary_cross_entropy_with_logits(out, flat, {}, {}, at::Reduction::Sum) / n;
    else if (m_likelihood == Likelihood::UnitGaussian && m_categories.empty())
        recon = 0.5 * (outputMean(out) - flat).pow(2).sum() / n;
    else
        recon = rowError(out, flat, batchLogSigma).sum() / n;
    auto kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum() / n;
    auto loss = recon + m_beta * kl;
    dropGradients(*m_net);
    loss.backward();
    m_optimizer->step();
    LossMap losses{{"loss", loss.item<double>()},
                   {"reconstruction", recon.item<double>()},
                   {"kl", kl.item<double>()}};
    // Per column: the geometric mean of the numbers' (a category's features have none).
    if (m_sigmaPerColumn)
        losses["sigma"] = ((m_logSigma * m_categories.numeric()).sum() /
                           double(std::max<std::int64_t>(1, m_categories.numericCount())))
                              .exp()
                              .item<double>();
    else if (m_logSigma.defined())
        losses["sigma"] = m_logSigma.exp().item<double>();
    return losses;
}

torch::Tensor Vae::sample(const SampleRequest& request) {
    auto rows = decodeLatents(latents(request), request);
    // A table's row is a draw of the decoder's Gaussian, not its mean: where the class says
    // most of a row, the decoder learns to ignore z and every mean of a class is the same row
    // (a wine table's samples spread 0.3 % of the real rows'). Pixels keep the mean, as
    // image VAEs show it; temperature scales this noise as it scales the latent's.
    if (m_shape.tabular() && m_likelihood == Likelihood::Gaussian && request.temperature > 0) {
        torch::NoGradGuard noGrad;
        const auto sigma =
            m_logSigma.detach().clamp_min(-7).exp().to(torch::kCPU, rows.scalar_type()) *
            request.temperature;
        // Categories were drawn from their softmax (decodeLatents); the noise is the numbers'.
        rows =
            rows + sigma *
                       seededNormal(rows.sizes(), request.seed ^ 0x9E3779B97F4A7C15ULL, torch::kCPU)
                           .to(rows.scalar_type()) *
                       m_categories.numeric().to(torch::kCPU, rows.scalar_type());
    }
    return rows;
}

torch::Tensor Vae::latents(const SampleRequest& request) {
    torch::NoGradGuard noGrad;
    const auto n = request.count;
    auto noise = m_kind == Kind::Chaotic ? m_noise->fresh(n, request.seed).to(m_device)
                                         : seededNormal({n, m_net->latent}, request.seed, m_device);
    if (!m_prior) return noise;
    // Each row from its class's Gaussian: the asked class, one drawn from a class mixture's
    // weights, or (unconditional) one drawn in proportion to the training rows.
    torch::Tensor components;
    if (m_kind == Kind::Conditional) {
        components = requestCondition(request, m_shape.numClasses);
        if (components.is_floating_point()) {
            auto weights = components.slice(1, 0, m_shape.numClasses).clamp_min(0) + 1e-12;
            auto gen = torch::make_generator<torch::CPUGeneratorImpl>(request.seed ^
                                                                      0x5851F42D4C957F2DULL);
            components = torch::multinomial(weights, 1, true, gen).squeeze(1);
        }
    } else {
        components = m_prior->pick(n, request.seed);
    }
    return m_prior->draw(components, noise);
}

torch::Tensor Vae::encodeLatents(const torch::Tensor& x, const torch::Tensor& y) {
    torch::NoGradGuard noGrad;
    m_net->eval();
    return encode(x, y).first.to(torch::kCPU);
}

torch::Tensor Vae::decodeLatents(const torch::Tensor& z, const SampleRequest& request) {
    torch::NoGradGuard noGrad;
    m_net->eval();
    SampleRequest r = request;
    r.count = z.size(0);
    auto condition = requestCondition(r, m_shape.numClasses);
    auto latent = z.to(m_device);
    // Temperature scales the distance from the prior's centre: 0 for the standard prior, the
    // class's mean (or the data's, unconditional) for the fitted one.
    if (request.temperature != 1) {
        if (m_prior) {
            auto centre =
                m_prior->centre(m_kind == Kind::Conditional ? condition : torch::Tensor(), r.count);
            latent = centre + (latent - centre) * request.temperature;
        } else {
            latent = latent * request.temperature;
        }
    }
    return decodeDrawn(latent, condition, request.temperature, request.seed);
}

std::vector<std::pair<std::string, torch::nn::Module*>> Vae::modules() {
    std::vector<std::pair<std::string, torch::nn::Module*>> out{{"net", m_net.get()}};
    if (m_noise) out.emplace_back("noise", m_noise.get());
    if (m_prior) out.emplace_back("prior", m_prior.get());
    return out;
}

std::vector<std::pair<std::string, torch::optim::Optimizer*>> Vae::optimizers() {
    return {{"optimizer", m_optimizer.get()}};
}

Family vaeFamily() {
    const Settings common{{"latent", "16"},      {"hidden", "512,256"}, {"beta", "1"},
                          {"net", "mlp"},        {"width", "32"},       {"likelihood", "auto"},
                          {"prior", "standard"}, {"precision", "fp32"}, {"categories", ""},
                          {"sigma", ""}};
    const std::map<std::string, std::string> help{
        {"latent", "latent units, 1..4096"},
        {"hidden",
         "encoder layer widths, comma-separated (the decoder mirrors them); with net conv, the "
         "first is the fully connected layer's"},
        {"net",
         "mlp, or conv for images: strided convolutions down to 8 pixels or less, their mirror "
         "up (sharper, more varied samples; a few times slower per step), or auto: conv for "
         "images of at least 4 x 4 pixels, mlp otherwise"},
        {"width", "channels of the conv net's first layer (doubling at each halving), 4..256"},
        {"likelihood",
         "auto (bernoulli for images, unit-gaussian for tabular rows), bernoulli, unit-gaussian "
         "or gaussian (one standard deviation, learned: sharper than bernoulli on images)"},
        {"prior",
         "standard N(0, I), or fitted: sample from a Gaussian per class fitted to the "
         "encoder's posterior means during training, where the decoder has seen latents"},
        {"beta", "weight of the KL term (beta-VAE), >= 0"},
        {"categories",
         "a table's categorical columns, each a softmax over its values (learnt by "
         "cross-entropy, sampled by drawing a value): their one-hot features as first:count, "
         "comma-separated; filled from the data when a run starts; none: learn them as "
         "numbers, as runs before it did"},
        {"sigma",
         "a table's standard deviation (likelihood gaussian): columns, one per column, fitted "
         "to each batch (a column known to the digit keeps its precision, a constant stays "
         "nearly constant), what a run that starts takes; shared: one learned for every "
         "column, as runs before it did"},
        {"precision", kPrecisionHelp},
        {"r", "logistic-map parameter, in (3.57, 4] outside its periodic windows"},
        {"start", "logistic-map start value in (0, 1); empty or random: drawn from the seed"},
        {"transform",
         "noise from the map's values: standardise (mean 0, sd 1) or inverse-normal (through "
         "the map's CDF and the inverse normal CDF: Gaussian in distribution)"}};
    Settings chaotic = common;
    chaotic["r"] = "4";
    chaotic["start"] = "random";
    chaotic["transform"] = "standardise";
    auto make = [](Vae::Kind kind) {
        return [kind](const ModelShape& shape, const Settings& s, const LinkedModels&) {
            return std::make_unique<Vae>(kind, shape, s);
        };
    };
    Family f;
    f.models = {
        {{.name = "vae",
          .description = "VAE: MLP or conv encoder and decoder, standard or fitted Gaussian prior",
          .family = ModelFamily::Vae,
          .images = true,
          .tabular = true,
          .conditional = false,
          .encodes = true,
          .knob = SampleKnob::Temperature,
          .tableSettings = {"categories", "sigma"},
          .defaults = common,
          .help = help},
         make(Vae::Kind::Plain)},
        {{.name = "cvae",
          .description =
              "Class-conditional VAE: MLP or conv encoder and decoder, both given the class",
          .family = ModelFamily::Vae,
          .images = true,
          .tabular = true,
          .conditional = true,
          .encodes = true,
          .knob = SampleKnob::Temperature,
          .tableSettings = {"categories", "sigma"},
          .defaults = common,
          .help = help},
         make(Vae::Kind::Conditional)},
        {{.name = "chaotic-vae",
          .description = "Chaotic VAE: reparameterisation noise from the logistic map "
                         "x' = r x (1 - x), one seeded sequence per latent unit",
          .family = ModelFamily::Vae,
          .images = true,
          .tabular = true,
          .conditional = false,
          .encodes = true,
          .knob = SampleKnob::Temperature,
          .tableSettings = {"categories", "sigma"},
          .defaults = chaotic,
          .help = help},
         make(Vae::Kind::Chaotic)},
    };
    // The conv net where it fits, a learned pixel variance and the fitted prior: figures in
    // bench/PRESETS.md (the MLP's blurry means had a tenth of the recall).
    const Settings sharp = {
        {"net", "auto"},     {"width", "32"}, {"hidden", "512,256"}, {"likelihood", "gaussian"},
        {"prior", "fitted"}, {"beta", "1"},   {"latent", "16"}};
    const Settings sharpGpu = {
        {"net", "auto"},     {"width", "64"}, {"hidden", "1024,512"}, {"likelihood", "gaussian"},
        {"prior", "fitted"}, {"beta", "1"},   {"latent", "32"}};
    Settings chaoticCpu = sharp, chaoticGpu = sharpGpu;
    chaoticCpu["r"] = chaoticGpu["r"] = "4";
    f.presets = {
        {.name = "vae-cpu",
         .model = "vae",
         .description = "Conv VAE (width 32, latent 16) with a learned pixel variance and a "
                        "prior fitted to the encoded data, batch 128, 5,000 steps: about 12 "
                        "steps/s on 2 CPU cores, 7 minutes (net=mlp, likelihood=auto, "
                        "prior=standard: the old MLP, a minute, blurrier)",
         .steps = 5000,
         .learningRate = 1e-3,
         .batchSize = 128,
         .settings = sharp},
        {.name = "vae-gpu",
         .model = "vae",
         .description = "Wider conv VAE (width 64, latent 32) for a GPU, batch 512, 20,000 steps",
         .steps = 20000,
         .learningRate = 1e-3,
         .batchSize = 512,
         .settings = sharpGpu},
        {.name = "cvae-cpu",
         .model = "cvae",
         .description = "Conv CVAE (width 32, latent 16, the class at every decoder layer) with "
                        "a learned pixel variance and a per-class prior fitted to the encoded "
                        "data, batch 128, 5,000 steps: about 12 steps/s on 2 CPU cores, 7 "
                        "minutes; classifier agreement about 0.83, recall 0.40",
         .steps = 5000,
         .learningRate = 1e-3,
         .batchSize = 128,
         .settings = sharp},
        {.name = "cvae-gpu",
         .model = "cvae",
         .description = "Wider conv CVAE (width 64, latent 32) for a GPU, batch 512, 20,000 steps",
         .steps = 20000,
         .learningRate = 1e-3,
         .batchSize = 512,
         .settings = sharpGpu},
        {.name = "chaotic-vae-cpu",
         .model = "chaotic-vae",
         .description = "Chaotic conv VAE with r = 4 (width 32, latent 16), a learned pixel "
                        "variance and a fitted prior, batch 128, 5,000 steps: about 12 steps/s "
                        "on 2 CPU cores, 7 minutes",
         .steps = 5000,
         .learningRate = 1e-3,
         .batchSize = 128,
         .settings = chaoticCpu},
        {.name = "chaotic-vae-gpu",
         .model = "chaotic-vae",
         .description = "Wider chaotic conv VAE (width 64, latent 32) for a GPU, batch 512, "
                        "20,000 steps",
         .steps = 20000,
         .learningRate = 1e-3,
         .batchSize = 512,
         .settings = chaoticGpu},
    };
    return f;
}

}  // namespace ll
