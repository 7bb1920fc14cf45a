// A table with a categorical column, end to end: the data command shows it as a feature per
// value, a run learns which value goes with which class, and its rows leave (sample, export)
// and come back (evaluate --samples) with the category as text; its numbers leave with the
// precision its file wrote them with.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "clirun.h"
#include "common/atomicfile.h"

namespace fs = std::filesystem;

namespace {

using ll::testing::cli;

fs::path scratch() {
    static const fs::path dir = ll::testing::scratchFolder("cli-tables");
    return dir;
}

// 150 garments: a size near 10, 20 or 30 by kind, and a fabric that says the kind in 9 rows of
// 10 (coats wool, shirts cotton, dresses silk; the tenth another).
std::string garments() {
    const char* kinds[] = {"coat", "shirt", "dress"};
    const char* fabrics[] = {"wool", "cotton", "silk"};
    std::string text = "size,fabric,kind\n";
    for (int i = 0; i < 150; ++i) {
        const int k = i % 3;
        const int fabric = (i / 3) % 10 == 9 ? (k + 1) % 3 : k;
        text += std::to_string(10 * (k + 1) + (i % 7) * 0.5) + "," + fabrics[fabric] + "," +
                kinds[k] + "\n";
    }
    return text;
}

// The fabric cells of a CSV of rows with header "size,fabric,class", counted by class.
std::map<std::string, std::map<std::string, int>> fabricsByClass(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "size,fabric,class");
    std::map<std::string, std::map<std::string, int>> counts;
    while (std::getline(in, line)) {
        const auto a = line.find(','), b = line.find(',', a + 1);
        ++counts[line.substr(b + 1)][line.substr(a + 1, b - a - 1)];
    }
    return counts;
}

}  // namespace

TEST(CliTables, ACategoricalColumnIsLearntAndLeavesAsText) {
    const fs::path file = scratch() / "garments.csv";
    ASSERT_TRUE(ll::writeFileAtomic(file, garments()));
    const auto data = cli("data --dataset " + file.string());
    ASSERT_EQ(data.exitCode, 0) << data.output;
    EXPECT_NE(data.output.find("garments: 150 rows of 4 features, 3 classes\nfeatures: size, "
                               "fabric=cotton, fabric=silk, fabric=wool\n"
                               "table: read as categories, a feature each: 'fabric' (cotton, "
                               "silk, wool)"),
              std::string::npos)
        << data.output;

    const fs::path run = scratch() / "run";
    const auto trained =
        cli("train --dataset " + file.string() + " --steps 1500 --batch 50 --out " + run.string());
    ASSERT_EQ(trained.exitCode, 0) << trained.output;
    const auto described = nlohmann::json::parse(ll::testing::fileBytes(run / "data.json"));
    EXPECT_EQ(described["categorical"],
              nlohmann::json::parse(
                  R"([{"column": "fabric", "first": 1, "values": ["cotton", "silk", "wool"]}])"));
    // The model (cvae, the default) was told which features are the fabric's.
    const auto config = nlohmann::json::parse(ll::testing::fileBytes(run / "config.json"));
    EXPECT_EQ(config["settings"]["categories"], "1:3") << config.dump();

    // Drawn by class: each class's rows mostly take its fabric, as nine in ten real rows do.
    const fs::path rows = scratch() / "rows.csv";
    const auto drawn = cli("sample --run " + run.string() + " --count 150 --out " + rows.string());
    ASSERT_EQ(drawn.exitCode, 0) << drawn.output;
    const auto counts = fabricsByClass(rows);
    const std::map<std::string, std::string> fabricOf = {
        {"coat", "wool"}, {"shirt", "cotton"}, {"dress", "silk"}};
    for (const auto& [kind, fabric] : fabricOf) {
        ASSERT_TRUE(counts.count(kind)) << kind;
        int total = 0;
        for (const auto& [name, n] : counts.at(kind)) {
            EXPECT_TRUE(name == "wool" || name == "cotton" || name == "silk") << name;
            total += n;
        }
        EXPECT_EQ(total, 50) << kind;
        const auto at = counts.at(kind).find(fabric);
        EXPECT_GE(at == counts.at(kind).end() ? 0 : at->second, 35) << kind;
    }

    // Exported as a CSV with the fabric as text, its card measured on the rows read back (a
    // domain classifier of the one-hot table); evaluate reads them back too.
    const fs::path extractor = scratch() / "extractor";
    const auto classifier = cli("train-extractor --dataset " + file.string() +
                                " --steps 100 --out " + extractor.string());
    ASSERT_EQ(classifier.exitCode, 0) << classifier.output;
    const fs::path out = scratch() / "export";
    const auto exported = cli("export --run " + run.string() + " --total 60 --extractor " +
                              extractor.string() + " --metrics classes --out " + out.string());
    ASSERT_EQ(exported.exitCode, 0) << exported.output;
    const auto exportedCounts = fabricsByClass(out / "samples.csv");
    EXPECT_EQ(exportedCounts.size(), 3u);
    const auto card = nlohmann::json::parse(ll::testing::fileBytes(out / "card.json"));
    EXPECT_EQ(card["counts"], nlohmann::json({{"coat", 20}, {"dress", 20}, {"shirt", 20}}));
    const auto scored = cli("evaluate --run " + run.string() + " --samples " + out.string() +
                            " --pixels --metrics precision,recall");
    EXPECT_EQ(scored.exitCode, 0) << scored.output;
    EXPECT_NE(scored.output.find("recall"), std::string::npos) << scored.output;

    // A held-out file of a few rows is read the run's way: one fabric throughout is still the
    // fabric column, its own order and spare column are no matter, and a class the run never
    // had leaves its row out, said. On its own such a file has other classes and no fabric.
    const fs::path held = scratch() / "held.csv";
    ASSERT_TRUE(ll::writeFileAtomic(
        held, "kind,fabric,size,note\ncoat,wool,31,new\ncoat,wool,29,\nhat,felt,5,x\n"));
    const fs::path map = scratch() / "map.csv";
    const auto encoded = cli("latents --run " + run.string() + " --dataset " + held.string() +
                             " --label-column kind --count 10 --out " + map.string());
    ASSERT_EQ(encoded.exitCode, 0) << encoded.output;
    EXPECT_NE(encoded.output.find("left out 1 of 3 rows of classes the run does not have ('hat'; "
                                  "its classes: coat, dress, shirt)"),
              std::string::npos)
        << encoded.output;
    std::ifstream points(map);
    std::string point;
    int real = 0;
    while (std::getline(points, point))
        if (point.starts_with("real,")) {
            ++real;
            EXPECT_NE(point.find(",coat,"), std::string::npos) << point;
        }
    EXPECT_EQ(real, 2);

    // Scored against a held-out file of the user's: the reference and the data-copying test
    // take its rows (read the run's way), and the record says where they came from.
    const fs::path heldOut = scratch() / "held-out.csv";
    const std::string all = garments();
    std::size_t cut = 0;
    for (int line = 0; line < 61; ++line) cut = all.find('\n', cut) + 1;
    // Two rows of a kind the run has not seen: left out, and the output says so.
    ASSERT_TRUE(
        ll::writeFileAtomic(heldOut, all.substr(0, cut) + "11,wool,skirt\n12,silk,skirt\n"));
    const auto against = cli("evaluate --run " + run.string() + " --pixels --count 120 --cells 3 " +
                             "--metrics fid,precision,recall,ct,tstr --tstr-steps 300 " +
                             "--held-out " + heldOut.string());
    ASSERT_EQ(against.exitCode, 0) << against.output;
    EXPECT_NE(against.output.find("vs 60 real held-out rows from " + heldOut.string() + " ("),
              std::string::npos)
        << against.output;
    EXPECT_NE(against.output.find("real training rows; features: the table's columns"),
              std::string::npos)
        << against.output;
    EXPECT_NE(against.output.find("left out 2 of 62 rows of classes the run does not have "
                                  "('skirt'"),
              std::string::npos)
        << against.output;
    EXPECT_EQ(against.output.find("needs held-out data"), std::string::npos) << against.output;
    // TSTR trains its own classifiers: raw rows and no extractor do not stop it. Fabric says
    // the kind in 9 rows of 10, so a classifier trained on the samples reads the held-out rows.
    const auto tstrAt = against.output.find("TSTR accuracy");
    ASSERT_NE(tstrAt, std::string::npos) << against.output;
    EXPECT_GE(std::stod(against.output.substr(tstrAt + 13)), 0.8) << against.output;
    const auto badHeldOut = cli("evaluate --run " + run.string() + " --pixels --count 50 " +
                                "--metrics fid --held-out " + (scratch() / "odd.csv").string());
    EXPECT_EQ(badHeldOut.exitCode, 1) << badHeldOut.output;
    EXPECT_NE(badHeldOut.output.find("evaluation: held-out data: " +
                                     (scratch() / "odd.csv").string() + ": no such file"),
              std::string::npos)
        << badHeldOut.output;

    // A file whose fabric the run never saw is refused by name.
    std::string odd = "size,fabric,class\n12,denim,coat\n";
    fs::create_directories(scratch() / "odd");
    ASSERT_TRUE(ll::writeFileAtomic(scratch() / "odd" / "samples.csv", odd));
    const auto refused = cli("evaluate --run " + run.string() + " --samples " +
                             (scratch() / "odd").string() + " --pixels --metrics precision");
    EXPECT_EQ(refused.exitCode, 1);
    EXPECT_NE(refused.output.find("column 'fabric' takes 'denim', not one of its values (cotton, "
                                  "silk, wool)"),
              std::string::npos)
        << refused.output;
}

// Rows a run writes keep the precision of its file's columns: visits whole, spend in cents.
// An older run, whose data.json says nothing of it, writes them as before.
TEST(CliTables, SampledRowsKeepTheirFilesPrecision) {
    std::string text = "visits,spend,segment\n";
    for (int i = 0; i < 120; ++i) {
        const int k = i % 2;
        char spend[32];
        std::snprintf(spend, sizeof spend, "%.2f", 20.0 + 30.0 * k + (i % 9) * 1.37);
        text +=
            std::to_string(2 + 6 * k + i % 4) + "," + spend + "," + (k ? "loyal" : "new") + "\n";
    }
    const fs::path file = scratch() / "visits.csv";
    ASSERT_TRUE(ll::writeFileAtomic(file, text));
    const fs::path run = scratch() / "visits-run";
    const auto trained =
        cli("train --dataset " + file.string() + " --steps 200 --batch 40 --out " + run.string());
    ASSERT_EQ(trained.exitCode, 0) << trained.output;
    const auto described = nlohmann::json::parse(ll::testing::fileBytes(run / "data.json"));
    EXPECT_EQ(described["decimals"], nlohmann::json::parse("[0, 2]")) << described.dump();

    // Each cell of the two columns of `rows`, written by sample.
    const auto cellsOf = [&](const fs::path& rows) {
        std::vector<std::pair<std::string, std::string>> cells;
        std::ifstream in(rows);
        std::string line;
        std::getline(in, line);
        EXPECT_EQ(line, "visits,spend,class");
        while (std::getline(in, line)) {
            const auto a = line.find(','), b = line.find(',', a + 1);
            cells.emplace_back(line.substr(0, a), line.substr(a + 1, b - a - 1));
        }
        return cells;
    };
    const fs::path rows = scratch() / "visits-rows.csv";
    const auto drawn = cli("sample --run " + run.string() + " --count 60 --out " + rows.string());
    ASSERT_EQ(drawn.exitCode, 0) << drawn.output;
    const auto cells = cellsOf(rows);
    ASSERT_EQ(cells.size(), 60u);
    const std::regex whole("-?[0-9]+"), cents("-?[0-9]+\\.[0-9][0-9]");
    for (const auto& [visits, spend] : cells) {
        EXPECT_TRUE(std::regex_match(visits, whole)) << visits;
        EXPECT_TRUE(std::regex_match(spend, cents)) << spend;
        EXPECT_NE(visits, "-0");
    }

    auto older = described;
    older.erase("decimals");
    ASSERT_TRUE(ll::writeFileAtomic(run / "data.json", older.dump(2)));
    const auto before = cli("sample --run " + run.string() + " --count 60 --out " + rows.string());
    ASSERT_EQ(before.exitCode, 0) << before.output;
    int fractions = 0;
    for (const auto& [visits, spend] : cellsOf(rows))
        fractions += visits.find('.') != std::string::npos;
    EXPECT_GT(fractions, 30);
}
