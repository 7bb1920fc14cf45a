// What a crash, a second trainer or a damaged checkpoint does to a run: one trainer per run
// folder, a lock a dead owner does not keep, and a resume that falls back past a damaged
// checkpoint and says so.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clirun.h"
#include "common/cpu.h"
#include "run/runfolder.h"
#include "run/runloader.h"
#include "run/runlock.h"
#include "train/trainer.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

fs::path freshDir(const std::string& name) {
    return ll::testing::scratchFolder("faults-" + name);
}

ll::TrainConfig smallRun(const fs::path& dir, std::int64_t steps) {
    return ll::TrainConfig{.dataset = {.source = "fashion-mnist", .limit = 2000, .seed = 3},
                           .model = "cvae",
                           .settings = {{"hidden", "64"}, {"latent", "4"}},
                           .steps = steps,
                           .batchSize = 32,
                           .seed = 5,
                           .logEvery = 5,
                           .sampleEvery = 1000,
                           .checkpointEvery = 50,
                           .samplesPerClass = 2,
                           .runDir = dir};
}

}  // namespace

TEST(RunLock, OneHolderAtATimeAndADeadOneHoldsNothing) {
    const fs::path dir = freshDir("lock");
    fs::create_directories(dir);
    {
        auto first = ll::RunLock::acquire(dir);
        ASSERT_TRUE(first) << first.error().message;
        auto second = ll::RunLock::acquire(dir);
        ASSERT_FALSE(second);
        EXPECT_NE(second.error().message.find("pid " + std::to_string(::getpid())),
                  std::string::npos)
            << second.error().message;
    }
    EXPECT_TRUE(ll::RunLock::acquire(dir)) << "a released lock is free";

    // Another process takes it (plain system calls: nothing but them is safe after a fork in
    // a threaded process), then dies by SIGKILL without releasing anything.
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const std::string file = (dir / ll::runfiles::kLock).string();
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        const int fd = ::open(file.c_str(), O_RDWR | O_CREAT, 0644);
        if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(1);
        (void)!::write(ready[1], "x", 1);
        for (;;) ::pause();
    }
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    auto held = ll::RunLock::acquire(dir);
    EXPECT_FALSE(held) << "the other process holds it";
    if (!held) {
        EXPECT_NE(held.error().message.find("being trained"), std::string::npos);
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    ::close(ready[0]);
    ::close(ready[1]);
    auto after = ll::RunLock::acquire(dir);
    EXPECT_TRUE(after) << "a killed owner left the run locked: " << after.error().message;
    fs::remove_all(dir);
}

TEST(Faults, ASecondTrainerOnTheSameRunIsRefused) {
    ll::applyCpuSettings();
    const fs::path dir = freshDir("second");
    std::atomic<std::int64_t> step{0};
    ll::Trainer first(smallRun(dir, 1000000), [&](const ll::TrainEvent& e) {
        if (auto* p = std::get_if<ll::TrainProgress>(&e)) step = p->step;
    });
    ll::TrainFinished firstResult;
    std::jthread worker([&](std::stop_token stop) { firstResult = first.run(stop); });
    for (int i = 0; i < 6000 && step < 60; ++i) std::this_thread::sleep_for(5ms);
    ASSERT_GE(step, 60) << "the first trainer did not get going";

    ll::Trainer second({.steps = 2000000, .runDir = dir, .resume = true}, {});
    const auto refused = second.run(std::stop_token{});
    EXPECT_EQ(refused.outcome, ll::TrainFinished::Outcome::Failed);
    EXPECT_NE(refused.message.find("being trained by pid"), std::string::npos) << refused.message;

    worker.request_stop();
    worker.join();
    EXPECT_EQ(firstResult.outcome, ll::TrainFinished::Outcome::Cancelled) << firstResult.message;
    // The first one is gone: its run resumes.
    ll::Trainer third({.steps = firstResult.step + 10, .runDir = dir, .resume = true}, {});
    const auto resumed = third.run(std::stop_token{});
    EXPECT_EQ(resumed.outcome, ll::TrainFinished::Outcome::Completed) << resumed.message;
    fs::remove_all(dir);
}

TEST(Faults, ADamagedLatestCheckpointFallsBackToThePreviousOneAndSaysSo) {
    ll::applyCpuSettings();
    const fs::path dir = freshDir("damaged");
    {
        ll::Trainer trainer(smallRun(dir, 120), {});
        ASSERT_EQ(trainer.run(std::stop_token{}).outcome, ll::TrainFinished::Outcome::Completed);
    }
    // Checkpoints 50, 100 and 120 are kept; cut the newest in half.
    const fs::path newest = ll::runfiles::checkpoint(dir, 120);
    ASSERT_TRUE(fs::exists(ll::runfiles::checkpoint(dir, 100)));
    fs::resize_file(newest, fs::file_size(newest) / 2);

    ll::TrainStarted started;
    ll::Trainer resume({.steps = 160, .runDir = dir, .resume = true}, [&](const ll::TrainEvent& e) {
        if (auto* s = std::get_if<ll::TrainStarted>(&e)) started = *s;
    });
    const auto result = resume.run(std::stop_token{});
    ASSERT_EQ(result.outcome, ll::TrainFinished::Outcome::Completed) << result.message;
    EXPECT_EQ(started.startStep, 100);
    EXPECT_NE(started.warning.find("step-000120.pt"), std::string::npos) << started.warning;
    EXPECT_NE(started.warning.find("truncated"), std::string::npos) << started.warning;
    EXPECT_NE(started.warning.find("Fell back to the checkpoint of step 100"), std::string::npos)
        << started.warning;
    // The damaged file is kept aside; the run went on from 100 without logging a step twice.
    EXPECT_TRUE(fs::exists(newest.string() + ".damaged"));
    const auto log = ll::readLossLog(dir);
    ASSERT_FALSE(log.empty());
    EXPECT_EQ(log.back().first, 160);
    for (std::size_t i = 1; i < log.size(); ++i) EXPECT_LT(log[i - 1].first, log[i].first);

    // A damaged latest.json: the newest checkpoint file is found without it.
    { std::ofstream(dir / ll::runfiles::kLatest) << "{\"st"; }
    auto opened = ll::loadRun(dir);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(opened->step, 160);
    EXPECT_NE(opened->warning.find("latest.json"), std::string::npos) << opened->warning;

    // Nothing loads: an error naming each file, not a crash.
    for (const auto step : ll::listCheckpoints(dir))
        std::ofstream(ll::runfiles::checkpoint(dir, step), std::ios::trunc) << "not a zip";
    auto none = ll::loadRun(dir);
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message.find("no checkpoint loads"), std::string::npos)
        << none.error().message;
    EXPECT_NE(none.error().message.find("step-000160.pt"), std::string::npos);
    EXPECT_NE(none.error().message.find("step-000150.pt"), std::string::npos);
    fs::remove_all(dir);
}

// A run folder's JSON files of the wrong types or sizes (found by tests/fuzz/fuzz_runfiles:
// the runs browser's readRunInfo threw past its caller, latest.json's step could too): each
// reader refuses with a message, and listing the workspace skips the folder.
TEST(Faults, HostileRunFilesAreRefusedWithAMessage) {
    const fs::path workspace = freshDir("hostile");
    const fs::path bad = workspace / "runs" / "bad";
    const fs::path good = workspace / "runs" / "good";
    fs::create_directories(bad / "checkpoints");
    fs::create_directories(good);
    auto write = [](const fs::path& file, const std::string& text) { std::ofstream(file) << text; };
    write(good / ll::runfiles::kConfig, R"({"model": "cvae", "status": "completed"})");
    write(bad / ll::runfiles::kConfig, R"({"model": {"no": 1}, "steps": "many"})");
    write(bad / ll::runfiles::kLatest, R"({"step": "12"})");
    write(bad / "data.json", R"({"class_names": ["a"], "shape": {"channels": 0, "height": 0,
          "width": 0, "features": 2000000000, "classes": 1}})");

    auto info = ll::readRunInfo(bad);
    ASSERT_FALSE(info);
    EXPECT_NE(info.error().message.find("malformed run config"), std::string::npos)
        << info.error().message;
    auto config = ll::readRunConfig(bad);
    ASSERT_FALSE(config);
    auto latest = ll::latestCheckpoint(bad);
    ASSERT_FALSE(latest);
    EXPECT_NE(latest.error().message.find("no step recorded"), std::string::npos)
        << latest.error().message;
    auto data = ll::readRunData(bad);
    ASSERT_FALSE(data);
    EXPECT_NE(data.error().message.find("out of range"), std::string::npos) << data.error().message;
    const auto runs = ll::listRuns(workspace);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].dir, good);
    fs::remove_all(workspace);
}
