// A table's text columns of a few repeated values (colour, country, kind) are categories: a
// feature per value (one-hot), decoded back to their text wherever rows leave as a table, and
// matched by value, not position, when another file meets a run's standardisation.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include "common/atomicfile.h"
#include "common/table.h"
#include "data/csv.h"
#include "data/transforms.h"

namespace fs = std::filesystem;

namespace {

fs::path tableFile(const std::string& name, const std::string& text) {
    const fs::path dir =
        fs::temp_directory_path() / ("latentlab-test-categories-" + std::to_string(getpid()));
    fs::create_directories(dir);
    EXPECT_TRUE(ll::writeFileAtomic(dir / name, text));
    return dir / name;
}

// Rows in original units, as doubles.
std::vector<std::vector<double>> original(const ll::Dataset& d) {
    const auto x =
        (d.x.to(torch::kFloat64) * d.std.to(torch::kFloat64) + d.mean.to(torch::kFloat64))
            .contiguous();
    std::vector<std::vector<double>> rows;
    for (std::int64_t i = 0; i < x.size(0); ++i) {
        rows.emplace_back();
        for (std::int64_t j = 0; j < x.size(1); ++j) rows.back().push_back(x[i][j].item<double>());
    }
    return rows;
}

// Twelve rows: a length, a colour of three values, a name each (no category), a size of one
// value, a kind (the label).
std::string garments() {
    std::string text = "length,colour,name,size,kind\n";
    const char* colours[] = {"red", "green", "blue", "green"};
    for (int i = 0; i < 12; ++i)
        text += std::to_string(10 + i) + "," + colours[i % 4] + ",g" + std::to_string(i) + ",M," +
                (i % 2 ? "coat" : "shirt") + "\n";
    return text;
}

}  // namespace

TEST(CsvCategories, AColumnOfAFewRepeatedValuesIsAFeaturePerValue) {
    auto d = ll::readCsv(tableFile("garments.csv", garments()), "");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->featureNames,
              (std::vector<std::string>{"length", "colour=blue", "colour=green", "colour=red"}));
    ASSERT_EQ(d->categorical.size(), 1u);
    EXPECT_EQ(d->categorical[0].column, "colour");
    EXPECT_EQ(d->categorical[0].first, 1u);
    EXPECT_EQ(d->categorical[0].values, (std::vector<std::string>{"blue", "green", "red"}));
    EXPECT_EQ(d->note,
              "left out text columns that are no categories: 'name' ('g0' on line 2, 12 values "
              "in 12 rows), 'size' ('M' on line 2, in every row); read as categories, a feature "
              "each: 'colour' (blue, green, red)");
    // Row 0 is red, row 1 green, row 2 blue: a 1 in its value's feature, 0 in the others.
    const auto rows = original(*d);
    const std::vector<std::vector<double>> first = {
        {10, 0, 0, 1}, {11, 0, 1, 0}, {12, 1, 0, 0}, {13, 0, 1, 0}};
    for (std::size_t i = 0; i < first.size(); ++i)
        for (std::size_t j = 0; j < 4; ++j) EXPECT_NEAR(rows[i][j], first[i][j], 1e-5) << i << j;
    // Standardised like any feature: mean 0, unit variance.
    EXPECT_LT(d->x.mean(0).abs().max().item<float>(), 1e-5f);
}

TEST(CsvCategories, RowsGoBackToTheirCategoriesAndReadBackTheSame) {
    const fs::path file = tableFile("round.csv", garments());
    auto d = ll::readCsv(file, "");
    ASSERT_TRUE(d) << d.error().message;
    // A model's rows are not exactly one-hot: the largest feature of the column names it.
    auto rows = d->x.clone();
    rows[0][3] -= 0.2;
    rows[1].narrow(0, 1, 3).mul_(0.4);
    const auto table = ll::makeTable(rows, d->y, d->featureNames, d->meanVector(), d->stdVector(),
                                     d->classNames, d->categorical);
    EXPECT_EQ(table.columns, (std::vector<std::string>{"length", "colour"}));
    ASSERT_TRUE(table.categorical(1));
    EXPECT_FALSE(table.categorical(0));
    EXPECT_EQ(table.text(0, 1), "red");
    EXPECT_EQ(table.text(1, 1), "green");
    EXPECT_EQ(table.text(2, 1), "blue");
    EXPECT_EQ(table.text(0, 0), "10");
    // Amounts keep their whole digits, in the window (4 significant) and in CSV (6).
    const ll::TableSamples amounts{.columns = {"income"},
                                   .levels = {{}},
                                   .classNames = {"a"},
                                   .rows = 2,
                                   .values = {25065.4, 1234567.0},
                                   .labels = {0, 0}};
    EXPECT_EQ(amounts.text(0, 0, 4), "25065");
    EXPECT_EQ(amounts.text(0, 0), "25065.4");
    EXPECT_EQ(amounts.text(1, 0), "1234567");
    const ll::TableSamples edge{.columns = {"x"},
                                .levels = {{}},
                                .classNames = {"a"},
                                .rows = 1,
                                .values = {9999.7},
                                .labels = {0}};
    EXPECT_EQ(edge.text(0, 0, 4), "10000");
    EXPECT_EQ(ll::tableCsvHeader(table), "length,colour,class\n");
    EXPECT_EQ(ll::tableCsvRow(table, 1), "11,green,coat\n");

    // Written and read again: the same features, the same rows.
    const fs::path again = file.parent_path() / "again.csv";
    ASSERT_TRUE(ll::writeTableCsv(table, again));
    auto back = ll::readCsv(again, "");
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->featureNames, d->featureNames);
    EXPECT_EQ(back->categorical[0].values, d->categorical[0].values);
    EXPECT_TRUE(torch::allclose(back->x, d->x, 1e-4, 1e-4));
    EXPECT_EQ(back->note, "read as categories, a feature each: 'colour' (blue, green, red)");
}

TEST(CsvCategories, AnotherFileMeetsTheRunsCategoriesByValue) {
    auto run = ll::readCsv(tableFile("run.csv", garments()), "");
    ASSERT_TRUE(run) << run.error().message;
    // Held-out rows that never take blue: their features are fewer, matched by name.
    auto held =
        ll::readCsv(tableFile("held.csv",
                              "length,colour,kind\n30,red,coat\n31,green,shirt\n32,red,coat\n"
                              "33,green,shirt\n"),
                    "");
    ASSERT_TRUE(held) << held.error().message;
    ASSERT_EQ(held->featureNames.size(), 3u);
    auto moved = ll::restandardise(*held, run->featureNames, run->meanVector(), run->stdVector(),
                                   run->categorical);
    ASSERT_TRUE(moved) << moved.error().message;
    EXPECT_EQ(moved->featureNames, run->featureNames);
    EXPECT_EQ(moved->x.size(1), 4);
    const auto rows = original(*moved);
    const std::vector<std::vector<double>> expected = {{30, 0, 0, 1}, {31, 0, 1, 0}};
    for (std::size_t i = 0; i < expected.size(); ++i)
        for (std::size_t j = 0; j < 4; ++j) EXPECT_NEAR(rows[i][j], expected[i][j], 1e-4) << i << j;

    // A colour the run never saw is refused by name, not read as another.
    auto unseen =
        ll::readCsv(tableFile("unseen.csv",
                              "length,colour,kind\n30,red,coat\n31,pink,shirt\n32,red,coat\n"
                              "33,pink,shirt\n"),
                    "");
    ASSERT_TRUE(unseen) << unseen.error().message;
    auto refused = ll::restandardise(*unseen, run->featureNames, run->meanVector(),
                                     run->stdVector(), run->categorical);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find(
                  "column 'colour' takes 'pink', a value the run never saw (its values: blue, "
                  "green, red)"),
              std::string::npos)
        << refused.error().message;

    // A file whose colour is one value throughout has no categories to match: refused, not
    // read as rows of no colour.
    auto single =
        ll::readCsv(tableFile("single.csv", "length,colour,kind\n30,red,coat\n31,red,shirt\n"), "");
    ASSERT_TRUE(single) << single.error().message;
    auto lost = ll::restandardise(*single, run->featureNames, run->meanVector(), run->stdVector(),
                                  run->categorical);
    ASSERT_FALSE(lost);
    EXPECT_NE(lost.error().message.find("has no column 'colour' read as categories, as the "
                                        "run's data had (left out text columns"),
              std::string::npos)
        << lost.error().message;
}

// A held-out file of a few rows, read the run's way (TableLayout): a colour of one value,
// a column the run never had, its own column order, numeric labels of another spelling and a
// class the run does not have are all what its own rows alone would have read otherwise.
TEST(CsvCategories, AFewHeldOutRowsAreReadTheRunsWay) {
    auto run = ll::readCsv(tableFile("run-way.csv", garments()), "");
    ASSERT_TRUE(run) << run.error().message;
    const ll::TableLayout like{run->featureNames, run->categorical, run->classNames};

    // On its own the one row loses its colour (one value); the run's way keeps it.
    const auto one = tableFile("one.csv", "colour,length,note,kind\nred,30,spare,coat\n");
    auto alone = ll::readCsv(one, "");
    ASSERT_TRUE(alone) << alone.error().message;
    EXPECT_EQ(alone->featureNames, (std::vector<std::string>{"length"}));
    auto held = ll::readCsv(one, "", &like);
    ASSERT_TRUE(held) << held.error().message;
    EXPECT_EQ(held->featureNames,
              (std::vector<std::string>{"colour=blue", "colour=green", "colour=red", "length"}));
    EXPECT_EQ(held->classNames, run->classNames);
    ASSERT_EQ(held->size(), 1);
    EXPECT_EQ(run->classNames[static_cast<std::size_t>(held->y[0].item<std::int64_t>())], "coat");
    EXPECT_NE(held->note.find("left out columns the run has no feature for: 'note'"),
              std::string::npos)
        << held->note;
    auto moved = ll::restandardise(*held, run->featureNames, run->meanVector(), run->stdVector(),
                                   run->categorical);
    ASSERT_TRUE(moved) << moved.error().message;
    const std::vector<double> expected = {30, 0, 0, 1};
    for (std::size_t j = 0; j < expected.size(); ++j)
        EXPECT_NEAR(original(*moved)[0][j], expected[j], 1e-4) << j;

    // A class the run does not have leaves its rows out, said; only such rows is refused.
    auto mixed = ll::readCsv(
        tableFile("mixed.csv", "length,colour,kind\n30,red,hat\n31,blue,shirt\n"), "", &like);
    ASSERT_TRUE(mixed) << mixed.error().message;
    EXPECT_EQ(mixed->size(), 1);
    EXPECT_NE(mixed->note.find("left out 1 of 2 rows of classes the run does not have ('hat'; "
                               "its classes: coat, shirt)"),
              std::string::npos)
        << mixed->note;
    auto hats = ll::readCsv(tableFile("hats.csv", "length,colour,kind\n30,red,hat\n"), "", &like);
    ASSERT_FALSE(hats);
    EXPECT_NE(hats.error().message.find("every row is of classes the run does not have"),
              std::string::npos)
        << hats.error().message;

    // A value the run never saw, or numbers where the run read categories, by name.
    auto pink = ll::readCsv(tableFile("pink.csv", "length,colour,kind\n30,pink,coat\n"), "", &like);
    ASSERT_FALSE(pink);
    EXPECT_NE(pink.error().message.find("column 'colour' takes 'pink', a value the run never saw "
                                        "(its values: blue, green, red)"),
              std::string::npos)
        << pink.error().message;
    auto numbered =
        ll::readCsv(tableFile("numbered.csv", "length,colour,kind\n30,3,coat\n"), "", &like);
    ASSERT_FALSE(numbered);
    EXPECT_NE(numbered.error().message.find("column 'colour' holds numbers (1 of its cells); the "
                                            "run read it as categories"),
              std::string::npos)
        << numbered.error().message;
    // Text where the run has numbers is refused by line, not left out.
    auto worded =
        ll::readCsv(tableFile("worded.csv", "length,colour,kind\nlong,red,coat\n"), "", &like);
    ASSERT_FALSE(worded);
    EXPECT_NE(worded.error().message.find("line 2, column 'length': 'long' is not a number"),
              std::string::npos)
        << worded.error().message;

    // Numeric classes meet the run's by value: "2.0" is the run's "2".
    auto numeric = ll::readCsv(tableFile("numeric.csv", "a,b,y\n1,2,0\n2,3,1\n3,1,2\n4,4,1\n"), "");
    ASSERT_TRUE(numeric) << numeric.error().message;
    const ll::TableLayout numericLike{numeric->featureNames, {}, numeric->classNames};
    auto spelt = ll::readCsv(tableFile("spelt.csv", "a,b,y\n1,2,2.0\n"), "", &numericLike);
    ASSERT_TRUE(spelt) << spelt.error().message;
    EXPECT_EQ(spelt->classNames, numeric->classNames);
    EXPECT_EQ(spelt->y[0].item<std::int64_t>(), 2);
}

TEST(CsvCategories, ManyValuesOrGapsAreSaidAndTheHeaderIsNoValue) {
    // More distinct values than categories may have: left out, said.
    std::string many = "x,code,label\n";
    for (int i = 0; i < 200; ++i)
        many +=
            std::to_string(i) + ",c" + std::to_string(i % 60) + "," + (i % 2 ? "a" : "b") + "\n";
    auto wide = ll::readCsv(tableFile("many.csv", many), "");
    ASSERT_TRUE(wide) << wide.error().message;
    EXPECT_EQ(wide->featureNames, (std::vector<std::string>{"x"}));
    EXPECT_NE(wide->note.find("'code' ('c0' on line 2, over 50 values in 200 rows)"),
              std::string::npos)
        << wide->note;
    // Fifty values are categories still, though the header's word took a place among them
    // until the rows said it was the header ("n" over a gap).
    std::string fifty = "code,n,label\n";
    for (int i = 0; i < 100; ++i)
        fifty += "c" + std::to_string(i % 50) + "," + (i == 0 ? "NA" : std::to_string(i)) + "," +
                 (i % 2 ? "a" : "b") + "\n";
    auto most = ll::readCsv(tableFile("fifty.csv", fifty), "");
    ASSERT_TRUE(most) << most.error().message;
    ASSERT_EQ(most->categorical.size(), 1u);
    EXPECT_EQ(most->categorical[0].values.size(), 50u);
    EXPECT_EQ(most->categorical[0].valueIndex("code"), -1);

    // A category missing in a row leaves the row out, as a missing number does; without a
    // header line's word among the values (the first row here is decided by the labels).
    auto gaps = ll::readCsv(
        tableFile("gaps.csv", "3,red,a\n4,NA,b\n5,blue,a\n6,red,b\n7,blue,a\n8,red,b\n"), "");
    ASSERT_TRUE(gaps) << gaps.error().message;
    EXPECT_EQ(gaps->featureNames, (std::vector<std::string>{"0", "1=blue", "1=red"}));
    EXPECT_EQ(gaps->size(), 5);
    // A header told only once the rows are read ("n" over a gap, "colour" over text): its
    // word is no value of the column.
    auto headed = ll::readCsv(tableFile("headed.csv",
                                        "colour,n,label\nred,NA,a\nred,4,b\nblue,5,a\nblue,6,b\n"
                                        "red,7,a\n"),
                              "");
    ASSERT_TRUE(headed) << headed.error().message;
    ASSERT_EQ(headed->categorical.size(), 1u);
    EXPECT_EQ(headed->categorical[0].values, (std::vector<std::string>{"blue", "red"}));
    EXPECT_EQ(headed->featureNames, (std::vector<std::string>{"colour=blue", "colour=red", "n"}));
    EXPECT_EQ(headed->size(), 4);
}
