#include "models/vae.h"

#include <algorithm>
#include <cmath>

#include "models/families.h"
#include "models/fusedadam.h"

namespace ll {

namespace {

// One step of the logistic map, kept off its traps: in floating point an orbit can land on
// the fixed point 1 - 1/r or on 0 (via 0.5 -> 1 -> 0) and stay there forever.
double logistic(double x, double r, std::uint64_t& kick) {
    double next = r * x * (1 - x);
    if (!(next > 0 && next < 1) || next == x) {
        kick = kick * 6364136223846793005ULL + 1442695040888963407ULL;
        next = 0.05 + 0.9 * double(kick >> 11) * 0x1.0p-53;
    }
    return next;
}

// Uniform start values in (0.05, 0.95) from a seed, one per unit, then a burn-in so that the
// sequences forget where they started.
std::vector<double> seededStarts(int units, double r, std::uint64_t seed) {
    std::vector<double> x(static_cast<std::size_t>(units));
    std::uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 0xD1B54A32D192ED03ULL;
    for (auto& v : x) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        v = 0.05 + 0.9 * double(s >> 11) * 0x1.0p-53;
        for (int i = 0; i < 64; ++i) v = logistic(v, r, s);
    }
    return x;
}

// The standard normal quantile: Acklam's rational approximation, refined by one Halley step
// on erfc (about 1e-15 relative).
double normalQuantile(double p) {
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    double x;
    if (p < 0.02425) {
        const double q = std::sqrt(-2 * std::log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        const double q = std::sqrt(-2 * std::log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        const double q = p - 0.5, t = q * q;
        x = (((((a[0] * t + a[1]) * t + a[2]) * t + a[3]) * t + a[4]) * t + a[5]) * q /
            (((((b[0] * t + b[1]) * t + b[2]) * t + b[3]) * t + b[4]) * t + 1);
    }
    const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
    const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

}  // namespace

ChaoticNoiseImpl::ChaoticNoiseImpl(int units, double r, torch::Tensor initial, bool inverseNormal)
    : r(r), inverseNormal(inverseNormal) {
    if (!(r > 3.56995 && r <= 4))
        throw std::invalid_argument(
            "setting 'r' must lie in (3.57, 4]: below 3.57 the logistic "
            "map is periodic, above 4 it leaves [0, 1]");
    // The map's own mean and spread for this r, and a check that r is not in one of the
    // periodic windows inside the chaotic range (r = 3.83 has period 3).
    std::uint64_t kick = 12345;
    double x = 0.3141592653589793;
    for (int i = 0; i < 2000; ++i) x = logistic(x, r, kick);
    constexpr int kCount = 200000;
    std::vector<double> tail(64);
    double sum = 0, sumSq = 0;
    for (int i = 0; i < kCount; ++i) {
        x = logistic(x, r, kick);
        sum += x;
        sumSq += x * x;
        tail[static_cast<std::size_t>(i) % tail.size()] = x;
    }
    for (std::size_t period = 1; period <= 32; ++period) {
        bool repeats = true;
        for (std::size_t i = 0; i + period < tail.size() && repeats; ++i)
            repeats = std::abs(tail[i] - tail[i + period]) < 1e-9;
        if (repeats)
            throw std::invalid_argument("setting 'r' = " + std::to_string(r) +
                                        " lies in a periodic window of the logistic map (period " +
                                        std::to_string(period) + "); choose another, e.g. 4");
    }
    mean = sum / kCount;
    stddev = std::sqrt(std::max(1e-12, sumSq / kCount - mean * mean));
    if (inverseNormal && r < 4) {
        // No closed form below r = 4: the CDF from 4,097 quantiles of a long orbit.
        std::vector<double> orbit(kCount);
        for (auto& v : orbit) v = x = logistic(x, r, kick);
        std::sort(orbit.begin(), orbit.end());
        quantiles.resize(4097);
        for (std::size_t i = 0; i < quantiles.size(); ++i)
            quantiles[i] = orbit[i * (orbit.size() - 1) / (quantiles.size() - 1)];
    }
    state =
        register_buffer("state", initial.to(torch::kFloat64).clamp(1e-9, 1 - 1e-9).contiguous());
    if (state.numel() != units) throw std::invalid_argument("chaotic state has the wrong size");
}

torch::Tensor ChaoticNoiseImpl::startsFrom(int units, double r, double x0) {
    if (!(x0 > 0 && x0 < 1)) throw std::invalid_argument("setting 'start' must lie in (0, 1)");
    auto out = torch::empty({units}, torch::kFloat64);
    auto* o = out.data_ptr<double>();
    std::uint64_t kick = 0x853C49E6748FEA9BULL;
    double x = x0;
    for (int i = 0; i < 64; ++i) x = logistic(x, r, kick);
    for (int j = 0; j < units; ++j) {
        o[j] = x;
        for (int i = 0; i < 17; ++i) x = logistic(x, r, kick);
    }
    return out;
}

float ChaoticNoiseImpl::transform(double x) const {
    if (!inverseNormal) return static_cast<float>((x - mean) / stddev);
    double u;
    if (quantiles.empty()) {
        // r = 4: the invariant density 1 / (pi sqrt(x (1 - x))) has CDF (2 / pi) asin(sqrt x).
        u = 2 / M_PI * std::asin(std::sqrt(x));
    } else {
        const auto it = std::lower_bound(quantiles.begin(), quantiles.end(), x);
        const auto i = static_cast<double>(it - quantiles.begin());
        u = (i + 0.5) / static_cast<double>(quantiles.size() + 1);
    }
    // Clamped so that the orbit's rare visits near 0 and 1 stay finite (|z| <= 5.3).
    return static_cast<float>(normalQuantile(std::clamp(u, 1e-7, 1 - 1e-7)));
}

torch::Tensor ChaoticNoiseImpl::next(std::int64_t n) {
    const bool parallel = m_collectives && m_collectives->worldSize() > 1;
    const std::int64_t world = parallel ? m_collectives->worldSize() : 1;
    const std::int64_t mine = parallel ? m_collectives->rank() : 0;
    const auto units = state.numel();
    auto out = torch::empty({n, units}, torch::kFloat32);
    auto* o = out.data_ptr<float>();
    auto* s = state.data_ptr<double>();
    std::uint64_t kick = 0x2545F4914F6CDD1DULL;
    for (std::int64_t i = 0; i < world * n; ++i) {
        const bool kept = i / n == mine;
        for (std::int64_t j = 0; j < units; ++j) {
            s[j] = logistic(s[j], r, kick);
            if (kept) o[(i % n) * units + j] = transform(s[j]);
        }
    }
    return out;
}

torch::Tensor ChaoticNoiseImpl::fresh(std::int64_t n, std::uint64_t seed) const {
    const auto units = state.numel();
    auto x = seededStarts(static_cast<int>(units), r, seed);
    auto out = torch::empty({n, units}, torch::kFloat32);
    auto* o = out.data_ptr<float>();
    std::uint64_t kick = seed ^ 0x2545F4914F6CDD1DULL;
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < units; ++j) {
            auto& v = x[static_cast<std::size_t>(j)];
            v = logistic(v, r, kick);
            o[i * units + j] = transform(v);
        }
    return out;
}

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

int wholeIn(const Settings& s, const std::string& key, double fallback, int low, int high) {
    const double v = settingNumber(s, key, fallback);
    if (v != std::floor(v) || v < low || v > high)
        throw std::invalid_argument("setting '" + key + "' must be a whole number in " +
                                    std::to_string(low) + ".." + std::to_string(high));
    return static_cast<int>(v);
}

}  // namespace

Vae::Vae(Kind kind, const ModelShape& shape, const Settings& settings)
    : ModelBase(kindName(kind), shape, settings), m_kind(kind) {
    const int latent = static_cast<int>(settingNumber(settings, "latent", 16));
    const auto hidden = settingInts(settings, "hidden", {512, 256});
    m_beta = settingNumber(settings, "beta", 1.0);
    const double lr = settingNumber(settings, "lr", 1e-3);
    if (latent < 1 || latent > 4096)
        throw std::invalid_argument("setting 'latent' must lie in 1..4096");
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
    m_settings["net"] = net;
    m_settings["likelihood"] = likelihood;
    m_settings["prior"] = prior;

    const int conditionDim = kind == Kind::Conditional ? shape.numClasses : 0;
    if (net == "conv") {
        const int width = wholeIn(settings, "width", 32, 4, 256);
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
    if (m_likelihood == Likelihood::Gaussian)
        // Pixels start at a standard deviation of 0.37, standardised rows at 1.
        m_logSigma =
            m_net->register_parameter("log_sigma", torch::full({1}, shape.tabular() ? 0.0 : -1.0));
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

torch::Tensor Vae::decode(const torch::Tensor& z, const torch::Tensor& y) {
    auto out = outputMean(m_net->decode(z.to(m_device), condition(y)));
    if (m_shape.tabular()) return out.to(torch::kCPU);
    return toImages(out, m_shape);
}

torch::Tensor Vae::rowError(const torch::Tensor& out, const torch::Tensor& flat) const {
    switch (m_likelihood) {
        case Likelihood::Bernoulli:
            return torch::binary_cross_entropy_with_logits(out, flat, {}, {}, at::Reduction::None)
                .sum(1);
        case Likelihood::UnitGaussian:
            return 0.5 * (outputMean(out) - flat).pow(2).sum(1);
        case Likelihood::Gaussian: {
            // The negative log-likelihood without its constant 0.5 log(2 pi) per value; the
            // floor keeps a net that reproduces some values exactly from a vanishing sigma.
            auto logSigma = m_logSigma.clamp_min(-7);
            auto scaled = (outputMean(out) - flat) * torch::exp(-logSigma);
            return 0.5 * scaled.pow(2).sum(1) + logSigma * static_cast<double>(flat.size(1));
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
    auto [mu, logvar] = m_net->encode(flat, c);
    if (m_prior) m_prior->update(mu, y);
    auto noise = m_kind == Kind::Chaotic ? m_noise->next(n).to(m_device) : torch::randn_like(mu);
    auto z = mu + noise * (0.5 * logvar).exp();
    auto out = m_net->decode(z, c);
    torch::Tensor recon;
    if (m_likelihood == Likelihood::Bernoulli)
        recon = torch::binary_cross_entropy_with_logits(out, flat, {}, {}, at::Reduction::Sum) / n;
    else if (m_likelihood == Likelihood::UnitGaussian)
        recon = 0.5 * (outputMean(out) - flat).pow(2).sum() / n;
    else
        recon = rowError(out, flat).sum() / n;
    auto kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum() / n;
    auto loss = recon + m_beta * kl;
    dropGradients(*m_net);
    loss.backward();
    m_optimizer->step();
    LossMap losses{{"loss", loss.item<double>()},
                   {"reconstruction", recon.item<double>()},
                   {"kl", kl.item<double>()}};
    if (m_logSigma.defined()) losses["sigma"] = m_logSigma.exp().item<double>();
    return losses;
}

torch::Tensor Vae::sample(const SampleRequest& request) {
    return decodeLatents(latents(request), request);
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
    return decode(latent, condition);
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
    const Settings common{{"latent", "16"},     {"hidden", "512,256"}, {"beta", "1"},
                          {"net", "mlp"},       {"width", "32"},       {"likelihood", "auto"},
                          {"prior", "standard"}};
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
