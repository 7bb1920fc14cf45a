// One-class detection on real data: the benign rows of the breast-cancer table as normal, vae,
// chaotic-vae and the Mahalanobis baseline each separate the malignant rows; a rerun resumes
// from its parts and other options start over; the CLI writes result.json with the issue's
// keys and charts, on a table and on a Fashion-MNIST pair; bad input is refused in one line.
// The chaotic VAE's settings: the start value repeats a run, the inverse-normal transform
// gives standard normal noise.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "clirun.h"
#include "models/vae.h"
#include "study/oneclass.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using ll::testing::cli;

fs::path scratch() {
    static const fs::path dir = ll::testing::scratchFolder("oneclass");
    return dir;
}

const std::string kBreastCancer =
    (fs::path(LATENTLAB_TEST_DATA) / "study/fixtures/breast_cancer.csv").string();

json readJson(const fs::path& file) {
    std::ifstream in(file);
    return json::parse(in);
}

ll::OneClassRequest breastCancer(const fs::path& out) {
    ll::OneClassRequest r;
    r.data.source = kBreastCancer;
    r.data.labelColumn = "diagnosis";
    r.normal = "benign";
    r.models = {ll::OneClassModel::Vae, ll::OneClassModel::ChaoticVae,
                ll::OneClassModel::Mahalanobis};
    r.seeds = 2;
    r.steps = 400;
    r.out = out;
    return r;
}

TEST(OneClass, DetectorsSeparateMalignantFromBenignRows) {
    const auto out = scratch() / "breast";
    int parts = 0;
    auto result = ll::runOneClass(breastCancer(out), [&](const std::string& stage, double) {
        parts += stage.find("seed") != std::string::npos;
        return true;
    });
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(result->normalClass, "benign");
    // 357 benign rows: 30% tested, the rest split 80/20; all 212 malignant rows tested.
    EXPECT_EQ(result->testNormal, 107);
    EXPECT_EQ(result->testAnomalous, 212);
    EXPECT_EQ(result->trainRows + result->validationRows, 250);
    EXPECT_EQ(result->features, "standardised columns");
    ASSERT_EQ(result->models.size(), 3u);
    for (const auto& m : result->models) {
        SCOPED_TRACE(ll::oneClassModelName(m.model));
        ASSERT_EQ(m.aurocs.size(), 2u);
        // Chance is 0.5; malignant tumours are far from the benign ones in these features.
        EXPECT_GT(m.aurocMean, 0.85);
        EXPECT_GT(m.rateMean, 0.7);
        if (m.model != ll::OneClassModel::Mahalanobis) {
            EXPECT_EQ(m.headline, "reconstruction");
            EXPECT_EQ(m.scoreAurocMean.size(), 3u);
            EXPECT_GT(m.scoreAurocMean.at("elbo"), 0.8);
        }
    }
    ASSERT_TRUE(result->ttest);
    EXPECT_EQ(result->ttest->df, 2);
    EXPECT_TRUE(fs::exists(out / "roc.png"));
    EXPECT_TRUE(fs::exists(out / "anomalies.csv"));
    EXPECT_TRUE(fs::exists(out / "parts" / "chaotic-vae-seed2.json"));
    EXPECT_FALSE(fs::exists(out / "work"));  // the training runs are gone

    // The same options again: every part is read back, nothing trains.
    parts = 0;
    auto again = ll::runOneClass(breastCancer(out), [&](const std::string& stage, double) {
        parts += stage.find("seed") != std::string::npos;
        return true;
    });
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->resumedParts, 6);
    EXPECT_EQ(parts, 0);
    EXPECT_EQ(again->models[0].aurocs, result->models[0].aurocs);

    // A damaged or edited part is made again, not read: "top": [[]] was indexed past its end
    // (a crash), an unknown model dereferenced an empty optional.
    const auto damage = [&](const std::string& name, const std::string& key, const json& value) {
        const fs::path file = out / "parts" / name;
        json part = json::parse(std::ifstream(file));
        part[key] = value;
        std::ofstream(file) << part.dump();
    };
    damage("vae-seed1.json", "top", json::array({json::array()}));
    damage("vae-seed2.json", "model", "nosuch");
    damage("chaotic-vae-seed1.json", "top", json::array({json::array({100000, 1.0})}));
    auto mended = ll::runOneClass(breastCancer(out));
    ASSERT_TRUE(mended) << mended.error().message;
    EXPECT_EQ(mended->resumedParts, 3);
    for (std::size_t m = 0; m < mended->models.size(); ++m)
        for (std::size_t i = 0; i < mended->models[m].aurocs.size(); ++i)
            EXPECT_NEAR(mended->models[m].aurocs[i], result->models[m].aurocs[i], 1e-6);

    // Other options: the old parts are cleared and it says so.
    auto other = breastCancer(out);
    other.models = {ll::OneClassModel::Mahalanobis};
    other.percentile = 90;
    auto restarted = ll::runOneClass(other);
    ASSERT_TRUE(restarted) << restarted.error().message;
    EXPECT_TRUE(restarted->restarted);
    EXPECT_EQ(restarted->resumedParts, 0);
    EXPECT_FALSE(restarted->ttest);
    EXPECT_FALSE(fs::exists(out / "parts" / "vae-seed1.json"));
}

TEST(OneClass, CancelKeepsFinishedParts) {
    const auto out = scratch() / "cancel";
    auto r = breastCancer(out);
    r.models = {ll::OneClassModel::Mahalanobis, ll::OneClassModel::Vae};
    auto result = ll::runOneClass(
        r, [](const std::string& stage, double) { return stage.find("vae") == std::string::npos; });
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().message, "cancelled");
    EXPECT_TRUE(fs::exists(out / "parts" / "mahalanobis-seed1.json"));
    EXPECT_FALSE(fs::exists(out / "result.json"));
}

TEST(OneClass, CliWritesResultWithTheIssuesKeys) {
    const auto out = scratch() / "cli-table";
    auto run = cli("oneclass --dataset " + kBreastCancer +
                   " --label-column diagnosis --normal 0 --models vae,chaotic-vae,mahalanobis "
                   "--seeds 3 --steps 250 --transform inverse-normal --chaotic-start 0.31 "
                   "--out " +
                   out.string());
    ASSERT_EQ(run.exitCode, 0) << run.output;
    EXPECT_NE(run.output.find("chaotic-vae vs vae"), std::string::npos) << run.output;
    const auto result = readJson(out / "result.json");
    EXPECT_EQ(result["normal"], "benign");  // class 0 of the table, in order of appearance
    for (const char* model : {"vae", "chaotic-vae", "mahalanobis"}) {
        const auto& m = result["models"][model];
        for (const char* key : {"auroc_mean", "auroc_sd", "rate_mean", "rate_sd"})
            EXPECT_TRUE(m[key].is_number()) << model << " " << key;
        EXPECT_EQ(m["aurocs"].size(), 3u);
        EXPECT_GT(m["auroc_mean"].get<double>(), 0.8) << model;
    }
    EXPECT_EQ(result["models"]["vae"]["headline"], "reconstruction");
    EXPECT_EQ(result["ttest"]["df"], 4);
    EXPECT_GE(result["ttest"]["p"].get<double>(), 0);
    EXPECT_LE(result["ttest"]["p"].get<double>(), 1);
    EXPECT_EQ(result["options"]["transform"], "inverse-normal");
    for (const char* png : {"roc.png", "pr.png", "auroc_seeds.png"})
        EXPECT_GT(fs::file_size(out / png), 1000u) << png;
    EXPECT_EQ(result["anomalies"], "anomalies.csv");
}

TEST(OneClass, CliOnAFashionMnistPair) {
    const auto out = scratch() / "cli-fashion";
    auto run = cli(
        "oneclass --dataset fashion-mnist --limit 2500 --test-limit 600 --normal Trouser "
        "--models vae,mahalanobis --seeds 1 --steps 150 --hidden 256,64 --elbo-samples 3 --out " +
        out.string());
    ASSERT_EQ(run.exitCode, 0) << run.output;
    const auto result = readJson(out / "result.json");
    EXPECT_EQ(result["normal"], "Trouser");
    EXPECT_GT(result["models"]["vae"]["auroc_mean"].get<double>(), 0.8);
    EXPECT_TRUE(result["ttest"].is_null());  // no chaotic-vae to test against
    EXPECT_EQ(
        result["counts"]["test_normal"].get<int>() + result["counts"]["test_anomalous"].get<int>(),
        600);
    EXPECT_EQ(result["anomalies"], "anomalies.png");
    EXPECT_GT(fs::file_size(out / "anomalies.png"), 1000u);
    EXPECT_NE(result["features"].get<std::string>(), "");
}

TEST(OneClass, BadInputIsRefusedInOneLine) {
    const auto out = (scratch() / "bad").string();
    const std::string table = "oneclass --dataset " + kBreastCancer + " --label-column diagnosis ";
    struct Case {
        std::string args, message;
    };
    for (const auto& c : std::vector<Case>{
             {table + "--normal cat --out " + out,
              "normal class 'cat' is not a class of the data (classes: 0 benign, 1 malignant)"},
             {table + "--normal benign --models vae,gan --out " + out,
              "unknown one-class model 'gan' (known: vae, chaotic-vae, mahalanobis)"},
             {table + "--normal benign --limit 25 --out " + out, "too few rows for the split"},
             {table + "--normal benign --percentile 120 --out " + out, "percentile"},
             {table + "--normal benign --transform cube --out " + out, "unknown noise transform"},
             {table + "--normal benign --chaotic-start 1.5 --out " + out, "start value"},
         }) {
        auto run = cli(c.args);
        EXPECT_EQ(run.exitCode, 1) << c.args;
        EXPECT_NE(run.output.find(c.message), std::string::npos) << run.output;
        EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1) << run.output;
    }
    EXPECT_FALSE(fs::exists(fs::path(out) / "result.json"));
}

TEST(OneClass, ChaoticStartRepeatsAndInverseNormalIsGaussian) {
    auto a = ll::ChaoticNoise(16, 4.0, ll::ChaoticNoiseImpl::startsFrom(16, 4.0, 0.31));
    auto b = ll::ChaoticNoise(16, 4.0, ll::ChaoticNoiseImpl::startsFrom(16, 4.0, 0.31));
    auto x = a->next(100);
    EXPECT_TRUE(torch::equal(x, b->next(100)));
    // The units do not move in lockstep.
    EXPECT_LT(torch::corrcoef(x.slice(1, 0, 2).t())[0][1].abs().item<double>(), 0.3);
    EXPECT_THROW(ll::ChaoticNoiseImpl::startsFrom(4, 4.0, 1.0), std::invalid_argument);

    for (double r : {4.0, 3.9}) {
        SCOPED_TRACE(r);
        auto noise = ll::ChaoticNoise(8, r, torch::rand({8}, torch::kFloat64), true);
        auto z = noise->next(20000).flatten();
        EXPECT_NEAR(z.mean().item<double>(), 0, 0.05);
        EXPECT_NEAR(z.std().item<double>(), 1, 0.05);
        // Gaussian in distribution, not only in its first two moments: 95% within 1.96.
        EXPECT_NEAR((z.abs() < 1.96).to(torch::kFloat64).mean().item<double>(), 0.95, 0.01);
        EXPECT_NEAR((z.abs() < 1.0).to(torch::kFloat64).mean().item<double>(), 0.6827, 0.015);
    }
    // Standardised values keep the map's shape: the arcsine law piles up at the ends.
    auto plain = ll::ChaoticNoise(8, 4.0, torch::rand({8}, torch::kFloat64));
    auto s = plain->next(20000).flatten();
    EXPECT_NEAR(s.std().item<double>(), 1, 0.05);
    EXPECT_LT((s.abs() < 1.0).to(torch::kFloat64).mean().item<double>(), 0.55);
}

}  // namespace
