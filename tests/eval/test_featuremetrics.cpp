// The metrics of two feature files as `latentlab-cli metrics` writes them
// (eval/featuremetrics.h), and the choice of a feature extractor (eval/extractorchoice.h).
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/npy.h"
#include "eval/extractorchoice.h"
#include "eval/featuremetrics.h"
#include "eval/metrics.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kFixtures = fs::path(LATENTLAB_TEST_DATA) / "eval" / "fixtures";

torch::Tensor npy(const char* name) {
    auto t = ll::readNpy(kFixtures / name);
    EXPECT_TRUE(t) << name;
    return t ? *t : torch::Tensor();
}

fs::path scratch() {
    static const fs::path dir = [] {
        auto d = fs::temp_directory_path() /
                 ("latentlab-test-featuremetrics-" + std::to_string(::getpid()));
        fs::remove_all(d);
        fs::create_directories(d);
        return d;
    }();
    return dir;
}

}  // namespace

TEST(FeatureMetrics, FilesGiveTheScoresOfTheirArrays) {
    const ll::FeatureMetricsConfig config{.real = kFixtures / "real.npy",
                                          .fake = kFixtures / "fake.npy",
                                          .k = 4,
                                          .kDensity = 6,
                                          .seed = 3,
                                          .kidSubsets = 7,
                                          .kidSize = 20};
    auto m = ll::measureFeatureFiles(config);
    ASSERT_TRUE(m) << m.error().message;
    const auto real = npy("real.npy"), fake = npy("fake.npy");
    EXPECT_EQ(m->realCount, real.size(0));
    EXPECT_EQ(m->fakeCount, fake.size(0));
    EXPECT_EQ(m->features, real.size(1));
    EXPECT_DOUBLE_EQ(m->fid, *ll::frechetDistance(real, fake));
    const auto kid = ll::kernelInceptionDistance(
        real, fake, ll::KidConfig{.subsets = 7, .subsetSize = 20, .seed = 3});
    ASSERT_TRUE(kid);
    EXPECT_DOUBLE_EQ(m->kid.mean, kid->mean);
    EXPECT_DOUBLE_EQ(m->precisionRecall.recall, ll::precisionRecall(real, fake, 4)->recall);
    EXPECT_DOUBLE_EQ(m->densityCoverage.density, ll::densityCoverage(real, fake, 6)->density);
    EXPECT_FALSE(m->copying);

    const json j = json::parse(ll::featureMetricsJson(*m));
    EXPECT_DOUBLE_EQ(j["fid"].get<double>(), m->fid);
    EXPECT_DOUBLE_EQ(j["kid_std"].get<double>(), kid->std);
    EXPECT_DOUBLE_EQ(j["coverage"].get<double>(), m->densityCoverage.coverage);
    EXPECT_FALSE(j.contains("ct"));
    const auto& p = j["protocol"];
    EXPECT_EQ(p["real"], (kFixtures / "real.npy").string());
    EXPECT_EQ(p["k_precision_recall"], 4);
    EXPECT_EQ(p["k_density_coverage"], 6);
    EXPECT_EQ(p["kid_subsets"], 7);
    EXPECT_EQ(p["kid_subset_size"], 20);
    EXPECT_EQ(p["seed"], 3);
    EXPECT_FALSE(p.contains("train"));

    const fs::path out = scratch() / "metrics.json";
    ASSERT_TRUE(ll::writeFeatureMetrics(*m, out));
    EXPECT_EQ(*ll::readFile(out), ll::featureMetricsJson(*m));
}

TEST(FeatureMetrics, DataCopyingWithTrainAndTestFeatures) {
    auto m = ll::measureFeatureFiles({.real = kFixtures / "real.npy",
                                      .fake = kFixtures / "fake.npy",
                                      .train = kFixtures / "train.npy",
                                      .test = kFixtures / "test.npy",
                                      .cells = 3});
    ASSERT_TRUE(m) << m.error().message;
    ASSERT_TRUE(m->copying);
    const auto ct = ll::dataCopying(npy("train.npy"), npy("test.npy"), npy("fake.npy"),
                                    ll::DataCopyingConfig{.cells = 3});
    ASSERT_TRUE(ct);
    EXPECT_DOUBLE_EQ(m->copying->ct, ct->ct);
    const json j = json::parse(ll::featureMetricsJson(*m));
    EXPECT_DOUBLE_EQ(j["ct"].get<double>(), ct->ct);
    ASSERT_EQ(j["ct_cells"].size(), ct->cells.size());
    EXPECT_EQ(j["ct_cells"][0]["train"], ct->cells[0].train);
    EXPECT_EQ(j["protocol"]["cells"], 3);
    EXPECT_EQ(j["protocol"]["train_count"], npy("train.npy").size(0));
}

TEST(FeatureMetrics, RefusalsNameTheFault) {
    auto alone = ll::measureFeatureFiles({.real = kFixtures / "real.npy",
                                          .fake = kFixtures / "fake.npy",
                                          .train = kFixtures / "train.npy"});
    ASSERT_FALSE(alone);
    EXPECT_EQ(alone.error().message, "the data-copying test needs both --train and --test");
    auto narrow =
        ll::measureFeatureFiles({.real = kFixtures / "real.npy", .fake = kFixtures / "narrow.npy"});
    ASSERT_FALSE(narrow);
    EXPECT_NE(narrow.error().message.find("real has 16 features per sample, fake has 8"),
              std::string::npos)
        << narrow.error().message;
    auto missing = ll::measureFeatureFiles({.real = "/no/such/real.npy", .fake = "x.npy"});
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("/no/such/real.npy"), std::string::npos);
}

TEST(ExtractorChoice, GivenFoldersAndTheDatasetsOwn) {
    const fs::path workspace = scratch() / "workspace";
    // Nothing given: the shipped extractor of Fashion-MNIST, its weights checked.
    auto shipped = ll::chooseExtractor({}, "fashion-mnist", workspace);
    ASSERT_TRUE(shipped) << shipped.error().message;
    ASSERT_TRUE(shipped->info);
    EXPECT_TRUE(shipped->info->shipped);
    EXPECT_EQ(shipped->dir, ll::shippedExtractorsDir() / "fashion-mnist");
    // An extractor folder given: the same, by its path.
    auto given = ll::chooseExtractor(shipped->dir, "anything", workspace);
    ASSERT_TRUE(given) << given.error().message;
    EXPECT_EQ(given->info->sha256, shipped->info->sha256);
    // A folder without extractor.json (a classifier run) is taken as it is.
    auto run = ll::chooseExtractor(scratch() / "classifier-run", "fashion-mnist", workspace);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->dir, scratch() / "classifier-run");
    EXPECT_FALSE(run->info);
    // No extractor for the data: the message says how to train one.
    auto none = ll::chooseExtractor({}, "iris", workspace);
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message.find("no feature extractor for 'iris'"), std::string::npos);
    // Damaged weights are refused.
    const fs::path copy = scratch() / "damaged";
    fs::create_directories(copy);
    fs::copy(shipped->dir, copy,
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    ASSERT_TRUE(ll::writeFileAtomic(copy / shipped->info->weights.lexically_relative(shipped->dir),
                                    "not the weights"));
    auto damaged = ll::chooseExtractor(copy, "fashion-mnist", workspace);
    ASSERT_FALSE(damaged);
    EXPECT_NE(damaged.error().message.find("differs from"), std::string::npos)
        << damaged.error().message;
}

TEST(ExtractorChoice, ShippedTwinOfARetraining) {
    auto shipped = ll::readExtractor(ll::shippedExtractorsDir() / "fashion-mnist");
    ASSERT_TRUE(shipped) << shipped.error().message;
    EXPECT_FALSE(ll::shippedTwin(*shipped)) << "the shipped folder is no twin of itself";
    ll::ExtractorInfo retrained = *shipped;
    retrained.dir = scratch() / "retrained";
    const auto twin = ll::shippedTwin(retrained);
    ASSERT_TRUE(twin);
    EXPECT_EQ(twin->sha256, shipped->sha256);
    retrained.dataset = "iris";
    EXPECT_FALSE(ll::shippedTwin(retrained));
}
