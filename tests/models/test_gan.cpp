// The GAN family learns on real data (class-conditional samples land in their class, the
// unconditional ones become garments the classifier recognises, tabular rows move to their
// class), samples are a function of the request, and bad settings are refused clearly.
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "data/loader.h"
#include "fixture.h"
#include "models/catalog.h"
#include "models/gan.h"

namespace {

// Narrow nets keep the whole suite within a few minutes on 2 CPU cores.
const ll::Settings kSmall{{"width", "32"}};

class GanTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        ll::applyCpuSettings();
        s_data = new ll::Dataset(fixture::fashion(6000));
        s_judge = fixture::classifier().release();
    }
    static void TearDownTestSuite() {
        delete s_data;
        delete s_judge;
    }
    static ll::Dataset* s_data;
    static ll::GenerativeModel* s_judge;
};
ll::Dataset* GanTest::s_data = nullptr;
ll::GenerativeModel* GanTest::s_judge = nullptr;

// Pixel spread among samples of one class over the spread among all samples: a generator
// that draws one image per class, whatever z, scores near 0 (0.13 before mode seeking).
double withinClassSpread(ll::GenerativeModel& model, std::int64_t classes) {
    auto x = model.sample({.count = 20 * classes, .seed = 5});  // labels cycle 0..classes-1
    auto grouped = x.view({20, classes, -1});
    return grouped.std(0).mean().item<double>() / x.flatten(1).std(0).mean().item<double>();
}

// The tensors of `model`'s state whose names start with `prefix` ("generator."), by name.
std::map<std::string, torch::Tensor> stateOf(ll::GenerativeModel& model,
                                             const std::string& prefix) {
    std::map<std::string, torch::Tensor> out;
    for (auto& [name, t] : model.namedState())
        if (name.rfind(prefix, 0) == 0) out[name.substr(prefix.size())] = t.clone();
    return out;
}

TEST_F(GanTest, ConditionalGansSampleTheAskedClass) {
    ASSERT_NE(s_judge, nullptr);
    // AC-GAN also with its score projected as cGAN's ("projection" 1).
    // And cGAN trained in bf16.
    ll::Settings projected = kSmall;
    projected["projection"] = "1";
    ll::Settings bf16 = kSmall;
    bf16["precision"] = "bf16";
    const std::vector<std::pair<std::string, ll::Settings>> cases{
        {"cgan", kSmall}, {"acgan", kSmall}, {"acgan", projected}, {"cgan", bf16}};
    for (const auto& [name, settings] : cases) {
        SCOPED_TRACE(name + (settings.contains("projection") ? " projected" : "") +
                     (settings.contains("precision") ? " bf16" : ""));
        torch::manual_seed(1);
        auto model = fixture::build(name, *s_data, settings);
        ASSERT_NE(model, nullptr);
        EXPECT_EQ(stateOf(*model, "discriminator.embed").empty(),
                  name == "acgan" && !settings.contains("projection"));
        const double before = fixture::agreement(*model, *s_judge);
        const auto losses = fixture::train(*model, *s_data, 400, 64);
        const double after = fixture::agreement(*model, *s_judge);
        const double spread = withinClassSpread(*model, s_data->numClasses());
        std::printf("%s: agreement %.3f -> %.3f, within-class spread %.2f\n", name.c_str(), before,
                    after, spread);
        EXPECT_GT(spread, 0.4) << "one image per class: mode collapse";
        EXPECT_TRUE(losses.contains("generator") && losses.contains("discriminator"));
        EXPECT_EQ(model->sample({.count = 2, .seed = 1}).scalar_type(), torch::kFloat);
        EXPECT_EQ(losses.contains("aux"), name == "acgan");
        EXPECT_LT(before, 0.3);
        EXPECT_GT(after, 0.4) << "chance is 0.1; before training " << before;
    }
}

// The inception score with the fixture classifier as the judge: exp E[KL(p(y|x) || p(y))].
// An untrained generator draws one kind of blob that the classifier puts in one class (score
// near 1, however confident it is); garments of many classes score high. The classifier's
// mean confidence does not work here: it is ~0.99 on the untrained generator's blobs.
double classScore(ll::GenerativeModel& model, ll::GenerativeModel& judge) {
    auto samples = model.sample({.count = 500, .seed = 3});
    auto p = torch::softmax(judge.classify(samples), 1).clamp_min(1e-12);
    auto marginal = p.mean(0, true);
    return std::exp((p * (p.log() - marginal.log())).sum(1).mean().item<double>());
}

TEST_F(GanTest, UnconditionalGansDrawGarmentsOfManyClasses) {
    ASSERT_NE(s_judge, nullptr);
    struct Case {
        const char* name;
        const char* norm;  // d_norm
        const char* refine;
        int steps;
        const char* precision = "fp32";
        const char* gpEvery = "1";
    };
    // WGAN-GP in bf16 takes two critic steps here, so a second step must see the weights the
    // first one updated (autocast's cast cache).
    // The lazy penalty (gp_every 4) learns as the plain one does.
    for (const auto& [name, norm, refine, steps, precision, gpEvery] :
         {Case{"dcgan", "batch", "0", 300}, Case{"dcgan", "batch", "1", 300},
          Case{"dcgan", "spectral", "0", 300}, Case{"wgan-gp", "none", "0", 200},
          Case{"wgan-gp", "spectral", "0", 200}, Case{"wgan-gp", "none", "0", 200, "bf16"},
          Case{"wgan-gp", "none", "0", 200, "bf16", "4"},
          Case{"wgan-gp", "layer", "0", 200, "bf16"}}) {
        SCOPED_TRACE(std::string(name) + ", d_norm " + norm + ", refine " + refine + ", " +
                     precision + ", gp_every " + gpEvery);
        torch::manual_seed(2);
        auto settings = kSmall;
        settings["d_norm"] = norm;
        settings["refine"] = refine;
        settings["precision"] = precision;
        if (std::string(name) == "wgan-gp") {
            settings["critic_steps"] = "2";
            settings["gp_every"] = gpEvery;
        }
        auto model = fixture::build(name, *s_data, settings);
        ASSERT_NE(model, nullptr);
        const double before = classScore(*model, *s_judge);
        const auto losses = fixture::train(*model, *s_data, steps, 64);
        const double after = classScore(*model, *s_judge);
        std::printf("%s (d_norm %s, refine %s, %s, gp_every %s): class score %.3f -> %.3f\n", name,
                    norm, refine, precision, gpEvery, before, after);
        // Each refining layer is a convolution, a batch norm and a ReLU in the generator.
        std::size_t convs = 0;
        for (const auto& [key, t] : model->namedState())
            convs += key.rfind("generator.body.", 0) == 0 && t.dim() == 4;
        EXPECT_EQ(convs, 2u + std::stoul(refine));
        bool spectralHead = false;
        for (const auto& [key, t] : model->namedState())
            spectralHead |= key == "discriminator.head.u";
        EXPECT_EQ(spectralHead, std::string(norm) == "spectral");
        EXPECT_EQ(losses.contains("gp"), std::string(name) == "wgan-gp");
        // Measured (width 32): dcgan 1.00 -> 1.97 after 300 steps (2.06 with refine 1, 2.15
        // with d_norm spectral), wgan-gp 1.00 -> 1.69 after 200 (1.69 spectral); 10 equally
        // likely, confidently recognised classes would score 10.
        EXPECT_GT(after, before + 0.25);
        EXPECT_GT(after, std::string(name) == "dcgan" ? 1.8 : 1.0);
    }
}

TEST_F(GanTest, SameSeedSamePixelsAndTruncationBoundsTheNoise) {
    for (const char* name : {"dcgan", "cgan", "acgan", "wgan-gp"}) {
        SCOPED_TRACE(name);
        torch::manual_seed(3);
        auto model = fixture::build(name, *s_data, kSmall);
        ASSERT_NE(model, nullptr);
        fixture::train(*model, *s_data, 3, 16);  // running statistics away from their start
        auto a = model->sample({.count = 8, .seed = 42});
        auto b = model->sample({.count = 8, .seed = 42});
        auto c = model->sample({.count = 8, .seed = 43});
        EXPECT_TRUE(torch::equal(a, b));
        EXPECT_FALSE(torch::equal(a, c));
        EXPECT_EQ(a.sizes(), (std::vector<std::int64_t>{8, 1, 28, 28}));
        EXPECT_GE(a.min().item<float>(), 0.f);
        EXPECT_LE(a.max().item<float>(), 1.f);
        // A truncated request differs from the plain one; a tiny limit squeezes every z
        // towards 0, so that two seeds give nearly the same images.
        auto t = model->sample({.count = 8, .seed = 42, .truncation = 0.5});
        EXPECT_FALSE(torch::equal(a, t));
        const std::vector<std::int64_t> same(8, 3);
        auto tiny1 = model->sample({.count = 8, .seed = 1, .labels = same, .truncation = 1e-4});
        auto tiny2 = model->sample({.count = 8, .seed = 2, .labels = same, .truncation = 1e-4});
        auto free1 = model->sample({.count = 8, .seed = 1, .labels = same});
        auto free2 = model->sample({.count = 8, .seed = 2, .labels = same});
        const double tinyGap = (tiny1 - tiny2).abs().max().item<double>();
        const double freeGap = (free1 - free2).abs().max().item<double>();
        EXPECT_LT(tinyGap, 0.01 * freeGap);
    }
}

TEST_F(GanTest, ConditionalSamplesFollowTheLabelsAndRefuseUnknownClasses) {
    auto model = fixture::build("cgan", *s_data, kSmall);
    ASSERT_NE(model, nullptr);
    auto threes = model->sample({.count = 4, .seed = 5, .labels = {3}});
    auto sevens = model->sample({.count = 4, .seed = 5, .labels = {7}});
    EXPECT_FALSE(torch::equal(threes, sevens));
    EXPECT_THROW(model->sample({.count = 4, .seed = 5, .labels = {10}}), std::invalid_argument);
}

bool sameTensors(const std::map<std::string, torch::Tensor>& a,
                 const std::map<std::string, torch::Tensor>& b) {
    if (a.size() != b.size()) return false;
    for (const auto& [name, t] : a)
        if (!b.contains(name) || !torch::equal(t, b.at(name))) return false;
    return true;
}

// `model` saved to a checkpoint and loaded into a fresh model of the same settings.
std::unique_ptr<ll::GenerativeModel> reopened(ll::GenerativeModel& model, const std::string& name,
                                              const ll::Dataset& data,
                                              const ll::Settings& settings) {
    const auto dir = fixture::tempDir("gan-" + name);
    std::filesystem::create_directories(dir);
    auto out = model.save(dir / "model.pt") ? fixture::build(name, data, settings) : nullptr;
    if (out && !out->load(dir / "model.pt")) out.reset();
    std::filesystem::remove_all(dir);
    return out;
}

TEST_F(GanTest, CheckpointRestoresBothNetworks) {
    // AC-GAN with batch norm, and a spectral discriminator whose power-iteration vectors are
    // buffers: a checkpoint that lost them would start the next step from other vectors.
    const std::vector<std::pair<std::string, ll::Settings>> cases{
        {"acgan", kSmall}, {"dcgan", {{"width", "32"}, {"d_norm", "spectral"}, {"refine", "1"}}}};
    for (const auto& [name, settings] : cases) {
        SCOPED_TRACE(name);
        auto model = fixture::build(name, *s_data, settings);
        ASSERT_NE(model, nullptr);
        fixture::train(*model, *s_data, 5, 16);
        const auto dir = fixture::tempDir("gan");
        std::filesystem::create_directories(dir);
        ASSERT_TRUE(model->save(dir / "model.pt"));
        auto other = fixture::build(name, *s_data, settings);
        ASSERT_NE(other, nullptr);
        EXPECT_FALSE(
            sameTensors(stateOf(*model, "discriminator."), stateOf(*other, "discriminator.")));
        ASSERT_TRUE(other->load(dir / "model.pt"));
        EXPECT_TRUE(
            sameTensors(stateOf(*model, "discriminator."), stateOf(*other, "discriminator.")));
        EXPECT_TRUE(torch::equal(model->sample({.count = 6, .seed = 9}),
                                 other->sample({.count = 6, .seed = 9})));
        // Optimiser state came along: the next step moves both models the same way.
        fixture::train(*model, *s_data, 1, 16, 4);
        fixture::train(*other, *s_data, 1, 16, 4);
        EXPECT_TRUE(torch::allclose(model->sample({.count = 6, .seed = 9}),
                                    other->sample({.count = 6, .seed = 9}), 1e-5, 1e-6));
        std::filesystem::remove_all(dir);
    }
}

TEST_F(GanTest, LazyPenaltyComesEveryKthCriticUpdateAcrossCheckpoints) {
    // gp_every 3, one critic update a step: updates 0, 3, 6, ... compute the penalty, and
    // the losses report the latest one. The count of updates lives in the checkpoint.
    const auto x = s_data->x.slice(0, 0, 16), y = s_data->y.slice(0, 0, 16);
    auto penalties = [&](ll::GenerativeModel& model, int steps) {
        std::vector<double> out;
        for (int i = 0; i < steps; ++i) out.push_back(model.trainStep(x, y).at("gp"));
        return out;
    };
    ll::Settings settings{{"width", "32"}, {"critic_steps", "1"}};
    torch::manual_seed(3);
    auto plain = fixture::build("wgan-gp", *s_data, settings);
    ASSERT_NE(plain, nullptr);
    EXPECT_EQ(plain->settings().at("gp_every"), "1");
    const auto every = penalties(*plain, 3);
    EXPECT_NE(every[0], every[1]);
    EXPECT_NE(every[1], every[2]);

    settings["gp_every"] = "3";
    torch::manual_seed(3);
    auto lazy = fixture::build("wgan-gp", *s_data, settings);
    ASSERT_NE(lazy, nullptr);
    const auto some = penalties(*lazy, 5);  // updates 0..4
    EXPECT_EQ(some[0], every[0]);           // the same first update
    EXPECT_GT(some[0], 0);
    EXPECT_EQ(some[1], some[0]);
    EXPECT_EQ(some[2], some[0]);
    EXPECT_NE(some[3], some[0]);
    EXPECT_EQ(some[4], some[3]);

    auto resumed = reopened(*lazy, "wgan-gp", *s_data, settings);
    ASSERT_NE(resumed, nullptr);
    // Updates 5 and 6: no penalty known since the load, then the sixth computes one. A count
    // that restarted at 0 would penalise update 5 at once.
    const auto after = penalties(*resumed, 2);
    EXPECT_EQ(after[0], 0);
    EXPECT_GT(after[1], 0);
}

TEST_F(GanTest, SamplesComeFromTheGeneratorsWeightAverage) {
    auto settings = kSmall;
    settings["ema"] = "0.999";
    torch::manual_seed(4);
    auto averaged = fixture::build("dcgan", *s_data, settings);
    torch::manual_seed(4);
    auto plain = fixture::build("dcgan", *s_data, kSmall);  // ema 0, the default
    ASSERT_NE(averaged, nullptr);
    ASSERT_NE(plain, nullptr);
    EXPECT_EQ(averaged->settings().at("ema"), "0.999");
    EXPECT_EQ(plain->settings().at("ema"), "0");
    EXPECT_TRUE(stateOf(*plain, "generator_average.").empty());
    const auto start = stateOf(*averaged, "generator.");
    ASSERT_EQ(stateOf(*averaged, "generator_average.").size(), start.size());

    // Averaging draws nothing from the random stream: both train the same generator.
    fixture::train(*averaged, *s_data, 1, 16);
    fixture::train(*plain, *s_data, 1, 16);
    const auto trained = stateOf(*averaged, "generator.");
    const auto average = stateOf(*averaged, "generator_average.");
    for (const auto& [name, t] : stateOf(*plain, "generator."))
        EXPECT_TRUE(torch::equal(t, trained.at(name))) << name;
    // After one update the warmed-up decay is 1/10: 0.1 of the start, 0.9 of the trained
    // weights. Buffers (batch norm's running statistics) are the generator's own.
    int moved = 0;
    for (const auto& [name, t] : trained) {
        if (!t.is_floating_point()) continue;
        const bool isWeight = name.find("running_") == std::string::npos;
        auto want = isWeight ? 0.1 * start.at(name) + 0.9 * t : t;
        EXPECT_TRUE(torch::allclose(average.at(name), want, 1e-5, 1e-7)) << name;
        moved += isWeight && !torch::equal(start.at(name), t);
    }
    EXPECT_GT(moved, 0);
    // Samples are the average's: not the trained generator's.
    EXPECT_FALSE(torch::equal(averaged->sample({.count = 6, .seed = 9}),
                              plain->sample({.count = 6, .seed = 9})));

    // A checkpoint from before the average (here one without it) loads, and the average
    // starts from its generator: the same samples as the model that wrote it.
    const auto dir = fixture::tempDir("gan-average");
    std::filesystem::create_directories(dir);
    ASSERT_TRUE(plain->save(dir / "plain.pt"));
    auto reopened = fixture::build("dcgan", *s_data, settings);
    ASSERT_NE(reopened, nullptr);
    ASSERT_TRUE(reopened->load(dir / "plain.pt"));
    EXPECT_TRUE(torch::equal(reopened->sample({.count = 6, .seed = 9}),
                             plain->sample({.count = 6, .seed = 9})));
    // A checkpoint with the average restores it.
    ASSERT_TRUE(averaged->save(dir / "averaged.pt"));
    ASSERT_TRUE(reopened->load(dir / "averaged.pt"));
    EXPECT_TRUE(torch::equal(reopened->sample({.count = 6, .seed = 9}),
                             averaged->sample({.count = 6, .seed = 9})));
    std::filesystem::remove_all(dir);
}

TEST_F(GanTest, LookaheadPullsBothNetworksBackTowardsSlowWeightsEveryKSteps) {
    auto settings = kSmall;
    settings["lookahead"] = "3";  // lookahead_alpha 0.5, the default
    torch::manual_seed(4);
    auto looking = fixture::build("dcgan", *s_data, settings);
    torch::manual_seed(4);
    auto plain = fixture::build("dcgan", *s_data, kSmall);
    ASSERT_NE(looking, nullptr);
    ASSERT_NE(plain, nullptr);
    EXPECT_EQ(looking->settings().at("lookahead_alpha"), "0.5");
    EXPECT_TRUE(stateOf(*plain, "generator_slow.").empty());
    std::map<std::string, std::map<std::string, torch::Tensor>> start;
    for (const char* net : {"generator.", "discriminator."}) start[net] = stateOf(*looking, net);

    // Two steps: no pull yet, and the copies drew nothing from the random stream, so both
    // models train alike to the bit.
    fixture::train(*looking, *s_data, 2, 16);
    fixture::train(*plain, *s_data, 2, 16);
    for (const char* net : {"generator.", "discriminator."})
        EXPECT_TRUE(sameTensors(stateOf(*looking, net), stateOf(*plain, net))) << net;
    // The third step pulls: the weights land halfway between the start and where three
    // plain steps took them, the slow copies with them; buffers are the trained ones.
    fixture::train(*looking, *s_data, 1, 16, 2);
    fixture::train(*plain, *s_data, 1, 16, 2);
    for (const auto& [net, slowNet] : {std::pair{"generator.", "generator_slow."},
                                       std::pair{"discriminator.", "discriminator_slow."}}) {
        SCOPED_TRACE(net);
        const auto pulled = stateOf(*looking, net);
        const auto slow = stateOf(*looking, slowNet);
        int moved = 0;
        for (const auto& [name, t] : stateOf(*plain, net)) {
            if (!t.is_floating_point()) continue;
            const bool isWeight = name.find("running_") == std::string::npos;
            auto want = isWeight ? 0.5 * start[net].at(name) + 0.5 * t : t;
            EXPECT_TRUE(torch::allclose(pulled.at(name), want, 1e-5, 1e-7)) << name;
            if (isWeight) {
                EXPECT_TRUE(torch::equal(slow.at(name), pulled.at(name))) << name;
            }
            moved += isWeight && !torch::equal(start[net].at(name), t);
        }
        EXPECT_GT(moved, 0);
    }

    // Saved one step into the next cycle, the slow weights and the count come back: the
    // resumed model pulls at the same step, to the same weights.
    fixture::train(*looking, *s_data, 1, 16, 3);
    auto resumed = reopened(*looking, "dcgan", *s_data, settings);
    ASSERT_NE(resumed, nullptr);
    fixture::train(*looking, *s_data, 2, 16, 4);
    fixture::train(*resumed, *s_data, 2, 16, 4);
    EXPECT_TRUE(torch::allclose(looking->sample({.count = 6, .seed = 9}),
                                resumed->sample({.count = 6, .seed = 9}), 1e-5, 1e-6));
    EXPECT_TRUE(
        sameTensors(stateOf(*looking, "generator_slow."), stateOf(*resumed, "generator_slow.")));
}

// The largest singular value of a weight as a matrix (out x everything else).
double spectralNorm(const torch::Tensor& weight) {
    auto matrix = weight.detach().reshape({weight.size(0), -1}).to(torch::kFloat64);
    return torch::linalg_eigvalsh(matrix.mm(matrix.t()), "L").max().sqrt().item<double>();
}

TEST(SpectralNorm, LayersEndAtUnitNormDrawNothingAndLearnThroughTheNorm) {
    // Built from the same seed, a spectral layer holds the plain layer's weights and leaves
    // the random stream where the plain one leaves it.
    torch::manual_seed(11);
    torch::nn::Conv2d plain(torch::nn::Conv2dOptions(8, 16, 4).stride(2).padding(1));
    const auto after = torch::randn({4});
    torch::manual_seed(11);
    ll::SpectralConv2d conv(8, 16, 4, 2, 1);
    EXPECT_TRUE(torch::equal(torch::randn({4}), after));
    ASSERT_TRUE(torch::equal(conv->conv->weight, plain->weight));
    const double sigma = spectralNorm(plain->weight);

    // The power iteration tracks the norm as training forwards go by; the layer is the plain
    // one with its weight over that norm.
    const auto x = torch::randn({2, 8, 12, 12});
    for (int i = 0; i < 20; ++i) conv->forward(x);
    auto expected = torch::conv2d(x, plain->weight / sigma, plain->bias, 2, 1);
    EXPECT_TRUE(torch::allclose(conv->forward(x), expected, 1e-4, 1e-5));
    // The weight the layer computes with, from its own buffers, has norm 1.
    auto u = conv->u.clone(), v = conv->v.clone();
    EXPECT_NEAR(spectralNorm(ll::spectralNormalised(conv->conv->weight, u, v, false)), 1.0, 1e-4);

    // The gradient flows through the norm too: the output does not change when W is scaled,
    // so the weight's gradient has no component along W. With sigma treated as a constant
    // it would have one: <grad, W> would be 2 <y, y - bias>.
    conv->zero_grad();
    conv->forward(x).square().sum().backward();
    const auto grad = conv->conv->weight.grad();
    ASSERT_TRUE(grad.defined());
    const double along = (grad * conv->conv->weight).sum().item<double>();
    EXPECT_GT(grad.norm().item<double>(), 0.0);
    EXPECT_LT(std::abs(along),
              1e-3 * grad.norm().item<double>() * conv->conv->weight.norm().item<double>());

    // Evaluation leaves the buffers as they are.
    conv->eval();
    u = conv->u.clone();
    {
        torch::NoGradGuard noGrad;
        conv->conv->weight.mul_(3);  // a new norm: only a training forward may follow it
    }
    conv->forward(x);
    EXPECT_TRUE(torch::equal(conv->u, u));
    conv->train();
    for (int i = 0; i < 20; ++i) conv->forward(x);
    EXPECT_NEAR(spectralNorm(conv->conv->weight), 3 * sigma, 1e-3 * sigma);
    // Scale-free: 3 W over 3 sigma is the layer it was.
    EXPECT_TRUE(torch::allclose(conv->forward(x), expected, 1e-4, 1e-5));

    // A linear layer likewise.
    torch::manual_seed(12);
    ll::SpectralLinear linear(10, 6);
    const auto rows = torch::randn({5, 10});
    for (int i = 0; i < 20; ++i) linear->forward(rows);
    auto normalised = linear->linear->weight / spectralNorm(linear->linear->weight);
    EXPECT_TRUE(torch::allclose(linear->forward(rows),
                                torch::linear(rows, normalised, linear->linear->bias), 1e-4, 1e-5));
}

// createModel's message for `settings` on a `shape`; empty when the model was built.
std::string refusal(const std::string& name, const ll::ModelShape& shape,
                    const ll::Settings& settings = {}) {
    auto model = ll::createModel(name, shape, settings);
    return model ? std::string() : model.error().message;
}

// "d_width" sizes the discriminator's convolutions apart from the generator's; unset, it is
// "width" (the runs before the setting load as they were built).
TEST(GanSettings, CriticWidthSizesTheDiscriminatorAloneAndFollowsWidthUnset) {
    const ll::ModelShape fashion{};
    // Output channels of each 4-D weight (the convolutions), in the order of the state.
    auto convolutions = [](ll::GenerativeModel& model, const std::string& prefix) {
        std::vector<std::int64_t> channels;
        for (const auto& [name, t] : stateOf(model, prefix))
            if (t.dim() == 4) channels.push_back(t.size(0));
        return channels;
    };
    auto same = ll::createModel("wgan-gp", fashion, kSmall);
    auto narrow = ll::createModel("wgan-gp", fashion, {{"width", "32"}, {"d_width", "8"}});
    ASSERT_TRUE(same && narrow);
    EXPECT_EQ((*same)->settings().at("d_width"), "32");
    EXPECT_EQ((*narrow)->settings().at("d_width"), "8");
    EXPECT_EQ(convolutions(**same, "discriminator."), (std::vector<std::int64_t>{32, 64}));
    EXPECT_EQ(convolutions(**narrow, "discriminator."), (std::vector<std::int64_t>{8, 16}));
    EXPECT_EQ(convolutions(**narrow, "generator."), convolutions(**same, "generator."));
    const auto x = torch::rand({8, 1, 28, 28});
    const auto losses = (*narrow)->trainStep(x, torch::zeros({8}, torch::kInt64));
    EXPECT_TRUE(std::isfinite(losses.at("discriminator"))) << losses.at("discriminator");
    for (const char* bad : {"0", "1025"})
        EXPECT_NE(refusal("dcgan", fashion, {{"d_width", bad}}).find("'d_width'"),
                  std::string::npos)
            << bad;
}

TEST(GanSettings, ColourSamplesAreNchwWhateverLayoutTheNetsComputeIn) {
    // The nets compute channels-last; what leaves the model is plain NCHW, the order in which
    // exports, the grid and the metrics read the memory.
    auto model = ll::createModel("dcgan", {.channels = 3, .height = 32, .width = 32}, kSmall);
    ASSERT_TRUE(model) << model.error().message;
    const auto x = torch::rand({8, 3, 32, 32});
    (*model)->trainStep(x, torch::zeros({8}, torch::kInt64));
    const auto images = (*model)->sample({.count = 4, .seed = 1});
    EXPECT_EQ(images.sizes(), (std::vector<std::int64_t>{4, 3, 32, 32}));
    EXPECT_TRUE(images.is_contiguous());
}

// bf16 autocast casts the products inside the scope and only there, nested or not; fp32 and
// the default leave them alone.
TEST(Precision, ScopeCastsProductsToBf16AndRestoresWhatWasOn) {
    auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 3));
    const auto x = torch::rand({2, 1, 8, 8});
    const auto reference = conv->forward(x);
    EXPECT_EQ(reference.scalar_type(), torch::kFloat);
    {
        const ll::PrecisionScope off(ll::Precision::Float32);
        EXPECT_EQ(conv->forward(x).scalar_type(), torch::kFloat);
    }
    {
        const ll::PrecisionScope outer(ll::Precision::BFloat16);
        EXPECT_EQ(conv->forward(x).scalar_type(), torch::kBFloat16);
        {
            const ll::PrecisionScope inner(ll::Precision::BFloat16);
            EXPECT_EQ(conv->forward(x).scalar_type(), torch::kBFloat16);
        }
        EXPECT_EQ(conv->forward(x).scalar_type(), torch::kBFloat16) << "inner scope ended it";
        EXPECT_LT((conv->forward(x).to(torch::kFloat) - reference).abs().max().item<double>(),
                  0.05);
        {
            const auto inFp32 = ll::PrecisionScope::fp32();
            EXPECT_EQ(conv->forward(x).scalar_type(), torch::kFloat);
        }
        EXPECT_EQ(conv->forward(x).scalar_type(), torch::kBFloat16) << "fp32() left it off";
    }
    EXPECT_EQ(conv->forward(x).scalar_type(), torch::kFloat);
    {
        const auto inFp32 = ll::PrecisionScope::fp32();  // with autocast off already
        EXPECT_EQ(conv->forward(x).scalar_type(), torch::kFloat);
    }
    EXPECT_EQ(conv->forward(x).scalar_type(), torch::kFloat);
}

// Autocast keeps one bf16 copy of each weight that requires gradients for the whole region,
// whatever happens to the weight: an update inside the region is seen only once the copies
// are dropped.
TEST(Precision, DroppedCastsSeeWeightsUpdatedInTheRegion) {
    auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 3));
    const auto x = torch::rand({2, 1, 8, 8});
    const ll::PrecisionScope bf16(ll::Precision::BFloat16);
    const auto before = conv->forward(x).to(torch::kFloat);
    {
        torch::NoGradGuard noGrad;
        conv->weight.add_(1.0);
    }
    const auto stale = conv->forward(x).to(torch::kFloat);
    EXPECT_TRUE(torch::equal(stale, before)) << "autocast no longer caches: drop dropCastWeights";
    ll::dropCastWeights();
    const auto fresh = conv->forward(x).to(torch::kFloat);
    EXPECT_GT((fresh - before).abs().min().item<double>(), 0.5);
}

TEST(GanSettings, BadSettingsAreRefusedByName) {
    const ll::ModelShape fashion{};
    EXPECT_EQ(refusal("dcgan", fashion), "");
    const ll::ModelShape rgb{.channels = 3, .height = 32, .width = 32};
    EXPECT_EQ(refusal("wgan-gp", rgb), "");
    const ll::ModelShape odd{.channels = 3, .height = 30, .width = 30};
    EXPECT_NE(refusal("dcgan", odd).find("multiples of 4"), std::string::npos)
        << refusal("dcgan", odd);
    EXPECT_NE(refusal("wgan-gp", fashion, {{"gp", "-1"}}).find("'gp'"), std::string::npos);
    EXPECT_NE(refusal("wgan-gp", fashion, {{"critic_steps", "0"}}).find("'critic_steps'"),
              std::string::npos);
    for (const char* bad : {"0", "65", "2.5", "four"})
        EXPECT_NE(refusal("wgan-gp", fashion, {{"gp_every", bad}}).find("'gp_every'"),
                  std::string::npos)
            << bad;
    EXPECT_NE(refusal("dcgan", fashion, {{"gp_every", "2"}}).find("no setting"), std::string::npos);
    EXPECT_NE(refusal("acgan", fashion, {{"aux_weight", "-2"}}).find("'aux_weight'"),
              std::string::npos);
    EXPECT_NE(refusal("dcgan", fashion, {{"precision", "fp16"}}).find("'precision'"),
              std::string::npos);
    EXPECT_EQ(refusal("cgan", fashion, {{"precision", "bf16"}}), "");
    EXPECT_NE(refusal("acgan", fashion, {{"projection", "2"}}).find("'projection'"),
              std::string::npos);
    EXPECT_NE(refusal("cgan", fashion, {{"projection", "1"}}).find("no setting"),
              std::string::npos);
    EXPECT_NE(refusal("cgan", fashion, {{"width", "0"}}).find("'width'"), std::string::npos);
    EXPECT_NE(refusal("dcgan", fashion, {{"beta1", "1"}}).find("'beta1'"), std::string::npos);
    EXPECT_NE(refusal("dcgan", fashion, {{"gp", "10"}}).find("no setting 'gp'"), std::string::npos);
    EXPECT_NE(refusal("cgan", fashion, {{"mode_seeking", "-1"}}).find("'mode_seeking'"),
              std::string::npos);
    EXPECT_NE(refusal("wgan-gp", fashion, {{"mode_seeking", "1"}}).find("no setting"),
              std::string::npos);
    EXPECT_NE(refusal("dcgan", fashion, {{"ema", "1"}}).find("'ema'"), std::string::npos);
    EXPECT_NE(refusal("wgan-gp", fashion, {{"ema", "-0.1"}}).find("'ema'"), std::string::npos);
    for (const char* bad : {"-1", "1001", "2.5"})
        EXPECT_NE(refusal("wgan-gp", fashion, {{"lookahead", bad}}).find("'lookahead'"),
                  std::string::npos)
            << bad;
    for (const char* bad : {"0", "1.5"})
        EXPECT_NE(refusal("dcgan", fashion, {{"lookahead_alpha", bad}}).find("'lookahead_alpha'"),
                  std::string::npos)
            << bad;
    EXPECT_NE(refusal("dcgan", fashion, {{"d_norm", "instance"}}).find("'d_norm'"),
              std::string::npos);
    EXPECT_EQ(refusal("wgan-gp", fashion, {{"d_norm", "layer"}}), "");
    EXPECT_NE(refusal("wgan-gp", fashion, {{"d_norm", "batch"}}).find("batch norm"),
              std::string::npos);
    EXPECT_EQ(refusal("wgan-gp", fashion, {{"d_norm", "spectral"}}), "");
    EXPECT_NE(refusal("dcgan", fashion, {{"refine", "5"}}).find("'refine'"), std::string::npos);
    const ll::ModelShape rows{.features = 30, .numClasses = 2};
    EXPECT_EQ(refusal("cgan", rows), "");
    EXPECT_EQ(refusal("cgan", rows, {{"ema", "0.999"}}), "");
    EXPECT_EQ(refusal("cgan", rows, {{"d_norm", "spectral"}}), "");
    EXPECT_EQ(refusal("cgan", rows, {{"refine", "0"}}), "");
    // The convolutions' settings of the image presets a table starts from (cgan-cpu's refine
    // 1 and width 64) are left out of a table's settings, not refused.
    const auto* preset = ll::findPreset("cgan-cpu");
    ASSERT_NE(preset, nullptr);
    ASSERT_EQ(preset->settings.at("refine"), "1");
    auto fromPreset = ll::createModel("cgan", rows, preset->settings);
    ASSERT_TRUE(fromPreset) << fromPreset.error().message;
    for (const char* key : {"refine", "width", "d_width"})
        EXPECT_FALSE((*fromPreset)->settings().contains(key)) << key;
    EXPECT_NE(refusal("acgan", rows).find("tabular"), std::string::npos);
}

TEST(TabularGan, GeneratedRowsMoveToTheirClass) {
    ll::applyCpuSettings();
    auto data = ll::loadDataset(
        {.source = "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv"});
    ASSERT_TRUE(data) << data.error().message;
    ASSERT_EQ(data->x.dim(), 2);
    const int classes = data->numClasses();
    torch::manual_seed(4);
    auto model = fixture::build("cgan", *data, {{"lr", "1e-3"}});
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(model->workload(), ll::Workload::Mlp);
    // Distance between the generated and the real per-class feature means (RMS over
    // features, summed over classes), and between the two real classes for scale.
    auto gap = [&] {
        double total = 0;
        for (int k = 0; k < classes; ++k) {
            auto rows = model->sample({.count = 400, .seed = 7, .labels = {k}});
            auto real = data->x.index({data->y == k});
            total += (rows.mean(0) - real.mean(0)).pow(2).mean().sqrt().item<double>();
        }
        return total;
    };
    const double before = gap();
    fixture::train(*model, *data, 3000, 64);
    const double after = gap();
    auto real0 = data->x.index({data->y == 0}).mean(0);
    auto real1 = data->x.index({data->y == 1}).mean(0);
    const double between = (real0 - real1).pow(2).mean().sqrt().item<double>();
    std::printf("tabular cgan: class-mean gap %.3f -> %.3f (classes %.3f apart)\n", before, after,
                between);
    EXPECT_LT(after, 0.6 * before) << "before " << before;
    EXPECT_LT(after, 0.5 * between) << "the classes' means lie " << between << " apart";
}

}  // namespace
