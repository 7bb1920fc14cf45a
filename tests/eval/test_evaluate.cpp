// The shipped feature extractor (checksum, accuracy, bit-for-bit retraining), SHA-256, and
// evaluateRun's records: every score beside its floor, the nearest-neighbour and data-copying
// views, and clear errors for what cannot be scored.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/sha256.h"
#include "data/loader.h"
#include "eval/agreement.h"
#include "eval/evaluate.h"
#include "eval/extractor.h"
#include "eval/features.h"
#include "eval/samplefolder.h"
#include "image/grid.h"
#include "imagefiles.h"
#include "run/runloader.h"
#include "train/extractortraining.h"
#include "train/trainer.h"

namespace fs = std::filesystem;

namespace {

fs::path tempDir(const std::string& name) {
    auto dir = fs::temp_directory_path() /
               ("latentlab-test-evaluate-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    return dir;
}

const fs::path kShipped = ll::shippedExtractorsDir() / "fashion-mnist";

// A short cvae run on Fashion-MNIST, trained once for the tests that evaluate it.
const fs::path& cvaeRun() {
    static const fs::path run = [] {
        const auto dir = tempDir("cvae");
        ll::Trainer trainer({.dataset = {.source = "fashion-mnist", .limit = 6000},
                             .model = "cvae",
                             .steps = 400,
                             .learningRate = 2e-3,
                             .seed = 5,
                             .sampleEvery = 400,
                             .checkpointEvery = 200,
                             .runDir = dir},
                            [](const ll::TrainEvent&) {});
        std::stop_source never;
        const auto done = trainer.run(never.get_token());
        EXPECT_EQ(done.outcome, ll::TrainFinished::Outcome::Completed) << done.message;
        return dir;
    }();
    return run;
}

}  // namespace

TEST(Sha256, MatchesTheFipsExamples) {
    EXPECT_EQ(ll::sha256Hex(""),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(ll::sha256Hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // 56 bytes: the length no longer fits the first padding block.
    EXPECT_EQ(ll::sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(ll::sha256Hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(ShippedExtractor, MatchesItsChecksumAndReachesNinetyPercent) {
    auto info = ll::readExtractor(kShipped);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_TRUE(info->shipped);
    EXPECT_EQ(info->dataset, "fashion-mnist");
    EXPECT_EQ(info->accuracySplit, "test");
    EXPECT_GE(info->accuracy, 0.90);
    EXPECT_NE(info->command.find("latentlab-cli train-extractor"), std::string::npos);
    // The recorded accuracy is the one the weights give now.
    auto opened = ll::loadRun(kShipped);
    ASSERT_TRUE(opened) << opened.error().message;
    auto test = ll::loadDataset({.source = "fashion-mnist", .split = "test"});
    ASSERT_TRUE(test) << test.error().message;
    auto accuracy = ll::classifierAccuracy(*opened->model, *test);
    ASSERT_TRUE(accuracy) << accuracy.error().message;
    EXPECT_NEAR(accuracy->accuracy, info->accuracy, 1e-9);
    EXPECT_EQ(accuracy->count, 10000);
    // findExtractor falls back to the shipped one when the workspace has none.
    auto found = ll::findExtractor("fashion-mnist", tempDir("empty-workspace"));
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_TRUE(fs::equivalent(found->dir, kShipped));
}

// The cache of real features answers only for the same extractor and the same data.
TEST(ShippedExtractor, CachedFeaturesAreThoseOfTheSameData) {
    auto opened = ll::loadRun(kShipped);
    ASSERT_TRUE(opened) << opened.error().message;
    auto* extractor = opened->model.get();
    auto data = ll::loadDataset({.source = "fashion-mnist", .split = "test", .limit = 600});
    ASSERT_TRUE(data) << data.error().message;
    const auto a = data->x.slice(0, 0, 300), b = data->x.slice(0, 300, 600);
    auto fa = ll::cachedFeatures(extractor, "shipped", a);
    auto again = ll::cachedFeatures(extractor, "shipped", a);
    ASSERT_TRUE(fa && again);
    EXPECT_EQ(again->data_ptr(), fa->data_ptr());  // remembered, not taken again
    EXPECT_TRUE(fa->equal(*ll::extractFeatures(extractor, a)));
    auto fb = ll::cachedFeatures(extractor, "shipped", b);
    ASSERT_TRUE(fb);
    EXPECT_TRUE(fb->equal(*ll::extractFeatures(extractor, b)));
    EXPECT_FALSE(fa->equal(*fb));
    // One changed pixel is other data.
    auto changed = a.clone();
    changed[0][0][14][14] = 1 - changed[0][0][14][14].item<float>();
    auto fc = ll::cachedFeatures(extractor, "shipped", changed);
    ASSERT_TRUE(fc);
    EXPECT_FALSE(fc->equal(*fa));
    // Another extractor's key is another entry even for the same data.
    auto fd = ll::cachedFeatures(extractor, "another", changed);
    ASSERT_TRUE(fd);
    EXPECT_NE(fd->data_ptr(), fc->data_ptr());
}

TEST(ShippedExtractor, ChangedWeightsAreRefused) {
    const auto copy = tempDir("tampered");
    fs::copy(kShipped, copy, fs::copy_options::recursive);
    auto info = ll::readExtractor(copy);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_FALSE(info->shipped);
    {
        std::fstream f(info->weights, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(-100, std::ios::end);
        f.put('\x5a');
    }
    auto again = ll::readExtractor(copy);
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().message.find("SHA-256"), std::string::npos) << again.error().message;
    auto none = ll::findExtractor("no-such-data", copy);
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message.find("train-extractor"), std::string::npos);
    fs::remove_all(copy);
}

// Manifests of out-of-range numbers or weights outside their folder, found by
// tests/fuzz/fuzz_manifest: "steps": 1e300 was undefined behaviour (nlohmann's unchecked
// cast), and "weights": "/dev/zero" would be read without end. Each is refused with a message.
TEST(Extractor, HostileManifestsAreRefusedWithAMessage) {
    const auto dir = tempDir("hostile-manifest");
    fs::create_directories(dir / "checkpoints");
    const std::string weights = "the bytes the manifest's SHA-256 is of";
    ASSERT_TRUE(ll::writeFileAtomic(dir / "checkpoints" / "w.pt", weights));
    const auto read = [&](const nlohmann::json& changes) {
        nlohmann::json j = {{"dataset", "fashion-mnist"},
                            {"weights", "checkpoints/w.pt"},
                            {"sha256", ll::sha256Hex(weights)},
                            {"steps", 40},
                            {"seed", 3},
                            {"threads", 2}};
        j.update(changes);
        EXPECT_TRUE(ll::writeFileAtomic(dir / ll::kExtractorFile, j.dump()));
        return ll::readExtractor(dir);
    };
    const auto sound = read(nlohmann::json::object());
    ASSERT_TRUE(sound) << sound.error().message;
    EXPECT_EQ(sound->steps, 40);
    for (const auto& numbers : {nlohmann::json{{"steps", 1e300}}, nlohmann::json{{"seed", 1e30}},
                                nlohmann::json{{"threads", 1e20}}, nlohmann::json{{"seed", -1}},
                                nlohmann::json{{"threads", std::int64_t{1} << 40}}}) {
        const auto info = read(numbers);
        ASSERT_FALSE(info) << numbers.dump();
        EXPECT_NE(info.error().message.find("not a whole number"), std::string::npos)
            << info.error().message;
    }
    for (const char* path : {"/dev/zero", "../w.pt", "checkpoints/../../w.pt", "", "checkpoints"}) {
        const auto info = read({{"weights", path}});
        ASSERT_FALSE(info) << path;
        EXPECT_NE(info.error().message.find("not a file inside the extractor's folder"),
                  std::string::npos)
            << info.error().message;
    }
    fs::remove_all(dir);
}

TEST(Extractor, RetrainingRepeatsTheWeightsBitForBit) {
    auto train = [](const fs::path& out, std::uint64_t seed) {
        std::stop_source never;
        return ll::trainExtractor({.dataset = {.source = "fashion-mnist", .limit = 2000},
                                   .out = out,
                                   .seed = seed,
                                   .steps = 40},
                                  never.get_token());
    };
    const auto a = tempDir("retrain-a"), b = tempDir("retrain-b"), c = tempDir("retrain-c");
    auto first = train(a, 3), second = train(b, 3), other = train(c, 4);
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_TRUE(second) << second.error().message;
    ASSERT_TRUE(other) << other.error().message;
    EXPECT_EQ(first->sha256, second->sha256);
    EXPECT_NE(first->sha256, other->sha256);
    EXPECT_EQ(*ll::sha256File(first->weights), first->sha256);
    // One weights-only checkpoint is all that is kept, and it opens.
    EXPECT_EQ(ll::listCheckpoints(a), std::vector<std::int64_t>{40});
    EXPECT_LT(fs::file_size(first->weights), 2'500'000u);
    EXPECT_TRUE(ll::loadRun(a));
    // A folder that holds something is never overwritten.
    std::stop_source never;
    auto again = ll::trainExtractor({.out = a, .steps = 10}, never.get_token());
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().message.find("not empty"), std::string::npos);
    EXPECT_TRUE(ll::readExtractor(a));
    for (const auto& d : {a, b, c}) fs::remove_all(d);
}

// The window keeps classes by number; the command an extractor records names them, as the
// CLI reads a name first: the numbers 2,0 of a table labelled 1, 2, 3 are its classes 3 and 1.
TEST(Extractor, ItsCommandNamesTheClassesTheWindowKeptByNumber) {
    const fs::path dir = tempDir("named-classes");
    fs::create_directories(dir);
    const fs::path table = dir / "wine.csv";
    std::string text = "alcohol,ash,class\n";
    for (int i = 0; i < 60; ++i)
        text += std::to_string(10 + 2 * (1 + i % 3) + 0.01 * i) + "," +
                std::to_string(1 + i % 3 + 0.02 * (i % 7)) + "," + std::to_string(1 + i % 3) + "\n";
    ASSERT_TRUE(ll::writeFileAtomic(table, text));
    std::stop_source never;
    auto info = ll::trainExtractor({.dataset = {.source = table.string(), .keepClasses = {2, 0}},
                                    .out = dir / "x",
                                    .steps = 20},
                                   never.get_token());
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_NE(info->command.find(" --classes 3,1 "), std::string::npos) << info->command;
    fs::remove_all(dir);
}

TEST(Evaluate, ScoresAShortCvaeRunBesideRealFloors) {
    const auto& run = cvaeRun();
    ll::EvalOptions options{.metrics = ll::evalMetricNames(),
                            .count = 600,
                            .request = {.seed = 2},
                            .kidSubsets = 20,
                            .kidSize = 200,
                            .tstrSteps = 150};
    auto file = ll::evaluateRun(run, std::nullopt, options);
    ASSERT_TRUE(file) << file.error().message;
    EXPECT_EQ(file->filename(), "step-000400-g0.json");
    auto r = ll::readEvaluation(*file);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->step, 400);
    EXPECT_EQ(r->count, 600);
    EXPECT_EQ(r->featureSpace, "classifier");
    EXPECT_EQ(r->extractorSha256, ll::readExtractor(kShipped)->sha256);
    EXPECT_EQ(r->reference, "held-out");
    for (const char* name : {"fid", "kid", "precision", "recall", "density", "coverage", "is",
                             "agreement", "nn_distance", "ct", "tstr"}) {
        const auto* s = r->score(name);
        ASSERT_NE(s, nullptr) << name;
        EXPECT_TRUE(std::isfinite(s->value)) << name;
        EXPECT_TRUE(std::isfinite(s->floor)) << name;
    }
    // A 400-step cvae is far from real data: worse than the real-vs-real floor, but it has
    // learnt the classes.
    EXPECT_GT(r->score("fid")->value, 2 * r->score("fid")->floor);
    EXPECT_GT(r->score("kid")->value, r->score("kid")->floor);
    EXPECT_TRUE(std::isfinite(r->score("kid")->std));
    EXPECT_GT(r->score("precision")->floor, 0.5);
    EXPECT_GT(r->score("agreement")->value, 0.4);
    EXPECT_GE(r->score("agreement")->floor, 0.9);  // the extractor's accuracy on this subset
    EXPECT_GT(r->score("tstr")->value, 0.3);
    EXPECT_GT(r->score("tstr")->floor, r->score("tstr")->value - 0.05);
    EXPECT_GT(r->score("is")->floor, 5.0);
    // The histograms count every sample; the conditioned classes were cycled.
    ASSERT_EQ(r->generatedClasses.size(), 10u);
    EXPECT_EQ(std::accumulate(r->generatedClasses.begin(), r->generatedClasses.end(), 0LL), 600);
    EXPECT_EQ(std::accumulate(r->realClasses.begin(), r->realClasses.end(), 0LL), 600);
    // Nearest neighbours: nearest first, each with three training rows.
    ASSERT_EQ(r->neighbours.size(), 48u);
    for (std::size_t i = 1; i < r->neighbours.size(); ++i)
        EXPECT_LE(r->neighbours[i - 1].distances[0], r->neighbours[i].distances[0]);
    for (const auto& n : r->neighbours) {
        ASSERT_EQ(n.train.size(), 3u);
        EXPECT_LE(n.distances[0], n.distances[2]);
    }
    EXPECT_TRUE(fs::exists(r->neighboursImage));
    // Data-copying cells with their place on the map, and the map's training points.
    ASSERT_EQ(r->cells.size(), 10u);
    EXPECT_TRUE(fs::exists(r->cellsImage));
    EXPECT_EQ(r->mapX.size(), 3000u);
    EXPECT_EQ(r->mapCell.size(), 3000u);
    std::int64_t generated = 0;
    for (const auto& c : r->cells) generated += c.generated;
    EXPECT_EQ(generated, 600);
    EXPECT_FALSE(r->protocol.empty());
}

TEST(Evaluate, EveryCheckpointAndSweepGetTheirOwnRecord) {
    const auto& run = cvaeRun();
    ll::EvalOptions options{
        .metrics = {"fid", "precision", "recall"}, .count = 300, .request = {.seed = 2}};
    for (auto step : ll::listCheckpoints(run)) {
        auto file = ll::evaluateRun(run, step, options);
        ASSERT_TRUE(file) << file.error().message;
    }
    std::set<std::int64_t> steps;
    for (const auto& r : ll::listEvaluations(run)) steps.insert(r.step);
    EXPECT_EQ(steps, (std::set<std::int64_t>{0, 200, 400}));
    // Training helps: the last checkpoint is closer to the data than the first.
    auto first = ll::readEvaluation(run / "eval" / "step-000000-g0.json");
    auto last = ll::readEvaluation(run / "eval" / "step-000200-g0.json");
    ASSERT_TRUE(first && last);
    EXPECT_LT(last->score("fid")->value, first->score("fid")->value);
}

TEST(Evaluate, BadRequestsGetClearMessages) {
    const auto& run = cvaeRun();
    auto unknown = ll::parseEvalMetrics("fid,fidelity");
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("unknown metric 'fidelity'"), std::string::npos);
    EXPECT_EQ(*ll::parseEvalMetrics("pr"), (std::vector<std::string>{"precision", "recall"}));
    // Too few samples for FID's covariance: recorded with its reason, not as NaN.
    auto file = ll::evaluateRun(run, std::nullopt,
                                {.metrics = {"fid", "agreement"}, .count = 50, .request = {}});
    ASSERT_TRUE(file) << file.error().message;
    const auto j = nlohmann::json::parse(*ll::readFile(*file));
    EXPECT_FALSE(j["scores"].contains("fid"));
    EXPECT_NE(j["errors"]["fid"].get<std::string>().find("needs at least"), std::string::npos);
    EXPECT_TRUE(j["scores"].contains("agreement"));
    auto record = ll::readEvaluation(*file);
    ASSERT_TRUE(record);
    ASSERT_EQ(record->errors.size(), 1u);
    EXPECT_EQ(record->errors[0].first, "fid");
    EXPECT_EQ(record->score("fid"), nullptr);
    // A classifier has no samples; a missing run is named.
    auto classifier = ll::evaluateRun(kShipped, std::nullopt, {});
    ASSERT_FALSE(classifier);
    EXPECT_NE(classifier.error().message.find("scores the samples of a generator"),
              std::string::npos);
    auto missing = ll::evaluateRun("/no/such/run", std::nullopt, {});
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("/no/such/run"), std::string::npos);
    // Cancelling stops at the next stage boundary and writes nothing.
    const auto before = ll::listEvaluations(run).size();
    auto cancelled =
        ll::evaluateRun(run, 200, {.count = 300},
                        [](const std::string& stage, double) { return stage == "sampling"; });
    ASSERT_FALSE(cancelled);
    EXPECT_EQ(cancelled.error().message, "cancelled");
    EXPECT_EQ(ll::listEvaluations(run).size(), before);

    // A record edited by hand: a step no integer holds was cast unchecked (shown as step
    // -9223372036854775808), one of another type dropped without a word. Each is left out and
    // said why; the others still list.
    const auto records = ll::listEvaluations(run);
    ASSERT_FALSE(records.empty());
    const std::string text = ll::readFile(records.front().file).value();
    for (const auto& [name, step] :
         {std::pair<const char*, const char*>{"step-999998-g0.json", "1e300"},
          {"step-999999-g0.json", "\"x\""}}) {
        nlohmann::json edited = nlohmann::json::parse(text);
        edited["step"] = nlohmann::json::parse(step);
        std::ofstream(ll::runfiles::evalDir(run) / name) << edited.dump();
    }
    std::vector<std::string> unreadable;
    EXPECT_EQ(ll::listEvaluations(run, &unreadable).size(), records.size());
    ASSERT_EQ(unreadable.size(), 2u);
    for (const auto& why : unreadable) {
        EXPECT_NE(why.find("malformed evaluation record"), std::string::npos) << why;
        EXPECT_NE(why.find("step-99999"), std::string::npos) << why;
    }
    for (const char* name : {"step-999998-g0.json", "step-999999-g0.json"})
        fs::remove(ll::runfiles::evalDir(run) / name);
}

TEST(SampleFolder, ReadsItsPngsAndRefusesOtherFilesBeforeDecoding) {
    const ll::ModelShape shape{.channels = 1, .height = 8, .width = 8, .numClasses = 2};
    const ll::RunData data{.datasetName = "toy", .shape = shape, .classNames = {"a", "b"}};
    const auto dir = tempDir("samplefolder");
    fs::create_directories(dir);
    torch::manual_seed(3);
    const torch::Tensor images = torch::rand({2, 1, 8, 8});
    for (const int i : {0, 1}) {
        const auto ok = ll::writePng(ll::makeGrid(images.slice(0, i, i + 1), 1),
                                     dir / (i == 0 ? "s0.png" : "s1.png"));
        ASSERT_TRUE(ok) << ok.error().message;
    }
    // `last` is the second row's file, each case's own.
    auto readWith = [&](const std::string& last, const std::string& bytes) {
        std::ofstream(dir / "manifest.csv") << "file,class\ns0.png,a\n" << last << ",1\n";
        if (!bytes.empty()) std::ofstream(dir / last, std::ios::binary) << bytes;
        return ll::readSampleFolder(dir, shape, data);
    };
    auto good = readWith("s1.png", "");
    ASSERT_TRUE(good) << good.error().message;
    EXPECT_EQ(good->samples.sizes(), (std::vector<std::int64_t>{2, 1, 8, 8}));
    EXPECT_EQ(good->labels[1].item<std::int64_t>(), 1);
    EXPECT_LT((good->samples - images).abs().max().item<float>(), 1.0f / 255 + 1e-6f);

    auto errorOf = [](const ll::Result<ll::SampleFolder>& r) {
        return r ? std::string("(read)") : r.error().message;
    };
    // An 8 x 8 BMP named as a PNG: OpenCV reads it by its content; the samples are PNGs.
    const std::string bmp = errorOf(readWith("bmp.png", ll::testing::bmp(8, 8, true)));
    EXPECT_NE(bmp.find("bmp.png: not a readable PNG or JPEG"), std::string::npos) << bmp;
    // A header that claims 20000 x 20000 is refused by its size, never decoded.
    const std::string huge = errorOf(readWith("huge.png", ll::testing::pngHeader(20000, 20000)));
    EXPECT_NE(huge.find("huge.png: 20000x20000 pixels, the run's samples are 8x8"),
              std::string::npos)
        << huge;
    // The right size in its header, and no pixels after it.
    const std::string cut = errorOf(readWith("cut.png", ll::testing::pngHeader(8, 8)));
    EXPECT_NE(cut.find("cut.png: not a readable PNG or JPEG"), std::string::npos) << cut;
    fs::remove_all(dir);
}

// Metrics during training: records at each interval, a line in the log, and not a bit of
// difference to the weights the training reaches.
TEST(Evaluate, MetricsDuringTrainingLeaveTheTrainingAsItWas) {
    auto train = [](const fs::path& dir, int evalEvery) {
        std::vector<std::int64_t> evaluated;
        ll::Trainer trainer({.dataset = {.source = "fashion-mnist", .limit = 2000},
                             .model = "cvae",
                             .steps = 100,
                             .seed = 9,
                             .sampleEvery = 50,
                             .checkpointEvery = 100,
                             .evalEvery = evalEvery,
                             .evalCount = 200,
                             .runDir = dir},
                            [&](const ll::TrainEvent& e) {
                                if (auto* v = std::get_if<ll::TrainEvaluated>(&e)) {
                                    EXPECT_TRUE(v->message.empty()) << v->message;
                                    evaluated.push_back(v->step);
                                }
                            });
        std::stop_source never;
        EXPECT_EQ(trainer.run(never.get_token()).outcome, ll::TrainFinished::Outcome::Completed);
        return evaluated;
    };
    const auto plain = tempDir("plain"), measured = tempDir("measured");
    EXPECT_TRUE(train(plain, 0).empty());
    EXPECT_EQ(train(measured, 50), (std::vector<std::int64_t>{50, 100}));
    const auto records = ll::listEvaluations(measured);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].step, 50);
    ASSERT_NE(records[1].score("agreement"), nullptr);
    EXPECT_NE(records[1].score("fid"), nullptr);
    EXPECT_NE(ll::readFile(measured / "log.jsonl")->find("\"eval\":{"), std::string::npos);
    // Weights only: the optimiser state of a checkpoint is keyed by memory addresses.
    auto weights = [](const fs::path& run) {
        auto opened = ll::loadRun(run);
        EXPECT_TRUE(opened);
        const auto file = run / "weights.pt";
        EXPECT_TRUE(opened->model->save(file, /*weightsOnly=*/true));
        return *ll::sha256File(file);
    };
    EXPECT_EQ(weights(measured), weights(plain));
    fs::remove_all(plain);
    fs::remove_all(measured);
}
