// The diffusion classifier (core/study/diffusionclassifier.h, Li et al. 2023) on a short
// latent-ddpm trained here on Fashion-MNIST: it beats chance by a wide margin, pruning that
// keeps every class scores bit for bit as the unpruned pass, a crash resumes from finished
// parts, other runs are refused, and result.json has the keys (the CLI's too).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stop_token>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "clirun.h"
#include "common/atomicfile.h"
#include "eval/extractor.h"
#include "study/diffusionclassifier.h"
#include "train/trainer.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path& scratch() {
    static const fs::path dir = ll::testing::scratchFolder("diffusionclassifier");
    return dir;
}

bool train(const ll::TrainConfig& config) {
    ll::Trainer trainer(config, [](const ll::TrainEvent&) {});
    std::stop_source never;
    const auto done = trainer.run(never.get_token());
    EXPECT_EQ(done.outcome, ll::TrainFinished::Outcome::Completed) << done.message;
    return done.outcome == ll::TrainFinished::Outcome::Completed;
}

// A short latent-ddpm on 3,000 training images, trained once for every test: its own small
// VAE first, then the denoiser.
const fs::path& latentRun() {
    static const fs::path run = [] {
        const auto start = std::chrono::steady_clock::now();
        const auto dir = scratch() / "latent-ddpm";
        train({.dataset = {.source = "fashion-mnist", .limit = 3000},
               .model = "latent-ddpm",
               .settings = {{"latent", "16"},
                            {"vae_hidden", "256"},
                            {"vae_steps", "400"},
                            {"hidden", "128"},
                            {"depth", "2"}},
               .steps = 1200,
               .learningRate = 2e-3,
               .seed = 3,
               .sampleEvery = 100000,
               .checkpointEvery = 100000,
               .samplesPerClass = 1,
               .runDir = dir});
        std::printf(
            "latent-ddpm fixture trained in %.1f s\n",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return dir;
    }();
    return run;
}

// 300 test images, 20 timesteps: 200 network evaluations an image unpruned.
ll::DiffusionClassifyRequest request(const std::string& out) {
    return {.run = latentRun(),
            .data = {.source = "fashion-mnist", .split = "test", .limit = 300},
            .options = {.timesteps = 20},
            .partSize = 100,
            .explain = 2,
            .out = scratch() / out};
}

const ll::DiffusionClassifyResult& unpruned() {
    static const ll::DiffusionClassifyResult result = [] {
        auto r = ll::classifyWithDiffusion(request("unpruned"));
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : ll::DiffusionClassifyResult{};
    }();
    return result;
}

bool sameBits(double a, double b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace

TEST(DiffusionClassifier, BeatsChanceByAWideMargin) {
    const auto& r = unpruned();
    ASSERT_EQ(r.count, 300);
    std::printf(
        "diffusion classifier %.3f at %.0f evaluations/image (%.1f images/s); clean "
        "classifier %.3f\n",
        r.accuracy, r.evaluationsPerImage, r.imagesPerSecond, r.baselineAccuracy.value_or(-1));
    // Chance is 0.1 on ten classes.
    EXPECT_GT(r.accuracy, 0.45);
    EXPECT_DOUBLE_EQ(r.evaluationsPerImage, 10 * 20);
    ASSERT_TRUE(r.baselineAccuracy);  // the shipped Fashion-MNIST classifier
    EXPECT_GT(*r.baselineAccuracy, r.accuracy);
    // The budget curve ends at every pair, where it is the classifier itself.
    ASSERT_FALSE(r.budget.empty());
    EXPECT_DOUBLE_EQ(r.budget.back().evaluations, 200);
    EXPECT_DOUBLE_EQ(r.budget.back().accuracy, r.accuracy);
    EXPECT_LT(r.budget.front().accuracy, r.accuracy);
    for (const char* png : {"confusion.png", "budget.png", "explain/0-errors.png",
                            "explain/0-curve.png", "explain/1-curve.png"})
        EXPECT_TRUE(fs::exists(r.out / png)) << png;
    EXPECT_FALSE(fs::exists(r.out / "explain/2-curve.png"));
}

TEST(DiffusionClassifier, PruningThatKeepsEveryClassScoresBitForBit) {
    const auto& plain = unpruned();
    auto req = request("keep-all");
    req.options.stages = {3, 10};
    req.options.keep = {10, 10};
    auto r = ll::classifyWithDiffusion(req);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->scores.size(), plain.scores.size());
    ASSERT_EQ(r->unprunedScores.size(), plain.scores.size());
    for (std::size_t i = 0; i < plain.scores.size(); ++i)
        for (std::size_t c = 0; c < 10; ++c) {
            ASSERT_TRUE(sameBits(r->scores[i][c], plain.scores[i][c])) << i << " " << c;
            ASSERT_TRUE(sameBits(r->unprunedScores[i][c], plain.scores[i][c])) << i << " " << c;
        }
    EXPECT_EQ(r->predictions, plain.predictions);
    EXPECT_DOUBLE_EQ(r->evaluationsPerImage, 200);
}

TEST(DiffusionClassifier, PruningSpendsLessNearTheSameAccuracy) {
    const auto& plain = unpruned();
    auto req = request("pruned");
    req.options.stages = {5, 10};
    req.options.keep = {3, 1};
    auto r = ll::classifyWithDiffusion(req);
    ASSERT_TRUE(r) << r.error().message;
    // 10 classes x 5 pairs, then 3 x 5; one class left needs nothing more.
    EXPECT_DOUBLE_EQ(r->evaluationsPerImage, 10 * 5 + 3 * 5);
    ASSERT_TRUE(r->unprunedAccuracy);
    EXPECT_DOUBLE_EQ(*r->unprunedAccuracy, plain.accuracy);
    std::printf("pruned %.3f at %.0f evaluations/image, unpruned %.3f at 200\n", r->accuracy,
                r->evaluationsPerImage, plain.accuracy);
    EXPECT_GT(r->accuracy, plain.accuracy - 0.08);
    EXPECT_TRUE(r->budget.back().pruned);
    // A class pruned after the first stage keeps the mean of the pairs it saw.
    for (std::size_t i = 0; i < r->scores.size(); ++i)
        for (double s : r->scores[i]) EXPECT_FALSE(std::isnan(s));
}

TEST(DiffusionClassifier, ResumesFromFinishedPartsAndStartsOverOnOtherOptions) {
    auto req = request("resume");
    // Cancel in the second part: the first part stays on disk.
    auto cancelled = ll::classifyWithDiffusion(
        req, [](const std::string& stage, double f) { return stage != "classifying" || f < 0.5; });
    ASSERT_FALSE(cancelled);
    EXPECT_EQ(cancelled.error().message, "cancelled");
    EXPECT_TRUE(fs::exists(req.out / "parts" / "part-000000.json"));
    EXPECT_FALSE(fs::exists(req.out / "result.json"));

    auto resumed = ll::classifyWithDiffusion(req);
    ASSERT_TRUE(resumed) << resumed.error().message;
    EXPECT_EQ(resumed->resumedImages, 100);
    EXPECT_EQ(resumed->predictions, unpruned().predictions);
    EXPECT_DOUBLE_EQ(resumed->accuracy, unpruned().accuracy);

    // A damaged or edited part is scored again, not read: predictions longer than the labels
    // read past them ("accuracy 2.05"), a part of a larger run was counted in.
    {
        const fs::path file = req.out / "parts" / "part-000001.json";
        json part = json::parse(std::ifstream(file));
        part["predictions"].push_back(0);
        std::ofstream(file) << part.dump();
        json stray = part;
        stray["part"] = 7;
        std::ofstream(req.out / "parts" / "part-000007.json") << stray.dump();
    }
    auto mended = ll::classifyWithDiffusion(req);
    ASSERT_TRUE(mended) << mended.error().message;
    EXPECT_EQ(mended->resumedImages, 200);
    EXPECT_EQ(mended->count, 300);
    EXPECT_EQ(mended->predictions, unpruned().predictions);

    req.options.loss = ll::DenoisingLoss::L1;
    auto other = ll::classifyWithDiffusion(req);
    ASSERT_TRUE(other) << other.error().message;
    EXPECT_EQ(other->resumedImages, 0);
    ASSERT_FALSE(other->notes.empty());
    EXPECT_NE(other->notes.front().find("started over"), std::string::npos) << other->notes[0];
}

TEST(DiffusionClassifier, RefusesOtherRunsAndBadOptions) {
    const fs::path classifier = ll::shippedExtractorsDir() / "fashion-mnist";
    auto req = request("refused");
    req.run = classifier;
    auto refused = ll::classifyWithDiffusion(req);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find(
                  " run; the diffusion classifier needs a ddpm or latent-ddpm run"),
              std::string::npos)
        << refused.error().message;

    req = request("bad");
    req.options.stages = {5};
    auto mismatched = ll::classifyWithDiffusion(req);
    ASSERT_FALSE(mismatched);
    EXPECT_NE(mismatched.error().message.find("as many stages as keep counts"), std::string::npos);
    req.options = {.timesteps = 5000};
    auto tooMany = ll::classifyWithDiffusion(req);
    ASSERT_FALSE(tooMany);
    EXPECT_NE(tooMany.error().message.find("1000 timesteps the run was trained with"),
              std::string::npos)
        << tooMany.error().message;
    EXPECT_FALSE(ll::parseDenoisingLoss("l3"));
}

TEST(DiffusionClassifier, ResultJsonHasTheKeysForDiffusionAndClassifierRuns) {
    const auto& r = unpruned();
    auto text = ll::readFile(r.out / "result.json");
    ASSERT_TRUE(text) << text.error().message;
    const auto j = json::parse(*text);
    for (const char* key : {"accuracy", "confusion", "evaluations_per_image", "classes", "budget",
                            "baseline", "images_per_second", "settings"})
        EXPECT_TRUE(j.contains(key)) << key;
    ASSERT_EQ(j["confusion"].size(), 10u);
    std::int64_t total = 0, diagonal = 0;
    for (std::size_t t = 0; t < 10; ++t)
        for (std::size_t p = 0; p < 10; ++p) {
            total += j["confusion"][t][p].get<std::int64_t>();
            if (t == p) diagonal += j["confusion"][t][p].get<std::int64_t>();
        }
    EXPECT_EQ(total, 300);
    EXPECT_DOUBLE_EQ(double(diagonal) / 300, j["accuracy"].get<double>());
    auto back = ll::readDiffusionClassifyResult(r.out);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->confusion, r.confusion);
    EXPECT_EQ(back->budget.size(), r.budget.size());
    // The per-image choices come back too (the window's strip of a finished study).
    EXPECT_EQ(back->labels, r.labels);
    EXPECT_EQ(back->predictions, r.predictions);
    EXPECT_EQ(back->labels.size(), 300u);

    // A classifier run: the same keys without evaluations_per_image.
    auto req = request("classifier");
    req.run = ll::shippedExtractorsDir() / "fashion-mnist";
    auto c = ll::classifyWithClassifier(req);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_GT(c->accuracy, 0.8);
    auto ctext = ll::readFile(req.out / "result.json");
    ASSERT_TRUE(ctext);
    const auto cj = json::parse(*ctext);
    for (const char* key : {"accuracy", "confusion", "classes"}) EXPECT_TRUE(cj.contains(key));
    EXPECT_FALSE(cj.contains("evaluations_per_image"));
}

TEST(DiffusionClassifier, RunsOnPixelDdpmRuns) {
    // Two training steps: what is checked is the U-Net path (pixels in [-1, 1], rows batched
    // into calls of 256), not its accuracy.
    const auto run = scratch() / "ddpm";
    ASSERT_TRUE(train({.dataset = {.source = "fashion-mnist", .limit = 256},
                       .model = "ddpm",
                       .settings = {{"width", "8"}},
                       .steps = 2,
                       .batchSize = 16,
                       .sampleEvery = 100000,
                       .samplesPerClass = 1,
                       .runDir = run}));
    auto req = request("ddpm");
    req.run = run;
    req.data.limit = 12;
    req.options = {.timesteps = 8, .stages = {4}, .keep = {3}};
    req.partSize = 5;
    req.explain = 1;
    req.baseline = false;
    auto r = ll::classifyWithDiffusion(req);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->count, 12);
    EXPECT_EQ(r->model, "ddpm");
    EXPECT_DOUBLE_EQ(r->evaluationsPerImage, 10 * 4 + 3 * 4);
    EXPECT_DOUBLE_EQ(r->unprunedEvaluationsPerImage, 10 * 8);
    EXPECT_TRUE(fs::exists(req.out / "parts" / "part-000002.json"));
    EXPECT_TRUE(fs::exists(req.out / "explain" / "0-curve.png"));
}

TEST(DiffusionClassifier, ExplainsOneImageForTheWindow) {
    auto opened = ll::DiffusionClassifier::open(latentRun());
    ASSERT_TRUE(opened) << opened.error().message;
    auto e = opened->explain({.source = "fashion-mnist", .split = "test", .limit = 300}, 0,
                             {.timesteps = 20});
    ASSERT_TRUE(e) << e.error().message;
    ASSERT_EQ(e->errors.size(), 10u);
    ASSERT_EQ(e->curves.size(), 10u);
    EXPECT_EQ(e->curves[0].size(), 20u);
    EXPECT_EQ(e->timesteps.size(), 20u);
    EXPECT_TRUE(std::is_sorted(e->timesteps.begin(), e->timesteps.end()));
    // The numbers the study scored image 0 with (up to the last bits: one image per network
    // call here, a hundred there).
    for (std::size_t c = 0; c < 10; ++c)
        EXPECT_NEAR(e->errors[c], unpruned().scores[0][c], 1e-4 * unpruned().scores[0][c]) << c;
    EXPECT_EQ(e->predicted, unpruned().predictions[0]);
    EXPECT_FALSE(opened->explain(std::vector<float>(5, 0.f), 0, {}));
}

#ifdef LATENTLAB_CLI
TEST(DiffusionClassifier, CliClassifiesDiffusionAndClassifierRuns) {
    if (!fs::exists(LATENTLAB_CLI)) GTEST_SKIP() << "latentlab-cli is not built";
    const auto out = scratch() / "cli";
    auto run = ll::testing::cli("classify --run " + latentRun().string() +
                                " --dataset fashion-mnist --split test --limit 60 --timesteps 10 "
                                "--stages 4 --keep 2 --out " +
                                out.string());
    ASSERT_EQ(run.exitCode, 0) << run.output;
    auto text = ll::readFile(out / "result.json");
    ASSERT_TRUE(text);
    const auto j = json::parse(*text);
    for (const char* key : {"accuracy", "confusion", "evaluations_per_image", "classes"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_DOUBLE_EQ(j["evaluations_per_image"].get<double>(), 10 * 4 + 2 * 6);

    auto bad = ll::testing::cli("classify --run " + latentRun().string() +
                                " --limit 10 --stages 4 --keep 2,1 --out " + out.string());
    EXPECT_EQ(bad.exitCode, 1);
    EXPECT_NE(bad.output.find("as many stages as keep counts"), std::string::npos) << bad.output;

    const auto cout = scratch() / "cli-classifier";
    auto classifier = ll::testing::cli("classify --run " +
                                       (ll::shippedExtractorsDir() / "fashion-mnist").string() +
                                       " --limit 200 --out " + cout.string());
    ASSERT_EQ(classifier.exitCode, 0) << classifier.output;
    EXPECT_NE(classifier.output.find("accuracy "), std::string::npos);
    EXPECT_TRUE(fs::exists(cout / "result.json"));
}
#endif
