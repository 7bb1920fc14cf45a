// The learning-curve study (Ng and Jordan 2001) through latentlab-cli learning-curve and
// core: curves for every method and size with the chart, learning on real data (a CSV of
// sklearn's and a Fashion-MNIST subset, the CNN included), resuming from parts, the crossing
// on constructed numbers, and bad input as one clear line.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "clirun.h"
#include "study/learningcurve.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using ll::testing::cli;
using ll::testing::Outcome;

const std::string kCancer =
    "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv";
const std::string kWine = "/usr/lib/python3/dist-packages/sklearn/datasets/data/wine_data.csv";

fs::path scratch() {
    static const fs::path dir = ll::testing::scratchFolder("learningcurve");
    return dir;
}

json readJson(const fs::path& file) {
    std::ifstream in(file);
    return json::parse(in);
}

/// (method, size) -> curve entry.
std::map<std::pair<std::string, std::int64_t>, json> curvesOf(const json& result) {
    std::map<std::pair<std::string, std::int64_t>, json> out;
    for (const auto& c : result["curves"]) out[{c["method"], c["size"]}] = c;
    return out;
}

using Curves = std::map<std::pair<std::string, std::int64_t>, json>;

double meanAt(Curves& curves, const std::string& method, std::int64_t size) {
    return curves[{method, size}]["mean"].get<double>();
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

TEST(LearningCurve, CsvCurvesForEveryMethodAndSizeThatLearn) {
    const fs::path out = scratch() / "cancer";
    const std::string args = "learning-curve --dataset " + kCancer +
                             " --methods nb,gda,qda,logistic --sizes 10,30,100 --seeds 3 --out " +
                             out.string();
    const Outcome first = cli(args);
    ASSERT_EQ(first.exitCode, 0) << first.output;
    const json result = readJson(out / "result.json");
    EXPECT_EQ(result["size_unit"], "per_class");
    EXPECT_EQ(result["features"], "columns");
    EXPECT_EQ(result["feature_dim"], 30);
    EXPECT_EQ(result["held_out_rows"], 142);  // a stratified 25% of 569
    EXPECT_TRUE(isPng(out / "learning-curve.png"));
    auto curves = curvesOf(result);
    ASSERT_EQ(curves.size(), 12u);
    for (const auto* m : {"nb", "gda", "qda", "logistic"}) {
        for (std::int64_t size : {10, 30, 100}) {
            ASSERT_TRUE(curves.count({m, size})) << m << " " << size;
            const json& c = curves[{m, size}];
            EXPECT_EQ(c["accuracies"].size(), 3u);
            EXPECT_GE(c["sd"].get<double>(), 0);
            EXPECT_GT(c["mean"].get<double>(), 0.8) << m << " " << size;  // chance is 0.63
        }
    }
    // Learning: logistic regression gains with data and ends well above chance.
    EXPECT_GT(meanAt(curves, "logistic", 100), meanAt(curves, "logistic", 10));
    EXPECT_GT(meanAt(curves, "logistic", 100), 0.95);
    EXPECT_EQ(result["crossings"].size(), 3u);
    EXPECT_EQ(partCount(out), 36u);

    // The window reads the same record.
    auto read = ll::readLearningCurve(out / "result.json");
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(read->curves.size(), 12u);
    EXPECT_EQ(read->chart, out / "learning-curve.png");

    // A crash after some parts: the rest are reused and the numbers repeat exactly.
    fs::remove(out / "result.json");
    fs::remove(out / "parts" / "qda-n30-s1.json");
    fs::remove(out / "parts" / "logistic-n100-s2.json");
    const Outcome resumed = cli(args);
    ASSERT_EQ(resumed.exitCode, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("34 of 36 parts reused"), std::string::npos) << resumed.output;
    EXPECT_EQ(readJson(out / "result.json")["curves"], result["curves"]);

    // Other options: the parts are not this study's, so it starts over and says so.
    const Outcome changed = cli(args + " --shrinkage 0.4");
    ASSERT_EQ(changed.exitCode, 0) << changed.output;
    EXPECT_NE(changed.output.find("started over"), std::string::npos) << changed.output;
    EXPECT_NE(changed.output.find("0 of 36 parts reused"), std::string::npos);
}

TEST(LearningCurve, FashionMnistPixelsWithTheCnn) {
    const fs::path out = scratch() / "fashion";
    const Outcome o =
        cli("learning-curve --dataset fashion-mnist --features pixels --limit 600 --held-out-limit "
            "400 --methods nb,logistic,cnn --sizes 10,40 --seeds 1 --cnn-min-steps 25 "
            "--cnn-max-steps 25 --out " +
            out.string());
    ASSERT_EQ(o.exitCode, 0) << o.output;
    const json result = readJson(out / "result.json");
    EXPECT_EQ(result["features"], "pixels");
    EXPECT_EQ(result["feature_dim"], 784);
    EXPECT_EQ(result["held_out"], "the test split");
    auto curves = curvesOf(result);
    ASSERT_EQ(curves.size(), 6u);
    // Ten classes: chance is 0.1.
    for (const auto* m : {"nb", "logistic", "cnn"}) EXPECT_GT(meanAt(curves, m, 40), 0.35) << m;
    EXPECT_GT(meanAt(curves, "logistic", 40), meanAt(curves, "logistic", 10));
    EXPECT_TRUE(isPng(out / "learning-curve.png"));
    EXPECT_FALSE(fs::exists(out / "parts" / "cnn-work-0"));  // the CNN's run is cleaned up
}

TEST(LearningCurve, ExtractorFeaturesByDefaultForImages) {
    const fs::path out = scratch() / "extractor";
    const Outcome o =
        cli("learning-curve --dataset fashion-mnist --limit 500 --held-out-limit 300 --sizes 10,40 "
            "--seeds 2 --out " +
            out.string());
    ASSERT_EQ(o.exitCode, 0) << o.output;
    const json result = readJson(out / "result.json");
    EXPECT_EQ(result["features"], "extractor");
    EXPECT_FALSE(result["extractor"].get<std::string>().empty());
    auto curves = curvesOf(result);
    ASSERT_EQ(curves.size(), 8u);  // nb, gda, qda, logistic by default
    // The domain classifier's features separate the classes well even from 10 per class.
    for (const auto* m : {"nb", "gda", "qda", "logistic"})
        EXPECT_GT(meanAt(curves, m, 10), 0.6) << m;
}

// A diffusion run is not trained per subset: it is scored on the study's own held-out images
// as one point at its training size, per seed, resumed from parts, and refused where its
// score would mislead. Two training steps: the plumbing is checked here, the classifier's
// accuracy in test_diffusionclassifier.
TEST(LearningCurve, DiffusionRunIsAPointAtItsTrainingSize) {
    const fs::path run = scratch() / "ddpm-run";
    const Outcome trained =
        cli("train --dataset fashion-mnist --limit 250 --model ddpm --set width=8 --steps 2 "
            "--batch 16 --sample-every 100000 --out " +
            run.string());
    ASSERT_EQ(trained.exitCode, 0) << trained.output;
    const fs::path out = scratch() / "diffusion";
    const std::string args =
        "learning-curve --dataset fashion-mnist --limit 400 --held-out-limit 90 --methods "
        "nb,logistic --sizes 10,20 --seeds 2 --diffusion-run " +
        run.string() + " --diffusion-images 30 --diffusion-timesteps 4 --out " + out.string();
    const Outcome o = cli(args);
    ASSERT_EQ(o.exitCode, 0) << o.output;
    const json result = readJson(out / "result.json");
    auto curves = curvesOf(result);
    ASSERT_EQ(curves.size(), 5u);              // nb and logistic at 2 sizes, the run once
    const json d = curves[{"diffusion", 25}];  // 250 training images, 10 classes
    ASSERT_TRUE(d.is_object()) << result["curves"].dump();
    EXPECT_EQ(d["train_rows"], 250);
    EXPECT_EQ(d["images"], 30);
    EXPECT_EQ(d["evaluations_per_image"], 40.0);  // 10 classes x 4 timesteps, no pruning
    ASSERT_EQ(d["accuracies"].size(), 2u);
    for (double a : d["accuracies"]) EXPECT_TRUE(a >= 0 && a <= 1) << a;
    EXPECT_EQ((curves[{"nb", 10}]["images"]), 90);
    EXPECT_NE(o.output.find("scored 30 of the 90 held-out images"), std::string::npos) << o.output;
    EXPECT_TRUE(isPng(out / "learning-curve.png"));

    // Resumed: every part reused, the run's seeds included, the same numbers.
    const Outcome again = cli(args);
    ASSERT_EQ(again.exitCode, 0) << again.output;
    const json resumed = readJson(out / "result.json");
    EXPECT_EQ(resumed["parts_reused"], 10);  // 2 methods x 2 sizes x 2 seeds + the run's 2
    EXPECT_EQ((curvesOf(resumed)[{"diffusion", 25}]["accuracies"]), d["accuracies"]);

    // Refused before any fitting: a table, held-out rows the run trained on, no run at all.
    const std::string bad = " --out " + (scratch() / "diffusion-bad").string();
    const std::vector<std::pair<std::string, std::string>> cases{
        {"--dataset " + kWine + " --diffusion-run " + run.string(), "is a table"},
        {"--dataset fashion-mnist --split test --limit 200 --held-out-limit 50 --diffusion-run " +
             run.string(),
         "was trained on the train split, which is this study's held-out part"},
        {"--dataset fashion-mnist --methods nb,diffusion", "needs a ddpm or latent-ddpm run"},
        {"--dataset fashion-mnist --diffusion-run " + run.string() + " --diffusion-keep 3",
         "diffusion"},
    };
    for (const auto& [args, expected] : cases) {
        const Outcome refused = cli("learning-curve " + args + bad);
        EXPECT_EQ(refused.exitCode, 1) << args << "\n" << refused.output;
        EXPECT_NE(refused.output.find(expected), std::string::npos) << args << "\n"
                                                                    << refused.output;
        EXPECT_EQ(refused.output.find("fitting"), std::string::npos) << refused.output;
    }
}

TEST(LearningCurve, BadInputIsOneClearLine) {
    const fs::path single = scratch() / "single.csv";
    {
        std::ofstream csv(single);
        csv << "a,b,label\n";
        for (int i = 0; i < 30; ++i) csv << i << "," << i * 2 << ",only\n";
    }
    const std::string out = " --out " + (scratch() / "bad").string();
    const std::vector<std::pair<std::string, std::string>> cases{
        {"--dataset " + kWine + " --methods nb,svm --seeds 1", "unknown method \"svm\""},
        {"--dataset " + kWine + " --sizes 10,500 --seeds 1", "size 500 per class is larger"},
        {"--dataset " + kWine + " --label-column nosuch --seeds 1", "nosuch"},
        {"--dataset " + single.string() + " --seeds 1", "one class only"},
        {"--dataset fashion-mnist --features columns --limit 100 --seeds 1", "columns"},
        {"--dataset " + kWine + " --methods nb,cnn --seeds 1", "cnn"},
        {"--dataset " + kWine + " --features voxels", "unknown feature space"},
        {"--dataset " + kWine + " --seeds 0", "seeds must lie in 1..1000"},
    };
    for (const auto& [args, expected] : cases) {
        const Outcome o = cli("learning-curve " + args + out);
        EXPECT_EQ(o.exitCode, 1) << args << "\n" << o.output;
        EXPECT_NE(o.output.find(expected), std::string::npos) << args << "\n" << o.output;
        const auto line = o.output.find("latentlab-cli: ");
        ASSERT_NE(line, std::string::npos) << o.output;
        EXPECT_EQ(o.output.find('\n', line), o.output.size() - 1) << o.output;  // last line
        EXPECT_EQ(o.output.find("terminate"), std::string::npos) << o.output;
    }
}

TEST(LearningCurve, CancelKeepsFinishedParts) {
    ll::LearningCurveRequest r{
        .data = {.source = kWine}, .sizes = {10, 20}, .seeds = 2, .out = scratch() / "cancel"};
    int fitted = 0;
    auto result = ll::runLearningCurve(
        r, [&](const std::string& stage, double) { return stage != "fitting" || ++fitted < 3; });
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().message, "cancelled");
    EXPECT_FALSE(fs::exists(r.out / "result.json"));
    EXPECT_GE(partCount(r.out), 2u);
    const auto finished = static_cast<std::int64_t>(partCount(r.out));
    auto resumed = ll::runLearningCurve(r);
    ASSERT_TRUE(resumed) << resumed.error().message;
    EXPECT_EQ(resumed->partsReused, finished);
    EXPECT_EQ(partCount(r.out), 16u);  // 4 methods x 2 sizes x 2 seeds
    EXPECT_EQ(resumed->curves.size(), 8u);

    // A damaged or edited accuracy is fitted again: "x" stopped the study with nlohmann's
    // message, 1e300 was averaged in.
    for (const auto& [name, accuracy] :
         {std::pair<std::string, json>{"gda-n10-s0.json", "x"}, {"nb-n20-s1.json", 1e300}}) {
        const fs::path file = r.out / "parts" / name;
        json part = json::parse(std::ifstream(file));
        part["accuracy"] = accuracy;
        std::ofstream(file) << part.dump();
    }
    auto mended = ll::runLearningCurve(r);
    ASSERT_TRUE(mended) << mended.error().message;
    EXPECT_EQ(mended->partsReused, 14);
    ASSERT_EQ(mended->curves.size(), resumed->curves.size());
    for (std::size_t i = 0; i < mended->curves.size(); ++i)
        EXPECT_NEAR(mended->curves[i].mean, resumed->curves[i].mean, 1e-9)
            << mended->curves[i].method << " " << mended->curves[i].size;
}

ll::CurvePoint point(const std::string& method, std::int64_t size, double mean) {
    return {.method = method, .size = size, .mean = mean};
}

TEST(LearningCurve, CrossingWhereGenerativeStopsBeingBetter) {
    // nb leads at 10 and 30, then falls behind: the lines meet between 30 and 100, where the
    // gap (+0.02 at 30, -0.06 at 100) is a quarter of the way on the log axis.
    const std::vector<ll::CurvePoint> curves{
        point("nb", 10, 0.70),        point("nb", 30, 0.74),        point("nb", 100, 0.75),
        point("nb", 300, 0.76),       point("logistic", 10, 0.60),  point("logistic", 30, 0.72),
        point("logistic", 100, 0.81), point("logistic", 300, 0.86), point("cnn", 10, 0.9),
        point("cnn", 30, 0.9),        point("cnn", 100, 0.9),       point("cnn", 300, 0.9),
    };
    const auto crossings = ll::findCrossings(curves);
    ASSERT_EQ(crossings.size(), 1u);  // neither cnn nor logistic is generative
    const auto& c = crossings[0];
    EXPECT_TRUE(c.found);
    EXPECT_EQ(c.generative, "nb");
    EXPECT_NEAR(c.size, std::exp(std::log(30.0) + 0.25 * (std::log(100.0) - std::log(30.0))), 1e-9);
    EXPECT_NEAR(c.accuracy, 0.74 + 0.25 * 0.01, 1e-12);
}

TEST(LearningCurve, CrossingIsTheLastLeadAndNotesTheOtherCases) {
    // gda leads, falls behind, leads again at 100 (noise), then falls behind for good.
    const std::vector<ll::CurvePoint> curves{
        point("gda", 10, 0.8),        point("gda", 30, 0.7),       point("gda", 100, 0.9),
        point("gda", 300, 0.8),       point("qda", 10, 0.1),       point("qda", 30, 0.1),
        point("qda", 100, 0.1),       point("qda", 300, 0.1),      point("nb", 10, 0.99),
        point("nb", 30, 0.99),        point("nb", 100, 0.99),      point("nb", 300, 0.99),
        point("logistic", 10, 0.75),  point("logistic", 30, 0.75), point("logistic", 100, 0.85),
        point("logistic", 300, 0.85),
    };
    const auto crossings = ll::findCrossings(curves);
    ASSERT_EQ(crossings.size(), 3u);
    EXPECT_EQ(crossings[0].generative, "gda");
    EXPECT_TRUE(crossings[0].found);
    EXPECT_GT(crossings[0].size, 100);
    EXPECT_LT(crossings[0].size, 300);
    EXPECT_FALSE(crossings[1].found);
    EXPECT_NE(crossings[1].note.find("never better"), std::string::npos);
    EXPECT_FALSE(crossings[2].found);
    EXPECT_NE(crossings[2].note.find("still better"), std::string::npos);
    // No logistic curve, no crossings; equal accuracy is not "better".
    EXPECT_TRUE(ll::findCrossings({point("nb", 10, 0.5)}).empty());
    const auto tie = ll::findCrossings({point("nb", 10, 0.5), point("logistic", 10, 0.5)});
    ASSERT_EQ(tie.size(), 1u);
    EXPECT_FALSE(tie[0].found);
}

TEST(LearningCurve, DefaultSizesAreLogSpacedUpToAll) {
    EXPECT_EQ(ll::learningCurveSizes(6000),
              (std::vector<std::int64_t>{10, 30, 100, 300, 1000, 3000, 6000}));
    EXPECT_EQ(ll::learningCurveSizes(159), (std::vector<std::int64_t>{10, 30, 100, 159}));
    EXPECT_EQ(ll::learningCurveSizes(10), (std::vector<std::int64_t>{10}));
    EXPECT_EQ(ll::learningCurveSizes(7), (std::vector<std::int64_t>{7}));
}

}  // namespace
