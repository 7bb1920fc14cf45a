// The VAE family's convolutional net, learned-variance likelihood and fitted prior: they fit
// images of any size, refuse what they do not model, follow the posterior, survive a
// checkpoint, and on real data give samples that vary as the real images of their class do.
#include <cmath>
#include <filesystem>
#include <map>

#include "fixture.h"
#include "models/vae.h"

namespace {

ll::ModelShape images(int channels, int height, int width, int classes = 3) {
    return {.channels = channels, .height = height, .width = width, .numClasses = classes};
}

const ll::Settings kSharp{{"net", "conv"},
                          {"width", "8"},
                          {"hidden", "32"},
                          {"likelihood", "gaussian"},
                          {"prior", "fitted"}};

TEST(ConvVae, FitsImagesOfAnySize) {
    ll::applyCpuSettings();
    for (const auto& shape : {images(1, 28, 28), images(3, 32, 32), images(1, 4, 4),
                              images(2, 5, 9), images(3, 64, 48), images(1, 4, 1000)}) {
        SCOPED_TRACE(std::to_string(shape.channels) + "x" + std::to_string(shape.height) + "x" +
                     std::to_string(shape.width));
        for (const char* name : {"vae", "cvae"}) {
            auto made = ll::createModel(name, shape, kSharp);
            ASSERT_TRUE(made) << made.error().message;
            auto& model = **made;
            auto x = torch::rand({6, shape.channels, shape.height, shape.width});
            auto y = torch::arange(6) % shape.numClasses;
            const auto losses = model.trainStep(x, y);
            EXPECT_TRUE(std::isfinite(losses.at("loss")));
            EXPECT_NEAR(losses.at("sigma"), std::exp(-1.0), 0.01);  // one Adam step from e^-1
            auto samples = model.sample({.count = 5, .seed = 1});
            EXPECT_EQ(samples.sizes(),
                      (std::vector<std::int64_t>{5, shape.channels, shape.height, shape.width}));
            EXPECT_GE(samples.min().item<float>(), 0.0f);
            EXPECT_LE(samples.max().item<float>(), 1.0f);
            EXPECT_EQ(model.encodeLatents(x, y).sizes(), (std::vector<std::int64_t>{6, 16}));
        }
    }
}

TEST(ConvVae, RefusesWhatItDoesNotModelWithAMessage) {
    const ll::ModelShape table{.features = 7, .numClasses = 2};
    const struct {
        ll::ModelShape shape;
        ll::Settings settings;
        const char* says;
    } cases[] = {
        {table, {{"net", "conv"}}, "tabular rows take net = mlp"},
        {images(1, 3, 28), {{"net", "conv"}}, "at least 4 x 4"},
        {images(1, 28, 28), {{"net", "cnn"}}, "must be mlp, conv or auto, not 'cnn'"},
        {table, {{"likelihood", "bernoulli"}}, "tabular rows take unit-gaussian or gaussian"},
        {images(1, 28, 28), {{"likelihood", "poisson"}}, "not 'poisson'"},
        {images(1, 28, 28), {{"prior", "vamp"}}, "standard or fitted, not 'vamp'"},
        {images(1, 28, 28), {{"net", "conv"}, {"width", "2"}}, "'width'"},
        {images(1, 28, 28), {{"prior", "fitted"}, {"latent", "4096"}}, "lower 'latent'"},
    };
    for (const auto& c : cases) {
        auto made = ll::createModel("cvae", c.shape, c.settings);
        ASSERT_FALSE(made) << c.says;
        EXPECT_NE(made.error().message.find(c.says), std::string::npos) << made.error().message;
    }
}

TEST(ConvVae, RunsWithoutTheNewSettingsAreTheMlpTheyWere) {
    // A config.json from before these settings: the MLP, the data's likelihood, N(0, I).
    auto made = ll::createModel("cvae", images(1, 28, 28, 10),
                                {{"latent", "16"}, {"hidden", "512,256"}, {"beta", "2"}});
    ASSERT_TRUE(made) << made.error().message;
    const auto s = (*made)->settings();
    EXPECT_EQ(s.at("net"), "mlp");
    EXPECT_EQ(s.at("likelihood"), "bernoulli");
    EXPECT_EQ(s.at("prior"), "standard");
    EXPECT_FALSE(s.contains("width"));
    // Encoder 794-512-256-32, decoder 26-256-512-784 with the class beside every layer: no
    // sigma, no prior.
    EXPECT_EQ((*made)->parameterCount(), 1'100'240);
    auto tabular = ll::createModel("vae", {.features = 5, .numClasses = 2}, {});
    ASSERT_TRUE(tabular) << tabular.error().message;
    EXPECT_EQ((*tabular)->settings().at("likelihood"), "unit-gaussian");
}

TEST(ConvVae, ThePresetsTakeTheConvNetWhereItFitsAndTheMlpElsewhere) {
    // net=auto: one preset for any data a user brings.
    const struct {
        ll::ModelShape shape;
        const char* net;
    } cases[] = {{images(1, 28, 28, 10), "conv"},
                 {images(3, 4, 4), "conv"},
                 {images(1, 3, 28), "mlp"},
                 {{.features = 30, .numClasses = 2}, "mlp"}};
    for (const char* name : {"vae-cpu", "cvae-cpu", "chaotic-vae-cpu", "cvae-gpu"}) {
        const ll::ModelPreset* preset = ll::findPreset(name);
        ASSERT_NE(preset, nullptr) << name;
        for (const auto& c : cases) {
            auto made = ll::createModel(preset->model, c.shape, preset->settings);
            ASSERT_TRUE(made) << name << ": " << made.error().message;
            EXPECT_EQ((*made)->settings().at("net"), c.net) << name;
            EXPECT_EQ((*made)->workload(),
                      std::string(c.net) == "conv" ? ll::Workload::Conv : ll::Workload::Mlp);
            const auto width = c.shape.tabular() ? 0 : c.shape.width;
            auto x = c.shape.tabular() ? torch::randn({8, c.shape.features})
                                       : torch::rand({8, c.shape.channels, c.shape.height, width});
            EXPECT_TRUE(std::isfinite((*made)->trainStep(x, torch::arange(8) % 2).at("loss")));
        }
    }
}

TEST(FittedPrior, FollowsEachClassAndDrawsFromItsGaussian) {
    torch::manual_seed(3);
    ll::FittedPrior prior(3, 2);
    // Class 0 around (2, -1) with standard deviations 0.5 and 2, correlated; class 1 around
    // (-3, 0); class 2 never seen.
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(5);
    auto mix = torch::tensor({{0.5f, 0.0f}, {1.2f, 1.6f}});  // rows of the Cholesky factor
    for (int step = 0; step < 200; ++step) {
        auto labels = torch::randint(2, {64}, gen, torch::kInt64);
        auto e = torch::randn({64, 2}, gen);
        auto z0 = torch::tensor({2.0f, -1.0f}) + e.mm(mix.t());
        auto z1 = torch::tensor({-3.0f, 0.0f}) + e;
        auto z = torch::where(labels.eq(0).unsqueeze(1), z0, z1);
        prior->update(z, labels);
    }
    EXPECT_GT(prior->count[0].item<double>(), 5000);
    const auto n = 20000;
    auto noise = torch::randn({n, 2}, gen);
    auto a = prior->draw(torch::zeros({n}, torch::kInt64), noise);
    EXPECT_NEAR(a.select(1, 0).mean().item<double>(), 2.0, 0.1);
    EXPECT_NEAR(a.select(1, 1).mean().item<double>(), -1.0, 0.1);
    auto expected = mix.mm(mix.t());  // covariance 0.25, 0.6 / 0.6, 4
    auto centred = a - a.mean(0);
    auto cov = centred.t().mm(centred) / (n - 1);
    EXPECT_TRUE(torch::allclose(cov, expected, 0.1, 0.1)) << cov << expected;
    auto b = prior->draw(torch::ones({n}, torch::kInt64), noise);
    EXPECT_NEAR(b.select(1, 0).mean().item<double>(), -3.0, 0.1);
    auto unseen = prior->draw(torch::full({n}, 2, torch::kInt64), noise);
    EXPECT_TRUE(torch::allclose(unseen, noise, 1e-5, 1e-5));
    // Centres: a class's mean, a mixture's blend, the data's mean; draws in proportion.
    EXPECT_NEAR(prior->centre(torch::tensor({1}), 1)[0][0].item<double>(), -3.0, 0.1);
    auto half = torch::tensor({{0.5f, 0.5f, 0.0f, 0.0f}});
    EXPECT_NEAR(prior->centre(half, 1)[0][0].item<double>(), -0.5, 0.1);
    EXPECT_NEAR(prior->centre({}, 1)[0][0].item<double>(), -0.5, 0.2);
    auto picked = prior->pick(4000, 9);
    EXPECT_EQ(picked.eq(2).sum().item<int>(), 0);
    EXPECT_NEAR(picked.eq(0).to(torch::kFloat).mean().item<double>(), 0.5, 0.05);
}

TEST(FittedPrior, ABatchLargerThanItsWindowReplacesIt) {
    ll::FittedPrior prior(1, 2);
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(2);
    for (int step = 0; step < 3; ++step) {
        auto z = torch::randn({5000, 2}, gen) * 0.5 + 3.0;  // more rows than the window
        prior->update(z, torch::zeros({5000}, torch::kInt64));
        EXPECT_TRUE(torch::allclose(prior->mean[0], z.mean(0), 1e-4, 1e-4)) << prior->mean;
    }
    auto draws = prior->draw(torch::zeros({4000}, torch::kInt64), torch::randn({4000, 2}, gen));
    EXPECT_NEAR(draws.std(0).mean().item<double>(), 0.5, 0.05);
}

TEST(FittedPrior, CheckpointKeepsItAndTemperatureScalesAboutTheClassMean) {
    ll::applyCpuSettings();
    torch::manual_seed(4);
    auto made = ll::createModel("cvae", images(1, 8, 8, 2), kSharp);
    ASSERT_TRUE(made) << made.error().message;
    auto& model = **made;
    for (int i = 0; i < 20; ++i)
        model.trainStep(torch::rand({16, 1, 8, 8}) * 0.5 + 0.5 * (i % 2),
                        torch::full({16}, i % 2, torch::kInt64));
    const ll::SampleRequest request{.count = 6, .seed = 8, .labels = {1}};
    auto before = model.sample(request);
    const auto file = fixture::tempDir("vaeconv") / "model.pt";
    std::filesystem::create_directories(file.parent_path());
    ASSERT_TRUE(model.save(file));
    auto fresh = ll::createModel("cvae", images(1, 8, 8, 2), kSharp);
    ASSERT_TRUE(fresh);
    ASSERT_TRUE((*fresh)->load(file));
    EXPECT_TRUE(torch::equal((*fresh)->sample(request), before));
    EXPECT_TRUE(torch::equal((*fresh)->latents(request), model.latents(request)));
    // At temperature 0 every draw of a class is its class's mean latent: one image.
    auto cold = model.sample({.count = 6, .seed = 8, .labels = {1}, .temperature = 0});
    EXPECT_TRUE(torch::allclose(cold[0], cold[5]));
    auto other = model.sample({.count = 1, .seed = 8, .labels = {0}, .temperature = 0});
    EXPECT_FALSE(torch::allclose(cold[0], other[0], 1e-3, 1e-3));
    std::filesystem::remove_all(file.parent_path());
}

// On Fashion-MNIST: the sharp variant (conv net, learned sigma, fitted prior) draws its class
// as the classifier sees it, its samples vary about as much as the real images of their class,
// and they keep the real images' edges; the MLP with the Bernoulli likelihood draws blurry means.
// bf16 training ("precision"): the same net from the same seed learns as far as in fp32,
// while samples, losses and weights keep their types (no bf16 in the state).
TEST(ConvVae, Bf16TrainingLearnsAsFarAsFp32) {
    ll::applyCpuSettings();
    const auto data = fixture::fashion(2000);
    std::map<std::string, std::pair<double, double>> losses;  // first and last
    for (const char* precision : {"fp32", "bf16"}) {
        SCOPED_TRACE(precision);
        ll::Settings settings = kSharp;
        settings["width"] = "16";
        settings["precision"] = precision;
        torch::manual_seed(2);
        auto model = fixture::build("vae", data, settings);
        ASSERT_NE(model, nullptr);
        EXPECT_EQ(model->settings().at("precision"), precision);
        const auto first = fixture::train(*model, data, 1, 64);
        const auto last = fixture::train(*model, data, 300, 64);
        losses[precision] = {first.at("loss"), last.at("loss")};
        EXPECT_EQ(model->sample({.count = 2, .seed = 1}).scalar_type(), torch::kFloat);
        for (const auto& [name, t] : model->namedState())
            EXPECT_NE(t.scalar_type(), torch::kBFloat16) << name;
    }
    const auto [fp32First, fp32Last] = losses.at("fp32");
    const auto [bf16First, bf16Last] = losses.at("bf16");
    std::printf("loss fp32 %.1f -> %.1f, bf16 %.1f -> %.1f\n", fp32First, fp32Last, bf16First,
                bf16Last);
    // The loss is a negative log-likelihood in nats per image: it falls by hundreds.
    EXPECT_LT(fp32Last, fp32First - 100);
    EXPECT_LT(std::abs(bf16Last - fp32Last), 0.05 * (fp32First - fp32Last));
    EXPECT_NE(bf16Last, fp32Last) << "the bf16 run computed in fp32";
}

TEST(ConvVae, SamplesVaryAndKeepTheEdgesOfTheRealImages) {
    ll::applyCpuSettings();
    auto judge = fixture::classifier();
    ASSERT_NE(judge, nullptr);
    const auto data = fixture::fashion(4000);
    // Edge energy: the mean squared Laplacian of an image set.
    const auto laplacian =
        torch::tensor({0.f, 1.f, 0.f, 1.f, -4.f, 1.f, 0.f, 1.f, 0.f}).view({1, 1, 3, 3});
    auto edges = [&](const torch::Tensor& x) {
        return torch::conv2d(x.to(torch::kFloat), laplacian).pow(2).mean().item<double>();
    };
    struct Look {
        double spread = 0, sharpness = 0;  // both over the real images of the same class
    };
    auto look = [&](ll::GenerativeModel& model) {
        Look out;
        for (std::int64_t k = 0; k < 10; ++k) {
            auto samples = model.sample({.count = 200, .seed = 5, .labels = {k}});
            auto real = data.x.index({data.y == k});
            out.spread +=
                samples.var(0).mean().item<double>() / real.var(0).mean().item<double>() / 10;
            out.sharpness += edges(samples) / edges(real) / 10;
        }
        return out;
    };
    torch::manual_seed(1);
    auto sharp = fixture::build("cvae", data,
                                {{"net", "conv"}, {"likelihood", "gaussian"}, {"prior", "fitted"}});
    ASSERT_NE(sharp, nullptr);
    const auto last = fixture::train(*sharp, data, 600, 64);
    torch::manual_seed(1);
    auto blurry = fixture::build("cvae", data, {{"beta", "2"}});  // cvae-cpu as it was
    ASSERT_NE(blurry, nullptr);
    fixture::train(*blurry, data, 600, 64);
    const Look s = look(*sharp), b = look(*blurry);
    const double sharpAgreement = fixture::agreement(*sharp, *judge);
    std::printf(
        "sigma %.3f; over the real images: variance sharp %.2f, blurry %.2f; "
        "edge energy sharp %.2f, blurry %.2f; agreement %.3f\n",
        last.at("sigma"), s.spread, b.spread, s.sharpness, b.sharpness, sharpAgreement);
    EXPECT_LT(last.at("sigma"), 0.25);  // from 0.37: the decoder explains the pixels better
    EXPECT_GT(s.spread, 0.5);
    EXPECT_GT(s.sharpness, 1.5 * b.sharpness);
    EXPECT_GT(sharpAgreement, 0.6);
}

}  // namespace
