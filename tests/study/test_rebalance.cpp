// The imbalance lab through latentlab-cli rebalance and core: rebalancing raises minority
// recall on breast_cancer.csv with malignant as a 5% minority (asserted over seeds),
// result.json's keys and the asked counts, resuming from parts, a generator the lab trains
// and one of other data refused, a Fashion-MNIST case with the CNN, and bad input as one clear
// line with nothing written.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "clirun.h"
#include "common/atomicfile.h"
#include "data/csv.h"
#include "run/runfolder.h"
#include "study/rebalance.h"
#include "study/trainon.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using ll::testing::cli;
using ll::testing::Outcome;

const std::string kCancer =
    (fs::path(LATENTLAB_TEST_DATA) / "study/fixtures/breast_cancer.csv").string();
const std::string kWine = "/usr/lib/python3/dist-packages/sklearn/datasets/data/wine_data.csv";

fs::path scratch() {
    static const fs::path dir = ll::testing::scratchFolder("rebalance");
    return dir;
}

json readJson(const fs::path& file) {
    std::ifstream in(file);
    return json::parse(in);
}

std::size_t partCount(const fs::path& out) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(out / "parts"))
        n += e.path().filename() != "options.json" && e.path().extension() == ".json";
    return n;
}

bool isPng(const fs::path& file) {
    return ll::testing::fileBytes(file).rfind("\x89PNG", 0) == 0;
}

std::vector<double> perSeed(const json& method, const std::string& metric) {
    std::vector<double> out;
    for (const auto& s : method["per_seed"]) out.push_back(s[metric].get<double>());
    return out;
}

TEST(Rebalance, CsvRebalancingRaisesMinorityRecall) {
    ASSERT_TRUE(fs::exists(kCancer)) << kCancer;
    const fs::path out = scratch() / "cancer";
    const std::string args = "rebalance --dataset " + kCancer +
                             " --minority malignant:0.05 --methods none,under,over,smote,"
                             "smote+under --seeds 5 --out " +
                             out.string();
    const Outcome first = cli(args);
    ASSERT_EQ(first.exitCode, 0) << first.output;
    EXPECT_NE(first.output.find("minority recall"), std::string::npos) << first.output;
    const json result = readJson(out / "result.json");
    for (const auto* key : {"methods", "counts", "minority", "classes", "settings", "charts",
                            "held_out", "imbalance", "classifier"})
        EXPECT_TRUE(result.contains(key)) << key;
    EXPECT_EQ(result["classifier"], "logistic");
    // A stratified 25% is held out (89 benign, 53 malignant); of the 268 benign and 159
    // malignant training rows, malignant keeps round(0.05 x 268 / 0.95) = 14: 5% of 282.
    EXPECT_EQ(result["counts"], (json{{"benign", 268}, {"malignant", 14}}));
    EXPECT_EQ(result["held_out_counts"], (json{{"benign", 89}, {"malignant", 53}}));
    EXPECT_EQ(result["minority"], json::array({"malignant"}));
    const json& methods = result["methods"];
    ASSERT_EQ(methods.size(), 5u);
    for (const auto& [name, m] : methods.items()) {
        for (const auto* key : {"minority_recall_mean", "minority_recall_sd",
                                "balanced_accuracy_mean", "balanced_accuracy_sd", "macro_f1_mean",
                                "g_mean_mean", "minority_auroc_mean", "per_class_recall"})
            EXPECT_TRUE(m.contains(key)) << name << " " << key;
        EXPECT_EQ(m["per_seed"].size(), 5u) << name;
        EXPECT_GT(m["balanced_accuracy_mean"].get<double>(), 0.8) << name;  // chance is 0.5
        EXPECT_EQ(m["per_class_recall"]["malignant"], m["minority_recall_mean"]) << name;
    }
    // Rebalanced sets: under to 14 a class, over and SMOTE to 268, smote+under to 134.
    EXPECT_EQ(methods["under"]["train_counts"], (json{{"benign", 14}, {"malignant", 14}}));
    EXPECT_EQ(methods["over"]["train_counts"], (json{{"benign", 268}, {"malignant", 268}}));
    EXPECT_EQ(methods["smote"]["train_counts"], (json{{"benign", 268}, {"malignant", 268}}));
    EXPECT_EQ(methods["smote"]["synthetic"], 254);
    EXPECT_EQ(methods["smote+under"]["train_counts"], (json{{"benign", 134}, {"malignant", 134}}));
    // The claim: over-sampling and SMOTE find more of the minority than the imbalanced set, at
    // every seed and by a margin on average (the baseline misses about 11 of 53 malignant).
    const double none = methods["none"]["minority_recall_mean"].get<double>();
    for (const auto* m : {"over", "smote"}) {
        EXPECT_GT(methods[m]["minority_recall_mean"].get<double>(), none + 0.02) << m;
        for (double v : perSeed(methods[m], "minority_recall")) EXPECT_GT(v, none) << m;
        EXPECT_GT(methods[m]["balanced_accuracy_mean"].get<double>(),
                  methods["none"]["balanced_accuracy_mean"].get<double>())
            << m;
    }
    EXPECT_TRUE(isPng(out / "metrics.png"));
    EXPECT_TRUE(isPng(out / "per-class-recall.png"));
    EXPECT_EQ(partCount(out), 25u);

    // The window reads the same record.
    auto read = ll::readRebalance(out / "result.json");
    ASSERT_TRUE(read) << read.error().message;
    ASSERT_EQ(read->methods.size(), 5u);
    EXPECT_EQ(read->methods[3].method, "smote");
    EXPECT_EQ(read->counts, (std::vector<std::int64_t>{268, 14}));
    EXPECT_DOUBLE_EQ(read->methods[3].mean.at("minority_recall"),
                     methods["smote"]["minority_recall_mean"].get<double>());
    EXPECT_EQ(read->metricsChart, out / "metrics.png");

    // A crash after some parts: the rest are reused and the numbers repeat exactly.
    fs::remove(out / "result.json");
    fs::remove(out / "parts" / "smote-s3.json");
    fs::remove(out / "parts" / "under-s0.json");
    const Outcome resumed = cli(args);
    ASSERT_EQ(resumed.exitCode, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("23 of 25 parts reused"), std::string::npos) << resumed.output;
    EXPECT_EQ(readJson(out / "result.json")["methods"], methods);

    // More seeds reuse the finished ones; other options start over and say so.
    const Outcome more =
        cli("rebalance --dataset " + kCancer +
            " --minority malignant:0.05 --methods none,smote --seeds 6 --out " + out.string());
    ASSERT_EQ(more.exitCode, 0) << more.output;
    EXPECT_NE(more.output.find("10 of 12 parts reused"), std::string::npos) << more.output;
    const Outcome changed = cli(args + " --logistic-c 0.5");
    ASSERT_EQ(changed.exitCode, 0) << changed.output;
    EXPECT_NE(changed.output.find("started over"), std::string::npos) << changed.output;
    EXPECT_NE(changed.output.find("0 of 25 parts reused"), std::string::npos);
}

TEST(Rebalance, GeneratorTrainedByTheLabAndOneOfOtherDataRefused) {
    // A cvae the lab trains on the imbalanced set (tables: the VAE family takes them).
    const fs::path out = scratch() / "generator";
    const std::string args = "rebalance --dataset " + kCancer +
                             " --minority malignant:0.05 --methods none,cvae --generator-steps "
                             "150 --seeds 2 --out " +
                             out.string();
    const Outcome o = cli(args);
    ASSERT_EQ(o.exitCode, 0) << o.output;
    const json result = readJson(out / "result.json");
    const json& cvae = result["methods"]["cvae"];
    EXPECT_EQ(cvae["train_counts"], (json{{"benign", 268}, {"malignant", 268}}));
    EXPECT_EQ(cvae["synthetic"], 254);
    EXPECT_EQ(cvae["options"]["generator"]["step"], 150);
    EXPECT_TRUE(fs::exists(out / "generator" / "cvae" / "run" / "config.json"));
    // Rerun: the generator and the parts are reused.
    const Outcome again = cli(args);
    ASSERT_EQ(again.exitCode, 0) << again.output;
    EXPECT_NE(again.output.find("reused the generator"), std::string::npos) << again.output;
    EXPECT_NE(again.output.find("4 of 4 parts reused"), std::string::npos) << again.output;
    // The same run given by hand is the lab's data: accepted.
    const fs::path run = out / "generator" / "cvae" / "run";
    const Outcome given = cli("rebalance --dataset " + kCancer +
                              " --minority malignant:0.05 --methods cvae --generator-run " +
                              run.string() + " --seeds 1 --out " + (scratch() / "given").string());
    ASSERT_EQ(given.exitCode, 0) << given.output;
    // The same run for a lab on other data (wine: other columns and classes): refused.
    const fs::path other = scratch() / "other";
    const Outcome refused =
        cli("rebalance --dataset " + kWine + " --long-tail 5 --methods cvae --generator-run " +
            run.string() + " --seeds 1 --out " + other.string());
    EXPECT_EQ(refused.exitCode, 1) << refused.output;
    EXPECT_NE(refused.output.find("was trained on other data: breast_cancer"), std::string::npos)
        << refused.output;
    EXPECT_FALSE(fs::exists(other));
}

TEST(Rebalance, FashionMnistSubsetWithTheCnn) {
    const fs::path out = scratch() / "fashion";
    const Outcome o =
        cli("rebalance --dataset fashion-mnist --classes 0,1,2 --limit 600 --held-out-limit 300 "
            "--minority Pullover:0.05 --methods none,smote --classifier-steps 30 --seeds 1 --out " +
            out.string());
    ASSERT_EQ(o.exitCode, 0) << o.output;
    const json result = readJson(out / "result.json");
    EXPECT_EQ(result["classifier"], "cnn");
    EXPECT_EQ(result["held_out"], "the test split");
    EXPECT_EQ(result["minority"], json::array({"Pullover"}));
    const json counts = result["counts"];
    const auto pullover = counts["Pullover"].get<std::int64_t>();
    const auto others =
        counts["T-shirt/top"].get<std::int64_t>() + counts["Trouser"].get<std::int64_t>();
    EXPECT_EQ(pullover, std::llround(0.05 * static_cast<double>(others) / 0.95));
    for (const auto* m : {"none", "smote"})  // three classes: chance is 1/3
        EXPECT_GT(result["methods"][m]["balanced_accuracy_mean"].get<double>(), 0.5) << m;
    EXPECT_TRUE(isPng(out / "samples-smote.png"));
    // Read back as the window reads it, the samples figure included.
    const auto back = ll::readRebalance(out / "result.json");
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_EQ(back->samples.count("smote"), 1u);
    EXPECT_EQ(back->samples.at("smote"), out / "samples-smote.png");
    EXPECT_EQ(back->classes, (std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover"}));
    EXPECT_EQ(result["charts"]["samples"]["smote"], "samples-smote.png");
    EXPECT_FALSE(fs::exists(out / "parts" / "work-none"));  // the CNN's run is cleaned up
}

TEST(Rebalance, BadInputIsOneClearLineAndWritesNothing) {
    const fs::path out = scratch() / "bad";
    const std::vector<std::pair<std::string, std::string>> cases{
        {"--minority nosuch:0.05",
         "breast_cancer: no class 'nosuch': the classes are benign, malignant (or their "
         "numbers 0 to 1)"},
        {"--minority malignant:0.01 --methods none,smote",
         "class malignant keeps 3 in the imbalanced training set"},
        {"--minority malignant:0.05 --methods none,smote --smote-k 20", "--smote-k"},
        {"--minority malignant:0.05 --methods none,bogus", "unknown method \"bogus\""},
        {"--as-is --methods none", "no minority class"},
        {"--long-tail 10 --minority malignant:0.05", "choose one of --long-tail"},
        {"--minority malignant", "is not CLASS:SHARE"},
        {"--minority malignant:0.05 --classifier cnn", "the CNN learns from images"},
        {"--minority malignant:0.05 --methods acgan", "acgan makes images"},
        {"--minority malignant:0.05 --seeds 0", "seeds must lie in 1..1000"},
    };
    for (const auto& [args, expected] : cases) {
        const Outcome o =
            cli("rebalance --dataset " + kCancer + " " + args + " --out " + out.string());
        EXPECT_EQ(o.exitCode, 1) << args << "\n" << o.output;
        EXPECT_NE(o.output.find(expected), std::string::npos) << args << "\n" << o.output;
        const auto line = o.output.find("latentlab-cli: ");
        ASSERT_NE(line, std::string::npos) << o.output;
        EXPECT_EQ(o.output.find('\n', line), o.output.size() - 1) << o.output;  // last line
        EXPECT_FALSE(fs::exists(out)) << args;
    }
}

TEST(Rebalance, CancelKeepsFinishedParts) {
    ll::RebalanceRequest r;
    r.data.source = kCancer;
    r.imbalance = ll::ImbalanceMode::Minority;
    r.minority = {{"malignant", 0.05}};
    r.methods = {"none", "smote"};
    r.seeds = 3;
    r.out = scratch() / "cancel";
    int fitted = 0;
    auto result = ll::runRebalance(
        r, [&](const std::string& stage, double) { return stage != "fitting" || ++fitted < 3; });
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().message, "cancelled");
    EXPECT_FALSE(fs::exists(r.out / "result.json"));
    const auto finished = static_cast<std::int64_t>(partCount(r.out));
    EXPECT_GE(finished, 1);
    auto resumed = ll::runRebalance(r);
    ASSERT_TRUE(resumed) << resumed.error().message;
    EXPECT_EQ(resumed->partsReused, finished);
    EXPECT_EQ(partCount(r.out), 6u);
    EXPECT_EQ(resumed->minority, std::vector<std::string>{"malignant"});

    // A damaged or edited part is fitted again, not read: an empty recall list was indexed
    // past its end (a crash), metrics of {} averaged as null.
    const auto damage = [&](const std::string& name, const std::string& key, const json& value) {
        const fs::path file = r.out / "parts" / name;
        json part = json::parse(std::ifstream(file));
        part[key] = value;
        std::ofstream(file) << part.dump();
    };
    damage("none-s0.json", "recall", json::array());
    damage("smote-s1.json", "metrics", json::object());
    damage("smote-s2.json", "train_counts", json::object());
    auto again = ll::runRebalance(r);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->partsReused, 3);
    ASSERT_EQ(again->methods.size(), resumed->methods.size());
    for (std::size_t i = 0; i < again->methods.size(); ++i)
        for (const auto& [metric, mean] : resumed->methods[i].mean)
            EXPECT_NEAR(again->methods[i].mean.at(metric), mean, 1e-9) << metric;
}

TEST(Rebalance, MinoritySharesParse) {
    auto shares = ll::parseMinorityShares("3:0.02,Bag:0.5");
    ASSERT_TRUE(shares) << shares.error().message;
    ASSERT_EQ(shares->size(), 2u);
    EXPECT_EQ((*shares)[0].cls, "3");
    EXPECT_DOUBLE_EQ((*shares)[0].share, 0.02);
    EXPECT_EQ((*shares)[1].cls, "Bag");
    EXPECT_FALSE(ll::parseMinorityShares("3:"));
    EXPECT_FALSE(ll::parseMinorityShares("3:x"));
    EXPECT_FALSE(ll::parseMinorityShares(":0.1"));
}

}  // namespace

// A study's rows go to the model as a CSV of numbers, a category's one-hot features among
// them; a VAE is told which they are (and learns them as categories), and the run's data.json
// lists the rows' categories, so that its samples read back as text. Its samples take each
// one-hot feature at exactly the standardised 0 or 1 (the trainer handed the model the data's
// levels, and the checkpoint kept them), and rows that all take one value (a subset of one
// fabric) are drawn with that value, not the first.
TEST(TrainOn, AVaeLearnsTheRowsCategoriesAsCategories) {
    std::string text = "size,fabric,kind\n";
    const char* fabrics[] = {"cotton", "silk", "wool"};
    for (int i = 0; i < 60; ++i)
        text += std::to_string(10 + i % 7) + "," + fabrics[i % 3] + "," +
                (i % 2 ? "coat" : "shirt") + "\n";
    const fs::path file = scratch() / "fabrics.csv";
    ASSERT_TRUE(ll::writeFileAtomic(file, text));
    auto rows = ll::readCsv(file, "");
    ASSERT_TRUE(rows) << rows.error().message;
    ASSERT_EQ(rows->categorical.size(), 1u);
    for (const std::string model : {"cvae", "classifier"}) {
        SCOPED_TRACE(model);
        const fs::path work = scratch() / ("train-on-" + model);
        auto run = ll::trainOn(*rows, {.model = model, .steps = 20, .work = work});
        ASSERT_TRUE(run) << run.error().message;
        const auto config = ll::readRunConfig(*run);
        ASSERT_TRUE(config) << config.error().message;
        // The classifier has no such setting: it takes the features as they are.
        EXPECT_EQ(config->settings.contains("categories"), model == "cvae");
        if (model == "cvae") EXPECT_EQ(config->settings.at("categories"), "1:3");
        const auto data = ll::readRunData(*run);
        ASSERT_TRUE(data) << data.error().message;
        ASSERT_EQ(data->categorical.size(), 1u);
        EXPECT_EQ(data->categorical[0].column, "fabric");
        EXPECT_EQ(data->categorical[0].values, rows->categorical[0].values);
    }

    // Only the wool rows: the fabric's features are constant in the work file.
    const auto wool = torch::nonzero(rows->x.select(1, 3) > 0).squeeze(1);
    const auto woolRows = rows->subset(wool);
    auto loaded = ll::trainAndLoad(
        woolRows, {.model = "cvae", .steps = 200, .work = scratch() / "train-on-wool"});
    ASSERT_TRUE(loaded) << loaded.error().message;
    // The most likely value (temperature 0), so that no draw decides it.
    ll::SampleRequest request{.count = 200, .seed = 3, .temperature = 0};
    const auto drawn = loaded->model->sample(request).to(torch::kFloat64);
    const auto& d = loaded->data;
    for (std::int64_t r = 0; r < drawn.size(0); ++r)
        for (std::size_t f = 1; f < 4; ++f) {
            const double value =
                drawn[r][static_cast<std::int64_t>(f)].item<double>() * d.std[f] + d.mean[f];
            ASSERT_NEAR(value, f == 3 ? 1.0 : 0.0, 1e-5)
                << "row " << r << ", " << d.featureNames[f];
        }
}
