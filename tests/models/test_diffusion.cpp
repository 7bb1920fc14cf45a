// The diffusion family: schedules, samplers and guidance, and short real training runs that
// assert learning (loss falls, noisy accuracy above chance, agreement rises with guidance).

#include <cmath>
#include <stdexcept>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "fixture.h"
#include "models/latentdiffusion.h"
#include "models/schedule.h"
#include "run/runloader.h"
#include "train/trainer.h"

namespace {

using ll::NoiseSchedule;

class Schedules : public ::testing::TestWithParam<NoiseSchedule::Kind> {};

TEST_P(Schedules, AlphaBarFallsFromOneToNearZero) {
    for (int timesteps : {10, 1000}) {
        NoiseSchedule s(GetParam(), timesteps);
        ASSERT_EQ(s.timesteps(), timesteps);
        EXPECT_GT(s.alphaBar(0), 0.97) << timesteps;
        EXPECT_LT(s.alphaBar(0), 1.0);
        EXPECT_LT(s.alphaBar(timesteps - 1), 1e-2) << timesteps;
        EXPECT_GT(s.alphaBar(timesteps - 1), 0.0);
        for (int t = 1; t < timesteps; ++t) {
            ASSERT_LT(s.alphaBar(t), s.alphaBar(t - 1)) << "t = " << t;
            ASSERT_NEAR(s.alphaBar(t), s.alphaBar(t - 1) * (1 - s.beta(t)), 1e-12);
        }
    }
}

TEST_P(Schedules, RespacedStepsEndAtTheLastStep) {
    NoiseSchedule s(GetParam(), 1000);
    auto steps = s.respaced(50);
    ASSERT_EQ(steps.size(), 50u);
    EXPECT_EQ(steps.front(), 0);
    EXPECT_EQ(steps.back(), 999);
    for (std::size_t i = 1; i < steps.size(); ++i) EXPECT_LT(steps[i - 1], steps[i]);
    EXPECT_EQ(s.respaced(1), std::vector<int>{999});
    EXPECT_EQ(s.respaced(0).size(), 1000u);
}

INSTANTIATE_TEST_SUITE_P(Diffusion, Schedules,
                         ::testing::Values(NoiseSchedule::Kind::Linear,
                                           NoiseSchedule::Kind::Cosine));

TEST(Diffusion, LinearScheduleMatchesHoEtAl) {
    NoiseSchedule s(NoiseSchedule::Kind::Linear, 1000);
    EXPECT_NEAR(s.beta(0), 1e-4, 1e-12);
    EXPECT_NEAR(s.beta(999), 0.02, 1e-12);
    // prod(1 - beta) over the linear schedule: 4.036e-5 (numpy).
    EXPECT_NEAR(s.alphaBar(999), 4.036e-5, 1e-7);
}

std::string buildError(const std::string& model, ll::Settings settings, ll::ModelShape shape = {}) {
    auto made = ll::buildModel(model, shape, settings);
    return made ? std::string() : made.error().message;
}

TEST(Diffusion, BadSettingsNameTheSetting) {
    EXPECT_NE(buildError("ddpm", {{"schedule", "quadratic"}}).find("schedule"), std::string::npos);
    EXPECT_NE(buildError("ddpm", {{"timesteps", "1"}}).find("timesteps"), std::string::npos);
    EXPECT_NE(buildError("ddpm", {{"width", "12"}}).find("width"), std::string::npos);
    EXPECT_NE(buildError("ddpm", {{"label_dropout", "1.5"}}).find("label_dropout"),
              std::string::npos);
    EXPECT_NE(buildError("ddpm", {{"sample_steps", "2000"}}).find("sample_steps"),
              std::string::npos);
    EXPECT_NE(buildError("ddpm", {}, {.height = 30, .width = 30}).find("multiples of 4"),
              std::string::npos);
    EXPECT_NE(buildError("noisy-classifier", {{"schedule", "cubic"}}).find("schedule"),
              std::string::npos);
    EXPECT_NE(buildError("latent-ddpm", {{"depth", "0"}}).find("depth"), std::string::npos);
    // The own VAE's refusals name this model's settings, not the VAE's.
    const auto net = buildError("latent-ddpm", {{"vae_net", "resnet"}});
    EXPECT_NE(net.find("'vae_net'"), std::string::npos) << net;
    const auto likelihood = buildError("latent-ddpm", {{"vae_likelihood", "poisson"}});
    EXPECT_NE(likelihood.find("'vae_likelihood'"), std::string::npos) << likelihood;
    const auto width = buildError("latent-ddpm", {{"vae_net", "conv"}, {"vae_width", "2"}});
    EXPECT_NE(width.find("'vae_width'"), std::string::npos) << width;
    const auto beta = buildError("latent-ddpm", {{"vae_beta", "-0.5"}});
    EXPECT_NE(beta.find("'vae_beta'"), std::string::npos) << beta;
    const auto precision = buildError("latent-ddpm", {{"vae_precision", "fp16"}});
    EXPECT_NE(precision.find("'vae_precision'"), std::string::npos) << precision;
}

TEST(Diffusion, LatentDdpmVaeBetaWeighsItsVaesKlTerm) {
    // Its VAE's steps report loss = reconstruction + vae_beta * KL, beta 1 unless given.
    for (const auto& [given, weight] : {std::pair<std::string, double>{"", 1.0}, {"0.1", 0.1}}) {
        ll::Settings settings{{"vae_net", "conv"}, {"vae_steps", "5"}, {"latent", "8"}};
        if (!given.empty()) settings["vae_beta"] = given;
        auto model = ll::buildModel("latent-ddpm", {}, settings);
        ASSERT_TRUE(model) << model.error().message;
        EXPECT_EQ((*model)->settings().at("vae_beta"), given.empty() ? "1" : given);
        EXPECT_EQ((*model)->settings().at("vae_precision"), "fp32");
        torch::manual_seed(3);
        const auto losses = (*model)->trainStep(torch::rand({8, 1, 28, 28}), torch::arange(8));
        ASSERT_GT(losses.at("kl"), 0);
        EXPECT_NEAR(losses.at("loss"), losses.at("reconstruction") + weight * losses.at("kl"),
                    1e-3 * std::abs(losses.at("loss")));
    }
}

TEST(Diffusion, LatentDdpmOwnVaeIsConvOnImagesAndOldRunsKeepTheirMlp) {
    auto conv =
        ll::buildModel("latent-ddpm", {}, {{"vae_net", "auto"}, {"vae_likelihood", "gaussian"}});
    ASSERT_TRUE(conv) << conv.error().message;
    auto settings = (*conv)->settings();
    EXPECT_EQ(settings.at("vae_net"), "conv");
    EXPECT_EQ(settings.at("vae_width"), "32");
    EXPECT_EQ(settings.at("vae_likelihood"), "gaussian");
    EXPECT_EQ((*conv)->workload(), ll::Workload::Conv);

    // A run from before vae_net had none of these settings: the MLP with the Bernoulli
    // likelihood, parameter for parameter the plain vae of the same widths.
    auto old = ll::buildModel("latent-ddpm", {}, {{"latent", "8"}, {"vae_hidden", "64"}});
    ASSERT_TRUE(old) << old.error().message;
    EXPECT_EQ((*old)->settings().at("vae_net"), "mlp");
    EXPECT_EQ((*old)->settings().at("vae_likelihood"), "bernoulli");
    EXPECT_FALSE((*old)->settings().contains("vae_width"));
    EXPECT_EQ((*old)->workload(), ll::Workload::Mlp);
    EXPECT_GT((*conv)->parameterCount(), (*old)->parameterCount());
}

TEST(Diffusion, LatentDdpmComputesLikeItsVaeThenLikeAnMlp) {
    // The Trainer hands the cores to the pool of model->workload() whenever it changes: the
    // conv VAE's pool for its steps, then the MLP denoiser's (its steps, and sampling).
    auto model = ll::buildModel("latent-ddpm", {},
                                {{"vae_net", "conv"}, {"vae_steps", "2"}, {"latent", "8"}});
    ASSERT_TRUE(model) << model.error().message;
    const auto x = torch::rand({8, 1, 28, 28});
    const auto y = torch::arange(8) % 10;
    EXPECT_EQ((*model)->workload(), ll::Workload::Conv);
    (*model)->trainStep(x, y);
    EXPECT_EQ((*model)->workload(), ll::Workload::Conv);
    (*model)->trainStep(x, y);  // the VAE's last step
    EXPECT_EQ((*model)->workload(), ll::Workload::Mlp);
    EXPECT_TRUE((*model)->trainStep(x, y).contains("denoiser"));
    EXPECT_EQ((*model)->workload(), ll::Workload::Mlp);
}

TEST(Diffusion, LatentDenoiserEmbedsEachDistinctConditionOnceAtInference) {
    // A guided sampling step: one t, 20 rows of 10 classes and 20 of the null label.
    const auto t = torch::full({40}, 417, torch::kInt64);
    const auto hard = torch::cat({torch::arange(20) % 10, torch::full({20}, 10, torch::kInt64)});
    // Class mixtures (the steering sliders' soft labels): 4 distinct ones, repeated.
    const auto soft = torch::softmax(torch::randn({4, 11}), 1).repeat({10, 1});
    torch::NoGradGuard noGrad;
    const auto shared = ll::distinctConditions(t, hard);
    ASSERT_TRUE(shared.has_value());
    EXPECT_EQ(shared->first.size(0), 11);
    EXPECT_TRUE(
        torch::equal(hard.index_select(0, shared->first).index_select(0, shared->rows), hard));
    const auto mixed = ll::distinctConditions(t, soft);
    ASSERT_TRUE(mixed.has_value());
    EXPECT_EQ(mixed->first.size(0), 4);
    // Random t per row (a training batch) rarely repeats: the plain path.
    EXPECT_FALSE(ll::distinctConditions(torch::randint(1000, {40}), hard).has_value());
    {
        torch::AutoGradMode recording(true);
        EXPECT_FALSE(ll::distinctConditions(t, hard).has_value());
    }

    // What the net predicts is the row-by-row path's (the one training takes), to rounding.
    torch::manual_seed(3);
    ll::LatentDenoiser net(8, 32, 2, 10);
    const auto x = torch::randn({40, 8});
    for (const auto& labels : {hard, soft}) {
        const auto gathered = net->forward(x, t, labels);
        torch::AutoGradMode recording(true);
        const auto plain = net->forward(x, t, labels).detach();
        EXPECT_TRUE(torch::allclose(gathered, plain, 1e-5, 1e-6))
            << (gathered - plain).abs().max().item<double>();
    }
}

TEST(Diffusion, AutoencoderMustBeAVaeRunOfTheSameData) {
    auto missing = buildError("latent-ddpm", {{"autoencoder", "/nonexistent/run"}});
    EXPECT_NE(missing.find("autoencoder"), std::string::npos) << missing;
    auto classifier = buildError("latent-ddpm", {{"autoencoder", LATENTLAB_FIXTURE_CLASSIFIER}});
    EXPECT_NE(classifier.find("not a VAE"), std::string::npos) << classifier;

    // A tiny real VAE run: accepted for its own data shape, refused for another.
    auto dir = fixture::tempDir("diffusion-vae");
    ll::Trainer trainer({.dataset = {.source = "fashion-mnist", .limit = 256},
                         .model = "vae",
                         .settings = {{"latent", "8"}, {"hidden", "64"}},
                         .steps = 20,
                         .batchSize = 32,
                         .sampleEvery = 1000,
                         .runDir = dir},
                        [](const ll::TrainEvent&) {});
    ASSERT_EQ(trainer.run({}).outcome, ll::TrainFinished::Outcome::Completed);
    auto model = ll::buildModel("latent-ddpm", {}, {{"autoencoder", dir.string()}});
    ASSERT_TRUE(model) << model.error().message;
    EXPECT_EQ((*model)->settings().at("latent"), "8");
    // Its own VAE of the same widths is that vae model, parameter for parameter (which is
    // also what a run from before vae_net kept in its checkpoints).
    auto vae = ll::buildModel("vae", {}, {{"latent", "8"}, {"hidden", "64"}});
    auto own = ll::buildModel("latent-ddpm", {}, {{"latent", "8"}, {"vae_hidden", "64"}});
    ASSERT_TRUE(vae && own);
    EXPECT_EQ((*own)->parameterCount(), (*vae)->parameterCount() + (*model)->parameterCount());
    // Models never open runs: without the run loader the linked model is missing.
    auto unlinked = ll::createModel("latent-ddpm", {}, {{"autoencoder", dir.string()}});
    ASSERT_FALSE(unlinked);
    EXPECT_NE(unlinked.error().message.find("run loader"), std::string::npos)
        << unlinked.error().message;
    auto other = buildError("latent-ddpm", {{"autoencoder", dir.string()}},
                            {.channels = 3, .height = 32, .width = 32});
    EXPECT_NE(other.find("trained on"), std::string::npos) << other;
    std::filesystem::remove_all(dir);
}

TEST(Diffusion, SamplingIsDeterministicPerSeedAndCheckpointed) {
    auto data = fixture::fashion(256);
    auto model = fixture::build("ddpm", data, {{"width", "8"}, {"sample_steps", "4"}});
    ASSERT_TRUE(model);
    fixture::train(*model, data, 3, 16);
    for (auto sampler : {ll::Sampler::Ddim, ll::Sampler::Ddpm}) {
        ll::SampleRequest r{.count = 6, .seed = 5, .guidance = 2, .sampler = sampler};
        auto a = model->sample(r);
        auto b = model->sample(r);
        ASSERT_EQ(a.sizes(), (std::vector<std::int64_t>{6, 1, 28, 28}));
        EXPECT_TRUE(torch::equal(a, b));
        EXPECT_GE(a.min().item<float>(), 0.0f);
        EXPECT_LE(a.max().item<float>(), 1.0f);
        r.seed = 6;
        EXPECT_FALSE(torch::equal(a, model->sample(r)));
    }
    // The EMA weights that sample are in the checkpoint.
    auto dir = fixture::tempDir("diffusion-ckpt");
    std::filesystem::create_directories(dir);
    auto saved = model->save(dir / "m.pt");
    ASSERT_TRUE(saved) << saved.error().message;
    auto copy = fixture::build("ddpm", data, {{"width", "8"}, {"sample_steps", "4"}});
    auto loaded = copy->load(dir / "m.pt");
    ASSERT_TRUE(loaded) << loaded.error().message;
    ll::SampleRequest r{.count = 4, .seed = 9};
    EXPECT_TRUE(torch::equal(model->sample(r), copy->sample(r)));
    std::filesystem::remove_all(dir);
}

TEST(Diffusion, ColourImages32x32) {
    ll::ModelShape shape{.channels = 3, .height = 32, .width = 32, .numClasses = 4};
    auto model = ll::createModel("ddpm", shape, {{"width", "8"}, {"sample_steps", "3"}});
    ASSERT_TRUE(model) << model.error().message;
    auto x = torch::rand({8, 3, 32, 32});
    auto y = torch::randint(4, {8}, torch::kInt64);
    EXPECT_TRUE(std::isfinite((*model)->trainStep(x, y).at("loss")));
    auto samples = (*model)->sample({.count = 5, .seed = 1, .guidance = 1});
    EXPECT_EQ(samples.sizes(), (std::vector<std::int64_t>{5, 3, 32, 32}));
}

TEST(Diffusion, DdpmLossFalls) {
    auto data = fixture::fashion(2000);
    auto model = fixture::build("ddpm", data, {{"width", "16"}});
    ASSERT_TRUE(model);
    double first = 0, last = 0;
    for (int i = 0; i < 10; ++i) first += fixture::train(*model, data, 1, 32, 100 + i).at("loss");
    fixture::train(*model, data, 40, 32, 7);
    for (int i = 0; i < 10; ++i) last += fixture::train(*model, data, 1, 32, 200 + i).at("loss");
    EXPECT_LT(last, 0.5 * first) << "mean loss of 10 steps: first " << first / 10 << ", after "
                                 << last / 10;
}

TEST(Diffusion, NoisyClassifierBeatsChanceAndGuides) {
    auto data = fixture::fashion(3000);
    auto model = fixture::build("noisy-classifier", data, {{"width", "16"}});
    ASSERT_TRUE(model);
    EXPECT_FALSE(model->generates());
    EXPECT_TRUE(model->classifiesNoisy());
    fixture::train(*model, data, 200, 64);

    auto test = fixture::fashion(500, "test");
    auto x0 = test.x * 2 - 1;
    const double alphaBar = 0.5;  // moderate noise: signal and noise of equal power
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(3);
    auto xt = std::sqrt(alphaBar) * x0 + std::sqrt(1 - alphaBar) * torch::randn(x0.sizes(), gen);
    torch::Tensor logits;
    {
        torch::NoGradGuard noGrad;
        logits = model->classifyNoisy(xt, torch::full({xt.size(0)}, alphaBar));
    }
    const double noisy = (logits.argmax(1) == test.y).to(torch::kFloat32).mean().item<double>();
    EXPECT_GT(noisy, 0.4) << "chance is 0.1";
    const double clean =
        (model->classify(test.x).argmax(1) == test.y).to(torch::kFloat32).mean().item<double>();
    EXPECT_GT(clean, 0.5);

    // Differentiable in x: what classifier guidance needs.
    auto input = xt.slice(0, 0, 8).clone().requires_grad_(true);
    auto score = model->classifyNoisy(input, torch::full({8}, alphaBar)).select(1, 0).sum();
    auto grad = torch::autograd::grad({score}, {input})[0];
    EXPECT_GT(grad.abs().sum().item<double>(), 0);

    // It guides a ddpm; a clean classifier cannot.
    auto ddpm = fixture::build("ddpm", data, {{"width", "8"}, {"sample_steps", "3"}});
    ASSERT_TRUE(ddpm);
    for (auto sampler : {ll::Sampler::Ddim, ll::Sampler::Ddpm}) {
        ll::SampleRequest r{.count = 4,
                            .seed = 2,
                            .sampler = sampler,
                            .classifier = model.get(),
                            .classifierScale = 5};
        auto guided = ddpm->sample(r);
        r.classifierScale = 0;
        EXPECT_FALSE(torch::equal(guided, ddpm->sample(r)));
    }
    auto clf = fixture::classifier();
    ASSERT_TRUE(clf);
    ll::SampleRequest bad{.count = 2, .classifier = clf.get(), .classifierScale = 1};
    try {
        ddpm->sample(bad);
        ADD_FAILURE() << "a clean classifier was accepted for classifier guidance";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("noisy classifier"), std::string::npos) << e.what();
    }
}

// Under both schedules. The cosine one's alphaBar falls to 2.4e-9 at its last step, where an
// unclipped estimate of the clean latent magnifies the denoiser's error 20,000 times: the
// samples were noise (agreement 0.12 at guidance 0 on latent-ddpm-cpu) until the samplers
// clipped it to the range of the latents trained on.
class LatentDdpmSchedules : public ::testing::TestWithParam<const char*> {};

TEST_P(LatentDdpmSchedules, LearnsAndGuidanceRaisesAgreement) {
    auto clf = fixture::classifier();
    ASSERT_TRUE(clf);
    auto data = fixture::fashion(10000);
    const ll::Settings settings{{"vae_steps", "1500"}, {"latent", "16"}, {"schedule", GetParam()}};
    auto model = fixture::build("latent-ddpm", data, settings);
    ASSERT_TRUE(model);
    auto vae = fixture::train(*model, data, 1500, 128);
    EXPECT_TRUE(vae.contains("vae_loss"));
    auto early = fixture::train(*model, data, 20, 128, 2);
    ASSERT_TRUE(early.contains("denoiser"));
    auto late = fixture::train(*model, data, 3000, 128, 3);
    EXPECT_LT(late.at("denoiser"), early.at("denoiser"));

    const double plain = fixture::agreement(*model, *clf, {.guidance = 0, .steps = 25}, 500);
    const double guided = fixture::agreement(*model, *clf, {.guidance = 3, .steps = 25}, 500);
    EXPECT_GT(guided, 0.6) << "chance is 0.1";
    EXPECT_GT(guided, plain);
    std::printf("latent-ddpm (%s schedule) agreement: guidance 0 %.3f, guidance 3 %.3f\n",
                GetParam(), plain, guided);

    auto dir = fixture::tempDir("diffusion-latent");
    std::filesystem::create_directories(dir);
    auto saved = model->save(dir / "m.pt");
    ASSERT_TRUE(saved) << saved.error().message;
    auto copy = fixture::build("latent-ddpm", data, settings);
    auto loaded = copy->load(dir / "m.pt");
    ASSERT_TRUE(loaded) << loaded.error().message;
    ll::SampleRequest r{.count = 8, .seed = 4, .guidance = 1};
    EXPECT_TRUE(torch::equal(model->sample(r), copy->sample(r)));
    std::filesystem::remove_all(dir);

    ll::SampleRequest noisyGuided{.count = 2, .classifier = clf.get(), .classifierScale = 1};
    EXPECT_THROW(model->sample(noisyGuided), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Diffusion, LatentDdpmSchedules, ::testing::Values("linear", "cosine"));

}  // namespace
