// What a command must never do to a user's files, whatever they type: write generated data
// over the data a run learns from, resume a run on data whose classes mean something else, or
// leave behind a run folder that can neither resume nor be started again.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "clirun.h"
#include "common/atomicfile.h"

namespace fs = std::filesystem;

namespace {

using ll::testing::cli;
using ll::testing::fileBytes;

fs::path scratch() {
    static const fs::path dir = ll::testing::scratchFolder("cli-guards");
    return dir;
}

// 60 rows: two numbers that tell a cat from a dog.
std::string pets(const std::string& cat = "cat", const std::string& dog = "dog") {
    std::string text = "weight,height,kind\n";
    for (int i = 0; i < 60; ++i)
        text += std::to_string(i % 2 ? 30 + i % 7 : 4 + i % 5) + "," +
                std::to_string(i % 2 ? 60 + i % 9 : 25 + i % 4) + "," + (i % 2 ? dog : cat) + "\n";
    return text;
}

}  // namespace

TEST(CliGuards, GeneratedDataNeverWritesOverTheRunsOwn) {
    const fs::path file = scratch() / "pets.csv";
    ASSERT_TRUE(ll::writeFileAtomic(file, pets()));
    const fs::path run = scratch() / "run";
    const auto trained =
        cli("train --dataset " + file.string() + " --steps 20 --out " + run.string());
    ASSERT_EQ(trained.exitCode, 0) << trained.output;

    // The same file by its own name and by another way there.
    for (const fs::path& out : {file, scratch() / "." / ".." / scratch().filename() / "pets.csv"}) {
        const auto sampled =
            cli("sample --run " + run.string() + " --count 3 --out " + out.string());
        EXPECT_EQ(sampled.exitCode, 1) << sampled.output;
        EXPECT_NE(sampled.output.find("is the data"), std::string::npos) << sampled.output;
        EXPECT_EQ(fileBytes(file), pets()) << "the training data was written over";
    }
    const auto latents = cli("latents --run " + run.string() + " --out " + file.string());
    EXPECT_EQ(latents.exitCode, 1) << latents.output;
    EXPECT_EQ(fileBytes(file), pets());

    // Anywhere else is written as before.
    const fs::path rows = scratch() / "rows.csv";
    const auto elsewhere =
        cli("sample --run " + run.string() + " --count 3 --out " + rows.string());
    EXPECT_EQ(elsewhere.exitCode, 0) << elsewhere.output;
    EXPECT_TRUE(fs::exists(rows));
}

TEST(CliGuards, AResumeRefusesDataWhoseClassesChanged) {
    const fs::path file = scratch() / "resume.csv";
    ASSERT_TRUE(ll::writeFileAtomic(file, pets()));
    const fs::path run = scratch() / "resumed";
    ASSERT_EQ(
        cli("train --dataset " + file.string() + " --steps 10 --out " + run.string()).exitCode, 0);
    const std::string config = fileBytes(run / "config.json");

    // The same two classes under other names: class 0 would now be the former dogs.
    ASSERT_TRUE(ll::writeFileAtomic(file, pets("zebra", "ant")));
    const auto renamed = cli("train --resume " + run.string() + " --steps 20");
    EXPECT_EQ(renamed.exitCode, 1) << renamed.output;
    EXPECT_NE(renamed.output.find("changed since the run started (class 'cat' is now 'ant')"),
              std::string::npos)
        << renamed.output;
    EXPECT_EQ(fileBytes(run / "config.json"), config) << "the refused resume changed the run";

    // A renamed column is refused too; the data as it was resumes.
    std::string columns = pets();
    columns.replace(0, 6, "weigth");
    ASSERT_TRUE(ll::writeFileAtomic(file, columns));
    const auto column = cli("train --resume " + run.string() + " --steps 20");
    EXPECT_EQ(column.exitCode, 1) << column.output;
    EXPECT_NE(column.output.find("column 'weight' is now 'weigth'"), std::string::npos)
        << column.output;
    ASSERT_TRUE(ll::writeFileAtomic(file, pets()));
    const auto resumed = cli("train --resume " + run.string() + " --steps 20");
    EXPECT_EQ(resumed.exitCode, 0) << resumed.output;
}

// A new run that cannot write its first checkpoint (a full disk: a file size limit, with
// SIGXFSZ ignored so that write() fails instead of killing) leaves no half-made run: the
// same command given again starts it.
TEST(CliGuards, ARunThatCannotStartLeavesNothingBehind) {
    const fs::path file = scratch() / "start.csv";
    ASSERT_TRUE(ll::writeFileAtomic(file, pets()));
    const fs::path run = scratch() / "started";
    const std::string train = std::string(LATENTLAB_CLI) + " train --dataset " + file.string() +
                              " --steps 10 --out " + run.string();
    const auto full = ll::testing::shell("trap '' XFSZ; ulimit -f 16; exec " + train);
    EXPECT_EQ(full.exitCode, 1) << full.output;
    EXPECT_NE(full.output.find("File too large"), std::string::npos) << full.output;
    EXPECT_TRUE(!fs::exists(run) || fs::is_empty(run)) << "a half-made run was left";

    const auto again = ll::testing::shell(train);
    EXPECT_EQ(again.exitCode, 0) << again.output;
    EXPECT_TRUE(fs::exists(run / "checkpoints" / "step-000010.pt"));
}
