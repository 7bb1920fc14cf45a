// A table VAE's learned standard deviation per column (setting sigma = columns): a column the
// class tells to the digit keeps its narrow spread in the samples, a noisy one its wide spread,
// a constant one stays (nearly) constant. One deviation shared by every column (the runs before
// the setting) spreads them all alike.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "fixture.h"

namespace {

// Two classes; features: precise (the class +-1, noise 0.02), wide (noise 1), constant (0),
// mixed (half the precise one plus noise 0.3). Standardised as the CSV reader does it (a
// constant column keeps std 1).
ll::Dataset spreadTable(std::int64_t n, std::uint64_t seed) {
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(seed);
    auto y = torch::randint(2, {n}, gen, torch::kInt64);
    auto noise = torch::randn({n, 3}, gen);
    auto sign = y.to(torch::kFloat) * 2 - 1;
    auto precise = sign + 0.02 * noise.select(1, 0);
    auto x = torch::stack(
        {precise, noise.select(1, 1), torch::zeros({n}), 0.5 * precise + 0.3 * noise.select(1, 2)},
        1);
    ll::Dataset d;
    d.name = "spread";
    d.modality = ll::Modality::Tabular;
    d.mean = x.mean(0);
    d.std = x.std(0, /*unbiased=*/false);
    d.std = torch::where(d.std > 1e-12, d.std, torch::ones_like(d.std));
    d.x = (x - d.mean) / d.std;
    d.y = y;
    d.classNames = {"a", "b"};
    d.featureNames = {"precise", "wide", "constant", "mixed"};
    return d;
}

std::unique_ptr<ll::GenerativeModel> trained(const ll::Dataset& data, const std::string& sigma) {
    torch::manual_seed(5);
    auto model = fixture::build(
        "cvae", data, {{"sigma", sigma}, {"likelihood", "gaussian"}, {"prior", "fitted"}});
    if (!model) return nullptr;
    model->fitToData(data);
    fixture::train(*model, data, 1200, 128);
    return model;
}

// Per feature, the samples' spread within class a over the data's (in the data's units).
std::vector<double> spreadRatio(ll::GenerativeModel& model, const ll::Dataset& data) {
    ll::SampleRequest request{.count = 2000, .seed = 7};
    request.labels.assign(2000, 0);
    const auto samples = model.sample(request) * data.std + data.mean;
    const auto real = (data.x * data.std + data.mean).index({data.y == 0});
    const auto mine = samples.std(0), theirs = real.std(0);
    std::vector<double> ratio;
    for (int f = 0; f < 4; ++f)
        ratio.push_back(f == 2 ? mine[f].item<double>()  // the constant's own spread
                               : mine[f].item<double>() / theirs[f].item<double>());
    return ratio;
}

}  // namespace

TEST(TableSigma, EachColumnKeepsItsOwnSpread) {
    ll::applyCpuSettings();
    const auto data = spreadTable(2000, 3);
    auto columns = trained(data, "columns");
    auto shared = trained(data, "shared");
    ASSERT_TRUE(columns && shared);
    EXPECT_EQ(columns->settings().at("sigma"), "columns");
    const auto c = spreadRatio(*columns, data), s = spreadRatio(*shared, data);
    std::printf(
        "samples' spread / data's, class a (precise, wide, mixed; the constant's own):\n"
        "  columns %.2f %.2f %.2f (%.4f)\n  shared  %.2f %.2f %.2f (%.4f)\n",
        c[0], c[1], c[3], c[2], s[0], s[1], s[3], s[2]);
    // Per column: each within a factor of two of the data's spread, the constant nearly still.
    for (int f : {0, 1, 3}) {
        EXPECT_GT(c[f], 0.5) << data.featureNames[f];
        EXPECT_LT(c[f], 2.0) << data.featureNames[f];
    }
    EXPECT_LT(c[2], 0.01);
    // Shared: the precise column is spread many times too wide, the constant one moves.
    EXPECT_GT(s[0], 3 * c[0]);
    EXPECT_GT(s[2], 10 * c[2]);
}

TEST(TableSigma, OlderRunsShareOneAndImagesRefuseColumns) {
    const ll::ModelShape table{.features = 4, .numClasses = 2};
    auto old = ll::createModel("cvae", table, {{"likelihood", "gaussian"}});
    ASSERT_TRUE(old) << old.error().message;
    EXPECT_EQ((*old)->settings().at("sigma"), "shared");
    auto columns =
        ll::createModel("vae", table, {{"likelihood", "gaussian"}, {"sigma", "columns"}});
    ASSERT_TRUE(columns) << columns.error().message;
    // A checkpoint of one shared deviation does not load into per-column ones, by name.
    const auto dir = fixture::tempDir("sigma-shapes");
    auto shared = ll::createModel("vae", table, {{"likelihood", "gaussian"}});
    ASSERT_TRUE(shared && (*shared)->save(dir / "shared.pt"));
    const auto loaded = (*columns)->load(dir / "shared.pt");
    ASSERT_FALSE(loaded);
    EXPECT_NE(loaded.error().message.find("log_sigma"), std::string::npos)
        << loaded.error().message;
    std::filesystem::remove_all(dir);

    const ll::ModelShape images{.channels = 1, .height = 8, .width = 8, .numClasses = 2};
    auto refused =
        ll::createModel("vae", images, {{"likelihood", "gaussian"}, {"sigma", "columns"}});
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("'sigma' = columns is for a table's columns"),
              std::string::npos)
        << refused.error().message;
    auto odd = ll::createModel("vae", table, {{"likelihood", "gaussian"}, {"sigma", "each"}});
    ASSERT_FALSE(odd);
    EXPECT_NE(odd.error().message.find("must be shared or columns, not 'each'"), std::string::npos)
        << odd.error().message;
    // Without a learned deviation there is nothing to share: the setting is left out.
    auto unit = ll::createModel("vae", table, {{"likelihood", "unit-gaussian"}});
    ASSERT_TRUE(unit) << unit.error().message;
    EXPECT_FALSE((*unit)->settings().contains("sigma"));
}
