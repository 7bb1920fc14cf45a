// Every model in the catalogue, on every kind of data it claims: 28x28 grayscale and 32x32
// RGB images, tabular rows. It trains, samples (or classifies) the right shape, round-trips
// a checkpoint, and refuses data it does not model with a message that says so.
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/cpu.h"
#include "models/model.h"

namespace fs = std::filesystem;

namespace {

struct Data {
    const char* name;
    ll::ModelShape shape;
};

const Data kData[] = {
    {"gray28", {.channels = 1, .height = 28, .width = 28, .numClasses = 10}},
    {"rgb32", {.channels = 3, .height = 32, .width = 32, .numClasses = 4}},
    {"tabular", {.features = 7, .numClasses = 3}},
};

bool claims(const ll::ModelInfo& m, const ll::ModelShape& shape) {
    return shape.tabular() ? m.tabular : m.images;
}

torch::Tensor batchFor(const ll::ModelShape& s, std::int64_t n) {
    return s.tabular() ? torch::randn({n, s.features})
                       : torch::rand({n, s.channels, s.height, s.width});
}

std::vector<std::int64_t> sizesOf(const ll::ModelShape& s, std::int64_t n) {
    if (s.tabular()) return {n, s.features};
    return {n, s.channels, s.height, s.width};
}

// Small versions of the models, so that every family runs in a second or two.
ll::Settings small(const std::string& model) {
    if (model == "ddpm" || model == "noisy-classifier") return {{"width", "8"}};
    if (model == "latent-ddpm")
        return {{"vae_steps", "2"}, {"vae_hidden", "32"}, {"hidden", "32"}, {"latent", "4"}};
    if (model == "dcgan" || model == "cgan" || model == "acgan" || model == "wgan-gp")
        return {{"width", "8"}, {"latent", "8"}};
    return {};
}

class Zoo : public ::testing::TestWithParam<Data> {
protected:
    static void SetUpTestSuite() { ll::applyCpuSettings(); }
};

TEST_P(Zoo, EveryModelTrainsSamplesAndReloadsOnThisData) {
    const auto& [dataName, shape] = GetParam();
    const fs::path dir =
        fs::temp_directory_path() / ("latentlab-test-zoo-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    int covered = 0;
    for (const auto& info : ll::modelCatalog()) {
        SCOPED_TRACE(info.name + " on " + dataName);
        auto built = ll::createModel(info.name, shape, small(info.name));
        if (!claims(info, shape)) {
            ASSERT_FALSE(built) << "builds on data it does not claim";
            EXPECT_NE(built.error().message.find(info.name), std::string::npos)
                << built.error().message;
            continue;
        }
        ASSERT_TRUE(built) << built.error().message;
        auto& model = **built;
        ++covered;
        torch::manual_seed(3);
        const auto n = std::min<std::int64_t>(8, 2 * shape.numClasses);
        auto y = torch::arange(n, torch::kInt64) % shape.numClasses;
        for (int step = 0; step < 4; ++step) {
            const auto losses = model.trainStep(batchFor(shape, n), y);
            ASSERT_TRUE(losses.contains("loss"));
            for (const auto& [name, value] : losses) EXPECT_TRUE(std::isfinite(value)) << name;
        }
        const ll::SampleRequest request{.count = 4, .seed = 5, .labels = {0, 1, 2, 0}, .steps = 3};
        const auto probe = batchFor(shape, 4);
        auto run = [&](ll::GenerativeModel& m) {
            return m.generates() ? m.sample(request) : m.classify(probe);
        };
        const torch::Tensor out = run(model);
        if (model.generates()) {
            EXPECT_EQ(out.sizes(), torch::IntArrayRef(sizesOf(shape, 4)));
            if (!shape.tabular()) {
                EXPECT_GE(out.min().item<float>(), 0.0f);
                EXPECT_LE(out.max().item<float>(), 1.0f);
            }
        } else {
            EXPECT_EQ(out.sizes(), torch::IntArrayRef({4, shape.numClasses}));
        }
        ASSERT_TRUE(torch::isfinite(out).all().item<bool>());

        // A checkpoint restores the same function into a fresh model.
        const fs::path file = dir / (info.name + "-" + dataName + ".pt");
        ASSERT_TRUE(model.save(file));
        auto fresh = ll::createModel(info.name, shape, small(info.name));
        ASSERT_TRUE(fresh) << fresh.error().message;
        auto loaded = (*fresh)->load(file);
        ASSERT_TRUE(loaded) << loaded.error().message;
        torch::manual_seed(9);  // the request's seed, not the global one, decides
        EXPECT_TRUE(torch::allclose(out, run(**fresh), 1e-5, 1e-6));
    }
    EXPECT_GE(covered, shape.tabular() ? 2 : 10) << "models that claim this data";
    fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Data, Zoo, ::testing::ValuesIn(kData),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
