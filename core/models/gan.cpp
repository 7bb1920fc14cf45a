#include "models/gan.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "data/dataset.h"
#include "models/fusedadam.h"
#include "models/precision.h"

namespace ll {

namespace nn = torch::nn;

// The Gumbel-softmax temperature a table's categories are relaxed at in training (CTGAN's,
// Xu et al. 2019), whose gradient the straight-through draw passes on.
constexpr double kCategoryTau = 0.2;

namespace {

std::string joinInts(const std::vector<int>& values) {
    std::string out;
    for (int v : values) out += (out.empty() ? "" : ",") + std::to_string(v);
    return out;
}

std::string formatNumber(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

}  // namespace

namespace {

std::string kindName(Gan::Kind kind) {
    using Kind = Gan::Kind;
    switch (kind) {
        case Kind::Dcgan:
            return "dcgan";
        case Kind::Cgan:
            return "cgan";
        case Kind::Acgan:
            return "acgan";
        case Kind::WganGp:
            return "wgan-gp";
    }
    return "dcgan";
}

/// The "d_norm" setting: batch (default) or none for WGAN-GP's critic, spectral or layer for any.
GanNorm discriminatorNorm(const Settings& settings, bool wasserstein) {
    const auto it = settings.find("d_norm");
    const std::string name =
        it == settings.end() || it->second.empty() ? (wasserstein ? "none" : "batch") : it->second;
    if (name == "spectral") return GanNorm::Spectral;
    if (name == "none") return GanNorm::None;
    if (name == "layer") return GanNorm::Layer;
    if (name != "batch")
        throw std::invalid_argument(
            "setting 'd_norm' must be batch, spectral, layer or none; got '" + name + "'");
    if (wasserstein)
        throw std::invalid_argument(
            "setting 'd_norm': a WGAN-GP critic cannot take batch norm (it would couple the "
            "samples its gradient penalty scores one by one); use layer, spectral or none");
    return GanNorm::Batch;
}

}  // namespace

Gan::Gan(Kind kind, const ModelShape& shape, const Settings& settings)
    : ModelBase(kindName(kind), shape, settings), m_kind(kind) {
    const bool wasserstein = kind == Kind::WganGp;
    m_latent = settingWhole(settings, "latent", 64, 1, 4096);
    const int width = settingWhole(settings, "width", 64, 1, 1024);
    const int criticWidth = settingWhole(settings, "d_width", width, 1, 1024);
    const auto hidden = settingInts(settings, "hidden", {256, 256});
    const double beta1 = settingNumber(settings, "beta1", wasserstein ? 0.0 : 0.5);
    const double beta2 = settingNumber(settings, "beta2", wasserstein ? 0.9 : 0.999);
    m_lrRatio = settingNumber(settings, "d_lr_ratio", 1.0);
    const double lr = settingNumber(settings, "lr", wasserstein ? 1e-4 : 2e-4);
    m_ema = settingNumber(settings, "ema", 0.0);
    m_lookaheadAlpha = settingNumber(settings, "lookahead_alpha", 0.5);
    if (!(m_lookaheadAlpha > 0 && m_lookaheadAlpha <= 1))
        throw std::invalid_argument("setting 'lookahead_alpha' must lie in (0, 1]");
    m_lookahead = settingWhole(settings, "lookahead", 0, 0, 1000);
    for (int h : hidden)
        if (h < 1 || h > 65536)
            throw std::invalid_argument("setting 'hidden' needs widths in 1..65536");
    if (!(beta1 >= 0 && beta1 < 1))
        throw std::invalid_argument("setting 'beta1' must lie in [0, 1)");
    if (!(beta2 >= 0 && beta2 < 1))
        throw std::invalid_argument("setting 'beta2' must lie in [0, 1)");
    if (!(m_ema >= 0 && m_ema < 1)) throw std::invalid_argument("setting 'ema' must lie in [0, 1)");
    if (!(m_lrRatio > 0 && m_lrRatio <= 100))
        throw std::invalid_argument("setting 'd_lr_ratio' must lie in (0, 100]");
    if (!shape.tabular() &&
        (shape.height < 4 || shape.width < 4 || shape.height % 4 || shape.width % 4))
        throw std::invalid_argument(
            "image height and width must be multiples of 4 (the generator starts at a quarter of "
            "each); got " +
            std::to_string(shape.height) + "x" + std::to_string(shape.width));
    if (shape.tabular() && kind != Kind::Cgan)
        throw std::invalid_argument("only cgan takes tabular rows");
    m_settings["latent"] = std::to_string(m_latent);
    m_settings["beta1"] = formatNumber(beta1);
    m_settings["beta2"] = formatNumber(beta2);
    m_settings["d_lr_ratio"] = formatNumber(m_lrRatio);
    m_settings["ema"] = formatNumber(m_ema);
    m_settings["lookahead"] = std::to_string(m_lookahead);
    m_settings["lookahead_alpha"] = formatNumber(m_lookaheadAlpha);
    if (shape.tabular()) {
        m_settings["hidden"] = joinInts(hidden);
        m_settings.erase("width");
        m_settings.erase("d_width");
    } else {
        m_settings["width"] = std::to_string(width);
        m_settings["d_width"] = std::to_string(criticWidth);
    }
    if (!wasserstein) {
        m_modeSeeking = settingNumber(settings, "mode_seeking", 1.0);
        if (!(m_modeSeeking >= 0 && m_modeSeeking <= 100))
            throw std::invalid_argument("setting 'mode_seeking' must lie in 0..100");
        m_settings["mode_seeking"] = formatNumber(m_modeSeeking);
    }
    if (kind == Kind::Acgan) {
        m_auxWeight = settingNumber(settings, "aux_weight", 1.0);
        if (!(m_auxWeight >= 0))
            throw std::invalid_argument("setting 'aux_weight' must not be negative");
        m_settings["aux_weight"] = formatNumber(m_auxWeight);
        const double projection = settingNumber(settings, "projection", 0);
        if (projection != 0 && projection != 1)
            throw std::invalid_argument("setting 'projection' must be 0 or 1");
        m_settings["projection"] = projection == 1 ? "1" : "0";
    }
    if (wasserstein) {
        m_gp = settingNumber(settings, "gp", 10.0);
        m_criticSteps = settingWhole(settings, "critic_steps", 5, 1, 100);
        if (!(m_gp >= 0)) throw std::invalid_argument("setting 'gp' must not be negative");
        m_settings["gp"] = formatNumber(m_gp);
        m_settings["critic_steps"] = std::to_string(m_criticSteps);
        m_gpEvery = settingWhole(settings, "gp_every", 1, 1, 64);
        m_settings["gp_every"] = std::to_string(m_gpEvery);
        if (m_gpEvery > 1) m_criticUpdates = StepCount();
    }

    m_precision = readPrecision(settings, m_settings, m_device);
    const auto norm = discriminatorNorm(settings, wasserstein);
    m_settings["d_norm"] = norm == GanNorm::Batch      ? "batch"
                           : norm == GanNorm::Spectral ? "spectral"
                           : norm == GanNorm::Layer    ? "layer"
                                                       : "none";
    const GanCondition condition{
        .projection =
            kind == Kind::Cgan || (kind == Kind::Acgan && m_settings["projection"] == "1"),
        .auxiliary = kind == Kind::Acgan};
    // A table's MLPs take none of the convolutions' settings (width, d_width, refine): the
    // image presets a table may start from set them, and they are left out of its settings.
    const int refine = shape.tabular() ? 0 : settingWhole(settings, "refine", 0, 0, 4);
    if (shape.tabular())
        m_settings.erase("refine");
    else
        m_settings["refine"] = std::to_string(refine);
    CategoryColumns::Groups groups;
    if (shape.tabular()) {
        groups = settingCategories(settings, shape.features);
        const auto given = settings.find("categories");
        m_settings["categories"] = given == settings.end() ? "" : given->second;
    } else {
        if (!settingCategories(settings, shape.dataDim()).empty())
            throw std::invalid_argument(
                "setting 'categories' is for a table's categorical columns, not images");
        m_settings.erase("categories");
    }
    // Every generator, copies included, holds the levels, so that their buffers line up.
    const auto makeGenerator = [&] {
        auto g = GanGenerator(shape, m_latent, width, hidden, conditional(), refine);
        if (shape.tabular()) CategoryColumns(groups, shape.features, *g);
        return g;
    };
    m_generator = GanGenerator(shape, m_latent, width, hidden, conditional(), refine);
    if (shape.tabular()) {
        m_categories = CategoryColumns(groups, shape.features, *m_generator);
        m_categories.to(m_device);
    }
    m_discriminator = GanDiscriminator(shape, criticWidth, hidden, condition, norm);
    {
        // The copies below are built without drawing from the random stream (their weights
        // are the trained networks'), so that training draws the same numbers with or without.
        auto random = at::detail::getDefaultCPUGenerator();
        const auto state = random.get_state();
        if (m_ema > 0) {
            m_average = makeGenerator();
            m_averageSteps = StepCount();
        }
        if (m_lookahead > 0) {
            m_slowGenerator = makeGenerator();
            m_slowDiscriminator = GanDiscriminator(shape, criticWidth, hidden, condition, norm);
            m_lookaheadSteps = StepCount();
        }
        random.set_state(state);
    }
    // The copies train nothing; step counts stay on the CPU: they are read every step.
    const auto freeze = [&](torch::nn::Module& copy) {
        for (auto& p : copy.parameters()) p.set_requires_grad(false);
        copy.to(m_device);
    };
    if (m_average) freeze(*m_average);
    if (m_slowGenerator) {
        freeze(*m_slowGenerator);
        freeze(*m_slowDiscriminator);
    }
    m_generator->to(m_device);
    m_discriminator->to(m_device);
    if (m_average) updateEma(*m_average, *m_generator, 0);
    if (m_slowGenerator) {
        updateEma(*m_slowGenerator, *m_generator, 0);
        updateEma(*m_slowDiscriminator, *m_discriminator, 0);
    }
    m_generatorOptimizer = std::make_unique<FusedAdam>(
        m_generator->parameters(), torch::optim::AdamOptions(lr).betas({beta1, beta2}));
    m_discriminatorOptimizer = std::make_unique<FusedAdam>(
        m_discriminator->parameters(),
        torch::optim::AdamOptions(lr * m_lrRatio).betas({beta1, beta2}));
}

void Gan::fitToData(const Dataset& data) {
    m_categories.fit(data);
    if (m_categories.empty()) return;
    // The copies' levels follow: the weight average samples with them.
    torch::NoGradGuard noGrad;
    const auto levels = m_generator->named_buffers(false)["category_levels"];
    for (GanGenerator* copy : {&m_average, &m_slowGenerator})
        if (*copy) (*copy)->named_buffers(false)["category_levels"].copy_(levels);
}

void Gan::setLearningRate(double lr) {
    setAdamLearningRate(*m_generatorOptimizer, lr);
    setAdamLearningRate(*m_discriminatorOptimizer, lr * m_lrRatio);
}

torch::Tensor Gan::generate(GanGenerator& net, const torch::Tensor& z, const torch::Tensor& y) {
    auto out = net->forward(z, y).to(torch::kFloat);
    return m_shape.tabular() ? out : torch::sigmoid(out);
}

void Gan::afterGeneratorUpdate() {
    if (m_slowGenerator) {
        // Lookahead (Zhang et al. 2019; for both players of a GAN, Chavdarova et al. 2021):
        // every k steps the slow weights move a fraction alpha towards the fast ones and the
        // fast ones start again from there, which damps the rotation of the two players'
        // updates around each other. Adam's moments carry on; buffers stay the fast ones'.
        auto& count = m_lookaheadSteps->step;
        count.add_(1);
        if (count.item<std::int64_t>() % m_lookahead == 0) {
            torch::NoGradGuard noGrad;
            const auto pull = [&](torch::nn::Module& slow, torch::nn::Module& fast) {
                fusedEma(slow.parameters(), fast.parameters(), 1 - m_lookaheadAlpha);
                auto s = slow.parameters();
                auto f = fast.parameters();
                for (std::size_t i = 0; i < s.size(); ++i) f[i].copy_(s[i]);
            };
            pull(*m_slowGenerator, *m_generator);
            pull(*m_slowDiscriminator, *m_discriminator);
            dropCastWeights();
        }
    }
    if (!m_average) return;
    auto& step = m_averageSteps->step;
    updateEma(*m_average, *m_generator, emaDecay(m_ema, step.item<std::int64_t>()));
    step.add_(1);
}

// The generator's update needs gradients through the discriminator's input, not into its
// weights: freezing them skips the weight-gradient half of the discriminator's backward.
void Gan::setDiscriminatorTrainable(bool trainable) {
    for (auto& p : m_discriminator->parameters()) p.set_requires_grad(trainable);
}

LossMap Gan::trainStep(const torch::Tensor& x, const torch::Tensor& y) {
    m_generator->train();
    m_discriminator->train();
    const PrecisionScope precision(m_precision);
    auto data = m_shape.tabular() ? x.reshape({x.size(0), -1}) : x;
    return m_kind == Kind::WganGp ? wassersteinStep(data.to(m_device), y.to(m_device))
                                  : adversarialStep(data.to(m_device), y.to(m_device));
}

LossMap Gan::adversarialStep(const torch::Tensor& x, const torch::Tensor& y) {
    namespace F = torch::nn::functional;
    const auto n = x.size(0);
    const auto half = n / 2;
    // Fakes of the batch's own classes, so the discriminator sees both in the same mix; with
    // mode seeking, the second half repeats the first half's classes with other noise.
    auto fakeLabels = y;
    if (m_modeSeeking > 0 && half > 0)
        fakeLabels = torch::cat({y.slice(0, 0, half), y.slice(0, 0, n - half)});
    auto z = torch::randn({n, m_latent}, x.options());
    // A table's categories reach the discriminator as one value drawn from the generator's
    // softmax, as real rows hold exactly one value each.
    auto fake = m_categories.relax(generate(z, fakeLabels), kCategoryTau);

    setDiscriminatorTrainable(true);
    auto real = m_discriminator->forward(x, y);
    auto faked = m_discriminator->forward(fake.detach(), fakeLabels);
    auto dLoss =
        F::binary_cross_entropy_with_logits(real.adversarial, torch::ones_like(real.adversarial)) +
        F::binary_cross_entropy_with_logits(faked.adversarial,
                                            torch::zeros_like(faked.adversarial));
    torch::Tensor aux;
    if (m_kind == Kind::Acgan) {
        // The class head learns from real images only. Taught the fakes' labels too (as in
        // Odena et al.), it agrees with the generator on any private code for a class, and
        // the samples drift away from what the class looks like (agreement 0.30 after 2,000
        // steps, against 0.79 for cgan).
        aux = F::cross_entropy(real.classes, y);
        dLoss = dLoss + m_auxWeight * aux;
    }
    dropGradients(*m_discriminator);
    dLoss.backward();
    m_discriminatorOptimizer->step();

    setDiscriminatorTrainable(false);
    auto judged = m_discriminator->forward(fake, fakeLabels);
    auto gLoss = F::binary_cross_entropy_with_logits(judged.adversarial,
                                                     torch::ones_like(judged.adversarial));
    if (m_kind == Kind::Acgan)
        gLoss = gLoss + m_auxWeight * F::cross_entropy(judged.classes, fakeLabels);
    torch::Tensor seeking;
    if (m_modeSeeking > 0 && half > 0) {
        // Mode seeking (Mao et al. 2019): two noise vectors of one class must give images as
        // far apart as the vectors are, or the generator pays. Without it the generators
        // drew one image per class whatever z (pixel spread within a class 0.03 against
        // 0.26 across classes).
        auto apart = [&](const torch::Tensor& t) {
            auto a = t.slice(0, 0, half), b = t.slice(0, half, 2 * half);
            return (a - b).abs().flatten(1).mean(1);
        };
        seeking = m_modeSeeking / ((apart(fake) / apart(z)).mean() + 1e-5);
        gLoss = gLoss + seeking;
    }
    dropGradients(*m_generator);
    gLoss.backward();
    m_generatorOptimizer->step();
    afterGeneratorUpdate();
    setDiscriminatorTrainable(true);

    // "generator" is the adversarial (and class) part alone: the mode-seeking term, logged
    // beside it, would otherwise hide how the two networks are doing.
    const double g = gLoss.item<double>();
    const double d = dLoss.item<double>();
    const double ms = seeking.defined() ? seeking.item<double>() : 0.0;
    LossMap out{{"loss", g + d}, {"generator", g - ms}, {"discriminator", d}};
    if (aux.defined()) out["aux"] = aux.item<double>();
    if (seeking.defined()) out["mode_seeking"] = ms;
    return out;
}

LossMap Gan::wassersteinStep(const torch::Tensor& x, const torch::Tensor& y) {
    const auto n = x.size(0);
    torch::Tensor dLoss, penalty, distance;
    setDiscriminatorTrainable(true);
    for (int i = 0; i < m_criticSteps; ++i) {
        // Lazy regularisation (gp_every k): the penalty on every k-th update, weighted k times.
        const bool penalise =
            !m_criticUpdates || m_criticUpdates->step.item<std::int64_t>() % m_gpEvery == 0;
        torch::Tensor fake;
        {
            torch::NoGradGuard noGrad;
            fake = generate(torch::randn({n, m_latent}, x.options()), y);
        }
        auto realScore = m_discriminator->forward(x, y).adversarial.mean();
        auto fakeScore = m_discriminator->forward(fake, y).adversarial.mean();
        if (penalise) {
            // The penalty on straight lines between real and fake samples (Gulrajani et al.),
            // in fp32 whatever the precision: its double backward in bf16 wrecked the critic
            // (FID 451 instead of 199 on wgan-gp-cpu).
            const auto inFp32 = PrecisionScope::fp32();
            std::vector<std::int64_t> mixShape(static_cast<std::size_t>(x.dim()), 1);
            mixShape[0] = n;
            auto mix = torch::rand(mixShape, x.options());
            auto between = (mix * x + (1 - mix) * fake).requires_grad_(true);
            auto score = m_discriminator->forward(between, y).adversarial;
            auto grad = torch::autograd::grad({score.sum()}, {between}, {}, true, true)[0];
            penalty = (grad.reshape({n, -1}).norm(2, 1) - 1).pow(2).mean();
        }
        distance = realScore - fakeScore;
        dLoss = penalise ? -distance + (m_gp * m_gpEvery) * penalty : -distance;
        if (m_criticUpdates) {
            m_criticUpdates->step.add_(1);
            if (penalise) m_latestPenalty = penalty.item<double>();
        }
        dropGradients(*m_discriminator);
        dLoss.backward();
        m_discriminatorOptimizer->step();
        // The next critic step must cast the weights just updated, not reuse the bf16 copies.
        dropCastWeights();
    }

    setDiscriminatorTrainable(false);
    auto fake = generate(torch::randn({n, m_latent}, x.options()), y);
    auto gLoss = -m_discriminator->forward(fake, y).adversarial.mean();
    dropGradients(*m_generator);
    gLoss.backward();
    m_generatorOptimizer->step();
    afterGeneratorUpdate();
    setDiscriminatorTrainable(true);

    const double g = gLoss.item<double>();
    const double w = distance.item<double>();
    // At gp_every 1 the loss minimised; lazily, the critic's objective with the latest penalty.
    const double gp = m_criticUpdates ? m_latestPenalty : penalty.item<double>();
    const double d = m_criticUpdates ? -w + m_gp * gp : dLoss.item<double>();
    return {
        {"loss", g + d}, {"generator", g}, {"discriminator", d}, {"gp", gp}, {"wasserstein", w}};
}

torch::Tensor Gan::sample(const SampleRequest& request) {
    return decodeLatents(latents(request), request);
}

torch::Tensor Gan::latents(const SampleRequest& request) {
    return truncatedNormal({request.count, m_latent}, request.seed, request.truncation, m_device);
}

torch::Tensor Gan::decodeLatents(const torch::Tensor& z, const SampleRequest& request) {
    torch::NoGradGuard noGrad;
    auto& net = m_average ? m_average : m_generator;
    net->eval();
    SampleRequest r = request;
    r.count = z.size(0);
    auto labels = conditional() ? requestCondition(r, m_shape.numClasses)
                                : torch::zeros({r.count}, torch::kInt64);
    auto out = generate(net, z.to(m_device), labels.to(m_device));
    if (m_shape.tabular())
        return m_categories.draw(out, r.temperature, r.seed).to(torch::kCPU, torch::kFloat32);
    return toImages(out, m_shape);
}

std::vector<std::pair<std::string, torch::nn::Module*>> Gan::modules() {
    std::vector<std::pair<std::string, torch::nn::Module*>> all{
        {"generator", m_generator.get()}, {"discriminator", m_discriminator.get()}};
    if (m_average) {
        all.emplace_back("generator_average", m_average.get());
        all.emplace_back("generator_average_steps", m_averageSteps.get());
    }
    if (m_criticUpdates) all.emplace_back("critic_updates", m_criticUpdates.get());
    if (m_slowGenerator) {
        all.emplace_back("generator_slow", m_slowGenerator.get());
        all.emplace_back("discriminator_slow", m_slowDiscriminator.get());
        all.emplace_back("lookahead_steps", m_lookaheadSteps.get());
    }
    return all;
}

bool Gan::isOptionalModule(const std::string& key) const {
    // All but the two networks came later (the weight average, the lazy penalty's count,
    // lookahead's copies); restoreMissingModule starts each from the networks.
    return key != "generator" && key != "discriminator";
}

void Gan::restoreMissingModule(const std::string& key) {
    // The generator has loaded by now; the warm-up starts over from it.
    if (key == "generator_average") updateEma(*m_average, *m_generator, 0);
    if (key == "generator_average_steps") m_averageSteps->step.zero_();
    if (key == "critic_updates") m_criticUpdates->step.zero_();
    if (key == "generator_slow") updateEma(*m_slowGenerator, *m_generator, 0);
    if (key == "discriminator_slow") updateEma(*m_slowDiscriminator, *m_discriminator, 0);
    if (key == "lookahead_steps") m_lookaheadSteps->step.zero_();
}

std::vector<std::pair<std::string, torch::optim::Optimizer*>> Gan::optimizers() {
    return {{"generator_optimizer", m_generatorOptimizer.get()},
            {"discriminator_optimizer", m_discriminatorOptimizer.get()}};
}

}  // namespace ll
