// Synthetic datasets end to end through latentlab-cli export: every format read back by our own
// readers (and numpy's), the manifest against the files, the card against `evaluate` of the
// same samples, a classifier trained on the export (the TSTR path), filters, a repeat bit for
// bit, and bad input that leaves nothing behind.
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "clirun.h"
#include "common/csvtext.h"
#include "common/sha256.h"
#include "data/idx.h"
#include "data/imagefolder.h"
#include "data/loader.h"
#include "export/exportwriters.h"
#include "models/model.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using ll::testing::cli;
using ll::testing::Outcome;
using ll::testing::shell;

fs::path scratch() {
    static const fs::path dir = ll::testing::scratchFolder("export");
    return dir;
}

json readJson(const fs::path& file) {
    std::ifstream in(file);
    return json::parse(in);
}

/// manifest.csv as rows of named cells.
std::vector<std::map<std::string, std::string>> readManifest(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    const auto header = ll::splitCsvLine(line);
    std::vector<std::map<std::string, std::string>> rows;
    while (std::getline(in, line)) {
        const auto cells = ll::splitCsvLine(line);
        EXPECT_EQ(cells.size(), header.size()) << line;
        std::map<std::string, std::string> row;
        for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i)
            row[header[i]] = cells[i];
        rows.push_back(row);
    }
    return rows;
}

/// Nothing of an export that failed may remain: no target, no partial folder beside it.
void expectNothingLeft(const fs::path& out) {
    EXPECT_FALSE(fs::exists(out)) << out;
    for (const auto& entry : fs::directory_iterator(out.parent_path()))
        EXPECT_EQ(entry.path().filename().string().find(".partial-"), std::string::npos)
            << entry.path();
}

/// The conditional VAE every test exports from, trained once.
class Export : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_run = scratch() / "cvae";
        const auto r =
            cli("train --dataset fashion-mnist --limit 3000 --model cvae --steps 300 "
                "--batch 64 --seed 3 --out " +
                s_run.string());
        ASSERT_EQ(r.exitCode, 0) << r.output;
    }
    static fs::path s_run;
};
fs::path Export::s_run;

}  // namespace

// A PNG folder: one sub-folder per class, the manifest names every file with its hash, the
// card counts what is there and its numbers are those `evaluate --samples` gives the folder.
TEST_F(Export, PngFolderWithManifestAndCardThatEvaluateConfirms) {
    const fs::path out = scratch() / "png";
    const auto r = cli("export --run " + s_run.string() + " --per-class 30 --seed 5 " +
                       "--tstr-steps 30 --out " + out.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;

    // Files and manifest agree, hash for hash.
    const auto rows = readManifest(out / "manifest.csv");
    ASSERT_EQ(rows.size(), 300u);
    std::map<std::string, int> perClass;
    for (const auto& row : rows) {
        const fs::path file = out / row.at("file");
        ASSERT_TRUE(fs::exists(file)) << file;
        EXPECT_EQ(ll::sha256File(file).value(), row.at("sha256")) << file;
        EXPECT_EQ(file.parent_path().filename().string().substr(0, 2), row.at("class") + "-");
        EXPECT_FALSE(row.at("confidence").empty());
        EXPECT_FALSE(row.at("nn_index").empty());
        ++perClass[row.at("class_name")];
    }
    EXPECT_EQ(perClass.size(), 10u);
    for (const auto& [name, n] : perClass) EXPECT_EQ(n, 30) << name;
    std::set<std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(out))
        if (entry.path().extension() == ".png") files.insert(entry.path().string());
    EXPECT_EQ(files.size(), 300u) << "no file the manifest does not list";

    // The card.
    const json card = readJson(out / "card.json");
    EXPECT_EQ(card["counts"]["Bag"], 30);
    EXPECT_TRUE(card["dropped"].empty()) << card["dropped"];
    EXPECT_EQ(card["checkpoint_step"], 300);
    EXPECT_EQ(card["checkpoint_sha256"],
              ll::sha256File(s_run / "checkpoints" / "step-000300.pt").value());
    EXPECT_EQ(rows[0].at("checkpoint_sha256"), card["checkpoint_sha256"]);
    EXPECT_EQ(card["settings"]["seed"], 5);
    EXPECT_NE(card["command"].get<std::string>().find("--per-class 30"), std::string::npos);
    for (const char* m : {"fid", "precision", "recall", "density", "coverage", "agreement", "ct",
                          "tstr", "nn_distance"}) {
        ASSERT_TRUE(card["metrics"].contains(m)) << m << " in " << card["metrics"];
        EXPECT_TRUE(card["metrics"][m]["value"].is_number()) << m;
        EXPECT_TRUE(card["metrics"][m]["floor"].is_number()) << m;
    }
    EXPECT_GT(card["metrics"]["agreement"]["value"].get<double>(), 0.3) << "chance is 0.1";
    std::ifstream mdFile(out / "card.md");
    const std::string md(std::istreambuf_iterator<char>(mdFile), {});
    EXPECT_NE(md.find("synthetic"), std::string::npos);
    EXPECT_NE(md.find("FID"), std::string::npos);
    const json croissant = readJson(out / "croissant.json");
    EXPECT_EQ(croissant["rai:hasSyntheticData"], true);
    EXPECT_EQ(croissant["@type"], "sc:Dataset");

    // The same samples scored by evaluate give the card's numbers.
    const auto e = cli("evaluate --run " + s_run.string() + " --samples " + out.string() +
                       " --metrics all --tstr-steps 30");
    ASSERT_EQ(e.exitCode, 0) << e.output;
    const auto at = e.output.find("wrote ");
    ASSERT_NE(at, std::string::npos) << e.output;
    const std::string recordFile = e.output.substr(at + 6, e.output.find('\n', at) - at - 6);
    const json record = readJson(recordFile);
    EXPECT_EQ(record["count"], 300);
    // A record of its own that says where the samples came from: the run's record is kept.
    EXPECT_TRUE(fs::path(recordFile).filename().string().starts_with("samples-step-"))
        << recordFile;
    EXPECT_EQ(record["samples_from"], fs::absolute(out).lexically_normal().string());
    for (const auto& [name, score] : card["metrics"].items()) {
        ASSERT_TRUE(record["scores"].contains(name)) << name;
        EXPECT_DOUBLE_EQ(record["scores"][name]["value"].get<double>(),
                         score["value"].get<double>())
            << name;
    }

    // Our image-folder reader takes the export as a dataset, classes in their order, and a
    // classifier trained on it recognises real held-out images (train on synthetic, test on
    // real).
    auto synthetic = ll::readImageFolder(out, 0, ll::ImageColour::FollowData);
    ASSERT_TRUE(synthetic) << synthetic.error().message;
    EXPECT_EQ(synthetic->size(), 300);
    ASSERT_EQ(synthetic->numClasses(), 10);
    EXPECT_EQ(synthetic->classNames[8], "8-Bag");
    EXPECT_EQ(synthetic->x.size(1), 1);
    EXPECT_EQ(synthetic->x.size(2), 28);
    torch::manual_seed(0);
    auto classifier = ll::createModel("classifier", ll::ModelShape{}, {{"lr", "0.002"}});
    ASSERT_TRUE(classifier) << classifier.error().message;
    for (int step = 0; step < 150; ++step) {
        const auto rows = torch::randint(300, {64}, torch::kInt64);
        (*classifier)
            ->trainStep(synthetic->x.index_select(0, rows), synthetic->y.index_select(0, rows));
    }
    auto test = ll::loadDataset({.source = "fashion-mnist", .split = "test", .limit = 1000});
    ASSERT_TRUE(test) << test.error().message;
    const auto accuracy =
        (*classifier)->classify(test->x).argmax(1).eq(test->y).to(torch::kFloat64).mean();
    EXPECT_GT(accuracy.item<double>(), 0.35) << "chance is 0.1";
}

// IDX and NumPy labels are the class names where all are whole numbers (data labelled 1..26
// exports 1..26, and reads back with the same names), else the class index.
TEST(ExportLabels, AreTheNamesWhereAllAreWholeNumbers) {
    using ll::exporting::labelValues;
    EXPECT_EQ(labelValues({"1", "3", "26"}), (std::vector<std::int64_t>{1, 3, 26}));
    EXPECT_EQ(labelValues({"0", "1", "2"}), (std::vector<std::int64_t>{0, 1, 2}));
    EXPECT_EQ(labelValues({"T-shirt/top", "Trouser"}), (std::vector<std::int64_t>{0, 1}));
    EXPECT_EQ(labelValues({"3", "cat", "9"}), (std::vector<std::int64_t>{0, 1, 2}));
    EXPECT_EQ(labelValues({"007", "8"}), (std::vector<std::int64_t>{0, 1})) << "007 is a name";
    EXPECT_EQ(labelValues({"1.5", "2"}), (std::vector<std::int64_t>{0, 1}));
    EXPECT_EQ(labelValues({"-1", "2"}), (std::vector<std::int64_t>{0, 1}));
    EXPECT_EQ(labelValues({"5", "12345678901"}), (std::vector<std::int64_t>{0, 1}));
    EXPECT_TRUE(labelValues({}).empty());
}

// IDX (gzip) and NumPy hold the same bytes as the PNG folder of the same request, and MNIST
// tooling (our IDX reader) and numpy read them.
TEST_F(Export, IdxAndNpyHoldTheSameSamplesAsPng) {
    const fs::path png = scratch() / "same-png", idx = scratch() / "same-idx",
                   npy = scratch() / "same-npy";
    const std::string common =
        "export --run " + s_run.string() + " --per-class 7 --classes 1,4 --seed 9 --no-card ";
    ASSERT_EQ(cli(common + "--out " + png.string()).exitCode, 0);
    const auto r = cli(common + "--format idx --gzip --out " + idx.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    ASSERT_EQ(cli(common + "--format npy --out " + npy.string()).exitCode, 0);

    auto images = ll::readImageFolder(png, 28, true);
    ASSERT_TRUE(images) << images.error().message;
    auto fromIdx = ll::readIdxDataset(idx / "train-images-idx3-ubyte.gz",
                                      idx / "train-labels-idx1-ubyte.gz", false);
    ASSERT_TRUE(fromIdx) << fromIdx.error().message;
    ASSERT_EQ(fromIdx->size(), 14);
    // The PNG folder sorts by class then file; the IDX keeps draw order: compare by manifest.
    const auto idxRows = readManifest(idx / "manifest.csv");
    const auto pngRows = readManifest(png / "manifest.csv");
    ASSERT_EQ(idxRows.size(), 14u);
    for (std::size_t i = 0; i < idxRows.size(); ++i) {
        EXPECT_EQ(idxRows[i].at("row"), std::to_string(i));
        EXPECT_EQ(idxRows[i].at("class"), pngRows[i].at("class"));
        // Labels 1 and 4 read back as classes named so (the reader's classes are the labels).
        EXPECT_EQ(
            fromIdx->classNames.at(std::size_t(fromIdx->y[std::int64_t(i)].item<std::int64_t>())),
            idxRows[i].at("class"));
        // The row's bytes hash as the manifest says, and as the PNG's pixels.
        const auto bytes =
            fromIdx->x[std::int64_t(i)].mul(255).round().to(torch::kUInt8).contiguous();
        EXPECT_EQ(ll::sha256Hex({reinterpret_cast<const char*>(bytes.data_ptr<std::uint8_t>()),
                                 std::size_t(bytes.numel())}),
                  idxRows[i].at("sha256"));
    }
    EXPECT_TRUE(torch::equal(fromIdx->x.sum(0), images->x.sum(0)))
        << "the same pixels in both formats";

    // numpy (Debian's python3) reads the .npy pair: uint8 N x H x W and int64 labels.
    const auto numpy =
        shell("/usr/bin/python3 -c \"import numpy as np; x=np.load('" + (npy / "x.npy").string() +
              "'); y=np.load('" + (npy / "y.npy").string() +
              "'); print(x.shape, x.dtype, y.shape, y.dtype, int(x.sum()), "
              "sorted(set(y.tolist())))\"");
    ASSERT_EQ(numpy.exitCode, 0) << numpy.output;
    const long long sum = fromIdx->x.mul(255).round().sum().item<double>();
    EXPECT_EQ(numpy.output, "(14, 28, 28) uint8 (14,) int64 " + std::to_string(sum) + " [1, 4]\n");
}

// Filters say what they dropped, and what stays passes them; the card's command repeats the
// export bit for bit.
TEST_F(Export, FiltersReportWhatTheyDropAndTheCommandRepeatsTheExport) {
    const fs::path out = scratch() / "filtered";
    const auto r = cli("export --run " + s_run.string() +
                       " --per-class 12 --classes 0,6 --min-confidence 0.8 --drop-copies "
                       "--metrics fid,agreement --seed 2 --out " +
                       out.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    const json card = readJson(out / "card.json");
    ASSERT_TRUE(card["dropped"].contains("confidence")) << card;
    ASSERT_TRUE(card["dropped"].contains("copy")) << card;
    // T-shirts and shirts look alike: a confidence of 0.8 drops some of them.
    EXPECT_GT(card["dropped"]["confidence"].get<int>(), 0) << card;
    const double threshold = card["filters"]["copy_distance"].get<double>();
    EXPECT_GT(threshold, 0);
    std::int64_t kept = 0;
    for (const auto& row : readManifest(out / "manifest.csv")) {
        EXPECT_GE(std::stod(row.at("confidence")), 0.8);
        EXPECT_GE(std::stod(row.at("nn_distance")), threshold);
        ++kept;
    }
    EXPECT_EQ(kept, card["kept"].get<std::int64_t>());
    EXPECT_EQ(card["drawn"].get<std::int64_t>(),
              kept + card["dropped"]["confidence"].get<std::int64_t>() +
                  card["dropped"]["copy"].get<std::int64_t>());

    std::string command = card["command"];
    ASSERT_TRUE(command.starts_with("latentlab-cli ")) << command;
    const fs::path again = scratch() / "filtered-again";
    command = command.substr(14);
    command = command.substr(0, command.find(" --out ")) + " --out " + again.string();
    ASSERT_EQ(cli(command).exitCode, 0) << command;
    const auto a = readManifest(out / "manifest.csv"), b = readManifest(again / "manifest.csv");
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].at("sha256"), b[i].at("sha256"));
}

// Class proportions with a total, and tabular runs as CSV in the data's units.
TEST_F(Export, ProportionsAndTables) {
    const fs::path out = scratch() / "mix";
    ASSERT_EQ(cli("export --run " + s_run.string() +
                  " --proportions 2:3,7:1 --total 20 --no-card --out " + out.string())
                  .exitCode,
              0);
    std::map<std::string, int> counts;
    for (const auto& row : readManifest(out / "manifest.csv")) ++counts[row.at("class")];
    EXPECT_EQ(counts["2"], 15);
    EXPECT_EQ(counts["7"], 5);

    const fs::path csv = scratch() / "iris.csv";
    {
        std::ifstream in("/usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv");
        std::ofstream file(csv);
        file << "sepal length,sepal width,petal length,petal width,species\n";
        const char* species[] = {"setosa", "versicolor", "virginica"};
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line)) {
            const auto cut = line.rfind(',');
            file << line.substr(0, cut) << ',' << species[std::stoi(line.substr(cut + 1))] << '\n';
        }
    }
    const fs::path run = scratch() / "iris-run";
    ASSERT_EQ(
        cli("train --dataset " + csv.string() + " --steps 60 --batch 32 --out " + run.string())
            .exitCode,
        0);
    // The window's preview of a table's export: its first rows, a row of each class in turn,
    // in the CSV's units.
    ll::ExportRequest request{
        .run = run, .perClass = 10, .format = ll::ExportFormat::Csv, .card = false};
    const auto preview = ll::previewExport(request, 30);
    ASSERT_TRUE(preview) << preview.error().message;
    EXPECT_TRUE(preview->grid.empty());
    const auto& table = preview->table;
    EXPECT_EQ(table.columns, (std::vector<std::string>{"sepal length", "sepal width",
                                                       "petal length", "petal width"}));
    ASSERT_EQ(table.rows, 30);
    EXPECT_EQ(preview->dropped.size(), 30u);
    std::map<int, int> perClass;
    double petal = 0;
    for (std::int64_t i = 0; i < table.rows; ++i) {
        ++perClass[table.labels[static_cast<std::size_t>(i)]];
        petal += table.at(i, 2) / 30;
    }
    EXPECT_EQ(perClass, (std::map<int, int>{{0, 10}, {1, 10}, {2, 10}}));
    EXPECT_GT(petal, 1.0);  // iris petals are 1 to 7 cm long: not standardised
    EXPECT_LT(petal, 7.0);

    const fs::path rows = scratch() / "iris-export";
    const auto r =
        cli("export --run " + run.string() + " --per-class 10 --no-card --out " + rows.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    std::ifstream in(rows / "samples.csv");
    std::string header, line;
    std::getline(in, header);
    EXPECT_EQ(header, "sepal length,sepal width,petal length,petal width,class");
    int n = 0;
    while (std::getline(in, line)) ++n;
    EXPECT_EQ(n, 30);
    EXPECT_NE(cli("export --run " + run.string() + " --format png --out " +
                  (scratch() / "iris-png").string())
                  .output.find("table rows"),
              std::string::npos);
}

// Bad input: a clear message naming what and where, and nothing half-written.
TEST_F(Export, BadInputLeavesNothingBehind) {
    const fs::path busy = scratch() / "busy";
    fs::create_directories(busy);
    std::ofstream(busy / "keep.txt") << "mine";
    auto r =
        cli("export --run " + s_run.string() + " --per-class 2 --no-card --out " + busy.string());
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.output.find("not empty"), std::string::npos) << r.output;
    EXPECT_TRUE(fs::exists(busy / "keep.txt"));
    r = cli("export --run " + s_run.string() + " --per-class 2 --no-card --force --out " +
            busy.string());
    EXPECT_EQ(r.exitCode, 0) << r.output;
    EXPECT_FALSE(fs::exists(busy / "keep.txt"));
    EXPECT_TRUE(fs::exists(busy / "manifest.csv"));

    const fs::path out = scratch() / "never";
    r = cli("export --run " + s_run.string() + " --classes 3,12 --out " + out.string());
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.output.find("--classes: no class '12': the classes are T-shirt/top, "),
              std::string::npos)
        << r.output;
    expectNothingLeft(out);

    // A full disk half-way through (an injected failure of the 40th write).
    r = shell("LATENTLAB_INJECT_FAULT=export-write:40 " + std::string(LATENTLAB_CLI) +
              " export --run " + s_run.string() + " --per-class 10 --no-card --out " +
              out.string());
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.output.find("No space left on device"), std::string::npos) << r.output;
    expectNothingLeft(out);

    // A folder that cannot be made (under a file).
    r = cli("export --run " + s_run.string() + " --per-class 2 --no-card --out " +
            (busy / "manifest.csv" / "sub").string());
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.output.find("manifest.csv"), std::string::npos) << r.output;

    // A checkpoint that does not load.
    const fs::path broken = scratch() / "broken-run";
    fs::copy(s_run, broken, fs::copy_options::recursive);
    std::ofstream(broken / "checkpoints" / "step-000300.pt", std::ios::trunc) << "not weights";
    r = cli("export --run " + broken.string() + " --per-class 2 --no-card --out " + out.string());
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.output.find("step-000300.pt"), std::string::npos) << r.output;
    expectNothingLeft(out);

    // No domain classifier for the card: the message says how to get one.
    r = cli("export --run " + s_run.string() + " --per-class 2 --extractor " +
            (scratch() / "no-such-extractor").string() + " --out " + out.string());
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.output.find("train-extractor"), std::string::npos) << r.output;
    expectNothingLeft(out);
}

// An unconditional model's samples are sorted into classes by the domain classifier: the
// manifest's class is its prediction, no class gets more than asked, the rest is "cap".
TEST_F(Export, UnconditionalSamplesAreSortedByTheClassifier) {
    const fs::path run = scratch() / "vae";
    ASSERT_EQ(cli("train --dataset fashion-mnist --limit 2000 --model vae --steps 150 --batch 64 "
                  "--out " +
                  run.string())
                  .exitCode,
              0);
    const fs::path out = scratch() / "vae-export";
    const auto r = cli("export --run " + run.string() +
                       " --per-class 3 --classes 1,8 --no-card --out " + out.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    EXPECT_NE(r.output.find("dropped by cap"), std::string::npos) << r.output;
    std::map<std::string, int> counts;
    for (const auto& row : readManifest(out / "manifest.csv")) {
        ++counts[row.at("class")];
        // Sorted by the classifier: the class it gives is the one with the confidence.
        EXPECT_GT(std::stod(row.at("confidence")), 0.1) << row.at("file");
    }
    for (const auto& [k, n] : counts) {
        EXPECT_TRUE(k == "1" || k == "8") << k;
        EXPECT_LE(n, 3) << k;
    }
    EXPECT_FALSE(counts.empty());
}
