// What a crash, a second trainer or a damaged checkpoint does to a run: one trainer per run
// folder, a lock a dead owner does not keep, and a resume that falls back past a damaged
// checkpoint and says so.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <nlohmann/json.hpp>

#include "clirun.h"
#include "common/atomicfile.h"
#include "common/cpu.h"
#include "run/runfolder.h"
#include "run/runloader.h"
#include "run/runlock.h"
#include "train/trainer.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

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

// Forks a process that takes the run's lock, as another trainer would (plain system calls
// only: nothing else is safe after a fork in a threaded process), naming itself in it like
// RunLock when asked, and returns once it holds it; -1 when it could not.
pid_t forkLockHolder(const fs::path& dir, bool nameItself) {
    char host[64] = {};
    ::gethostname(host, sizeof host - 1);
    int ready[2];
    if (::pipe(ready) != 0) return -1;
    const std::string file = (dir / ll::runfiles::kLock).string();
    const pid_t child = ::fork();
    if (child == 0) {
        const int fd = ::open(file.c_str(), O_RDWR | O_CREAT, 0644);
        if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(1);
        if (nameItself) {
            char line[128];
            const int n = std::snprintf(line, sizeof line, "pid %d on %s\n", ::getpid(), host);
            (void)!::ftruncate(fd, 0);
            (void)!::pwrite(fd, line, static_cast<std::size_t>(n), 0);
        }
        (void)!::write(ready[1], "x", 1);
        for (;;) ::pause();
    }
    char byte = 0;
    const bool holds = child > 0 && ::read(ready[0], &byte, 1) == 1;
    ::close(ready[0]);
    ::close(ready[1]);
    return holds ? child : -1;
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

    // Another process takes it, then dies by SIGKILL without releasing anything.
    const pid_t child = forkLockHolder(dir, /*nameItself=*/false);
    ASSERT_GT(child, 0);
    auto held = ll::RunLock::acquire(dir);
    EXPECT_FALSE(held) << "the other process holds it";
    if (!held) {
        EXPECT_NE(held.error().message.find("being trained"), std::string::npos);
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    auto after = ll::RunLock::acquire(dir);
    EXPECT_TRUE(after) << "a killed owner left the run locked: " << after.error().message;
    fs::remove_all(dir);
}

TEST(RunLock, NamesItsOwnerAndAsksItToStop) {
    const fs::path dir = freshDir("owner");
    fs::create_directories(dir);
    EXPECT_FALSE(ll::RunLock::owner(dir)) << "nobody trains a fresh folder";
    EXPECT_FALSE(fs::exists(dir / ll::runfiles::kLock)) << "asking must not create the lock";
    {
        auto mine = ll::RunLock::acquire(dir);
        ASSERT_TRUE(mine) << mine.error().message;
        const auto owner = ll::RunLock::owner(dir);
        ASSERT_TRUE(owner);
        EXPECT_EQ(owner->pid, ::getpid());
        EXPECT_TRUE(owner->here && owner->thisProcess);
        const auto asked = ll::RunLock::askOwnerToStop(dir);
        ASSERT_FALSE(asked) << "a process never signals itself";
        EXPECT_NE(asked.error().message.find("this window"), std::string::npos);
    }
    EXPECT_FALSE(ll::RunLock::owner(dir)) << "a released lock has no owner";

    // Another process trains it, as the CLI would: it takes the lock and names itself; a
    // SIGTERM ends it (the CLI saves a checkpoint first), and the lock goes with it.
    const pid_t child = forkLockHolder(dir, /*nameItself=*/true);
    ASSERT_GT(child, 0);
    const auto owner = ll::RunLock::owner(dir);
    ASSERT_TRUE(owner);
    EXPECT_EQ(owner->pid, child);
    EXPECT_TRUE(owner->here);
    EXPECT_FALSE(owner->thisProcess);
    EXPECT_TRUE(ll::RunLock::acquire(dir).has_value() == false);
    const auto asked = ll::RunLock::askOwnerToStop(dir);
    ASSERT_TRUE(asked) << asked.error().message;
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    EXPECT_FALSE(ll::RunLock::owner(dir)) << "the stopped owner still holds the run";
    EXPECT_FALSE(ll::RunLock::askOwnerToStop(dir)) << "nobody left to ask";
    fs::remove_all(dir);
}

// A lock file that names no process id a signal can take: strtol read "4294967295" as a long
// that kill() takes as -1 (every process the user owns), "4294967296" as 0 (the caller's own
// process group). Such an owner is named, never signalled.
TEST(RunLock, AnOwnerLineWithoutAProcessIdIsNeverSignalled) {
    const fs::path dir = freshDir("bogus-owner");
    fs::create_directories(dir);
    const pid_t child = forkLockHolder(dir, /*nameItself=*/false);
    ASSERT_GT(child, 0);
    char host[64] = {};
    ::gethostname(host, sizeof host - 1);
    for (const std::string pid : {"4294967295", "4294967296", "-1", "0", "12x", "99999999999"}) {
        const std::string line = "pid " + pid + " on " + host + "\n";
        // Rewritten in place: the holder keeps its flock on the same file.
        std::ofstream(dir / ll::runfiles::kLock, std::ios::trunc) << line;
        const auto owner = ll::RunLock::owner(dir);
        ASSERT_TRUE(owner) << pid;
        ASSERT_EQ(owner->pid, 0) << pid;  // stops here, before a signal could go anywhere
        EXPECT_TRUE(owner->here) << pid;
        const auto asked = ll::RunLock::askOwnerToStop(dir);
        ASSERT_FALSE(asked) << pid;
        EXPECT_NE(asked.error().message.find("names no process"), std::string::npos)
            << asked.error().message;
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
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

// Numbers of a run's JSON files that no integer holds, found by tests/fuzz/fuzz_runfiles: a
// config.json "step" of 3e24 was undefined behaviour in nlohmann's cast to int64 (so was any
// such float wherever the files give a whole number). Each reader refuses it with a message,
// and the loss log skips the line.
TEST(Faults, RunFilesOfNumbersNoIntegerHoldsAreRefused) {
    const fs::path run = freshDir("huge-numbers");
    fs::create_directories(run / "checkpoints");
    auto write = [](const fs::path& file, const std::string& text) { std::ofstream(file) << text; };
    write(run / ll::runfiles::kConfig,
          R"({"model": "cvae", "step": 3.03333e+24, "batch_size": 1e300,
              "dataset": {"source": "fashion-mnist", "keep_classes": [1, 2.5e40]}})");
    write(run / "data.json", R"({"class_names": ["a"], "shape": {"channels": 1e300, "height": 1,
          "width": 1, "features": 0, "classes": 1}})");
    write(run / ll::runfiles::kLog,
          "{\"step\": 1e300, \"losses\": {\"loss\": 1}}\n"
          "{\"step\": 7, \"losses\": {\"loss\": 2}}\n");
    for (const auto& message :
         {ll::readRunInfo(run).error().message, ll::readRunConfig(run).error().message,
          ll::readRunData(run).error().message}) {
        EXPECT_NE(message.find("malformed"), std::string::npos) << message;
        EXPECT_NE(message.find("not a whole number"), std::string::npos) << message;
    }
    const auto log = ll::readLossLog(run);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].first, 7);
    ASSERT_TRUE(ll::truncateLog(run, 10));
    EXPECT_EQ(ll::readLossLog(run).size(), 1u);
    fs::remove_all(run);
}

// config.json and data.json as a person edits them: numbers for settings are read as their
// text; a split, colour or image shape that means nothing is refused by name (a "bogus" split
// trained on the train split, a height of 0 failed later inside the model).
TEST(Faults, RunFilesEditedByHandAreReadOrRefusedByName) {
    const fs::path run = freshDir("by-hand");
    fs::create_directories(run / "checkpoints");
    auto write = [](const fs::path& file, const std::string& text) { std::ofstream(file) << text; };
    write(run / ll::runfiles::kConfig,
          R"({"model": "vae", "settings": {"latent": 8, "beta": 0.5, "net": "mlp"}})");
    const auto typed = ll::readRunConfig(run);
    ASSERT_TRUE(typed) << typed.error().message;
    EXPECT_EQ(typed->settings.at("latent"), "8");
    EXPECT_EQ(typed->settings.at("beta"), "0.5");
    for (const auto& [config, expected] : std::vector<std::pair<std::string, std::string>>{
             {R"({"model": "vae", "settings": {"hidden": [512, 256]}})",
              "setting 'hidden' is array, not a value"},
             {R"({"model": "vae", "dataset": {"split": "bogus"}})",
              "'split' is 'bogus', not train or test"},
             {R"({"model": "vae", "dataset": {"colour": "x"}})",
              "'colour' is 'x', not follow-data, gray or rgb"}}) {
        write(run / ll::runfiles::kConfig, config);
        const auto refused = ll::readRunConfig(run);
        ASSERT_FALSE(refused) << config;
        EXPECT_NE(refused.error().message.find(expected), std::string::npos)
            << refused.error().message;
        EXPECT_NE(refused.error().message.find("config.json"), std::string::npos);
    }
    write(run / "data.json", R"({"class_names": ["a"], "shape": {"channels": 1, "height": 0,
          "width": 28, "features": 0, "classes": 1}})");
    const auto empty = ll::readRunData(run);
    ASSERT_FALSE(empty);
    EXPECT_NE(empty.error().message.find("images of 1 x 0 x 28"), std::string::npos)
        << empty.error().message;
    fs::remove_all(run);
}

// JSON nested a million deep: nlohmann parses it without recursion, but copying, comparing
// and dumping the value recursed until the stack ran out (config.json's "steps" and "dataset",
// a weights file's metadata). Refused as a file that is not JSON; 64 deep is still read.
TEST(Faults, RunFilesNestedTooDeepAreRefused) {
    const fs::path run = freshDir("deep");
    fs::create_directories(run / "checkpoints");
    const auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
    auto write = [](const fs::path& file, const std::string& text) { std::ofstream(file) << text; };
    write(run / ll::runfiles::kConfig,
          R"({"model": "vae", "dataset": {"source": "fashion-mnist", "x": )" + nested(1'000'000) +
              "}}");
    write(run / "data.json", R"({"class_names": ["a"], "shape": )" + nested(100'000) + "}");
    for (const auto& message :
         {ll::readRunConfig(run).error().message, ll::readRunData(run).error().message}) {
        EXPECT_NE(message.find("not valid JSON (or nested more than 64 deep)"), std::string::npos)
            << message.substr(0, 300);
        EXPECT_LT(message.size(), 300u);
    }
    // 63 levels inside the object: read, and refused for what it holds.
    write(run / ll::runfiles::kConfig, R"({"model": "vae", "steps": )" + nested(63) + "}");
    const auto shallow = ll::readRunConfig(run);
    ASSERT_FALSE(shallow);
    EXPECT_NE(shallow.error().message.find("'steps' is [[[["), std::string::npos)
        << shallow.error().message;
    fs::remove_all(run);
}

// Runs whose settings link to each other (latent-ddpm's autoencoder naming the run itself, or
// two naming each other): opening one recursed until the stack ran out.
TEST(Faults, RunsLinkedInALoopAreRefused) {
    const fs::path a = freshDir("loop-a"), b = freshDir("loop-b");
    auto write = [](const fs::path& run, const fs::path& autoencoder) {
        fs::create_directories(run / "checkpoints");
        std::ofstream(run / ll::runfiles::kConfig) << json{
            {"model", "latent-ddpm"},
            {"settings", {{"autoencoder", autoencoder.string()}}},
            {"dataset", {{"source", "fashion-mnist"}}}}.dump();
        std::ofstream(run / "data.json") << R"({"class_names": ["a", "b"], "shape": {"channels": 1,
            "height": 28, "width": 28, "features": 0, "classes": 2}})";
    };
    write(a, a);
    auto itself = ll::loadRun(a);
    ASSERT_FALSE(itself);
    EXPECT_NE(itself.error().message.find("runs link to each other in a loop"), std::string::npos)
        << itself.error().message;
    write(a, b);
    write(b, a);
    auto each = ll::loadRun(a);
    ASSERT_FALSE(each);
    const std::string& why = each.error().message;
    EXPECT_NE(why.find("runs link to each other in a loop"), std::string::npos) << why;
    EXPECT_NE(why.find(fs::weakly_canonical(b).string() + " -> "), std::string::npos) << why;
    fs::remove_all(a);
    fs::remove_all(b);
}

namespace {

// A stored record of a checkpoint's zip (its name ends in `suffix`): where its bytes are and
// where the central directory keeps its CRC-32, to change it as an attacker would.
struct ZipRecord {
    std::size_t data = 0, size = 0, crcAt = 0;
};

ZipRecord storedRecord(const std::string& zip, const std::string& suffix) {
    const auto le = [&](std::size_t at, int n) {
        std::size_t v = 0;
        for (int i = n - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(zip[at + i]);
        return v;
    };
    std::size_t p = le(zip.size() - 6, 4);
    for (std::size_t i = 0, n = le(zip.size() - 12, 2); i < n; ++i) {
        const std::size_t nameLength = le(p + 28, 2), header = le(p + 42, 4);
        const std::string name = zip.substr(p + 46, nameLength);
        if (le(p + 10, 2) == 0 && name.size() >= suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
            return {header + 30 + le(header + 26, 2) + le(header + 28, 2), le(p + 24, 4), p + 16};
        p += 46 + nameLength + le(p + 30, 2) + le(p + 32, 2);
    }
    return {};
}

void fixCrc(std::string& zip, const ZipRecord& r) {
    const auto crc =
        crc32(0, reinterpret_cast<const Bytef*>(zip.data() + r.data), static_cast<uInt>(r.size));
    for (int b = 0; b < 4; ++b) zip[r.crcAt + b] = static_cast<char>(crc >> (8 * b));
}

}  // namespace

// Checkpoints damaged or made to mislead LibTorch 1.13's reader, found by
// tests/fuzz/fuzz_checkpoint: one flipped bit in a class declaration crashed its TorchScript
// importer (its zip reader checks no CRC); a storage that claims more items than its record
// holds was read past its end; weights of other layer sizes took the place of the model's
// without a word. Each is refused with a message before LibTorch reads it, and the model then
// loads a sound checkpoint as before.
TEST(Faults, HostileCheckpointsAreRefusedWithAMessage) {
    ll::applyCpuSettings();
    const fs::path dir = freshDir("hostile-checkpoint");
    {
        ll::Trainer trainer(smallRun(dir, 10), {});
        ASSERT_EQ(trainer.run(std::stop_token{}).outcome, ll::TrainFinished::Outcome::Completed);
    }
    const fs::path good = ll::runfiles::checkpoint(dir, 10);
    const std::string sound = *ll::readFile(good);
    const ll::ModelShape shape{.channels = 1, .height = 28, .width = 28, .numClasses = 10};
    auto model = ll::createModel("cvae", shape, {{"hidden", "64"}, {"latent", "4"}});
    ASSERT_TRUE(model) << model.error().message;
    ASSERT_TRUE((*model)->load(good));
    const fs::path bad = dir / "hostile.pt";
    const auto refused = [&](const std::string& bytes, const std::string& why) {
        EXPECT_TRUE(ll::writeFileAtomic(bad, bytes));
        const auto loaded = (*model)->load(bad);
        ASSERT_FALSE(loaded) << why;
        EXPECT_NE(loaded.error().message.find(why), std::string::npos) << loaded.error().message;
    };

    // "__parameters__" as "__paRameters__": damaged, then forged with its CRC-32 made right.
    const ZipRecord code = storedRecord(sound, ".py");
    ASSERT_GT(code.size, 0u);
    std::string flipped = sound;
    const auto at = flipped.find("__parameters__", code.data);
    ASSERT_LT(at, code.data + code.size);
    flipped[at + 4] = 'R';
    refused(flipped, "fails its CRC-32");
    refused(flipped, "truncated");
    fixCrc(flipped, code);
    refused(flipped, "lacks __parameters__");

    // The data shape's storage (5 int64 in record data/0) claiming 200 items.
    std::string claims = sound;
    const std::string storage("cpuq\x08K\x05t", 8);
    const auto count = claims.find(storage);
    ASSERT_NE(count, std::string::npos);
    claims[count + 6] = static_cast<char>(200);
    fixCrc(claims, storedRecord(claims, "data.pkl"));
    refused(claims, "a storage of 200 items in record 'data/0' of 40 bytes");

    // A sound checkpoint of narrower layers: same model, other settings.
    auto narrow = ll::createModel("cvae", shape, {{"hidden", "32"}, {"latent", "4"}});
    ASSERT_TRUE(narrow);
    ASSERT_TRUE((*narrow)->save(bad));
    const auto wider = (*model)->load(bad);
    ASSERT_FALSE(wider);
    EXPECT_NE(wider.error().message.find("weights do not fit this model's settings"),
              std::string::npos)
        << wider.error().message;
    EXPECT_NE(wider.error().message.find("Float, the model's 64x"), std::string::npos)
        << wider.error().message;

    EXPECT_TRUE((*model)->load(good));
    fs::remove_all(dir);
}

namespace {

// This process's resident memory, and its peak since the last resetPeakMemory, in bytes.
std::pair<long long, long long> residentAndPeak() {
    std::ifstream in("/proc/self/status");
    long long rss = 0, peak = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("VmRSS:", 0) == 0) rss = std::atoll(line.c_str() + 6) * 1024;
        if (line.rfind("VmHWM:", 0) == 0) peak = std::atoll(line.c_str() + 6) * 1024;
    }
    return {rss, peak};
}

bool resetPeakMemory() {
    return static_cast<bool>(std::ofstream("/proc/self/clear_refs") << "5");
}

// Under a sanitizer every byte touched also touches its shadow (an eighth more under ASan,
// four times under TSan), so peaks are asserted in a plain build only.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kPlainMemory = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kPlainMemory = false;
#else
constexpr bool kPlainMemory = true;
#endif
#else
constexpr bool kPlainMemory = true;
#endif

}  // namespace

// A checkpoint goes to its file as it is written, and comes back from it without a copy. Held
// in memory first, a wide table's checkpoint (weights and Adam's two moments, gigabytes) took
// twice its size on top of training (2 rows by 200,000 columns: 3.1 GiB to train, 8.3 GB at
// the checkpoint).
TEST(Faults, ACheckpointIsNeverHeldInMemoryWhole) {
    ll::applyCpuSettings();
    const ll::ModelShape shape{.features = 20000, .numClasses = 2};
    auto model = ll::createModel("vae", shape, {{"hidden", "512"}, {"latent", "8"}});
    ASSERT_TRUE(model) << model.error().message;
    // One step, so that Adam's moments exist and the file holds three copies of the weights.
    (*model)->trainStep(torch::rand({4, 20000}), torch::tensor({0, 1, 0, 1}, torch::kInt64));
    const fs::path dir = freshDir("streamed-checkpoint");
    fs::create_directories(dir);
    if (!resetPeakMemory()) GTEST_SKIP() << "/proc/self/clear_refs cannot reset the peak here";
    const long long before = residentAndPeak().first;
    ASSERT_TRUE((*model)->save(dir / "wide.pt"));
    const auto [after, peak] = residentAndPeak();
    const auto fileBytes = static_cast<long long>(fs::file_size(dir / "wide.pt"));
    EXPECT_GT(fileBytes, 200'000'000);  // 20.5 million parameters, three copies
    if (kPlainMemory) {
        EXPECT_LT(peak - before, fileBytes / 8)
            << "saving held " << (peak - before) / 1e6 << " MB beyond the model for a "
            << fileBytes / 1e6 << " MB file";
    }

    // And it is the checkpoint it was, read back without a copy of the file: LibTorch makes
    // tensors of all of it (the file's size), but the file's bytes are not held beside them
    // (read into a string first, they were: 492 MB held for this 246 MB file).
    auto again = ll::createModel("vae", shape, {{"hidden", "512"}, {"latent", "8"}});
    ASSERT_TRUE(again);
    ASSERT_TRUE(resetPeakMemory());
    const long long beforeLoad = residentAndPeak().first;
    ASSERT_TRUE((*again)->load(dir / "wide.pt"));
    const long long loadPeak = residentAndPeak().second;
    if (kPlainMemory) {
        EXPECT_LT(loadPeak - beforeLoad, fileBytes * 9 / 8)
            << "loading held " << (loadPeak - beforeLoad) / 1e6 << " MB beyond the model for a "
            << fileBytes / 1e6 << " MB file";
    }
    const auto saved = (*model)->namedState(), loaded = (*again)->namedState();
    ASSERT_EQ(saved.size(), loaded.size());
    for (std::size_t i = 0; i < saved.size(); ++i)
        EXPECT_TRUE(torch::equal(saved[i].second, loaded[i].second)) << saved[i].first;
    fs::remove_all(dir);
}
