// The VAE family learns on real data; the chaotic noise source has the statistics it claims.
#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <string>

#include <unistd.h>

#include "common/atomicfile.h"
#include "data/loader.h"
#include "fixture.h"
#include "models/vae.h"

namespace {

namespace fs = std::filesystem;

class VaeTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        ll::applyCpuSettings();
        s_data = new ll::Dataset(fixture::fashion(4000));
        s_judge = fixture::classifier().release();
    }
    static void TearDownTestSuite() {
        delete s_data;
        delete s_judge;
    }
    static ll::Dataset* s_data;
    static ll::GenerativeModel* s_judge;
};
ll::Dataset* VaeTest::s_data = nullptr;
ll::GenerativeModel* VaeTest::s_judge = nullptr;

TEST_F(VaeTest, ConditionalVaeSamplesTheAskedClass) {
    ASSERT_NE(s_judge, nullptr);
    torch::manual_seed(1);
    auto model = fixture::build("cvae", *s_data, {{"beta", "2"}});  // as cvae-cpu
    ASSERT_NE(model, nullptr);
    const double before = fixture::agreement(*model, *s_judge);
    fixture::train(*model, *s_data, 2000, 64);
    const double after = fixture::agreement(*model, *s_judge);
    std::printf("cvae agreement: %.3f before, %.3f after 2,000 steps\n", before, after);
    EXPECT_LT(before, 0.3);
    EXPECT_GT(after, 0.5) << "chance is 0.1; before training " << before;
}

TEST_F(VaeTest, PlainAndChaoticVaesDrawGarmentsTheClassifierRecognises) {
    ASSERT_NE(s_judge, nullptr);
    for (const char* name : {"vae", "chaotic-vae"}) {
        SCOPED_TRACE(name);
        torch::manual_seed(2);
        auto model = fixture::build(name, *s_data);
        ASSERT_NE(model, nullptr);
        const double before = fixture::classSpread(*model, *s_judge);
        const auto first = fixture::train(*model, *s_data, 20, 64);
        const auto last = fixture::train(*model, *s_data, 600, 64, 3);
        const double after = fixture::classSpread(*model, *s_judge);
        EXPECT_LT(last.at("loss"), 0.7 * first.at("loss"));
        EXPECT_LT(before, 2.5);
        EXPECT_GT(after, 5.0) << "effective number of classes among the samples";
    }
}

TEST_F(VaeTest, SameSeedSamePixelsOtherSeedOtherPixels) {
    for (const char* name : {"vae", "cvae", "chaotic-vae"}) {
        SCOPED_TRACE(name);
        auto model = fixture::build(name, *s_data);
        ASSERT_NE(model, nullptr);
        auto a = model->sample({.count = 8, .seed = 42});
        auto b = model->sample({.count = 8, .seed = 42});
        auto c = model->sample({.count = 8, .seed = 43});
        EXPECT_TRUE(torch::equal(a, b));
        EXPECT_FALSE(torch::equal(a, c));
        EXPECT_EQ(a.sizes(), (std::vector<std::int64_t>{8, 1, 28, 28}));
    }
}

TEST(ChaoticNoise, StandardisedAperiodicAndResumable) {
    torch::manual_seed(7);
    ll::ChaoticNoise noise(8, 4.0, torch::rand({8}, torch::kFloat64));
    auto v = noise->next(20000);  // 20000 x 8
    EXPECT_NEAR(v.mean().item<double>(), 0.0, 0.03);
    EXPECT_NEAR(v.var().item<double>(), 1.0, 0.05);
    // Not the same sequence in every unit, and uncorrelated between neighbouring steps.
    EXPECT_FALSE(torch::allclose(v.select(1, 0), v.select(1, 1)));
    auto x = v.select(1, 0).to(torch::kFloat64);
    const double lag1 = (x.slice(0, 0, -1) * x.slice(0, 1)).mean().item<double>();
    EXPECT_LT(std::abs(lag1), 0.05);
    // Aperiodic: no period up to 1000 in the first unit's sequence.
    auto seq = x.contiguous();
    const double* s = seq.data_ptr<double>();
    for (int period = 1; period <= 1000; ++period) {
        int equal = 0;
        for (int i = 0; i + period < 5000; ++i) equal += s[i] == s[i + period];
        ASSERT_LT(equal, 10) << "period " << period;
    }
    // Not Gaussian: the logistic map's arcsine law has no values beyond +-sqrt(2).
    EXPECT_LE(v.abs().max().item<double>(), std::sqrt(2.0) + 1e-3);
    // The state is a buffer: a copy continues exactly where the original is.
    ll::ChaoticNoise copy(8, 4.0, noise->state.clone());
    EXPECT_TRUE(torch::equal(noise->next(5), copy->next(5)));
}

TEST(ChaoticNoise, RefusesNonChaoticParameters) {
    auto start = torch::full({4}, 0.3, torch::kFloat64);
    EXPECT_THROW(ll::ChaoticNoise(4, 3.2, start), std::invalid_argument);   // period 2
    EXPECT_THROW(ll::ChaoticNoise(4, 3.83, start), std::invalid_argument);  // period-3 window
    EXPECT_THROW(ll::ChaoticNoise(4, 4.5, start), std::invalid_argument);   // leaves [0, 1]
    EXPECT_NO_THROW(ll::ChaoticNoise(4, 3.9, start));
    auto made = ll::createModel("chaotic-vae", {}, {{"r", "3.83"}});
    ASSERT_FALSE(made);
    EXPECT_NE(made.error().message.find("periodic window"), std::string::npos)
        << made.error().message;
}

TEST(VaeSettings, BadSettingsAreClearErrors) {
    auto unknown = ll::createModel("vae", {}, {{"latnet", "4"}});
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("no setting 'latnet'"), std::string::npos);
    auto bad = ll::createModel("cvae", {}, {{"latent", "many"}});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("'latent'"), std::string::npos);
    auto device = ll::createModel("vae", {}, {{"device", "tpu"}});
    ASSERT_FALSE(device);
    EXPECT_NE(device.error().message.find("device"), std::string::npos);
}

TEST(TabularVae, GeneratedRowsFollowTheirClass) {
    auto data = ll::loadDataset(
        {.source = "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv"});
    ASSERT_TRUE(data) << data.error().message;
    torch::manual_seed(4);
    auto model = fixture::build("cvae", *data, {{"latent", "4"}, {"hidden", "64,32"}});
    ASSERT_NE(model, nullptr);
    fixture::train(*model, *data, 1500, 64);
    // Per-class means of generated rows lie nearer their own class's real mean than the
    // other class's (the two classes differ by about 1.5 standard deviations on average).
    for (std::int64_t k = 0; k < 2; ++k) {
        auto rows = model->sample({.count = 400, .seed = 9, .labels = {k}});
        auto generated = rows.mean(0);
        auto own = data->x.index({data->y == k}).mean(0);
        auto other = data->x.index({data->y == 1 - k}).mean(0);
        const double toOwn = (generated - own).norm().item<double>();
        const double toOther = (generated - other).norm().item<double>();
        EXPECT_LT(toOwn, 0.5 * toOther) << "class " << k;
    }
}

// A table whose class says most of a row: the decoder learns to ignore z, and its means of a
// class are one row. Samples are draws of its Gaussian, spread as the real rows of the class
// are (they spread 0.3 % of them when they were the means); temperature 0 is the mean.
TEST(TabularVae, SamplesSpreadAsTheRealRowsOfTheirClass) {
    const auto dir = fs::temp_directory_path() / ("latentlab-test-vae-" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::string text = "alcohol,ash,class\n";
    std::mt19937 rng(3);
    std::normal_distribution<double> noise(0.0, 1.0);
    for (int i = 0; i < 300; ++i) {
        const int label = i % 3;
        text += std::to_string(12 + 2 * label + 0.3 * noise(rng)) + "," +
                std::to_string(1 + label + 0.15 * noise(rng)) + "," + std::to_string(label) + "\n";
    }
    ASSERT_TRUE(ll::writeFileAtomic(dir / "wine.csv", text));
    auto data = ll::loadDataset({.source = (dir / "wine.csv").string()});
    ASSERT_TRUE(data) << data.error().message;
    torch::manual_seed(4);
    auto model = fixture::build(
        "cvae", *data,
        {{"likelihood", "gaussian"}, {"prior", "fitted"}, {"latent", "4"}, {"hidden", "64,32"}});
    ASSERT_NE(model, nullptr);
    fixture::train(*model, *data, 3000, 64);
    for (std::int64_t k = 0; k < 3; ++k) {
        const auto real = data->x.index({data->y == k});
        const auto rows = model->sample({.count = 400, .seed = 9, .labels = {k}});
        const auto ratio = (rows.std(0) / real.std(0)).to(torch::kFloat64);
        for (int f = 0; f < 2; ++f)
            EXPECT_TRUE(ratio[f].item<double>() > 0.4 && ratio[f].item<double>() < 2.5)
                << "class " << k << ", feature " << f << ": spread " << ratio[f].item<double>()
                << " of the real rows'";
        EXPECT_LT((rows.mean(0) - real.mean(0)).abs().max().item<double>(), 0.3) << "class " << k;
        const auto again = model->sample({.count = 400, .seed = 9, .labels = {k}});
        EXPECT_TRUE(torch::equal(rows, again));  // a seed gives the same rows
        const auto centre =
            model->sample({.count = 50, .seed = 9, .labels = {k}, .temperature = 0});
        EXPECT_LT(centre.std(0).max().item<double>(), 0.05) << "temperature 0: the mean";
    }
    fs::remove_all(dir);
}

}  // namespace
