// How precisely a table's file writes each column's numbers, and rows written back to it: a
// column of whole numbers comes back whole, one of cents with two decimals, one written with
// an exponent as before. Read from the file (each way a number may be written), kept in the
// run's data.json, used where rows become text.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "clirun.h"
#include "common/atomicfile.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "run/runfolder.h"

namespace fs = std::filesystem;

namespace {

fs::path scratch() {
    static const fs::path dir = ll::testing::scratchFolder("csvprecision");
    return dir;
}

ll::Result<ll::Dataset> read(const std::string& name, const std::string& bytes) {
    EXPECT_TRUE(ll::writeFileAtomic(scratch() / name, bytes));
    return ll::readCsv(scratch() / name, "");
}

}  // namespace

TEST(CsvPrecision, EachColumnKeepsTheDecimalsItsFileWrites) {
    // count: whole; price: cents (one cell with one decimal); ratio: an exponent; pi: more
    // digits than a measurement has; fabric: categories, a feature a value; name: left out
    // (text of its own each row), so the columns after it keep their own.
    std::string text = "count,price,ratio,name,pi,fabric,label\n";
    const char* fabrics[] = {"wool", "silk"};
    for (int i = 0; i < 12; ++i)
        text += std::to_string(10 + i) + "," + (i == 3 ? "4.5" : std::to_string(i) + ".25") + "," +
                std::to_string(i + 1) + "e-3,name" + std::to_string(i) + ",3.14159265358979" +
                std::to_string(i) + "," + fabrics[i % 2] + "," + (i % 3 ? "a" : "b") + "\n";
    const auto d = read("mixed.csv", text);
    ASSERT_TRUE(d) << d.error().message;
    ASSERT_EQ(d->featureNames, (std::vector<std::string>{"count", "price", "ratio", "pi",
                                                         "fabric=silk", "fabric=wool"}));
    EXPECT_EQ(d->decimals, (std::vector<int>{0, 2, -1, -1, -1, -1}));
}

TEST(CsvPrecision, DecimalsCountTheWayTheFileWritesItsNumbers) {
    // Decimal commas with points between thousands: "1.234,5" has one decimal, not three.
    const auto comma = read("comma.csv",
                            "amount;rate;label\n"
                            "1.234,5;0,125;a\n2.000,25;0,5;b\n3.100;1;a\n4,5;2,75;b\n");
    ASSERT_TRUE(comma) << comma.error().message;
    EXPECT_EQ(comma->decimal, "comma");
    EXPECT_EQ(comma->decimals, (std::vector<int>{2, 3}));
    // Commas between thousands with a decimal point: "1,234" is a whole number.
    const auto point = read("point.csv",
                            "amount,rate,label\n"
                            "\"1,234\",0.5,a\n\"2,500\",1.25,b\n\"3,000.5\",2,a\n7,3,b\n");
    ASSERT_TRUE(point) << point.error().message;
    EXPECT_EQ(point->decimals, (std::vector<int>{1, 2}));
}

TEST(CsvPrecision, AHeaderOfNumbersAndAFloatsDigitsAreNoPrecision) {
    // The first line is a header (its label cell is no label), its numbers no cell's; a float
    // keeps about 7 significant digits, so 123456.78901 keeps one decimal of its five.
    std::string text = "0.5,1.25,label\n";
    for (int i = 0; i < 8; ++i)
        text += std::to_string(3 + i) + "," + std::to_string(123450 + i) + ".78901," +
                (i % 2 ? "a" : "b") + "\n";
    const auto d = read("header.csv", text);
    ASSERT_TRUE(d) << d.error().message;
    ASSERT_EQ(d->featureNames, (std::vector<std::string>{"0.5", "1.25"}));
    EXPECT_EQ(d->size(), 8);
    EXPECT_EQ(d->decimals, (std::vector<int>{0, 1}));
}

TEST(CsvPrecision, RowsAreWrittenToTheirColumnsDecimals) {
    // Standardised rows that map back to -0.3, 1.2345 and 123456.789 in original units.
    const auto rows =
        torch::tensor({{-0.3, 1.2345, 123456.789}, {2.6, -0.004, 0.5}}, torch::kFloat64);
    const auto labels = torch::tensor({0, 0}, torch::kInt64);
    const std::vector<std::string> columns{"count", "price", "free"};
    const std::vector<double> mean(3, 0.0), std(3, 1.0);
    const auto t = ll::makeTable(rows, labels, columns, mean, std, {"a"}, {}, {0, 2, -1});
    EXPECT_EQ(t.text(0, 0), "0");  // not "-0"
    EXPECT_EQ(t.text(0, 1), "1.23");
    EXPECT_EQ(t.text(0, 2), "123457");
    EXPECT_EQ(t.text(1, 0), "3");
    EXPECT_EQ(t.text(1, 1), "0.00");  // not "-0.00"
    EXPECT_EQ(t.text(1, 2), "0.5");
    // The values are the rounded ones too (a histogram of a whole column has whole bars).
    EXPECT_EQ(t.at(1, 0), 3.0);
    EXPECT_DOUBLE_EQ(t.at(0, 1), 1.23);
    EXPECT_EQ(ll::tableCsvRow(t, 1), "3,0.00,0.5,a\n");
    // Without decimals (an old run's data), as before.
    const auto free = ll::makeTable(rows, labels, columns, mean, std, {"a"});
    EXPECT_EQ(free.text(0, 1), "1.2345");
    EXPECT_EQ(free.text(1, 0), "2.6");
}

TEST(CsvPrecision, ARunKeepsTheDecimalsAndIgnoresOnesItCannotUse) {
    const fs::path run = scratch() / "run";
    fs::create_directories(run);
    ll::RunData d{.datasetName = "t",
                  .shape = ll::ModelShape{0, 0, 0, 3, 2},
                  .classNames = {"a", "b"},
                  .featureNames = {"x", "y", "z"},
                  .mean = {0, 0, 0},
                  .std = {1, 1, 1},
                  .decimals = {0, 2, -1}};
    ASSERT_TRUE(ll::writeRunData(run, d));
    auto back = ll::readRunData(run);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->decimals, (std::vector<int>{0, 2, -1}));
    // A hint of the wrong length, out of range or of other type is no hint: the run still opens.
    for (const char* bad : {"[0, 2]", "[0, 2, 99]", "[0, 2, -5]", "[0, 2, 1.5]", "\"2\""}) {
        auto j = nlohmann::json::parse(ll::testing::fileBytes(run / "data.json"));
        j["decimals"] = nlohmann::json::parse(bad);
        ASSERT_TRUE(ll::writeFileAtomic(run / "data.json", j.dump()));
        back = ll::readRunData(run);
        ASSERT_TRUE(back) << bad << ": " << back.error().message;
        EXPECT_TRUE(back->decimals.empty()) << bad;
    }
}
