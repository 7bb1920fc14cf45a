// Steering of samples: a seed and its settings give the same pixels every time; a guidance
// interval that holds no step is no guidance; a mixture of one class is that class; sweeps
// write the grid and the settings of every cell.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "common/cpu.h"
#include "data/loader.h"
#include "image/grid.h"
#include "models/catalog.h"
#include "models/model.h"
#include "run/runsampler.h"
#include "run/sweep.h"
#include "sample/interpolate.h"
#include "sample/latentmap.h"
#include "tiles.h"
#include "train/trainer.h"

namespace fs = std::filesystem;

namespace {

const ll::ModelShape kGray28{.channels = 1, .height = 28, .width = 28, .numClasses = 10};

std::unique_ptr<ll::GenerativeModel> build(const std::string& name, ll::Settings settings = {}) {
    torch::manual_seed(1);
    auto model = ll::createModel(name, kGray28, settings);
    if (!model) {
        ADD_FAILURE() << model.error().message;
        return nullptr;
    }
    return std::move(*model);
}

fs::path tempDir(const std::string& name) {
    auto dir = fs::temp_directory_path() /
               ("latentlab-test-steering-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    return dir;
}

// A small ddpm, few steps: samples in a second.
ll::Settings smallDdpm() {
    return {{"width", "16"}, {"timesteps", "100"}, {"sample_steps", "10"}};
}

// The U-Net starts with its last layer at zero (noise predictions of 0 whatever the class):
// a few steps on random images make its output depend on the class, as guidance needs.
std::unique_ptr<ll::GenerativeModel> nudgedDdpm() {
    auto model = build("ddpm", smallDdpm());
    if (!model) return nullptr;
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(7);
    for (int i = 0; i < 20; ++i)
        model->trainStep(torch::rand({8, 1, 28, 28}, gen),
                         torch::randint(10, {8}, gen, torch::kInt64));
    return model;
}

}  // namespace

class Steering : public ::testing::Test {
protected:
    static void SetUpTestSuite() { ll::applyCpuSettings(); }
};

TEST_F(Steering, TheSameSeedAndSettingsGiveTheSamePixels) {
    for (const char* name : {"cvae", "cgan", "ddpm", "latent-ddpm"}) {
        auto model = build(name, std::string(name) == "ddpm" ? smallDdpm() : ll::Settings{});
        ASSERT_TRUE(model) << name;
        const ll::SampleRequest r{.count = 6, .seed = 42, .labels = {3, 7}, .guidance = 1.5};
        const auto a = model->sample(r), b = model->sample(r);
        EXPECT_TRUE(a.equal(b)) << name;
        auto other = r;
        other.seed = 43;
        EXPECT_FALSE(a.equal(model->sample(other))) << name << ": the seed is used";
    }
}

TEST_F(Steering, AGuidanceIntervalWithoutStepsIsNoGuidance) {
    auto model = nudgedDdpm();
    ASSERT_TRUE(model);
    const ll::SampleRequest plain{.count = 4, .seed = 5, .labels = {1}, .guidance = 0};
    auto guided = plain;
    guided.guidance = 4;
    auto everywhere = guided;
    everywhere.guidanceFrom = 0;
    everywhere.guidanceTo = 1;
    auto nowhere = guided;  // the noisiest step is t = 99 of 100: level 0.99
    nowhere.guidanceFrom = 0.995;
    nowhere.guidanceTo = 1;
    auto late = guided;  // only the last, nearly clean steps
    late.guidanceFrom = 0;
    late.guidanceTo = 0.3;
    const auto base = model->sample(plain), full = model->sample(guided);
    EXPECT_FALSE(base.equal(full)) << "guidance changes the samples";
    EXPECT_TRUE(model->sample(everywhere).equal(full));
    EXPECT_TRUE(model->sample(nowhere).equal(base));
    const auto partial = model->sample(late);
    EXPECT_FALSE(partial.equal(base));
    EXPECT_FALSE(partial.equal(full));
}

// (latent-ddpm is left out: untrained, it draws from its VAE's prior, which has no classes.)
TEST_F(Steering, AMixtureOfOneClassIsThatClass) {
    for (const char* name : {"cvae", "cgan", "ddpm"}) {
        auto model = std::string(name) == "ddpm" ? nudgedDdpm() : build(name);
        ASSERT_TRUE(model) << name;
        const ll::SampleRequest five{.count = 3, .seed = 9, .labels = {5}, .guidance = 1};
        auto mixFive = five;
        mixFive.labels.clear();
        mixFive.mixture = {{5, 2.0}};  // weights are normalised
        auto half = mixFive;
        half.mixture = {{5, 0.5}, {7, 0.5}};
        const auto a = model->sample(five);
        EXPECT_LT((a - model->sample(mixFive)).abs().max().item<double>(), 1e-5) << name;
        EXPECT_GT((a - model->sample(half)).abs().max().item<double>(), 1e-3) << name;
        auto bad = mixFive;
        bad.mixture = {{12, 1.0}};
        EXPECT_THROW(model->sample(bad), std::invalid_argument) << name;
    }
}

TEST_F(Steering, ASweepWritesItsGridAndEveryCellsSettings) {
    const auto run = tempDir("run");
    ll::Trainer trainer({.dataset = {.source = "fashion-mnist", .limit = 500},
                         .model = "cvae",
                         .steps = 20,
                         .checkpointEvery = 10,
                         .runDir = run},
                        {});
    std::stop_source never;
    ASSERT_EQ(trainer.run(never.get_token()).outcome, ll::TrainFinished::Outcome::Completed);
    const auto out = run / "sweep.png";
    int cells = 0;
    auto file = ll::runSweep({.run = run,
                              .x = *ll::parseSweepAxis("temperature=0.5,1,1.5"),
                              .y = *ll::parseSweepAxis("class=0,9"),
                              .base = {.seed = 4}},
                             out, [&](int, int, const ll::SampleGrid& tile) {
                                 EXPECT_EQ(tile.tileWidth, 28);
                                 ++cells;
                                 return true;
                             });
    ASSERT_TRUE(file) << file.error().message;
    EXPECT_EQ(cells, 6);
    EXPECT_TRUE(fs::exists(out));
    const auto sidecar = nlohmann::json::parse(std::ifstream(run / "sweep.png.json"));
    EXPECT_EQ(sidecar["x"]["axis"], "temperature");
    ASSERT_EQ(sidecar["cells"].size(), 6u);
    EXPECT_EQ(sidecar["cells"][5]["class"], 9);
    EXPECT_EQ(sidecar["cells"][5]["temperature"], 1.5);
    EXPECT_EQ(sidecar["cells"][5]["step"], 20);

    // Checkpoints as an axis open each one.
    auto steps = ll::runSweep({.run = run,
                               .x = *ll::parseSweepAxis("checkpoint=10,20"),
                               .y = *ll::parseSweepAxis("seed=1,2")},
                              run / "steps.png");
    ASSERT_TRUE(steps) << steps.error().message;
    const auto byStep = nlohmann::json::parse(std::ifstream(run / "steps.png.json"));
    EXPECT_EQ(byStep["cells"][0]["step"], 10);
    EXPECT_EQ(byStep["cells"][1]["step"], 20);

    // Bad requests say what is wrong.
    EXPECT_FALSE(ll::parseSweepAxis("sharpness=1,2"));
    EXPECT_FALSE(ll::parseSweepAxis("class=1.5"));
    EXPECT_FALSE(ll::parseSweepAxis("guidance"));
    auto same = ll::runSweep(
        {.run = run, .x = *ll::parseSweepAxis("seed=1,2"), .y = *ll::parseSweepAxis("seed=3")},
        run / "x.png");
    ASSERT_FALSE(same);
    EXPECT_NE(same.error().message.find("must differ"), std::string::npos);
    auto noClassifier = ll::runSweep({.run = run,
                                      .x = *ll::parseSweepAxis("classifier-scale=0,1"),
                                      .y = *ll::parseSweepAxis("seed=3")},
                                     run / "y.png");
    ASSERT_FALSE(noClassifier);
    EXPECT_NE(noClassifier.error().message.find("--classifier"), std::string::npos);
    auto missing = ll::runSweep(
        {.run = run, .x = *ll::parseSweepAxis("checkpoint=5"), .y = *ll::parseSweepAxis("seed=3")},
        run / "z.png");
    ASSERT_FALSE(missing);
    fs::remove_all(run);
}

// The window names the guiding classifier by its run; the sweep opens it for the
// classifier-scale axis, and refuses a run that classifies no noisy images.
TEST_F(Steering, ASweepOpensTheClassifierRunItIsGiven) {
    const auto ddpm = tempDir("sweep-ddpm");
    const auto noisy = tempDir("sweep-noisy");
    std::stop_source never;
    auto train = [&](const std::string& model, ll::Settings settings, const fs::path& dir) {
        ll::Trainer trainer({.dataset = {.source = "fashion-mnist", .limit = 256},
                             .model = model,
                             .settings = std::move(settings),
                             .steps = 4,
                             .batchSize = 16,
                             .sampleEvery = 1000,
                             .runDir = dir},
                            {});
        return trainer.run(never.get_token()).outcome;
    };
    ASSERT_EQ(train("ddpm", smallDdpm(), ddpm), ll::TrainFinished::Outcome::Completed);
    ASSERT_EQ(train("noisy-classifier", {{"width", "8"}, {"timesteps", "100"}}, noisy),
              ll::TrainFinished::Outcome::Completed);
    const ll::SweepRequest request{.run = ddpm,
                                   .x = *ll::parseSweepAxis("classifier-scale=0,4"),
                                   .y = *ll::parseSweepAxis("seed=1"),
                                   .base = {.seed = 2},
                                   .classifierRun = noisy};
    std::vector<ll::SampleGrid> tiles;
    auto file = ll::runSweep(request, ddpm / "scale.png", [&](int, int, const ll::SampleGrid& t) {
        tiles.push_back(t);
        return true;
    });
    ASSERT_TRUE(file) << file.error().message;
    ASSERT_EQ(tiles.size(), 2u);
    EXPECT_GT(ll::testing::largestDifference(ll::testing::tilePixels(tiles[0], 0),
                                             ll::testing::tilePixels(tiles[1], 0)),
              0)
        << "scale 4 drew what scale 0 drew";

    auto wrong = request;
    wrong.classifierRun = ddpm;  // a generator, not a noisy classifier
    auto refused = ll::runSweep(wrong, ddpm / "wrong.png");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("noisy-classifier"), std::string::npos)
        << refused.error().message;
    fs::remove_all(ddpm);
    fs::remove_all(noisy);
}

TEST_F(Steering, LatentsDecodeToTheSamplesTheyStartFrom) {
    for (const char* name :
         {"vae", "cvae", "chaotic-vae", "cgan", "dcgan", "ddpm", "latent-ddpm"}) {
        auto model = build(name, std::string(name) == "ddpm" ? smallDdpm() : ll::Settings{});
        ASSERT_TRUE(model) << name;
        ASSERT_TRUE(model->hasLatents()) << name;
        const ll::SampleRequest r{.count = 3, .seed = 11, .labels = {2, 4, 6}, .temperature = 0.8};
        const auto z = model->latents(r);
        EXPECT_EQ(z.size(0), 3) << name;
        EXPECT_TRUE(model->decodeLatents(z, r).equal(model->sample(r))) << name;
    }
    auto classifier = ll::createModel("classifier", kGray28, {});
    ASSERT_TRUE(classifier);
    EXPECT_FALSE((*classifier)->hasLatents());
}

TEST_F(Steering, InterpolationEndpointsAreTheEndpointsSamples) {
    for (const char* name : {"cvae", "cgan", "ddpm"}) {
        auto model = build(name, std::string(name) == "ddpm" ? smallDdpm() : ll::Settings{});
        ASSERT_TRUE(model) << name;
        const ll::SampleRequest base{.guidance = 1};
        for (auto mode : {ll::Interpolation::Spherical, ll::Interpolation::Linear}) {
            auto frames = ll::interpolateSamples(*model, {.seed = 3, .label = 1},
                                                 {.seed = 8, .label = 7}, 5, mode, base);
            ASSERT_TRUE(frames) << frames.error().message;
            ASSERT_EQ(frames->size(0), 5);
            auto a = base, b = base;
            a.count = b.count = 1;
            a.seed = 3, a.labels = {1};
            b.seed = 8, b.labels = {7};
            EXPECT_LT(((*frames)[0] - model->sample(a)[0]).abs().max().item<double>(), 1e-5)
                << name;
            EXPECT_LT(((*frames)[4] - model->sample(b)[0]).abs().max().item<double>(), 1e-5)
                << name;
            EXPECT_GT(((*frames)[2] - (*frames)[0]).abs().max().item<double>(), 1e-3) << name;
        }
    }
    auto model = build("vae");
    EXPECT_FALSE(
        ll::interpolateSamples(*model, {.seed = 1}, {.seed = 2}, 1, ll::Interpolation::Linear));
}

TEST_F(Steering, SlerpKeepsTheNormOfGaussianLatents) {
    torch::manual_seed(2);
    const auto a = torch::randn({1, 512}), b = torch::randn({1, 512});
    const auto path = ll::interpolateLatents(a, b, 9, ll::Interpolation::Spherical);
    const auto straight = ll::interpolateLatents(a, b, 9, ll::Interpolation::Linear);
    EXPECT_TRUE(path[0].equal(a[0]));
    EXPECT_LT((path[8] - b[0]).abs().max().item<double>(), 1e-5);
    // Halfway, the straight line cuts inside the sphere (|z| ~ sqrt(512) / sqrt(2)); the
    // great circle stays near its radius.
    EXPECT_GT(path[4].norm().item<double>(), 0.95 * a.norm().item<double>());
    EXPECT_LT(straight[4].norm().item<double>(), 0.8 * a.norm().item<double>());
}

TEST_F(Steering, VideosAreWrittenAsMp4OrAvi) {
    const auto dir = tempDir("video");
    fs::create_directories(dir);
    const auto frames = torch::rand({6, 1, 28, 28});
    for (const char* name : {"a.avi", "b.mp4"}) {
        auto ok = ll::writeVideo(frames, dir / name, 8);
        ASSERT_TRUE(ok) << ok.error().message;
        EXPECT_GT(fs::file_size(dir / name), 1000u) << name;
    }
    auto bad = ll::writeVideo(frames, dir / "c.gif", 8);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find(".mp4 or .avi"), std::string::npos);
    fs::remove_all(dir);
}

// A diffusion draw reports every denoising step (the Steer mode shows the grid converge) and
// stops when asked to (a newer request supersedes it).
TEST_F(Steering, DiffusionDrawsReportEachStepAndStopWhenAsked) {
    const auto run = tempDir("ddpm-run");
    ll::Trainer trainer({.dataset = {.source = "fashion-mnist", .limit = 200},
                         .model = "ddpm",
                         .settings = smallDdpm(),
                         .steps = 2,
                         .batchSize = 8,
                         .sampleEvery = 100,
                         .runDir = run},
                        {});
    std::stop_source never;
    ASSERT_EQ(trainer.run(never.get_token()).outcome, ll::TrainFinished::Outcome::Completed);
    auto sampler = ll::RunSampler::open(run);
    ASSERT_TRUE(sampler) << sampler.error().message;
    std::vector<int> seen;
    auto grid = (*sampler)->classGrid(3, 4, 2, {.guidance = 1},
                                      [&](const ll::SampleGrid& g, int done, int total) {
                                          EXPECT_EQ(total, 10);
                                          EXPECT_EQ(g.rows, 2);
                                          EXPECT_EQ(g.cols, 4);
                                          EXPECT_EQ(g.rowLabels.size(), 2u);
                                          seen.push_back(done);
                                          return true;
                                      });
    ASSERT_TRUE(grid) << grid.error().message;
    EXPECT_EQ(seen, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
    int calls = 0;
    auto stopped = (*sampler)->classGrid(
        3, 4, 2, {}, [&](const ll::SampleGrid&, int, int) { return ++calls < 3; });
    ASSERT_FALSE(stopped);
    EXPECT_EQ(stopped.error().message, "sampling stopped");
    EXPECT_EQ(calls, 3);
    fs::remove_all(run);
}

// The latent map: drawn and encoded points on the two leading principal axes, orthonormal
// directions ordered by spread, and a step along the first direction changes the image.
TEST_F(Steering, LatentMapsProjectOnThePrincipalAxes) {
    auto data = ll::loadDataset({.source = "fashion-mnist", .limit = 600, .seed = 3});
    ASSERT_TRUE(data) << data.error().message;
    auto model = build("vae");
    ASSERT_TRUE(model);
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(5);
    for (int i = 0; i < 100; ++i) {
        const auto rows = torch::randint(data->size(), {64}, gen, torch::kInt64);
        model->trainStep(data->x.index_select(0, rows), data->y.index_select(0, rows));
    }
    auto map = ll::buildLatentMap(*model, &*data, 300, 1, 4);
    ASSERT_TRUE(map) << map.error().message;
    ASSERT_EQ(map->x.size(), 600u);  // 300 drawn, 300 encoded
    EXPECT_EQ(std::count(map->real.begin(), map->real.end(), 1), 300);
    ASSERT_EQ(map->directions.size(), 4u);
    for (std::size_t i = 1; i < map->spread.size(); ++i)
        EXPECT_GE(map->spread[i - 1], map->spread[i]);
    const auto d0 = torch::tensor(map->directions[0]), d1 = torch::tensor(map->directions[1]);
    EXPECT_NEAR(d0.norm().item<double>(), 1.0, 1e-5);
    EXPECT_NEAR(d0.dot(d1).item<double>(), 0.0, 1e-5);
    // The encoded rows carry their data's classes.
    for (std::size_t i = 0; i < map->x.size(); ++i)
        if (map->real[i]) {
            EXPECT_EQ(map->label[i], data->y[map->index[i]].item<std::int64_t>());
        }
    const auto mean = torch::tensor(map->mean).unsqueeze(0);
    const auto moved = mean + 3 * map->spread[0] * d0.unsqueeze(0);
    const ll::SampleRequest r{.count = 1};
    EXPECT_GT(
        (model->decodeLatents(moved, r) - model->decodeLatents(mean, r)).abs().max().item<double>(),
        0.05);
    auto gan = build("dcgan");
    auto drawnOnly = ll::buildLatentMap(*gan, &*data, 50, 1, 2);
    ASSERT_TRUE(drawnOnly) << drawnOnly.error().message;
    EXPECT_EQ(drawnOnly->x.size(), 50u);  // a GAN encodes nothing
    auto classifier = ll::createModel("classifier", kGray28, {});
    EXPECT_FALSE(ll::buildLatentMap(**classifier, nullptr, 50, 1));
}

namespace {

// A short cvae run on 200 Fashion-MNIST images: enough to open and browse.
fs::path tinyRun(const std::string& name) {
    const auto run = tempDir(name);
    ll::Trainer trainer({.dataset = {.source = "fashion-mnist", .limit = 200},
                         .model = "cvae",
                         .steps = 5,
                         .batchSize = 16,
                         .sampleEvery = 100,
                         .runDir = run},
                        {});
    std::stop_source never;
    EXPECT_EQ(trainer.run(never.get_token()).outcome, ll::TrainFinished::Outcome::Completed);
    return run;
}

using ll::testing::largestDifference;
using ll::testing::tilePixels;

}  // namespace

// A guidance slider moved while a draw denoises: the steps already taken stay as they were,
// the rest follow the new weight, from the latents the draw has reached.
TEST_F(Steering, GuidanceChangedMidRunTakesEffectFromTheCurrentStep) {
    auto model = nudgedDdpm();
    ASSERT_TRUE(model);
    const ll::SampleRequest base{.count = 2, .seed = 5, .labels = {1, 3}};
    auto draw = [&](ll::SampleRequest r, std::function<void(int)> after = {}) {
        std::vector<torch::Tensor> seen;
        r.onStep = [&](int done, int, const at::Tensor& x0) {
            seen.push_back(x0.clone());
            if (after) after(done);
            return true;
        };
        seen.push_back(model->sample(r));
        return seen;
    };
    const auto plain = draw(base);
    auto strong = base;
    strong.guidance = 3;
    const auto guided = draw(strong);
    ASSERT_FALSE(plain.back().equal(guided.back()));

    auto live = std::make_shared<ll::LiveGuidance>();
    auto r = base;
    r.live = live;
    const auto steered = draw(r, [&](int done) {
        if (done == 4) live->guidance = 3;
    });
    ASSERT_EQ(steered.size(), plain.size());
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(steered[std::size_t(i)].equal(plain[std::size_t(i)]));
    EXPECT_FALSE(steered[4].equal(plain[4]));
    EXPECT_FALSE(steered.back().equal(plain.back()));
    EXPECT_FALSE(steered.back().equal(guided.back()));

    // Live values equal to the request's give the request's pixels.
    auto same = std::make_shared<ll::LiveGuidance>();
    same->guidance = 3;
    auto fixed = strong;
    fixed.live = same;
    EXPECT_TRUE(model->sample(fixed).equal(guided.back()));
}

// Locked tiles keep their latents when the rest of the grid reseeds.
TEST_F(Steering, LockedTilesKeepTheirLatentsWhenTheGridReseeds) {
    const auto run = tinyRun("locks");
    auto sampler = ll::RunSampler::open(run);
    ASSERT_TRUE(sampler) << sampler.error().message;
    const ll::SampleRequest first{.count = 8, .seed = 1, .labels = {2}};
    auto second = first;
    second.seed = 2;
    const auto before = (*sampler)->grid(first, 4);
    const auto plain = (*sampler)->grid(second, 4);
    ASSERT_TRUE(before && plain);
    auto locked = second;
    locked.pinned = {{.tile = 5, .seed = 1, .count = 8, .index = 5}};
    const auto after = (*sampler)->grid(locked, 4);
    ASSERT_TRUE(after) << after.error().message;
    EXPECT_EQ(tilePixels(*after, 5), tilePixels(*before, 5));
    EXPECT_NE(tilePixels(*after, 5), tilePixels(*plain, 5));
    for (int i : {0, 4, 6, 7}) EXPECT_EQ(tilePixels(*after, i), tilePixels(*plain, i)) << i;

    // latentOf gives the latent a tile starts from: decoded alone, it is that tile.
    const auto z = (*sampler)->latentOf(locked, 5);
    ASSERT_TRUE(z) << z.error().message;
    EXPECT_EQ(int(z->size()), (*sampler)->latentDims());
    const auto alone = (*sampler)->decode(*z, {.count = 1, .labels = {2}}, 1);
    ASSERT_TRUE(alone) << alone.error().message;
    EXPECT_LE(largestDifference(tilePixels(*alone, 0), tilePixels(*after, 5)), 1);

    auto bad = locked;
    bad.pinned = {{.tile = 1, .seed = 1, .count = 8, .index = 9}};
    EXPECT_FALSE((*sampler)->grid(bad, 4));
    EXPECT_FALSE((*sampler)->decode(std::vector<float>(3), {.count = 1}, 1));
    fs::remove_all(run);
}

// The latent browser's computations: the map's real points show their training images, its
// drawn points their decoded latents, and an interpolation between two points starts and ends
// at them, written as a PNG strip and a video.
TEST_F(Steering, TheLatentBrowserMapsDecodesAndInterpolates) {
    const auto run = tinyRun("browser");
    auto sampler = ll::RunSampler::open(run);
    ASSERT_TRUE(sampler) << sampler.error().message;
    ll::SampleGrid images;
    auto map = (*sampler)->latentMap(150, 1, 4, &images, false);
    ASSERT_TRUE(map) << map.error().message;
    ASSERT_EQ(map->x.size(), 300u);  // 150 drawn, 150 of the 200 training images encoded
    const int dims = map->dims;
    ASSERT_EQ(map->latents.size(), 300u * std::size_t(dims));
    EXPECT_EQ(images.cols, 64);
    EXPECT_EQ(images.rows, 5);

    auto data = ll::loadDataset({.source = "fashion-mnist", .limit = 200});
    ASSERT_TRUE(data) << data.error().message;
    const auto real =
        std::size_t(std::find(map->real.begin(), map->real.end(), 1) - map->real.begin());
    ASSERT_EQ(real, 150u);
    const auto row = map->index[real];
    const auto expected = ll::makeGrid(data->x.slice(0, row, row + 1), 1);
    EXPECT_EQ(tilePixels(images, int(real)), tilePixels(expected, 0));

    auto latent = [&](std::size_t i) {
        return std::vector<float>(map->latents.begin() + std::ptrdiff_t(i * std::size_t(dims)),
                                  map->latents.begin() + std::ptrdiff_t((i + 1) * dims));
    };
    const auto drawn = (*sampler)->decode(latent(7), {.count = 1, .labels = {map->label[7]}}, 1);
    ASSERT_TRUE(drawn) << drawn.error().message;
    EXPECT_LE(largestDifference(tilePixels(*drawn, 0), tilePixels(images, 7)), 1);
    // The map point projects where the map drew it.
    const auto [x, y] = ll::projectLatent(*map, latent(7));
    EXPECT_NEAR(x, map->x[7], 1e-3);
    EXPECT_NEAR(y, map->y[7], 1e-3);

    const auto dir = tempDir("browser-out");
    fs::create_directories(dir);
    const ll::LatentEnd a{.label = map->label[7], .latent = latent(7)};
    const ll::LatentEnd b{.label = map->label[real], .latent = latent(real)};
    auto strip = (*sampler)->interpolate(a, b, 5, ll::Interpolation::Spherical, {},
                                         dir / "strip.png", dir / "strip.mp4");
    ASSERT_TRUE(strip) << strip.error().message;
    EXPECT_EQ(strip->cols, 5);
    EXPECT_EQ(strip->rows, 1);
    EXPECT_LE(largestDifference(tilePixels(*strip, 0), tilePixels(*drawn, 0)), 1);
    const auto end =
        (*sampler)->decode(latent(real), {.count = 1, .labels = {map->label[real]}}, 1);
    ASSERT_TRUE(end);
    EXPECT_LE(largestDifference(tilePixels(*strip, 4), tilePixels(*end, 0)), 1);
    EXPECT_NE(tilePixels(*strip, 2), tilePixels(*strip, 0));
    EXPECT_GT(fs::file_size(dir / "strip.png"), 100u);
    EXPECT_GT(fs::file_size(dir / "strip.mp4"), 1000u);
    const ll::LatentEnd wrong{.latent = std::vector<float>(3)};
    EXPECT_FALSE((*sampler)->interpolate(a, wrong, 5, ll::Interpolation::Linear, {}));

    // Its data gone, the run still maps what it draws, and says why the rest is missing.
    auto config = nlohmann::json::parse(std::ifstream(run / "config.json"));
    config["dataset"]["source"] = (dir / "moved-away.csv").string();
    std::ofstream(run / "config.json") << config.dump(2);
    auto reopened = ll::RunSampler::open(run);
    ASSERT_TRUE(reopened) << reopened.error().message;
    auto drawnOnly = (*reopened)->latentMap(150, 1, 4, &images, false);
    ASSERT_TRUE(drawnOnly) << drawnOnly.error().message;
    EXPECT_EQ(drawnOnly->x.size(), 150u);
    EXPECT_NE(drawnOnly->note.find("moved-away.csv"), std::string::npos) << drawnOnly->note;
    fs::remove_all(dir);
    fs::remove_all(run);
}
