// latentlab-cli end to end: exit codes, files written, one-line errors that name the fault.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {

struct Outcome {
    int exitCode = -1;
    std::string output;  // stdout and stderr together
};

Outcome cli(const std::string& args) {
    const std::string command = std::string(LATENTLAB_CLI) + " " + args + " 2>&1";
    Outcome out;
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return out;
    std::array<char, 4096> buffer;
    while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe))
        out.output.append(buffer.data(), n);
    const int status = pclose(pipe);
    out.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
}

fs::path scratch() {
    static const fs::path dir = [] {
        fs::path d =
            fs::temp_directory_path() / ("latentlab-test-cli-" + std::to_string(::getpid()));
        fs::remove_all(d);
        fs::create_directories(d);
        return d;
    }();
    return dir;
}

// Width and height from a PNG's IHDR chunk.
std::pair<int, int> pngSize(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    unsigned char header[24] = {};
    in.read(reinterpret_cast<char*>(header), 24);
    if (!in || header[1] != 'P' || header[2] != 'N' || header[3] != 'G') return {-1, -1};
    auto be = [&](int o) {
        return (header[o] << 24) | (header[o + 1] << 16) | (header[o + 2] << 8) | header[o + 3];
    };
    return {be(16), be(20)};
}

int lineCount(const std::string& s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

}  // namespace

TEST(Cli, HelpForEveryCommand) {
    for (const char* cmd : {"--help", "train --help", "sample --help", "models --help"}) {
        const auto r = cli(cmd);
        EXPECT_EQ(r.exitCode, 0) << cmd;
        EXPECT_NE(r.output.find("Usage"), std::string::npos) << cmd << ": " << r.output;
    }
    EXPECT_NE(cli("train --help").output.find("--label-column"), std::string::npos);
    EXPECT_NE(cli("models").output.find("cvae-cpu"), std::string::npos);
}

TEST(Cli, TrainThenSample) {
    const fs::path run = scratch() / "run";
    const auto trained = cli(
        "train --dataset fashion-mnist --limit 2000 --model cvae --steps 60 --batch 64 --seed 4 "
        "--sample-every 30 --checkpoint-every 30 --out " +
        run.string());
    ASSERT_EQ(trained.exitCode, 0) << trained.output;
    EXPECT_NE(trained.output.find("60/60"), std::string::npos) << trained.output;
    EXPECT_TRUE(fs::exists(run / "checkpoints" / "step-000060.pt"));
    EXPECT_TRUE(fs::exists(run / "samples" / "step-000030.png"));

    const fs::path grid = scratch() / "grid.png";
    const auto sampled = cli("sample --run " + run.string() +
                             " --count 12 --class 7 --seed 3 --out " + grid.string());
    ASSERT_EQ(sampled.exitCode, 0) << sampled.output;
    EXPECT_EQ(pngSize(grid), (std::pair{4 * 28, 3 * 28}));  // a square-ish grid of 12 tiles

    // The same seed gives the same file, another seed another one.
    const fs::path again = scratch() / "again.png", other = scratch() / "other.png";
    ASSERT_EQ(cli("sample --run " + run.string() + " --count 12 --class 7 --seed 3 --out " +
                  again.string())
                  .exitCode,
              0);
    ASSERT_EQ(cli("sample --run " + run.string() + " --count 12 --class 7 --seed 4 --out " +
                  other.string())
                  .exitCode,
              0);
    auto bytes = [](const fs::path& p) {
        return std::string(
            std::istreambuf_iterator<char>(std::ifstream(p, std::ios::binary).rdbuf()), {});
    };
    EXPECT_EQ(bytes(grid), bytes(again));
    EXPECT_NE(bytes(grid), bytes(other));

    // Refusing to overwrite a run, and resuming it instead.
    const auto twice = cli("train --dataset fashion-mnist --steps 10 --out " + run.string());
    EXPECT_NE(twice.exitCode, 0);
    EXPECT_NE(twice.output.find("already holds a run"), std::string::npos) << twice.output;
    const auto resumed = cli("train --resume " + run.string() + " --steps 80");
    EXPECT_EQ(resumed.exitCode, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("from step 60"), std::string::npos) << resumed.output;
    EXPECT_TRUE(fs::exists(run / "checkpoints" / "step-000080.pt"));

    const auto badClass =
        cli("sample --run " + run.string() + " --count 4 --class 12 --out " + grid.string());
    EXPECT_NE(badClass.exitCode, 0);
    EXPECT_NE(badClass.output.find("no class 12"), std::string::npos) << badClass.output;
}

TEST(Cli, TrainsOnCsvWithALabelColumn) {
    const fs::path run = scratch() / "iris";
    const auto r =
        cli("train --dataset /usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv "
            "--label-column 4 "
            "--steps 40 --batch 32 --out " +
            run.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    EXPECT_NE(r.output.find("150 samples, 3 classes"), std::string::npos) << r.output;
    const auto png = cli("sample --run " + run.string() + " --count 4 --out " +
                         (scratch() / "iris.png").string());
    EXPECT_NE(png.exitCode, 0);
    EXPECT_NE(png.output.find("tabular"), std::string::npos) << png.output;
}

struct BadInput {
    const char* name;
    std::string args;
    std::string expected;  // a piece of the one-line message
};

class CliBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(CliBadInput, ExitsNonZeroWithOneLineNamingTheFault) {
    const auto r = cli(GetParam().args);
    EXPECT_NE(r.exitCode, 0) << r.output;
    EXPECT_NE(r.output.find(GetParam().expected), std::string::npos) << r.output;
    EXPECT_EQ(lineCount(r.output), 1) << r.output;
    EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
}

INSTANTIATE_TEST_SUITE_P(
    Cli, CliBadInput,
    ::testing::Values(
        BadInput{"missing_file",
                 "train --dataset /no/such/data.csv --steps 5 --out " + (scratch() / "x1").string(),
                 "/no/such/data.csv: no such file or folder"},
        BadInput{"bad_magic",
                 "train --dataset " LATENTLAB_TEST_DATA
                 "/data/fixtures/idx/broken/bad-magic-images-idx3-ubyte --steps 5 --out " +
                     (scratch() / "x2").string(),
                 "wrong magic number"},
        BadInput{"unknown_model",
                 "train --model nope --steps 5 --out " + (scratch() / "x3").string(),
                 "unknown model 'nope'"},
        BadInput{"missing_label_column",
                 "train --dataset /usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv "
                 "--label-column species --steps 5 --out " +
                     (scratch() / "x4").string(),
                 "no label column 'species'"},
        BadInput{"bad_setting",
                 "train --set latent=lots --steps 5 --out " + (scratch() / "x5").string(),
                 "'lots' is not a number"},
        BadInput{"no_run", "sample --run /no/such/run --out " + (scratch() / "y.png").string(),
                 "/no/such/run: no such run folder"},
        BadInput{"not_png", "sample --run /no/such/run --out grid.jpg",
                 "--out must name a .png file"},
        BadInput{"unknown_option", "train --stepz 5", "stepz"}),
    [](const auto& info) { return std::string(info.param.name); });
