#include "models/vae.h"

#include <cmath>

#include "models/families.h"

namespace ll {

CvaeNetImpl::CvaeNetImpl(std::int64_t dataDim, int conditionDim, int latent,
                         const std::vector<int>& hidden)
    : latent(latent) {
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

}  // namespace

ChaoticNoiseImpl::ChaoticNoiseImpl(int units, double r, torch::Tensor initial) : r(r) {
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
    state =
        register_buffer("state", initial.to(torch::kFloat64).clamp(1e-9, 1 - 1e-9).contiguous());
    if (state.numel() != units) throw std::invalid_argument("chaotic state has the wrong size");
}

torch::Tensor ChaoticNoiseImpl::next(std::int64_t n) {
    const auto units = state.numel();
    auto out = torch::empty({n, units}, torch::kFloat32);
    auto* o = out.data_ptr<float>();
    auto* s = state.data_ptr<double>();
    std::uint64_t kick = 0x2545F4914F6CDD1DULL;
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < units; ++j) {
            s[j] = logistic(s[j], r, kick);
            o[i * units + j] = static_cast<float>((s[j] - mean) / stddev);
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
            o[i * units + j] = static_cast<float>((v - mean) / stddev);
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

    const int conditionDim = kind == Kind::Conditional ? shape.numClasses : 0;
    m_net = CvaeNet(shape.dataDim(), conditionDim, latent, hidden);
    m_net->to(m_device);
    if (kind == Kind::Chaotic) {
        const double r = settingNumber(settings, "r", 4.0);
        if (!m_settings.contains("r")) m_settings["r"] = "4";
        // Seeded by the run's seed through torch's global generator (the trainer sets it).
        m_noise = ChaoticNoise(latent, r, torch::rand({latent}, torch::kFloat64));
    }
    m_optimizer =
        std::make_unique<torch::optim::Adam>(m_net->parameters(), torch::optim::AdamOptions(lr));
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

torch::Tensor Vae::decode(const torch::Tensor& z, const torch::Tensor& y) {
    auto out = m_net->decode(z.to(m_device), condition(y));
    if (m_shape.tabular()) return out.to(torch::kCPU);
    return toImages(torch::sigmoid(out), m_shape);
}

LossMap Vae::trainStep(const torch::Tensor& x, const torch::Tensor& y) {
    m_net->train();
    const auto n = x.size(0);
    auto flat = x.reshape({n, -1}).to(m_device);
    auto c = condition(y);
    auto [mu, logvar] = m_net->encode(flat, c);
    auto noise = m_kind == Kind::Chaotic ? m_noise->next(n).to(m_device) : torch::randn_like(mu);
    auto z = mu + noise * (0.5 * logvar).exp();
    auto out = m_net->decode(z, c);
    torch::Tensor recon;
    if (m_shape.tabular())
        recon = 0.5 * (out - flat).pow(2).sum() / n;
    else
        recon = torch::binary_cross_entropy_with_logits(out, flat, {}, {}, at::Reduction::Sum) / n;
    auto kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum() / n;
    auto loss = recon + m_beta * kl;
    dropGradients(*m_net);
    loss.backward();
    m_optimizer->step();
    return {{"loss", loss.item<double>()},
            {"reconstruction", recon.item<double>()},
            {"kl", kl.item<double>()}};
}

torch::Tensor Vae::sample(const SampleRequest& request) {
    return decodeLatents(latents(request), request);
}

torch::Tensor Vae::latents(const SampleRequest& request) {
    torch::NoGradGuard noGrad;
    const auto n = request.count;
    return m_kind == Kind::Chaotic ? m_noise->fresh(n, request.seed).to(m_device)
                                   : seededNormal({n, m_net->latent}, request.seed, m_device);
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
    return decode(z.to(m_device) * request.temperature, requestCondition(r, m_shape.numClasses));
}

std::vector<std::pair<std::string, torch::nn::Module*>> Vae::modules() {
    std::vector<std::pair<std::string, torch::nn::Module*>> out{{"net", m_net.get()}};
    if (m_noise) out.emplace_back("noise", m_noise.get());
    return out;
}

std::vector<std::pair<std::string, torch::optim::Optimizer*>> Vae::optimizers() {
    return {{"optimizer", m_optimizer.get()}};
}

Family vaeFamily() {
    const Settings common{{"latent", "16"}, {"hidden", "512,256"}, {"beta", "1"}};
    const std::map<std::string, std::string> help{
        {"latent", "latent units, 1..4096"},
        {"hidden", "encoder layer widths, comma-separated (the decoder mirrors them)"},
        {"beta", "weight of the KL term (beta-VAE), >= 0"},
        {"r", "logistic-map parameter, in (3.57, 4] outside its periodic windows"}};
    Settings chaotic = common;
    chaotic["r"] = "4";
    auto make = [](Vae::Kind kind) {
        return [kind](const ModelShape& shape, const Settings& s, const LinkedModels&) {
            return std::make_unique<Vae>(kind, shape, s);
        };
    };
    Family f;
    f.models = {
        {{.name = "vae",
          .description = "VAE: MLP encoder and decoder, Gaussian prior",
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
          .description = "Class-conditional VAE: MLP encoder and decoder, both given the class",
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
    f.presets = {
        {.name = "vae-cpu",
         .model = "vae",
         .description = "VAE 784-512-256-16, batch 128, 5,000 steps: about 90 steps/s on 2 CPU "
                        "cores, under a minute; recognisable garments after ~1,000 steps",
         .steps = 5000,
         .learningRate = 1e-3,
         .batchSize = 128,
         .settings = {{"latent", "16"}, {"hidden", "512,256"}}},
        {.name = "vae-gpu",
         .model = "vae",
         .description = "Wider VAE 1024-512-32 for a GPU, batch 512, 20,000 steps",
         .steps = 20000,
         .learningRate = 1e-3,
         .batchSize = 512,
         .settings = {{"latent", "32"}, {"hidden", "1024,512"}}},
        {.name = "cvae-cpu",
         .model = "cvae",
         .description = "CVAE 794-512-256-16 with beta 2 (a tighter latent leaves the class to "
                        "the label), batch 128: about 90 steps/s on 2 CPU cores, so the 5,000 "
                        "steps take a minute. Garment shapes after ~500 steps; classifier "
                        "agreement about 0.7 after 2,000 steps and 0.82 after 5,000",
         .steps = 5000,
         .learningRate = 1e-3,
         .batchSize = 128,
         .settings = {{"latent", "16"}, {"hidden", "512,256"}, {"beta", "2"}}},
        {.name = "cvae-gpu",
         .model = "cvae",
         .description = "Wider CVAE 1024-512-32 for a GPU, batch 512, 20,000 steps",
         .steps = 20000,
         .learningRate = 1e-3,
         .batchSize = 512,
         .settings = {{"latent", "32"}, {"hidden", "1024,512"}, {"beta", "2"}}},
        {.name = "chaotic-vae-cpu",
         .model = "chaotic-vae",
         .description = "Chaotic VAE 784-512-256-16 with r = 4, batch 128, 5,000 steps: about "
                        "120 steps/s on 2 CPU cores, under a minute",
         .steps = 5000,
         .learningRate = 1e-3,
         .batchSize = 128,
         .settings = {{"latent", "16"}, {"hidden", "512,256"}, {"r", "4"}}},
        {.name = "chaotic-vae-gpu",
         .model = "chaotic-vae",
         .description = "Wider chaotic VAE 1024-512-32 for a GPU, batch 512, 20,000 steps",
         .steps = 20000,
         .learningRate = 1e-3,
         .batchSize = 512,
         .settings = {{"latent", "32"}, {"hidden", "1024,512"}, {"r", "4"}}},
    };
    return f;
}

}  // namespace ll
