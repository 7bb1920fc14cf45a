// Data-parallel training through the CLI (train --nproc, --world-size/--rank/--master): two
// processes on loopback train the same weights as one with the doubled batch, every family
// keeps its ranks in step, a lost rank stops the others with a clear message and the run
// resumes, a peer that never comes is named after the timeout.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "clirun.h"
#include "run/runfolder.h"
#include "run/runloader.h"

namespace fs = std::filesystem;

using ll::testing::cli;

namespace {

fs::path scratch() {
    static const fs::path dir = ll::testing::scratchFolder("cli-parallel");
    return dir;
}

const std::string kTable = "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv";

// Every weight and buffer of the two runs' newest checkpoints, each run's distance from the
// start run's (the same options at a learning rate too small to move a weight) compared in
// the L2 norm: |b - a| <= tolerance * |a - start| per tensor. Not the largest element: Adam
// divides by |g| + 1e-8, so a weight whose gradient is ~1e-10 turns the rounding of a batch
// summed in another order (1e-11) into a step several per cent off, on some CPUs past 1e-3
// of the tensor in 40 steps; a wrong row, slice or statistic moves the whole tensor.
//
// Nor closer than the computation agrees with itself: `serial` is run `a` again at one thread.
// oneDNN's channels-last kernels sum in an order that follows the threads, so a conv net's
// gradients differ by about 1e-6 (relative) from one thread to two, and 40 Adam steps grow
// that to 0.2-3 % of how far training moved each tensor (classifier, width 8, batch 32; the
// NCHW kernels had agreed to 2.5e-6 across threads). So a tensor may also differ by three
// times its own floor, but never by a tenth of its movement. A wrong statistic stays past
// that: with each rank's batch norm on its own half of the batch, every tensor of the conv
// net differed by 10 to 47 times its floor.
// Returns how many tensors were compared.
int expectSameModel(const fs::path& start, const fs::path& a, const fs::path& b,
                    const fs::path& serial, double tolerance) {
    auto zero = ll::loadRun(start);
    auto one = ll::loadRun(a);
    auto two = ll::loadRun(b);
    auto alone = ll::loadRun(serial);
    for (const auto* run : {&zero, &one, &two, &alone})
        EXPECT_TRUE(*run) << (*run ? std::string() : run->error().message);
    if (!zero || !one || !two || !alone) return 0;
    EXPECT_EQ(one->step, two->step);
    const auto origin = zero->model->namedState();
    const auto left = one->model->namedState();
    const auto right = two->model->namedState();
    const auto threads = alone->model->namedState();
    EXPECT_EQ(left.size(), right.size());
    EXPECT_EQ(left.size(), origin.size());
    EXPECT_EQ(left.size(), threads.size());
    int compared = 0;
    for (std::size_t i = 0;
         i < std::min({left.size(), right.size(), origin.size(), threads.size()}); ++i) {
        EXPECT_EQ(left[i].first, right[i].first);
        const auto x = left[i].second.to(torch::kFloat64);
        const auto y = right[i].second.to(torch::kFloat64);
        const auto x0 = origin[i].second.to(torch::kFloat64);
        const double moved = (x - x0).norm().item<double>();
        const double diff = (x - y).norm().item<double>();
        const double floor = (x - threads[i].second.to(torch::kFloat64)).norm().item<double>();
        // A tensor training left where it was (a count, a map's state) must agree outright.
        const double allowed = std::max(tolerance * std::max(moved, 1e-6 * x.norm().item<double>()),
                                        std::min(3 * floor, 0.1 * moved));
        EXPECT_LE(diff, allowed) << left[i].first << ": differs by " << diff << ", moved " << moved
                                 << ", one thread against two " << floor;
        ++compared;
    }
    return compared;
}

std::vector<nlohmann::json> logLines(const fs::path& run) {
    std::ifstream in(run / "log.jsonl");
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(in, line);)
        if (auto j = nlohmann::json::parse(line, nullptr, false); j.is_object()) lines.push_back(j);
    return lines;
}

// The weights after 40 steps of `options` with 2 processes of batch B and with one of 2B.
void expectTwoProcessesTrainLikeOne(const std::string& name, const std::string& options,
                                    double tolerance) {
    const fs::path two = scratch() / (name + "-two");
    const fs::path one = scratch() / (name + "-one");
    const auto parallel =
        cli("train " + options + " --steps 40 --batch 16 --nproc 2 --log-every 10 --out " +
            two.string());
    ASSERT_EQ(parallel.exitCode, 0) << parallel.output;
    // One process with the doubled batch at two threads and again at one (how well the
    // computation agrees with itself), and at a learning rate too small to move a weight:
    // where the weights start.
    const std::string single = "train " + options + " --steps 40 --batch 32 --log-every 10 ";
    const auto alone = cli(single + "--threads 2 --out " + one.string());
    ASSERT_EQ(alone.exitCode, 0) << alone.output;
    const fs::path serial = scratch() / (name + "-serial");
    const auto oneThread = cli(single + "--threads 1 --out " + serial.string());
    ASSERT_EQ(oneThread.exitCode, 0) << oneThread.output;
    const fs::path start = scratch() / (name + "-start");
    const auto still = cli(single + "--lr 1e-30 --out " + start.string());
    ASSERT_EQ(still.exitCode, 0) << still.output;
    EXPECT_GT(expectSameModel(start, one, two, serial, tolerance), 3);

    // The config says how the run was trained; the log, how each rank went.
    auto config = ll::readRunConfig(two);
    ASSERT_TRUE(config);
    EXPECT_EQ(config->worldSize, 2);
    EXPECT_EQ(config->batchSize, 16);
    const auto lines = logLines(two);
    ASSERT_FALSE(lines.empty());
    const auto& last = lines.back();
    ASSERT_TRUE(last.contains("ranks")) << last.dump();
    ASSERT_EQ(last["ranks"].size(), 2u);
    for (const auto& r : last["ranks"]) {
        EXPECT_GT(r["steps_per_s"].get<double>(), 0);
        EXPECT_GT(r["allreduce_ms"].get<double>(), 0);
    }
    // The loss logged is the global batch's, as one process with it logs.
    const auto alone_lines = logLines(one);
    ASSERT_FALSE(alone_lines.empty());
    EXPECT_NEAR(last["losses"]["loss"].get<double>(),
                alone_lines.back()["losses"]["loss"].get<double>(), 1e-3);
}

}  // namespace

TEST(Parallel, TwoProcessesTrainAnMlpAsOneDoesWithTheDoubledBatch) {
    expectTwoProcessesTrainLikeOne(
        "mlp", "--dataset " + kTable + " --model classifier --set dropout=0", 1e-4);
}

// A conv net with batch norm: its statistics are the global batch's (SyncBatchNorm2d).
TEST(Parallel, TwoProcessesTrainAConvNetWithBatchNormAsOneDoes) {
    expectTwoProcessesTrainLikeOne(
        "conv", "--limit 1024 --model classifier --set dropout=0 --set width=8 --set features=32",
        1e-4);
}

// A conv VAE whose noise is a seeded chaotic sequence and whose prior is fitted to the
// encoded batches: both follow the global batch (ChaoticNoise, FittedPrior).
TEST(Parallel, TwoProcessesTrainAChaoticVaeWithAFittedPriorAsOneDoes) {
    expectTwoProcessesTrainLikeOne("chaotic",
                                   "--limit 1024 --preset chaotic-vae-cpu --set width=8 "
                                   "--set start=0.3 --sample-every 1000",
                                   1e-3);
}

// A table VAE's deviation per column (sigma columns, which a new table run takes) is fitted
// to the global batch's errors, so the ranks' buffers stay equal and match one process's.
// (The chaotic VAE: its noise follows the global batch, where a Gaussian one is each rank's.)
TEST(Parallel, TwoProcessesFitATableVaesDeviationsAsOneDoes) {
    expectTwoProcessesTrainLikeOne(
        "table-vae", "--dataset " + kTable + " --preset chaotic-vae-cpu --set start=0.3", 1e-3);
    const auto settings = ll::readRunConfig(scratch() / "table-vae-two");
    ASSERT_TRUE(settings);
    EXPECT_EQ(settings->settings.at("sigma"), "columns");
}

// Every family of the zoo trains data-parallel with its ranks' weights, buffers and EMA
// copies equal bit for bit at every checkpoint (the trainer checks, and stops if not).
TEST(Parallel, EveryFamilyKeepsItsRanksInStep) {
    const std::vector<std::pair<std::string, std::string>> presets{
        {"vae-cpu", "--set width=8"},
        {"cvae-cpu", "--set width=8"},
        {"chaotic-vae-cpu", "--set width=8"},
        {"dcgan-cpu", "--set width=8"},
        {"cgan-cpu", "--set width=8"},
        {"acgan-cpu", "--set width=8"},
        {"wgan-gp-cpu", "--set width=8 --set d_width=8"},
        {"wgan-gp-cpu",
         "--set width=8 --set d_width=8 --set d_norm=spectral"},  // power-iteration buffers
        {"ddpm-cpu", "--set width=8 --set sample_steps=2"},
        {"latent-ddpm-cpu", "--set hidden=32 --set sample_steps=2"},
        {"noisy-classifier-cpu", "--set width=8"},
        {"classifier-cpu", "--set width=8"}};
    for (std::size_t i = 0; i < presets.size(); ++i) {
        const auto& [preset, settings] = presets[i];
        const fs::path run = scratch() / ("family-" + std::to_string(i) + "-" + preset);
        const auto r = cli("train --preset " + preset + " " + settings +
                           " --limit 256 --steps 4 --batch 8 --checkpoint-every 2 "
                           "--sample-every 1000 --nproc 2 --out " +
                           run.string());
        EXPECT_EQ(r.exitCode, 0) << preset << ": " << r.output;
        auto config = ll::readRunConfig(run);
        ASSERT_TRUE(config) << preset;
        EXPECT_EQ(config->worldSize, 2) << preset;
        EXPECT_TRUE(fs::exists(run / "checkpoints" / "step-000004.pt")) << preset;
    }
}

namespace {

// The processes whose parent is `pid`.
std::vector<pid_t> childrenOf(pid_t pid) {
    std::vector<pid_t> found;
    for (const auto& e : fs::directory_iterator("/proc")) {
        const std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(e.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(stat)), {});
        const auto close = text.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(text.substr(close + 2));
        char state;
        pid_t parent = 0;
        rest >> state >> parent;
        if (parent == pid) found.push_back(std::stoi(name));
    }
    return found;
}

std::int64_t lastLoggedStep(const fs::path& run) {
    std::int64_t last = -1;
    for (const auto& j : logLines(run))
        if (j.contains("losses")) last = j.value("step", last);
    return last;
}

}  // namespace

// A rank killed mid-run: rank 0 stops within the timeout saying it lost its peers, its last
// checkpoint is whole, and the run resumes from it with both processes again.
TEST(Parallel, ARankKilledMidRunStopsTheOthersAndTheRunResumes) {
    const fs::path run = scratch() / "killed";
    const fs::path output = scratch() / "killed.out";
    const pid_t trainer = fork();
    ASSERT_GE(trainer, 0);
    if (trainer == 0) {
        const std::string command = std::string(LATENTLAB_CLI) + " train --dataset " + kTable +
                                    " --model classifier --steps 1000000 --batch 16 --nproc 2 "
                                    "--checkpoint-every 50 --log-every 10 --parallel-timeout 30 "
                                    "--out " +
                                    run.string() + " > " + output.string() + " 2>&1";
        execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), nullptr);
        _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (lastLoggedStep(run) < 120 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_GE(lastLoggedStep(run), 120) << ll::testing::fileBytes(output);
    const auto ranks = childrenOf(trainer);
    ASSERT_EQ(ranks.size(), 1u) << "rank 1 should be rank 0's only child";
    const auto killedAt = std::chrono::steady_clock::now();
    kill(ranks[0], SIGKILL);
    int status = 0;
    waitpid(trainer, &status, 0);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - killedAt).count();
    const std::string said = ll::testing::fileBytes(output);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << said;
    EXPECT_LT(seconds, 30) << "rank 0 should stop within the timeout";
    EXPECT_NE(said.find("lost its peers"), std::string::npos) << said;
    EXPECT_NE(said.find("resume it"), std::string::npos) << said;
    auto config = ll::readRunConfig(run);
    ASSERT_TRUE(config);
    auto latest = ll::latestCheckpoint(run);
    ASSERT_TRUE(latest) << latest.error().message;
    EXPECT_GE(latest->first, 100);

    // Resumed without --nproc: the run's two processes again, from its checkpoint.
    const auto resumed =
        cli("train --resume " + run.string() + " --steps " + std::to_string(latest->first + 30));
    ASSERT_EQ(resumed.exitCode, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("resuming with 2 processes"), std::string::npos)
        << resumed.output;
    EXPECT_NE(resumed.output.find("from step " + std::to_string(latest->first)), std::string::npos)
        << resumed.output;
    EXPECT_EQ(ll::latestCheckpoint(run)->first, latest->first + 30);
}

// Rank 0 waits for a peer that never comes, and a rank > 0 for a rank 0 that is not there:
// each stops after the timeout saying so, and rank 0 leaves no run behind it that claims to
// train.
TEST(Parallel, APeerThatNeverComesIsNamedAfterTheTimeout) {
    const fs::path run = scratch() / "alone";
    auto start = std::chrono::steady_clock::now();
    const auto zero = cli("train --dataset " + kTable +
                          " --model classifier --steps 10 "
                          "--world-size 2 --rank 0 --master 127.0.0.1:29731 "
                          "--parallel-timeout 3 --out " +
                          run.string());
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(zero.exitCode, 1) << zero.output;
    EXPECT_NE(zero.output.find("did not all join within 3 s"), std::string::npos) << zero.output;
    EXPECT_LT(seconds, 30);
    EXPECT_FALSE(fs::exists(run / "config.json"));

    start = std::chrono::steady_clock::now();
    const auto one =
        cli("train --world-size 2 --rank 1 --master 127.0.0.1:29733 "
            "--parallel-timeout 3");
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(one.exitCode, 1) << one.output;
    EXPECT_NE(one.output.find("found no rank 0 at 127.0.0.1:29733 within 3 s"), std::string::npos)
        << one.output;
    EXPECT_LT(seconds, 30);

    // Options that cannot go together are refused before anything starts.
    const auto both = cli("train --nproc 2 --rank 1 --world-size 2 --master 127.0.0.1:1");
    EXPECT_EQ(both.exitCode, 1);
    EXPECT_NE(both.output.find("give one or the other"), std::string::npos) << both.output;
    const auto badMaster = cli("train --world-size 2 --rank 1 --master nowhere");
    EXPECT_EQ(badMaster.exitCode, 1);
    EXPECT_NE(badMaster.output.find("HOST:PORT"), std::string::npos) << badMaster.output;
}

// train --config: a fresh run like the one a config.json describes (how the window asks for
// a run of several processes), with --steps overriding it; --model beside it is refused.
TEST(Parallel, AConfigFileStartsAFreshRunLikeIt) {
    const fs::path first = scratch() / "config-first";
    ASSERT_EQ(cli("train --dataset " + kTable +
                  " --model cvae --set hidden=16 --set latent=3 --steps 20 --batch 16 --out " +
                  first.string())
                  .exitCode,
              0);
    const fs::path second = scratch() / "config-second";
    const auto again = cli("train --config " + (first / "config.json").string() +
                           " --steps 30 --nproc 2 --out " + second.string());
    ASSERT_EQ(again.exitCode, 0) << again.output;
    auto a = ll::readRunConfig(first);
    auto b = ll::readRunConfig(second);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(b->model, "cvae");
    EXPECT_EQ(b->settings, a->settings);
    EXPECT_EQ(b->dataset.source, a->dataset.source);
    EXPECT_EQ(b->batchSize, 16);
    EXPECT_EQ(b->steps, 30);
    EXPECT_EQ(b->worldSize, 2);
    const auto both = cli("train --config " + (first / "config.json").string() +
                          " --model vae --out " + (scratch() / "config-third").string());
    EXPECT_EQ(both.exitCode, 1);
    EXPECT_NE(both.output.find("drop --model"), std::string::npos) << both.output;
}

namespace {

// This machine's first IPv4 address that is not loopback, if it has one.
std::string ownAddress() {
    ifaddrs* all = nullptr;
    if (getifaddrs(&all) != 0) return {};
    std::string found;
    for (ifaddrs* a = all; a && found.empty(); a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || (a->ifa_flags & IFF_LOOPBACK))
            continue;
        char text[INET_ADDRSTRLEN] = {};
        if (inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text,
                      sizeof text))
            found = text;
    }
    freeifaddrs(all);
    return found;
}

}  // namespace

// A run across machines as a user starts one: rank 0 with the run's options, rank 1 with only
// its place, both meeting at this machine's network address (not loopback), so that each finds
// the address its peers reach it at.
TEST(Parallel, RanksStartedApartMeetAtTheMastersNetworkAddress) {
    const std::string address = ownAddress();
    if (address.empty()) GTEST_SKIP() << "no network address besides loopback";
    const fs::path run = scratch() / "apart";
    const std::string master = address + ":29741";
    const std::string follower =
        std::string(LATENTLAB_CLI) + " train --world-size 2 --rank 1 --master " + master +
        " --parallel-timeout 60 > " + (scratch() / "apart-1.out").string() + " 2>&1";
    const pid_t one = fork();
    ASSERT_GE(one, 0);
    if (one == 0) {
        execl("/bin/sh", "sh", "-c", ("exec " + follower).c_str(), nullptr);
        _exit(127);
    }
    const auto zero = cli("train --dataset " + kTable +
                          " --model classifier --steps 30 --batch 16 --world-size 2 --rank 0 "
                          "--master " +
                          master + " --parallel-timeout 60 --out " + run.string());
    int status = 0;
    waitpid(one, &status, 0);
    EXPECT_EQ(zero.exitCode, 0) << zero.output;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << ll::testing::fileBytes(scratch() / "apart-1.out");
    auto config = ll::readRunConfig(run);
    ASSERT_TRUE(config);
    EXPECT_EQ(config->worldSize, 2);
    EXPECT_EQ(ll::latestCheckpoint(run)->first, 30);
}
