// What a training CLI meets: SIGKILL at random moments (the run always resumes, loses at most
// one checkpoint interval, and leaves no half-written file), a second trainer of the same
// run (refused), a disk that fills up during a checkpoint (a clear error, the previous
// checkpoint intact).
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "clirun.h"

namespace fs = std::filesystem;

using ll::testing::cli;

namespace {

fs::path scratch() {
    static const fs::path dir = ll::testing::scratchFolder("cli-kill");
    return dir;
}

std::int64_t latestStep(const fs::path& run) {
    std::ifstream in(run / "checkpoints" / "latest.json");
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    const auto at = text.find("\"step\"");
    return at == std::string::npos ? -1 : std::stoll(text.substr(text.find(':', at) + 1));
}

std::int64_t lastLoggedStep(const fs::path& run) {
    std::ifstream in(run / "log.jsonl");
    std::string line;
    std::int64_t last = -1;
    while (std::getline(in, line)) {
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_object() && j.contains("losses")) last = j.value("step", last);
    }
    return last;
}

// Every file of the run is whole: JSON parses, a checkpoint ends with its zip directory, a
// PNG with its IEND chunk, every log line is a JSON object. Temporaries (".name.N.tmp") may
// be left by a kill; the next start clears them. Returns the last logged step.
std::int64_t expectEveryFileWhole(const fs::path& run) {
    std::int64_t lastLogged = -1;
    for (const auto& e : fs::recursive_directory_iterator(run)) {
        if (!e.is_regular_file()) continue;
        const std::string name = e.path().filename().string();
        if (name.starts_with(".") && name.ends_with(".tmp")) continue;
        std::ifstream in(e.path(), std::ios::binary);
        const std::string bytes{std::istreambuf_iterator<char>(in), {}};
        const auto ext = e.path().extension();
        if (ext == ".json") {
            EXPECT_TRUE(nlohmann::json::accept(bytes)) << e.path();
        } else if (ext == ".pt") {
            // The end-of-central-directory record: 22 bytes from the end, no zip comment.
            EXPECT_TRUE(bytes.size() > 22 && bytes.compare(bytes.size() - 22, 4, "PK\5\6") == 0)
                << e.path() << " is cut short";
        } else if (ext == ".png") {
            EXPECT_TRUE(bytes.size() > 12 && bytes.compare(bytes.size() - 8, 4, "IEND") == 0)
                << e.path() << " is cut short";
        } else if (name == "log.jsonl") {
            std::istringstream lines(bytes);
            std::string line;
            while (std::getline(lines, line)) {
                const auto j = nlohmann::json::parse(line, nullptr, false);
                EXPECT_TRUE(j.is_object()) << "a cut log line: " << line;
                if (j.is_object() && j.contains("losses"))
                    lastLogged = std::max(lastLogged, j.value("step", std::int64_t{-1}));
            }
        }
    }
    return lastLogged;
}

}  // namespace

// Twenty SIGKILLs at random moments of training (start-up and resume included): every time
// the run resumes, it loses at most one checkpoint interval, and nothing it left behind is
// half-written. While one trains, a second trainer of the same run is refused.
TEST(Cli, KilledTwentyTimesTheRunAlwaysResumes) {
    const fs::path run = scratch() / "killed";
    const int every = 20;
    const std::string fresh =
        "train --limit 2000 --model cvae --set hidden=64 --set latent=4 --steps 100000 --batch 32 "
        "--checkpoint-every " +
        std::to_string(every) + " --sample-every 10 --out " + run.string();
    const std::string resume = "train --resume " + run.string() + " --steps 100000";
    pid_t child = 0;
    // A failed assertion below must not leave a 100,000-step run behind.
    struct Reaper {
        pid_t& pid;
        ~Reaper() {
            if (pid > 0) kill(pid, SIGKILL), waitpid(pid, nullptr, 0);
        }
    } reaper{child};
    auto start = [&](const std::string& args) {
        child = fork();
        if (child == 0) {
            const std::string command =
                "exec " + std::string(LATENTLAB_CLI) + " " + args + " >/dev/null 2>&1";
            execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
    };
    start(fresh);
    ASSERT_GT(child, 0);
    // The first start must get as far as its first checkpoint: before it there is no run.
    for (int i = 0; i < 1200 && latestStep(run) < 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_GE(latestStep(run), 0) << "no checkpoint written";

    std::mt19937 random(20261203);
    std::int64_t kept = 0;
    std::int64_t loggedBefore = 0;  // the last step the previous run logged
    for (int kill = 0; kill < 20; ++kill) {
        if (kill == 3) {
            // Once the resumed one is training (it holds the lock from before it loads)...
            // (past what the killed one had logged: those lines go when it truncates the log)
            for (int i = 0; i < 1200 && lastLoggedStep(run) <= loggedBefore; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            ASSERT_GT(lastLoggedStep(run), loggedBefore) << "the resumed run did not train";
            const auto refused = cli(resume);
            EXPECT_NE(refused.exitCode, 0);
            EXPECT_NE(refused.output.find("being trained by pid"), std::string::npos)
                << refused.output;
        }
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::uniform_int_distribution<int>(100, 2500)(random)));
        ::kill(child, SIGKILL);
        int status = 0;
        waitpid(child, &status, 0);
        child = 0;
        ASSERT_TRUE(WIFSIGNALED(status)) << "kill " << kill << ": the run ended by itself";
        const std::int64_t logged = expectEveryFileWhole(run);
        const std::int64_t latest = latestStep(run);
        ASSERT_GE(latest, kept) << "kill " << kill << ": a checkpoint went missing";
        EXPECT_LE(logged - latest, every) << "kill " << kill << ": lost more than an interval";
        kept = latest;
        loggedBefore = logged;
        start(resume);
        ASSERT_GT(child, 0);
    }
    ::kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    child = 0;

    const std::int64_t last = latestStep(run);
    const auto resumed =
        cli("train --resume " + run.string() + " --steps " + std::to_string(last + 30));
    ASSERT_EQ(resumed.exitCode, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("from step " + std::to_string(last)), std::string::npos)
        << resumed.output;
    EXPECT_EQ(resumed.output.find("warning"), std::string::npos) << resumed.output;
    // No temporary is left, and no step is logged twice.
    for (const auto& e : fs::recursive_directory_iterator(run))
        EXPECT_FALSE(e.path().filename().string().ends_with(".tmp")) << e.path();
    const auto log = nlohmann::json::parse("[" + [&] {
        std::ifstream in(run / "log.jsonl");
        std::string all, line;
        while (std::getline(in, line)) all += (all.empty() ? "" : ",") + line;
        return all;
    }() + "]");
    std::int64_t previous = -1;
    for (const auto& j : log) {
        if (!j.contains("losses")) continue;
        EXPECT_GT(j["step"].get<std::int64_t>(), previous) << "a step logged twice";
        previous = j["step"].get<std::int64_t>();
    }
    EXPECT_EQ(previous, last + 30);
}

// A write that fails mid-checkpoint, as on a full disk: a file size limit (ulimit -f, with
// SIGXFSZ ignored so that write() fails with EFBIG instead of killing) below the
// checkpoint's size but above everything else the run writes.
TEST(Cli, AFullDiskDuringACheckpointKeepsThePreviousOne) {
    const fs::path run = scratch() / "full";
    const auto first =
        cli("train --limit 2000 --model cvae --set hidden=64 --set latent=4 "
            "--steps 40 --batch 32 --checkpoint-every 20 --sample-every 20 --out " +
            run.string());
    ASSERT_EQ(first.exitCode, 0) << first.output;
    const auto size = fs::file_size(run / "checkpoints" / "step-000040.pt");
    ASSERT_GT(size, 200u * 1024) << "the limit below needs a checkpoint larger than the rest";
    const std::string limited = "trap '' XFSZ; ulimit -f " + std::to_string(size / 1024 / 2) +
                                "; exec " + LATENTLAB_CLI + " train --resume " + run.string() +
                                " --steps 80";
    const auto full = ll::testing::shell(limited);
    EXPECT_NE(full.exitCode, 0) << full.output;
    EXPECT_NE(full.output.find("step-000060.pt: cannot write it (File too large)"),
              std::string::npos)
        << full.output;
    EXPECT_NE(full.output.find("checkpoint of step 40 is intact"), std::string::npos)
        << full.output;
    EXPECT_EQ(latestStep(run), 40);
    for (const auto& e : fs::recursive_directory_iterator(run))
        EXPECT_FALSE(e.path().filename().string().ends_with(".tmp")) << e.path();

    const auto resumed = cli("train --resume " + run.string() + " --steps 80");
    ASSERT_EQ(resumed.exitCode, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("from step 40"), std::string::npos) << resumed.output;
    EXPECT_EQ(resumed.output.find("warning"), std::string::npos) << resumed.output;
    EXPECT_EQ(latestStep(run), 80);
}

// The same full disk (a file size limit) when training saves a sample grid, when evaluate
// writes its record and figures, and when export writes its dataset: each says which file
// failed and why, leaves no half-written file, and loses nothing that was saved before.
TEST(Cli, AFullDiskDuringSamplesEvaluationAndExportSaysSoAndLosesNothing) {
    const fs::path run = scratch() / "full-samples";
    const auto first =
        cli("train --limit 2000 --model cvae --set hidden=64 --set latent=4 "
            "--steps 40 --batch 32 --checkpoint-every 20 --sample-every 20 --out " +
            run.string());
    ASSERT_EQ(first.exitCode, 0) << first.output;
    const auto grid = fs::file_size(run / "samples" / "step-000040.png");
    ASSERT_GT(grid, 16u * 1024) << "the limit below needs a grid larger than the run's JSON";
    const std::string limit = "trap '' XFSZ; ulimit -f 8; exec " + std::string(LATENTLAB_CLI);
    const auto noTmp = [](const fs::path& dir) {
        for (const auto& e : fs::recursive_directory_iterator(dir))
            EXPECT_FALSE(e.path().filename().string().ends_with(".tmp")) << e.path();
    };

    // Training: the resumed run's first grid (step 40's again) is not saved, said once; the
    // old file stays whole. Training goes on to the next checkpoint, which cannot be written
    // either: the one of step 40 stays, and resumes.
    const auto trained = ll::testing::shell(limit + " train --resume " + run.string() +
                                            " --steps 80 --sample-every 10");
    EXPECT_NE(trained.exitCode, 0) << trained.output;
    EXPECT_NE(trained.output.find(
                  "warning: samples not saved: " + (run / "samples" / "step-000040.png").string() +
                  ": cannot write it (File too large)"),
              std::string::npos)
        << trained.output;
    EXPECT_EQ(trained.output.find("step-000050.png: cannot"), std::string::npos)
        << "a failing disk is told once, not at every grid:\n"
        << trained.output;
    EXPECT_NE(trained.output.find("checkpoint of step 40 is intact"), std::string::npos)
        << trained.output;
    EXPECT_EQ(fs::file_size(run / "samples" / "step-000040.png"), grid);
    EXPECT_EQ(latestStep(run), 40);
    EXPECT_FALSE(fs::exists(run / "samples" / "step-000050.png"));
    noTmp(run);

    // Evaluation: the record or a figure fails; nothing of it is left half-written.
    const auto evaluated =
        ll::testing::shell(limit + " evaluate --run " + run.string() +
                           " --count 200 --pixels --metrics precision,recall,neighbours");
    EXPECT_EQ(evaluated.exitCode, 1) << evaluated.output;
    EXPECT_NE(evaluated.output.find(": cannot write it (File too large)"), std::string::npos)
        << evaluated.output;
    noTmp(run);

    // Export: the folder it was making is gone, the run untouched.
    const fs::path out = scratch() / "full-export";
    const auto exported = ll::testing::shell(limit + " export --run " + run.string() + " --out " +
                                             out.string() + " --per-class 20 --no-card");
    EXPECT_EQ(exported.exitCode, 1) << exported.output;
    EXPECT_NE(exported.output.find("cannot write it (File too large)"), std::string::npos)
        << exported.output;
    EXPECT_FALSE(fs::exists(out));
    for (const auto& e : fs::directory_iterator(scratch()))
        EXPECT_EQ(e.path().filename().string().find(".full-export.partial"), std::string::npos)
            << e.path();

    // With space again the run resumes where it was saved.
    const auto resumed = cli("train --resume " + run.string() + " --steps 60");
    ASSERT_EQ(resumed.exitCode, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("from step 40"), std::string::npos) << resumed.output;
    EXPECT_EQ(latestStep(run), 60);
}
