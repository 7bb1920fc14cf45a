#include "models/diffusion.h"

#include <cmath>

#include "models/diffusionsampler.h"
#include "models/families.h"
#include "models/fusedadam.h"
#include "models/latentdiffusion.h"

namespace ll {

DiffusionStateImpl::DiffusionStateImpl() {
    step = register_buffer("step", torch::zeros({}, torch::kInt64));
    scale = register_buffer("scale", torch::zeros({}, torch::kFloat32));
}

std::string settingText(const Settings& s, const std::string& key, const std::string& fallback) {
    auto it = s.find(key);
    return it == s.end() || it->second.empty() ? fallback : it->second;
}

namespace {

NoiseSchedule readSchedule(const Settings& s, Settings& effective) {
    const auto kind = NoiseSchedule::parseKind(settingText(s, "schedule", "linear"));
    const double t = settingNumber(s, "timesteps", 1000);
    if (t != std::floor(t) || t < 2 || t > 100000)
        throw std::invalid_argument("setting 'timesteps' must be a whole number in 2..100000");
    effective["schedule"] = NoiseSchedule::kindName(kind);
    effective["timesteps"] = std::to_string(static_cast<int>(t));
    return NoiseSchedule(kind, static_cast<int>(t));
}

int readWidth(const Settings& s, Settings& effective, int fallback) {
    const double w = settingNumber(s, "width", fallback);
    if (w != std::floor(w) || w < 8 || w > 512 || int(w) % 8 != 0)
        throw std::invalid_argument("setting 'width' must be a multiple of 8 in 8..512");
    effective["width"] = std::to_string(static_cast<int>(w));
    return static_cast<int>(w);
}

}  // namespace

DiffusionSettings readDiffusionSettings(const Settings& s, Settings& effective) {
    auto schedule = readSchedule(s, effective);
    const double labelDropout = settingNumber(s, "label_dropout", 0.1);
    const double ema = settingNumber(s, "ema", 0.999);
    const double steps = settingNumber(s, "sample_steps", 50);
    if (!(labelDropout >= 0 && labelDropout < 1))
        throw std::invalid_argument("setting 'label_dropout' must lie in [0, 1)");
    if (!(ema >= 0 && ema < 1)) throw std::invalid_argument("setting 'ema' must lie in [0, 1)");
    if (steps != std::floor(steps) || steps < 1 || steps > schedule.timesteps())
        throw std::invalid_argument(
            "setting 'sample_steps' must be a whole number in 1..timesteps");
    effective["label_dropout"] = settingText(s, "label_dropout", "0.1");
    effective["ema"] = settingText(s, "ema", "0.999");
    effective["sample_steps"] = std::to_string(static_cast<int>(steps));
    return {std::move(schedule), labelDropout, ema, static_cast<int>(steps)};
}

namespace {

void checkImages(const ModelShape& shape, const std::string& model) {
    if (shape.tabular())
        throw std::invalid_argument("'" + model + "' models images, not tabular rows");
    if (shape.height % 4 != 0 || shape.width % 4 != 0 || shape.height < 8 || shape.width < 8)
        throw std::invalid_argument("'" + model +
                                    "' needs images whose sides are multiples of "
                                    "4 (e.g. 28x28 or 32x32), got " +
                                    std::to_string(shape.height) + "x" +
                                    std::to_string(shape.width));
}

}  // namespace

torch::Tensor alphaBarTensor(const NoiseSchedule& schedule, torch::Device device) {
    return torch::tensor(schedule.alphaBars(), torch::kFloat64).to(device, torch::kFloat32);
}

NoisedBatch noiseBatch(const torch::Tensor& x0, const torch::Tensor& labels,
                       const DiffusionSettings& diffusion, std::int64_t nullLabel) {
    const auto n = x0.size(0);
    const auto options = torch::TensorOptions(x0.device());
    NoisedBatch b{.labels = labels};
    if (diffusion.labelDropout > 0) {
        auto drop = torch::rand({n}, options) < diffusion.labelDropout;
        b.labels = torch::where(drop, torch::full_like(labels, nullLabel), labels);
    }
    b.t = torch::randint(diffusion.schedule.timesteps(), {n}, options.dtype(torch::kInt64));
    std::vector<std::int64_t> perSample(static_cast<std::size_t>(x0.dim()), 1);
    perSample[0] = n;
    auto ab = alphaBarTensor(diffusion.schedule, x0.device()).index_select(0, b.t).view(perSample);
    b.noise = torch::randn_like(x0);
    b.xt = ab.sqrt() * x0 + (1 - ab).sqrt() * b.noise;
    return b;
}

torch::Tensor denoisingErrorsOf(
    const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&,
                                      const torch::Tensor&)>& eps,
    const NoiseSchedule& schedule, const torch::Tensor& x0, const torch::Tensor& labels,
    const torch::Tensor& t, const torch::Tensor& noise, bool l1) {
    torch::NoGradGuard noGrad;
    const auto n = x0.size(0);
    std::vector<std::int64_t> perRow(static_cast<std::size_t>(x0.dim()), 1);
    perRow[0] = n;
    auto ab = alphaBarTensor(schedule, x0.device()).index_select(0, t).view(perRow);
    auto xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise;
    auto diff = eps(xt, t, labels) - noise;
    return (l1 ? diff.abs() : diff.square()).reshape({n, -1}).mean(1);
}

Ddpm::Ddpm(const ModelShape& shape, const Settings& settings)
    : ModelBase("ddpm", shape, settings), m_diffusion(readDiffusionSettings(settings, m_settings)) {
    checkImages(shape, "ddpm");
    const int width = readWidth(settings, m_settings, 32);
    const double lr = settingNumber(settings, "lr", 1e-3);

    m_net = UNet(shape.channels, width, shape.numClasses);
    m_emaNet = UNet(shape.channels, width, shape.numClasses);
    m_state = DiffusionState();
    m_net->to(m_device);
    m_emaNet->to(m_device);
    updateEma(*m_emaNet, *m_net, 0);
    m_optimizer = std::make_unique<FusedAdam>(m_net->parameters(), torch::optim::AdamOptions(lr));
}

LossMap Ddpm::trainStep(const torch::Tensor& x, const torch::Tensor& y) {
    m_net->train();
    auto b = noiseBatch(x.to(m_device) * 2 - 1, y.to(m_device), m_diffusion, m_shape.numClasses);
    auto loss = torch::mse_loss(m_net->forward(b.xt, b.t, b.labels), b.noise);
    dropGradients(*m_net);
    loss.backward();
    m_optimizer->step();
    const auto step = m_state->step.item<std::int64_t>();
    updateEma(*m_emaNet, *m_net, emaDecay(m_diffusion.ema, step));
    m_state->step.fill_(step + 1);
    return {{"loss", loss.item<double>()}};
}

torch::Tensor Ddpm::sample(const SampleRequest& request) {
    return decodeLatents(latents(request), request);
}

torch::Tensor Ddpm::latents(const SampleRequest& request) {
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(request.seed);
    return torch::randn({request.count, m_shape.channels * m_shape.height * m_shape.width}, gen);
}

torch::Tensor Ddpm::decodeLatents(const torch::Tensor& z, const SampleRequest& r) {
    SampleRequest request = r;
    request.count = z.size(0);
    torch::NoGradGuard noGrad;
    m_emaNet->eval();
    auto labels = requestCondition(request, m_shape.numClasses).to(m_device);
    DiffusionSampling s{.schedule = &m_diffusion.schedule,
                        .shape = {request.count, m_shape.channels, m_shape.height, m_shape.width},
                        .labels = labels,
                        .nullLabel = m_shape.numClasses,
                        .guidance = request.guidance,
                        .guidanceFrom = request.guidanceFrom,
                        .guidanceTo = request.guidanceTo,
                        .steps = request.steps > 0 ? request.steps : m_diffusion.sampleSteps,
                        .sampler = request.sampler,
                        .clip = 1,
                        .seed = request.seed,
                        .device = m_device,
                        .classifierGradient = classifierGuidance(request, m_shape, labels),
                        .classifierScale = request.classifierScale,
                        .live = request.live,
                        .initial = z};
    if (request.onStep)
        s.onStep = [&](int done, int total, const torch::Tensor& x0) {
            return request.onStep(done, total, toImages((x0.clamp(-1, 1) + 1) / 2, m_shape));
        };
    auto eps = [this](const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& l) {
        return m_emaNet->forward(x, t, l);
    };
    return toImages((sampleDiffusion(eps, s) + 1) / 2, m_shape);
}

torch::Tensor Ddpm::diffusionSpace(const torch::Tensor& images) {
    return images.to(m_device) * 2 - 1;
}

torch::Tensor Ddpm::denoisingErrors(const torch::Tensor& x0, const torch::Tensor& labels,
                                    const torch::Tensor& t, const torch::Tensor& noise, bool l1) {
    m_emaNet->eval();
    auto eps = [this](const torch::Tensor& x, const torch::Tensor& tt, const torch::Tensor& l) {
        return m_emaNet->forward(x, tt, l);
    };
    return denoisingErrorsOf(eps, m_diffusion.schedule, x0.to(m_device), labels.to(m_device),
                             t.to(m_device), noise.to(m_device), l1);
}

std::vector<std::pair<std::string, torch::nn::Module*>> Ddpm::modules() {
    return {{"net", m_net.get()}, {"ema", m_emaNet.get()}, {"state", m_state.get()}};
}

std::vector<std::pair<std::string, torch::optim::Optimizer*>> Ddpm::optimizers() {
    return {{"optimizer", m_optimizer.get()}};
}

NoisyClassifier::NoisyClassifier(const ModelShape& shape, const Settings& settings)
    : ModelBase("noisy-classifier", shape, settings),
      m_schedule(readSchedule(settings, m_settings)) {
    checkImages(shape, "noisy-classifier");
    const int width = readWidth(settings, m_settings, 32);
    const double lr = settingNumber(settings, "lr", 1e-3);
    m_net = NoisyClassifierNet(shape.channels, width, shape.numClasses);
    m_net->to(m_device);
    m_optimizer = std::make_unique<FusedAdam>(m_net->parameters(), torch::optim::AdamOptions(lr));
}

LossMap NoisyClassifier::trainStep(const torch::Tensor& x, const torch::Tensor& y) {
    m_net->train();
    const auto n = x.size(0);
    auto x0 = x.to(m_device) * 2 - 1;
    auto target = y.to(m_device);
    auto t = torch::randint(m_schedule.timesteps(), {n},
                            torch::TensorOptions(m_device).dtype(torch::kInt64));
    auto ab = alphaBarTensor(m_schedule, m_device).index_select(0, t);
    auto a = ab.view({n, 1, 1, 1});
    auto xt = a.sqrt() * x0 + (1 - a).sqrt() * torch::randn_like(x0);
    return classifierStep(*m_net, *m_optimizer, m_net->forward(xt, ab), target);
}

torch::Tensor NoisyClassifier::sample(const SampleRequest&) {
    throw std::logic_error("a noisy classifier has nothing to sample");
}

torch::Tensor NoisyClassifier::classify(const torch::Tensor& x) {
    torch::NoGradGuard noGrad;
    auto clean = torch::full({x.size(0)}, 1 - 1e-4, torch::kFloat32);
    return classifyNoisy(x * 2 - 1, clean).to(torch::kCPU);
}

torch::Tensor NoisyClassifier::classifyNoisy(const torch::Tensor& x,
                                             const torch::Tensor& alphaBar) {
    m_net->eval();
    return m_net->forward(x.to(m_device), alphaBar.to(m_device)).to(x.device());
}

std::vector<std::pair<std::string, torch::nn::Module*>> NoisyClassifier::modules() {
    return {{"net", m_net.get()}};
}

std::vector<std::pair<std::string, torch::optim::Optimizer*>> NoisyClassifier::optimizers() {
    return {{"optimizer", m_optimizer.get()}};
}

namespace {

std::vector<ModelPreset> diffusionPresets() {
    return {
        {.name = "ddpm-cpu",
         .model = "ddpm",
         .description = "U-Net 16-32-64 (0.45M parameters), batch 64, 6,500 steps: about 11 "
                        "steps/s on 2 CPU cores, so about 9.7 minutes. Then FID 9.7x its floor, "
                        "recall 0.64, classifier agreement 0.74 / 0.93 / 0.99 at guidance "
                        "0 / 1 / 3 (DDIM, 50 steps). Many small steps beat few large ones "
                        "here: width 32 at batch 128 made 400 steps in the same minutes and "
                        "reached FID 38x",
         .steps = 6500,
         .learningRate = 1e-3,
         .batchSize = 64,
         .settings = {{"width", "16"}, {"schedule", "linear"}, {"ema", "0.999"}}},
        {.name = "ddpm-gpu",
         .model = "ddpm",
         .description = "U-Net 64-128-256 (7.1M parameters) for a GPU, batch 256, 20,000 steps",
         .steps = 20000,
         .learningRate = 2e-4,
         .batchSize = 256,
         .settings = {{"width", "64"}, {"schedule", "linear"}, {"ema", "0.9995"}}},
        {.name = "latent-ddpm-cpu",
         .model = "latent-ddpm",
         .description = "Conv VAE 32-64 with a learned variance, latent 16, trained in bf16 "
                        "(9,000 steps, about 23 steps/s), then a residual-MLP denoiser 256x3 "
                        "on the cosine schedule (19,000 steps: 70 steps/s while its first "
                        "epoch encodes the images, 100-185 once their means are cached), batch "
                        "128: 8.9 minutes on 2 CPU cores. The denoiser's steps decide the FID "
                        "(6,000 of them gave 10.2x its floor), and the cosine schedule beat the "
                        "linear one (FID 71.7 and 74.9 against 77.7 and 84.8 at seeds 1 and 2)",
         .steps = 28000,
         .learningRate = 1e-3,
         .batchSize = 128,
         .settings = {{"latent", "16"},
                      {"vae_net", "auto"},
                      {"vae_width", "32"},
                      {"vae_likelihood", "gaussian"},
                      {"vae_steps", "9000"},
                      {"vae_precision", "bf16"},
                      {"hidden", "256"},
                      {"depth", "3"},
                      {"schedule", "cosine"}}},
        {.name = "latent-ddpm-gpu",
         .model = "latent-ddpm",
         .description = "Conv VAE 64-128 with a learned variance, latent 32 (10,000 steps), then "
                        "a denoiser 512x6, batch 512",
         .steps = 60000,
         .learningRate = 1e-3,
         .batchSize = 512,
         .settings = {{"latent", "32"},
                      {"vae_net", "auto"},
                      {"vae_width", "64"},
                      {"vae_likelihood", "gaussian"},
                      {"vae_hidden", "1024,512"},
                      {"vae_steps", "10000"},
                      {"hidden", "512"},
                      {"depth", "6"}}},
        {.name = "noisy-classifier-cpu",
         .model = "noisy-classifier",
         .description = "Noisy CNN 32-64-128 (0.4M parameters), batch 128, 1,500 steps: about "
                        "4.7 steps/s on 2 CPU cores, about 5.5 minutes; then 81% accuracy on "
                        "clean test images",
         .steps = 1500,
         .learningRate = 1e-3,
         .batchSize = 128,
         .settings = {{"width", "32"}}},
        {.name = "noisy-classifier-gpu",
         .model = "noisy-classifier",
         .description = "Noisy CNN 64-128-256 for a GPU, batch 256, 10,000 steps",
         .steps = 10000,
         .learningRate = 1e-3,
         .batchSize = 256,
         .settings = {{"width", "64"}}},
    };
}

}  // namespace

Family diffusionFamily() {
    const std::map<std::string, std::string> scheduleHelp{
        {"timesteps", "diffusion steps T, 2..100000"},
        {"schedule", "noise schedule: linear (Ho et al.) or cosine (Nichol & Dhariwal)"}};
    auto withSchedule = [&](std::map<std::string, std::string> help) {
        help.insert(scheduleHelp.begin(), scheduleHelp.end());
        return help;
    };
    const std::map<std::string, std::string> guidedHelp{
        {"label_dropout",
         "share of training labels replaced by 'no class', in [0, 1): the "
         "unconditional model for classifier-free guidance"},
        {"ema", "decay of the weight average used for sampling, in [0, 1) (warmed up)"},
        {"sample_steps", "default sampling steps (DDIM and respaced DDPM), 1..timesteps"}};
    auto ddpmHelp = withSchedule(guidedHelp);
    ddpmHelp["width"] = "U-Net channels at full resolution (x2, x4 below), multiple of 8";
    auto latentHelp = withSchedule(guidedHelp);
    latentHelp["vae_steps"] =
        "first training steps that train the VAE (the rest train the "
        "denoiser); ignored with 'autoencoder'";
    latentHelp["latent"] = "VAE latent units, 2..512";
    latentHelp["vae_hidden"] =
        "VAE encoder widths, comma-separated (the decoder mirrors them); with vae_net conv, "
        "the first is the fully connected layer's";
    latentHelp["vae_net"] = "the VAE's net: mlp, conv (strided convolutions), or auto (conv)";
    latentHelp["vae_width"] = "channels of the conv VAE's first convolution, 4..256";
    latentHelp["vae_likelihood"] =
        "the VAE's decoder likelihood: auto (bernoulli), bernoulli, unit-gaussian, or gaussian "
        "(one learned standard deviation)";
    latentHelp["vae_beta"] =
        "weight of the VAE's KL term, >= 0: below 1 weighs reconstruction more and lets the "
        "latents stray from N(0, I), which the denoiser learns to draw anyway";
    latentHelp["vae_precision"] =
        "what the VAE's training steps compute convolutions and products in: fp32 or bf16 (CPU "
        "autocast; its weights and the denoiser stay fp32; on a GPU: fp32)";
    latentHelp["hidden"] = "width of the denoiser's residual MLP";
    latentHelp["depth"] = "residual blocks of the denoiser, 1..32";
    latentHelp["autoencoder"] =
        "run folder of a trained vae or cvae to use instead of training "
        "one (empty: train a plain VAE first)";
    Family f;
    f.models = {
        {{.name = "ddpm",
          .description = "Class-conditional DDPM: U-Net noise predictor, EMA weights, DDIM or "
                         "DDPM sampling, classifier-free and classifier guidance",
          .family = ModelFamily::Diffusion,
          .images = true,
          .tabular = false,
          .conditional = true,
          .guidance = true,
          .classifierGuidance = true,
          .slowDraws = true,
          .defaults = {{"width", "32"},
                       {"timesteps", "1000"},
                       {"schedule", "linear"},
                       {"label_dropout", "0.1"},
                       {"ema", "0.999"},
                       {"sample_steps", "50"}},
          .help = ddpmHelp},
         [](const ModelShape& shape, const Settings& s, const LinkedModels&) {
             return std::make_unique<Ddpm>(shape, s);
         }},
        {{.name = "latent-ddpm",
          .description = "Class-conditional diffusion in a VAE's latent space: residual-MLP "
                         "denoiser, steps take milliseconds; classifier-free guidance",
          .family = ModelFamily::Diffusion,
          .images = true,
          .tabular = false,
          .conditional = true,
          .guidance = true,
          .runSettings = {"autoencoder"},
          .defaults = LatentDdpm::defaults(),
          .help = latentHelp},
         [](const ModelShape& shape, const Settings& s, const LinkedModels& links) {
             const auto it = links.find("autoencoder");
             return std::make_unique<LatentDdpm>(shape, s,
                                                 it == links.end() ? nullptr : it->second);
         }},
        {{.name = "noisy-classifier",
          .description = "Time-conditioned CNN classifier of noisy images: guides ddpm "
                         "(classifier guidance)",
          .family = ModelFamily::Classifier,
          .images = true,
          .tabular = false,
          .conditional = true,
          .generates = false,
          .guidesDiffusion = true,
          .defaults = {{"width", "32"}, {"timesteps", "1000"}, {"schedule", "linear"}},
          .help = withSchedule({{"width",
                                 "channels of the first stage (x2, x4 below), "
                                 "multiple of 8"}})},
         [](const ModelShape& shape, const Settings& s, const LinkedModels&) {
             return std::make_unique<NoisyClassifier>(shape, s);
         }},
    };
    f.presets = diffusionPresets();
    return f;
}

}  // namespace ll
