// Charts as PNG (image/chart.h): the sizes asked for, the data drawn, bad data refused.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

#include "clirun.h"
#include "image/chart.h"

namespace {

namespace fs = std::filesystem;
using ll::testing::fileBytes;

/// Width and height from a PNG's IHDR chunk; {0, 0} when the bytes are no PNG.
std::pair<std::uint32_t, std::uint32_t> pngSize(const std::string& bytes) {
    if (bytes.size() < 24 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 ||
        bytes.compare(12, 4, "IHDR") != 0)
        return {0, 0};
    auto be32 = [&](std::size_t at) {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(bytes[at + i]);
        return v;
    };
    return {be32(16), be32(20)};
}

ll::chart::LineChart curve() {
    ll::chart::LineChart c;
    c.title = "Learning curve";
    c.xLabel = "training images per class";
    c.yLabel = "accuracy";
    c.logX = true;
    c.series.push_back({"logistic", {10, 100, 1000}, {0.5, 0.7, 0.85}, {}, {}, true});
    c.series.push_back({"naive Bayes", {10, 100, 1000}, {0.6, 0.68, 0.7}, {}, {}, true});
    return c;
}

class Chart : public ::testing::Test {
protected:
    fs::path dir = ll::testing::scratchFolder("chart");
};

TEST_F(Chart, LineChartIsAPngOfTheSizeAsked) {
    ASSERT_TRUE(ll::chart::writeLineChart(curve(), dir / "a.png", 640, 400));
    EXPECT_EQ(pngSize(fileBytes(dir / "a.png")), std::make_pair(640u, 400u));
}

TEST_F(Chart, WhatIsDrawnChangesThePicture) {
    auto c = curve();
    ASSERT_TRUE(ll::chart::writeLineChart(c, dir / "plain.png"));
    c.series[0].low = {0.4, 0.65, 0.83};
    c.series[0].high = {0.6, 0.75, 0.87};
    c.markers.push_back({100, 0.69, "crossing"});
    ASSERT_TRUE(ll::chart::writeLineChart(c, dir / "band.png"));
    ASSERT_TRUE(ll::chart::writeLineChart(curve(), dir / "again.png"));
    EXPECT_NE(fileBytes(dir / "plain.png"), fileBytes(dir / "band.png"));
    EXPECT_EQ(fileBytes(dir / "plain.png"), fileBytes(dir / "again.png"));
}

TEST_F(Chart, BadDataIsRefusedWithItsReason) {
    auto c = curve();
    c.series[1].y.pop_back();
    auto r = ll::chart::writeLineChart(c, dir / "x.png");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("naive Bayes"), std::string::npos) << r.error().message;

    c = curve();
    c.series[0].x[0] = 0;
    r = ll::chart::writeLineChart(c, dir / "x.png");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("log axis"), std::string::npos) << r.error().message;

    EXPECT_FALSE(ll::chart::writeLineChart({}, dir / "x.png"));
    EXPECT_FALSE(ll::chart::writeBarChart({"t", "", "", {"a", "b"}, {1.0}, -1}, dir / "x.png"));
    EXPECT_FALSE(fs::exists(dir / "x.png"));
}

TEST_F(Chart, BarsAndHeatmaps) {
    ll::chart::BarChart bars{"Per-class error", "class", "error", {"T-shirt", "Trouser", "Bag"},
                             {0.3, 0.1, 0.5},   1};
    ASSERT_TRUE(ll::chart::writeBarChart(bars, dir / "bars.png", 500, 300));
    EXPECT_EQ(pngSize(fileBytes(dir / "bars.png")), std::make_pair(500u, 300u));
    bars.highlight = 2;
    ASSERT_TRUE(ll::chart::writeBarChart(bars, dir / "bars2.png", 500, 300));
    EXPECT_NE(fileBytes(dir / "bars.png"), fileBytes(dir / "bars2.png"));

    ll::chart::Heatmap confusion{"Confusion",      "true", "predicted", {"a", "b"}, {"a", "b"},
                                 {{9, 1}, {2, 8}}, 0};
    ASSERT_TRUE(ll::chart::writeHeatmap(confusion, dir / "confusion.png", 300, 300));
    EXPECT_EQ(pngSize(fileBytes(dir / "confusion.png")), std::make_pair(300u, 300u));
    confusion.values[0].pop_back();
    EXPECT_FALSE(ll::chart::writeHeatmap(confusion, dir / "bad.png"));
}

TEST_F(Chart, GroupedBarsWithWhiskers) {
    ll::chart::GroupedBarChart c{
        .title = "Rebalancing",
        .yLabel = "score",
        .groups = {"minority recall", "balanced accuracy"},
        .series = {{"none", {0.6, 0.8}, {0.02, 0.01}}, {"smote", {0.8, 0.85}, {0.05, 0.03}}}};
    ASSERT_TRUE(ll::chart::writeGroupedBarChart(c, dir / "grouped.png", 600, 360));
    EXPECT_EQ(pngSize(fileBytes(dir / "grouped.png")), std::make_pair(600u, 360u));
    // The whiskers are drawn: without them the picture differs.
    auto plain = c;
    for (auto& s : plain.series) s.errors.clear();
    ASSERT_TRUE(ll::chart::writeGroupedBarChart(plain, dir / "plain.png", 600, 360));
    EXPECT_NE(fileBytes(dir / "grouped.png"), fileBytes(dir / "plain.png"));
    // A missing value (NaN) draws no bar; a series of another length is refused by name.
    c.series[1].values[0] = std::numeric_limits<double>::quiet_NaN();
    EXPECT_TRUE(ll::chart::writeGroupedBarChart(c, dir / "gap.png"));
    c.series[1].values.pop_back();
    auto bad = ll::chart::writeGroupedBarChart(c, dir / "bad.png");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("smote"), std::string::npos) << bad.error().message;
    EXPECT_FALSE(ll::chart::writeGroupedBarChart({}, dir / "bad.png"));
    EXPECT_FALSE(fs::exists(dir / "bad.png"));
}

}  // namespace
