// latentlab-cli end to end: exit codes, files written, one-line errors that name the fault.
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <chrono>
#include <csignal>
#include <thread>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "clirun.h"
#include "common/atomicfile.h"
#include "common/npy.h"

namespace fs = std::filesystem;

namespace {

using ll::testing::cli;
using ll::testing::Outcome;
using ll::testing::shell;

fs::path scratch() {
    static const fs::path dir = ll::testing::scratchFolder("cli");
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
    for (const char* cmd : {"--help", "train --help", "sample --help", "models --help",
                            "decode --help", "latents --help", "interpolate --help"}) {
        const auto r = cli(cmd);
        EXPECT_EQ(r.exitCode, 0) << cmd;
        EXPECT_NE(r.output.find("Usage"), std::string::npos) << cmd << ": " << r.output;
    }
    EXPECT_NE(cli("train --help").output.find("--label-column"), std::string::npos);
    const auto models = "\n" + cli("models").output;
    for (const char* name : {"vae", "cvae", "chaotic-vae", "classifier"})
        EXPECT_NE(models.find(std::string("\n") + name + " "), std::string::npos) << name;
    EXPECT_NE(models.find("cvae-cpu"), std::string::npos);
    EXPECT_NE(models.find("--set r=4"), std::string::npos) << "settings with their defaults";
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
    EXPECT_NE(badClass.output.find("--class: no class '12': the classes are T-shirt/top, "),
              std::string::npos)
        << badClass.output;

    // Steering values that mean nothing are refused by name, and no grid is written.
    const fs::path none = scratch() / "refused.png";
    for (const std::string option :
         {"--cols 0", "--temperature -1", "--truncation -0.5", "--steps -4"}) {
        const auto r = cli("sample --run " + run.string() + " --count 4 " + option + " --out " +
                           none.string());
        EXPECT_NE(r.exitCode, 0) << option;
        EXPECT_NE(r.output.find(option.substr(0, option.find(' ')) + ": must be"),
                  std::string::npos)
            << option << ": " << r.output;
        EXPECT_FALSE(fs::exists(none)) << option;
    }
}

// A budget, rate or interval of 0 or less is a typing mistake: refused, naming the option,
// before a run folder exists (inside, 0 means "the preset's", which nobody typed).
TEST(Cli, TrainRefusesABudgetRateOrIntervalOfZeroOrLess) {
    const fs::path run = scratch() / "refused";
    for (const std::string option :
         {"--steps 0", "--steps -5", "--lr 0", "--lr -0.001", "--batch 0", "--sample-every 0",
          "--checkpoint-every -1", "--log-every 0", "--nproc -1"}) {
        const auto r = cli("train --limit 64 --model vae " + option + " --out " + run.string());
        EXPECT_NE(r.exitCode, 0) << option;
        const auto name = option.substr(0, option.find(' '));
        EXPECT_NE(r.output.find(name), std::string::npos) << option << ": " << r.output;
        EXPECT_TRUE(r.output.find("above 0") != std::string::npos ||
                    r.output.find("1..64") != std::string::npos)
            << option << ": " << r.output;
        EXPECT_FALSE(fs::exists(run)) << option;
    }
    const auto extractor = cli("train-extractor --steps 0 --out " + run.string());
    EXPECT_NE(extractor.output.find("--steps: must be above 0"), std::string::npos)
        << extractor.output;
    EXPECT_FALSE(fs::exists(run));
}

// A model too large to train here is refused while it is built, before it fills the memory
// (the kernel would kill the process, the window with it): settings whose first layer alone
// takes a quarter of this machine's memory (more than the trainer's 3/16, less than the 3/4
// any model may take to build), and a billion units (terabytes, more than any machine's).
TEST(Cli, TrainRefusesAModelTooLargeForThisMachine) {
    const auto memory = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE);
    ASSERT_GT(memory, 0);
    const auto quarter = static_cast<long long>(memory / 4 / (784 * 4));  // units of 784 inputs
    const fs::path run = scratch() / "too-large";
    for (const long long units : {quarter, 1'000'000'000LL}) {
        const auto r =
            cli("train --limit 64 --model vae --set net=mlp --set hidden=" + std::to_string(units) +
                " --out " + run.string());
        EXPECT_NE(r.exitCode, 0) << units;
        EXPECT_NE(r.output.find("model 'vae' with these settings needs more than"),
                  std::string::npos)
            << units << ": " << r.output;
        EXPECT_NE(r.output.find("four times that to train"), std::string::npos) << r.output;
        EXPECT_NE(r.output.find("use smaller settings"), std::string::npos) << r.output;
        EXPECT_FALSE(fs::exists(run)) << units;
    }
}

// sklearn's iris.csv rewritten the way users keep data: named columns, text labels.
fs::path namedIris() {
    const fs::path out = scratch() / "iris-named.csv";
    std::ifstream in("/usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv");
    std::ofstream csv(out);
    csv << "sepal length (cm),sepal width (cm),petal length (cm),petal width (cm),species\n";
    const char* species[] = {"setosa", "versicolor", "virginica"};
    std::string line;
    std::getline(in, line);  // sklearn's "150,4,setosa,versicolor,virginica"
    while (std::getline(in, line)) {
        const auto cut = line.rfind(',');
        csv << line.substr(0, cut) << ',' << species[std::stoi(line.substr(cut + 1))] << '\n';
    }
    return out;
}

TEST(Cli, TrainsOnCsvWithALabelColumn) {
    const fs::path run = scratch() / "iris";
    const auto r = cli("train --dataset " + namedIris().string() +
                       " --label-column species --steps 40 --batch 32 --out " + run.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    EXPECT_NE(r.output.find("150 samples, 3 classes"), std::string::npos) << r.output;
    const auto png = cli("sample --run " + run.string() + " --count 4 --out " +
                         (scratch() / "iris.png").string());
    EXPECT_NE(png.exitCode, 0);
    EXPECT_NE(png.output.find("tabular"), std::string::npos) << png.output;

    // Tabular samples go to CSV, in the data's own units, with its column names.
    const fs::path csv = scratch() / "iris-samples.csv";
    const auto rows =
        cli("sample --run " + run.string() + " --count 30 --class 2 --out " + csv.string());
    ASSERT_EQ(rows.exitCode, 0) << rows.output;
    std::ifstream in(csv);
    std::string header, line;
    std::getline(in, header);
    EXPECT_EQ(header,
              "sepal length (cm),sepal width (cm),petal length (cm),petal width (cm),class");
    int count = 0;
    double petalLength = 0;
    while (std::getline(in, line)) {
        ++count;
        EXPECT_TRUE(line.ends_with(",virginica")) << line;
        petalLength += std::stod(line.substr(line.find(',', line.find(',') + 1) + 1));
    }
    EXPECT_EQ(count, 30);
    // Original units: iris petals are centimetres long (standardised values would be near 0).
    EXPECT_GT(petalLength / count, 2.0);

    // No extractor for iris: with raw rows the default metrics leave out those that need a
    // classifier, saying why; named, such a metric is refused.
    const auto scored = cli("evaluate --run " + run.string() + " --count 100 --pixels");
    ASSERT_EQ(scored.exitCode, 0) << scored.output;
    EXPECT_NE(scored.output.find("classifier agreement                    -  (needs a classifier: "
                                 "raw pixels and no extractor"),
              std::string::npos)
        << scored.output;
    EXPECT_NE(scored.output.find("precision "), std::string::npos) << scored.output;
    const auto named = cli("evaluate --run " + run.string() + " --count 100 --pixels --metrics is");
    EXPECT_NE(named.exitCode, 0);
    EXPECT_NE(named.output.find("metric 'is' needs a classifier"), std::string::npos)
        << named.output;
}

// A table as users bring them: an id, a column of names, gaps, decimal commas. `data` and
// `train` say what was left out; the run learns on the rest and samples the columns kept.
TEST(Cli, TrainsOnATableWithGapsSayingWhatItLeftOut) {
    const fs::path file = scratch() / "messy.csv";
    std::string text = "id;name;length;width;kind\n";
    for (int i = 0; i < 40; ++i)
        text += std::to_string(i + 1) + ";n" + std::to_string(i) + ";1," + std::to_string(i % 10) +
                ";" + (i % 7 == 3 ? std::string("NA") : std::to_string(2 + i % 5) + ",5") + ";" +
                (i % 2 ? "a" : "b") + "\n";
    ASSERT_TRUE(ll::writeFileAtomic(file, text));
    const std::string said =
        "table: left out text columns that are no categories: 'name' ('n0' on line 2, 40 values "
        "in 40 rows); left "
        "out the row numbers: 'id'; left out 6 of 40 rows missing a value or their label (the "
        "first: line 5, column 'width'); read decimal commas ('1,0' on line 2 as 1.0)";
    const auto data = cli("data --dataset " + file.string());
    ASSERT_EQ(data.exitCode, 0) << data.output;
    EXPECT_NE(data.output.find("messy: 34 rows of 2 features, 2 classes\nfeatures: length, "
                               "width\n" +
                               said + "\n"),
              std::string::npos)
        << data.output;
    const fs::path run = scratch() / "messy-run";
    const auto trained =
        cli("train --dataset " + file.string() + " --steps 40 --batch 16 --out " + run.string());
    ASSERT_EQ(trained.exitCode, 0) << trained.output;
    EXPECT_NE(trained.output.find("34 samples, 2 classes"), std::string::npos) << trained.output;
    EXPECT_NE(trained.output.find(said), std::string::npos) << trained.output;
    const fs::path samples = scratch() / "messy-samples.csv";
    const auto rows = cli("sample --run " + run.string() + " --count 10 --out " + samples.string());
    ASSERT_EQ(rows.exitCode, 0) << rows.output;
    std::ifstream in(samples);
    std::string header;
    std::getline(in, header);
    EXPECT_EQ(header, "length,width,class");
}

// A table labelled 1, 2 and 3 (wine) names its classes "1", "2" and "3", numbered 0, 1 and 2:
// every option that takes classes reads a name before a number, so "1" is the label 1 and
// not the second class, and what a run and its export write reads back the same.
TEST(Cli, ClassesAreNamedBeforeTheyAreNumbered) {
    const fs::path file = scratch() / "wine.csv";
    std::string text = "alcohol,ash,class\n";
    for (int i = 0; i < 93; ++i) {
        const int label = 1 + i % 3;  // class 1 near 12, 2 near 14, 3 near 16
        const int at = i % 90;        // the first three rows twice, as tables repeat rows
        text += std::to_string(10 + 2 * label + 0.01 * (at % 10)) + "," +
                std::to_string(label + 0.02 * (at % 7)) + "," + std::to_string(label) + "\n";
    }
    ASSERT_TRUE(ll::writeFileAtomic(file, text));
    const auto kept = cli("data --dataset " + file.string() + " --classes 1,3");
    ASSERT_EQ(kept.exitCode, 0) << kept.output;
    EXPECT_NE(kept.output.find("wine: 62 rows of 2 features, 2 classes"), std::string::npos)
        << kept.output;
    EXPECT_NE(kept.output.find("    0 1  "), std::string::npos) << kept.output;
    EXPECT_NE(kept.output.find("    1 3  "), std::string::npos) << kept.output;
    const auto unknown = cli("data --dataset " + file.string() + " --classes 1,4");
    EXPECT_EQ(unknown.exitCode, 1);
    EXPECT_NE(
        unknown.output.find("no class '4': the classes are 1, 2, 3 (or their numbers 0 to 2)"),
        std::string::npos)
        << unknown.output;

    // Trained on two classes given in another order: the config keeps them as typed.
    const fs::path run = scratch() / "wine-run";
    const auto trained = cli("train --dataset " + file.string() +
                             " --classes 3,1 --steps 300 --batch 30 --out " + run.string());
    ASSERT_EQ(trained.exitCode, 0) << trained.output;
    const auto config = nlohmann::json::parse(ll::testing::fileBytes(run / "config.json"));
    EXPECT_EQ(config["dataset"]["keep_class_names"], nlohmann::json({"3", "1"}));
    const auto resumed = cli("train --resume " + run.string() + " --steps 310");
    EXPECT_EQ(resumed.exitCode, 0) << resumed.output;

    // The class named 3 is drawn for --class 3 (its number in the run is 0), and its rows lie
    // where the real ones do: alcohol near 16, not 12.
    const fs::path rows = scratch() / "wine-3.csv";
    const auto drawn =
        cli("sample --run " + run.string() + " --class 3 --count 20 --out " + rows.string());
    ASSERT_EQ(drawn.exitCode, 0) << drawn.output;
    std::ifstream in(rows);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "alcohol,ash,class");
    double alcohol = 0;
    int count = 0;
    while (std::getline(in, line)) {
        EXPECT_TRUE(line.ends_with(",3")) << line;
        alcohol += std::stod(line.substr(0, line.find(',')));
        ++count;
    }
    ASSERT_EQ(count, 20);
    EXPECT_NEAR(alcohol / count, 16.05, 1.0);
    const auto absent =
        cli("sample --run " + run.string() + " --class 2 --count 4 --out " + rows.string());
    EXPECT_EQ(absent.exitCode, 1);
    EXPECT_NE(absent.output.find("no class '2': the classes are 3, 1"), std::string::npos)
        << absent.output;

    // An export with a card: the proportions by name, its command naming them so, and the
    // near-copy threshold measured on the training rows (a table holds nothing out) between
    // distinct rows (with its repeated rows, 6 % lie 0 from another).
    const fs::path extractor = scratch() / "wine-extractor";
    const auto classifier = cli("train-extractor --dataset " + file.string() +
                                " --classes 3,1 --steps 100 --out " + extractor.string());
    ASSERT_EQ(classifier.exitCode, 0) << classifier.output;
    const fs::path out = scratch() / "wine-export";
    const auto exported =
        cli("export --run " + run.string() + " --proportions 1:1,3:2 --total 9" +
            " --metrics classes --extractor " + extractor.string() + " --out " + out.string());
    ASSERT_EQ(exported.exitCode, 0) << exported.output;
    const auto card = nlohmann::json::parse(ll::testing::fileBytes(out / "card.json"));
    EXPECT_EQ(card["counts"], nlohmann::json({{"1", 3}, {"3", 6}}));
    EXPECT_NE(card["command"].get<std::string>().find(" --proportions 1:1,3:2 "), std::string::npos)
        << card["command"];
    EXPECT_EQ(card["filters"]["copy_distance_from"], "training (leave one out)");
    EXPECT_GT(card["filters"]["copy_distance"].get<double>(), 0.0);
}

// A dataset named from the working folder is kept from the root: the run resumes, samples and
// is evaluated from anywhere. The table here is UCI's iris.data layout: no header, text labels,
// not named .csv.
TEST(Cli, ARunKeepsItsDataFromTheRoot) {
    const fs::path dir = scratch() / "relative";
    fs::create_directories(dir);
    std::string rows;
    for (int i = 0; i < 60; ++i)
        rows += std::to_string(4.5 + 0.05 * i) + "," + std::to_string(3.0 + 0.01 * (i % 7)) +
                (i < 30 ? ",Iris-setosa\n" : ",Iris-versicolor\n");
    ASSERT_TRUE(ll::writeFileAtomic(dir / "iris.data", rows));
    const auto trained =
        shell("cd " + dir.string() +
              " && " LATENTLAB_CLI " train --dataset iris.data --steps 10 --out run");
    ASSERT_EQ(trained.exitCode, 0) << trained.output;
    EXPECT_NE(trained.output.find("60 samples, 2 classes"), std::string::npos) << trained.output;
    const auto config = nlohmann::json::parse(ll::testing::fileBytes(dir / "run" / "config.json"));
    // After `cd`, the working folder is the link-free path.
    EXPECT_EQ(config["dataset"]["source"], (fs::canonical(dir) / "iris.data").string());
    const auto resumed =
        shell("cd / && " LATENTLAB_CLI " train --resume " + (dir / "run").string() + " --steps 20");
    EXPECT_EQ(resumed.exitCode, 0) << resumed.output;
}

// A held-out table with another mix of classes has other means than the training table; the
// run classifies it in its own standardisation (the file's own shifted every row: 0.695).
TEST(Cli, ClassifiesATableInTheRunsStandardisation) {
    const fs::path dir = scratch() / "restandardise";
    fs::create_directories(dir);
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(0.0, 1.0);
    auto rows = [&](int ones, int zeros) {
        std::string text = "a,b,y\n";
        for (int i = 0; i < ones + zeros; ++i) {
            const int y = i < ones ? 1 : 0;
            const double centre = y ? 2.0 : -2.0;
            text += std::to_string(centre + noise(rng)) + "," +
                    std::to_string(centre + noise(rng)) + "," + std::to_string(y) + "\n";
        }
        return text;
    };
    ASSERT_TRUE(ll::writeFileAtomic(dir / "train.csv", rows(200, 200)));
    ASSERT_TRUE(ll::writeFileAtomic(dir / "test.csv", rows(180, 20)));
    const auto trained = cli("train --dataset " + (dir / "train.csv").string() +
                             " --model classifier --steps 300 --out " + (dir / "run").string());
    ASSERT_EQ(trained.exitCode, 0) << trained.output;
    const auto r = cli("classify --run " + (dir / "run").string() + " --dataset " +
                       (dir / "test.csv").string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    const auto at = r.output.find("accuracy 0.");
    const auto perfect = r.output.find("accuracy 1.0000");
    ASSERT_TRUE(at != std::string::npos || perfect != std::string::npos) << r.output;
    if (perfect == std::string::npos)
        EXPECT_GE(std::stod(r.output.substr(at + 9)), 0.97) << r.output;
    // A table has no split to name; the counts are rows.
    EXPECT_NE(r.output.find("rows of " + (dir / "test.csv").string() + "\n"), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("class                    rows accuracy"), std::string::npos)
        << r.output;
    EXPECT_EQ(r.output.find("trained on"), std::string::npos) << r.output;
    // Without --dataset: the run's own table, said to be the data it trained on.
    const auto own = cli("classify --run " + (dir / "run").string());
    ASSERT_EQ(own.exitCode, 0) << own.output;
    EXPECT_NE(own.output.find("on 400 rows of " + (dir / "train.csv").string()), std::string::npos)
        << own.output;
    EXPECT_NE(own.output.find("is the data the run trained on"), std::string::npos) << own.output;
}

// The thread pools take the cores the process may run on (taskset, a container's cpuset), not
// all of the machine's: pinned to one core, a training run says so and runs one thread. An MLP
// (iris) gives the cores to OpenBLAS and leaves torch's pool at one thread.
TEST(Cli, TrainingTakesTheCoresItMayRunOn) {
    const int machine = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
    if (machine < 2 || shell("taskset -c 0 true").exitCode != 0)
        GTEST_SKIP() << "needs two cores and taskset";
    const std::string train = std::string(LATENTLAB_CLI) + " train --dataset " +
                              namedIris().string() + " --label-column species --steps 2 --out ";
    const auto pinned = shell("taskset -c 0 " + train + (scratch() / "pinned").string());
    ASSERT_EQ(pinned.exitCode, 0) << pinned.output;
    EXPECT_NE(pinned.output.find("on CPU, 1 core,"), std::string::npos) << pinned.output;
    EXPECT_NE(pinned.output.find("(1 torch thread"), std::string::npos) << pinned.output;
    const auto all = shell("taskset -c 0-1 " + train + (scratch() / "two").string());
    ASSERT_EQ(all.exitCode, 0) << all.output;
    EXPECT_NE(all.output.find("on CPU, 2 cores"), std::string::npos) << all.output;
    if (all.output.find("OpenBLAS") != std::string::npos)
        EXPECT_NE(all.output.find("(1 torch thread, OpenBLAS 2)"), std::string::npos) << all.output;
}

TEST(Cli, SampleToAFolderWritesOnePngPerSampleAndAManifest) {
    const fs::path run = scratch() / "folder-run";
    ASSERT_EQ(
        cli("train --limit 1000 --model cvae --steps 20 --batch 32 --out " + run.string()).exitCode,
        0);
    const fs::path out = scratch() / "samples";
    const auto r = cli("sample --run " + run.string() + " --count 6 --class 3,5 --seed 8 " +
                       "--temperature 0.7 --out " + out.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    std::ifstream manifest(out / "manifest.csv");
    std::string line;
    std::getline(manifest, line);
    EXPECT_TRUE(line.starts_with("file,class,class_name,seed,")) << line;
    EXPECT_NE(line.find("temperature"), std::string::npos) << line;
    int rows = 0;
    while (std::getline(manifest, line)) {
        const std::string file = line.substr(0, line.find(','));
        EXPECT_EQ(pngSize(out / file), (std::pair{28, 28})) << file;
        const std::string expectedClass = rows % 2 == 0 ? ",3,Dress,8," : ",5,Sandal,8,";
        EXPECT_NE(line.find(expectedClass), std::string::npos) << line;
        EXPECT_NE(line.find(",0.7,"), std::string::npos) << line;
        ++rows;
    }
    EXPECT_EQ(rows, 6);
}

// evaluate prints every score beside its floor and writes the record the GUI reads; with
// --all-checkpoints and --guidance-sweep one record per checkpoint and weight.
TEST(Cli, EvaluatePrintsScoresBesideTheirFloors) {
    const fs::path run = scratch() / "eval-run";
    ASSERT_EQ(cli("train --limit 3000 --model cvae --steps 300 --batch 64 --checkpoint-every 150 "
                  "--out " +
                  run.string())
                  .exitCode,
              0);
    const auto r = cli("evaluate --run " + run.string() +
                       " --count 300 --seed 2 --metrics fid,precision,recall,agreement,classes");
    ASSERT_EQ(r.exitCode, 0) << r.output;
    auto valueAfter = [&](const std::string& label) {
        const auto at = r.output.find(label);
        EXPECT_NE(at, std::string::npos) << label << " in\n" << r.output;
        return at == std::string::npos ? 0.0 : std::stod(r.output.substr(at + label.size()));
    };
    const double agreement = valueAfter("classifier agreement");
    EXPECT_GT(agreement, 0.25) << "chance is 0.1";
    EXPECT_LE(agreement, 1.0);
    EXPECT_GT(valueAfter("FID"), 0.0);
    EXPECT_NE(r.output.find("floor"), std::string::npos);
    EXPECT_NE(r.output.find("sha256"), std::string::npos) << "the protocol names the weights";
    EXPECT_NE(r.output.find("Ankle boot"), std::string::npos) << "the class histogram";
    EXPECT_TRUE(fs::exists(run / "eval" / "step-000300-g0.json"));

    const auto all = cli("evaluate --run " + run.string() +
                         " --count 200 --metrics fid --all-checkpoints --pixels");
    ASSERT_EQ(all.exitCode, 0) << all.output;
    for (const char* f : {"step-000000-g0.json", "step-000150-g0.json", "step-000300-g0.json"})
        EXPECT_TRUE(fs::exists(run / "eval" / f)) << f;
    const auto record = nlohmann::json::parse(std::ifstream(run / "eval" / "step-000150-g0.json"));
    EXPECT_EQ(record["feature_space"], "pixels");
    EXPECT_TRUE(record["extractor"].is_null());
}

// Steering from the command line: a class mixture and a guidance interval reach the model
// (and the manifest); sweep writes its labelled grid and sidecar.
TEST(Cli, SampleSteeringOptionsAndSweep) {
    const fs::path run = scratch() / "steer-run";
    ASSERT_EQ(cli("train --limit 1000 --model cvae --steps 30 --batch 32 --checkpoint-every 15 "
                  "--out " +
                  run.string())
                  .exitCode,
              0);
    const fs::path plain = scratch() / "steer-plain.png", mixed = scratch() / "steer-mix.png",
                   same = scratch() / "steer-same.png";
    ASSERT_EQ(cli("sample --run " + run.string() + " --count 4 --class 3 --seed 2 --out " +
                  plain.string())
                  .exitCode,
              0);
    ASSERT_EQ(cli("sample --run " + run.string() + " --count 4 --mix Dress:1 --seed 2 --out " +
                  same.string())
                  .exitCode,
              0);
    ASSERT_EQ(cli("sample --run " + run.string() + " --count 4 --mix 3:0.5,8:0.5 --seed 2 --out " +
                  mixed.string())
                  .exitCode,
              0);
    EXPECT_EQ(*ll::readFile(plain), *ll::readFile(same)) << "a mixture of one class is that class";
    EXPECT_NE(*ll::readFile(plain), *ll::readFile(mixed));
    const fs::path folder = scratch() / "steer-folder";
    ASSERT_EQ(cli("sample --run " + run.string() + " --count 2 --mix 3:0.5,8:0.5 --out " +
                  folder.string())
                  .exitCode,
              0);
    EXPECT_NE(ll::readFile(folder / "manifest.csv")->find("3:0.5 8:0.5"), std::string::npos);

    const fs::path grid = scratch() / "sweep.png";
    const auto r =
        cli("sweep --run " + run.string() +
            " --x temperature=0.5,1 --y checkpoint=15,30 --class Sneaker --out " + grid.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    EXPECT_TRUE(fs::exists(grid));
    const auto sidecar = nlohmann::json::parse(std::ifstream(grid.string() + ".json"));
    ASSERT_EQ(sidecar["cells"].size(), 4u);
    EXPECT_EQ(sidecar["cells"][3]["step"], 30);
    EXPECT_EQ(sidecar["cells"][3]["class"], 7);

    const fs::path strip = scratch() / "strip.png", video = scratch() / "strip.avi";
    const auto i = cli("interpolate --run " + run.string() + " --from 1:0 --to 2:Bag --frames 6 " +
                       "--out " + strip.string() + " --video " + video.string());
    ASSERT_EQ(i.exitCode, 0) << i.output;
    EXPECT_TRUE(fs::exists(strip));
    EXPECT_GT(fs::file_size(video), 1000u);

    const fs::path map = scratch() / "latents.csv", dirs = scratch() / "directions.npy";
    const auto l = cli("latents --run " + run.string() + " --count 100 --directions 4 --out " +
                       map.string() + " --directions-out " + dirs.string());
    ASSERT_EQ(l.exitCode, 0) << l.output;
    std::ifstream csv(map);
    std::string line;
    std::getline(csv, line);
    EXPECT_EQ(line, "kind,index,class,class_name,pc1,pc2");
    int drawn = 0, real = 0;
    while (std::getline(csv, line)) (line.starts_with("real,") ? real : drawn)++;
    EXPECT_EQ(drawn, 100);
    EXPECT_EQ(real, 100);  // the cvae encodes its training data
    auto directions = ll::readNpy(dirs);
    ASSERT_TRUE(directions);
    EXPECT_EQ(directions->size(0), 4);
    EXPECT_EQ(directions->size(1), 16);  // the cvae's latent width

    // Decoding saved latents: chosen rows, A - B + C, a step along a principal direction, and
    // an interpolation between two saved rows.
    const fs::path points = scratch() / "points.npy";
    ASSERT_EQ(
        cli("latents --run " + run.string() + " --count 100 --directions 4 --out " + map.string() +
            " --directions-out " + dirs.string() + " --latents-out " + points.string())
            .exitCode,
        0);
    auto z = ll::readNpy(points);
    ASSERT_TRUE(z);
    EXPECT_EQ(z->size(0), 200);
    EXPECT_EQ(z->size(1), 16);
    const fs::path rows = scratch() / "rows.png", twice = scratch() / "rows-again.png",
                   sum = scratch() / "sum.png", moved = scratch() / "moved.png",
                   path = scratch() / "path.png";
    const std::string decode = "decode --run " + run.string() + " --latents " + points.string();
    ASSERT_EQ(cli(decode + " --rows 100,150 --class 2 --out " + rows.string()).exitCode, 0);
    ASSERT_EQ(cli(decode + " --rows 100,150 --class 2 --out " + twice.string()).exitCode, 0);
    EXPECT_EQ(*ll::readFile(rows), *ll::readFile(twice));
    // A - A + C is C.
    ASSERT_EQ(cli(decode + " --arithmetic 7,7,150 --class 2 --out " + sum.string()).exitCode, 0);
    const fs::path alone = scratch() / "alone.png";
    ASSERT_EQ(cli(decode + " --rows 150 --class 2 --out " + alone.string()).exitCode, 0);
    EXPECT_EQ(*ll::readFile(sum), *ll::readFile(alone));
    ASSERT_EQ(cli(decode + " --rows 150 --class 2 --directions " + dirs.string() +
                  " --along 0:3 --out " + moved.string())
                  .exitCode,
              0);
    EXPECT_NE(*ll::readFile(moved), *ll::readFile(alone));
    const auto p =
        cli("interpolate --run " + run.string() + " --from " + points.string() + "@100:2 --to " +
            points.string() + "@150:2 --frames 4 --out " + path.string());
    ASSERT_EQ(p.exitCode, 0) << p.output;
    const auto far = cli(decode + " --rows 200 --out " + alone.string());
    EXPECT_NE(far.exitCode, 0);
    EXPECT_NE(far.output.find("has rows 0 to 199, not 200"), std::string::npos) << far.output;
}

const fs::path kMetricFixtures = fs::path(LATENTLAB_TEST_DATA) / "eval" / "fixtures";

// The metrics command on the arrays that tests/eval/reference/metrics_reference.py wrote, under
// the reference's protocol, gives the reference's values.
TEST(Cli, MetricsMatchTheReference) {
    const auto want = nlohmann::json::parse(std::ifstream(kMetricFixtures / "expected.json"));
    const auto& p = want["protocol"];
    auto file = [](const std::string& option, const std::string& name) {
        return " --" + option + " " + (kMetricFixtures / name).string();
    };
    const std::string features = file("real", "real.npy") + file("fake", "fake.npy");
    const std::string protocol =
        " --seed " + p["seed"].dump() + " --kid-subsets " + p["kid_subsets"].dump() +
        " --kid-size " + p["kid_subset_size"].dump() + " --k " + p["k_precision_recall"].dump() +
        " --k-density " + p["k_density_coverage"].dump() + " --cells " + p["cells"].dump();
    const fs::path out = scratch() / "metrics.json";
    const auto r = cli("metrics" + features + file("train", "train.npy") +
                       file("test", "test.npy") + protocol + " --out " + out.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    EXPECT_NE(r.output.find("precision"), std::string::npos) << "prints a table: " << r.output;
    const auto got = nlohmann::json::parse(std::ifstream(out));
    for (const char* key :
         {"fid", "kid", "kid_std", "precision", "recall", "density", "coverage"}) {
        const double expected = want[key];
        EXPECT_NEAR(got[key].get<double>(), expected, 1e-4 * std::abs(expected)) << key;
    }
    const auto& ct = want["ct"]["fake"];  // --fake is the generated set of the test
    EXPECT_NEAR(got["ct"].get<double>(), ct["ct"].get<double>(),
                1e-4 * std::abs(ct["ct"].get<double>()));
    ASSERT_EQ(got["ct_cells"].size(), ct["cells"].size());
    for (std::size_t c = 0; c < ct["cells"].size(); ++c)
        EXPECT_EQ(got["ct_cells"][c]["kept"], ct["cells"][c]["kept"]) << "cell " << c;
    EXPECT_EQ(got["protocol"]["kid_subset_size"], p["kid_subset_size"]);
    EXPECT_EQ(got["protocol"]["seed"], p["seed"]);
    EXPECT_EQ(got["protocol"]["cells"], p["cells"]);

    // Without training and test features there is no C_T.
    const auto plain = cli("metrics" + features + protocol + " --out " + out.string());
    ASSERT_EQ(plain.exitCode, 0) << plain.output;
    const auto without = nlohmann::json::parse(std::ifstream(out));
    EXPECT_FALSE(without.contains("ct"));
    EXPECT_EQ(without["fid"], got["fid"]);
}

// `features` writes arrays that `metrics` reads: a classifier's feature space tells a barely
// trained generator's samples from real images far better than it tells two real splits apart.
TEST(Cli, FeaturesOfRealDataAndSamplesFeedTheMetrics) {
    const fs::path run = scratch() / "features-run";
    ASSERT_EQ(
        cli("train --limit 1000 --model cvae --steps 20 --batch 32 --out " + run.string()).exitCode,
        0);
    const std::string extractor = " --extractor " LATENTLAB_FIXTURE_CLASSIFIER;
    auto features = [&](const std::string& source, const std::string& name) {
        const fs::path out = scratch() / name;
        const auto r = cli("features " + source + " --out " + out.string());
        EXPECT_EQ(r.exitCode, 0) << r.output;
        return out;
    };
    const auto train = features("--dataset fashion-mnist --limit 400" + extractor, "train.npy");
    const auto test =
        features("--dataset fashion-mnist --split test --limit 400" + extractor, "test.npy");
    const auto fake =
        features("--run " + run.string() + " --count 400 --seed 2" + extractor, "fake.npy");
    const auto pixels = features("--dataset fashion-mnist --limit 50 --pixels", "pixels.npy");
    auto shape = [](const fs::path& file) {
        auto a = ll::readNpy(file);
        return a ? std::vector<std::int64_t>(a->sizes().begin(), a->sizes().end())
                 : std::vector<std::int64_t>{};
    };
    EXPECT_EQ(shape(train), (std::vector<std::int64_t>{400, 128}));  // the classifier's width
    EXPECT_EQ(shape(fake), (std::vector<std::int64_t>{400, 128}));
    EXPECT_EQ(shape(pixels), (std::vector<std::int64_t>{50, 784}));

    auto fid = [&](const fs::path& real, const fs::path& other) {
        const fs::path out = scratch() / "features-metrics.json";
        const auto r = cli("metrics --real " + real.string() + " --fake " + other.string() +
                           " --kid-size 200 --out " + out.string());
        EXPECT_EQ(r.exitCode, 0) << r.output;
        return nlohmann::json::parse(std::ifstream(out))["fid"].get<double>();
    };
    const double floor = fid(test, train), generated = fid(test, fake);
    std::printf("FID in classifier features: real test vs train %.2f, vs samples %.2f\n", floor,
                generated);
    EXPECT_GT(generated, 3 * floor);
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
        // Named before any data is read: the dataset here does not exist.
        BadInput{"unknown_model",
                 "train --model nope --dataset /no/such/data.csv --steps 5 --out " +
                     (scratch() / "x3").string(),
                 "unknown model 'nope'"},
        BadInput{"missing_label_column",
                 "train --dataset /usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv "
                 "--label-column species --steps 5 --out " +
                     (scratch() / "x4").string(),
                 "no label column 'species'"},
        BadInput{"bad_setting",
                 "train --set latent=lots --steps 5 --out " + (scratch() / "x5").string(),
                 "'lots' is not a number"},
        // inf would pass "beta >= 0" and end the run with the wrong advice (lower the rate).
        BadInput{"infinite_setting",
                 "train --model vae --set beta=inf --steps 5 --out " + (scratch() / "x6").string(),
                 "setting 'beta': 'inf' is not a finite number"},
        BadInput{
            "nan_setting",
            "train --model wgan-gp --set gp=nan --steps 5 --out " + (scratch() / "x7").string(),
            "setting 'gp': 'nan' is not a finite number"},
        BadInput{"no_run", "sample --run /no/such/run --out " + (scratch() / "y.png").string(),
                 "/no/such/run: no such run folder"},
        BadInput{"not_png", "sample --run /no/such/run --out grid.jpg",
                 "--out must name a .png file, a .csv file or a folder"},
        BadInput{"unknown_setting",
                 "train --model vae --set latnet=4 --dataset /no/such/data.csv --steps 5 --out " +
                     (scratch() / "x6").string(),
                 "model 'vae' has no setting 'latnet'"},
        BadInput{
            "classifier_is_not_a_generator",
            "sample --run " LATENTLAB_FIXTURE_CLASSIFIER " --out " + (scratch() / "c.png").string(),
            "nothing to sample"},
        BadInput{"bad_mixture", "sample --run /no/run --mix 3-0.5 --out x.png",
                 "--mix expects CLASS:WEIGHT pairs"},
        BadInput{"bad_interval",
                 "sample --run " LATENTLAB_FIXTURE_CLASSIFIER
                 " --guidance-interval 0.8:0.2 --out x.png",
                 "--guidance-interval expects LO:HI with 0 <= LO < HI <= 1"},
        BadInput{"scale_without_classifier",
                 "sample --run /no/run --classifier-scale 2 --out x.png",
                 "--classifier-scale needs --classifier"},
        BadInput{"interpolate_bad_end", "interpolate --run /no/run --from a:1 --to 2 --out s.png",
                 "--from expects SEED or SEED:CLASS"},
        BadInput{"interpolate_class_of_no_run",
                 "interpolate --run /no/run --from 1:Bag --to 2 --out s.png",
                 "--from: 'Bag' names no class of the run: /no/run"},
        BadInput{"decode_wrong_width",
                 "decode --run " LATENTLAB_FIXTURE_CLASSIFIER " --latents x.npy --out d.png",
                 "has no latent space"},
        BadInput{"decode_bad_arithmetic",
                 "decode --run /no/run --latents x.npy --arithmetic 1,2 --out d.png",
                 "--arithmetic expects three rows A,B,C"},
        BadInput{"sweep_unknown_axis",
                 "sweep --run /no/run --x sharpness=1,2 --y seed=1 --out s.png",
                 "no sweep axis 'sharpness'"},
        BadInput{"evaluate_a_classifier", "evaluate --run " LATENTLAB_FIXTURE_CLASSIFIER,
                 "evaluation scores the samples of a generator"},
        BadInput{"evaluate_unknown_metric", "evaluate --run /no/run --metrics fid,sharpness",
                 "unknown metric 'sharpness'"},
        BadInput{"extractor_into_a_full_folder",
                 "train-extractor --steps 5 --out " LATENTLAB_FIXTURE_CLASSIFIER,
                 "exists and is not empty"},
        BadInput{"unknown_option", "train --stepz 5", "stepz"}),
    [](const auto& info) { return std::string(info.param.name); });

// An option the data does not take is refused before anything is read or trained, not
// ignored (--rgb on a table would otherwise train in gray without a word).
#define LL_IRIS "/usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv"
INSTANTIATE_TEST_SUITE_P(
    DataOptions, CliBadInput,
    ::testing::Values(
        BadInput{"image_size_on_a_table",
                 "train --dataset " LL_IRIS " --image-size 32 --steps 5 --out " +
                     (scratch() / "d1").string(),
                 "--image-size applies to image folders; " LL_IRIS " is a table"},
        BadInput{"rgb_on_idx", "data --dataset fashion-mnist --rgb",
                 "--rgb applies to image folders; fashion-mnist is Fashion-MNIST (IDX data), "
                 "which keeps its own colour"},
        BadInput{"label_column_on_images",
                 "data --dataset " LATENTLAB_TEST_DATA "/data/fixtures/images/colors "
                 "--label-column 2",
                 "--label-column applies to CSV tables;"},
        BadInput{"test_split_of_a_table", "data --dataset " LL_IRIS " --split test",
                 "with no test split; give the held-out table itself as --dataset"},
        BadInput{"test_split_of_one_folder",
                 "data --dataset " LATENTLAB_TEST_DATA "/data/fixtures/images/colors --split test",
                 "is an image folder with no test split"}),
    [](const auto& info) { return std::string(info.param.name); });
#undef LL_IRIS

INSTANTIATE_TEST_SUITE_P(
    Features, CliBadInput,
    ::testing::Values(
        BadInput{"two_sources",
                 "features --dataset fashion-mnist --run /no/run --pixels --out " +
                     (scratch() / "f1.npy").string(),
                 "either --dataset D (real data) or --run RUN"},
        BadInput{"two_feature_spaces",
                 "features --dataset fashion-mnist --pixels --extractor x --out x.npy",
                 "give --extractor or --pixels, not both"},
        BadInput{"no_extractor_for_the_data",
                 "features --dataset /usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv"
                 " --label-column 4 --out " +
                     (scratch() / "f3.npy").string(),
                 "no feature extractor for 'iris'"},
        BadInput{"not_npy", "features --dataset fashion-mnist --pixels --out x.csv",
                 "--out must name a .npy file"},
        BadInput{"extractor_of_other_data",
                 "features --dataset /usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv"
                 " --label-column 4 --extractor " LATENTLAB_FIXTURE_CLASSIFIER " --out " +
                     (scratch() / "f2.npy").string(),
                 "trained on other data"}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Metrics, CliBadInput,
    ::testing::Values(BadInput{"missing_features",
                               "metrics --real /no/such/real.npy --fake /no/such/fake.npy --out " +
                                   (scratch() / "m1.json").string(),
                               "/no/such/real.npy: no such file"},
                      BadInput{"mismatched_features",
                               "metrics --real " + (kMetricFixtures / "real.npy").string() +
                                   " --fake " + (kMetricFixtures / "narrow.npy").string() +
                                   " --out " + (scratch() / "m2.json").string(),
                               "real has 16 features per sample, fake has 8"},
                      BadInput{"too_few_for_k",
                               "metrics --real " + (kMetricFixtures / "narrow.npy").string() +
                                   " --fake " + (kMetricFixtures / "narrow.npy").string() +
                                   " --k 40 --out " + (scratch() / "m3.json").string(),
                               "precision/recall with k = 40 needs at least 41 real samples"},
                      BadInput{"train_without_test",
                               "metrics --real " + (kMetricFixtures / "real.npy").string() +
                                   " --fake " + (kMetricFixtures / "fake.npy").string() +
                                   " --train " + (kMetricFixtures / "train.npy").string() +
                                   " --out " + (scratch() / "m4.json").string(),
                               "needs both --train and --test"}),
    [](const auto& info) { return std::string(info.param.name); });
