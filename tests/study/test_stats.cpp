// The statistics of the studies against scikit-learn and SciPy on fixed numbers
// (tests/study/reference/stats_reference.py wrote fixtures/stats_reference.json): ROC and PR
// curves with their areas, the pooled t-test and its p-value, the incomplete beta function,
// percentiles; and the errors for input no curve can be drawn from.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "study/stats.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const json& reference() {
    static const json j = [] {
        std::ifstream in(fs::path(LATENTLAB_TEST_DATA) / "study/fixtures/stats_reference.json");
        return json::parse(in);
    }();
    return j;
}

std::vector<bool> labels(const json& values) {
    std::vector<bool> out;
    for (const auto& v : values) out.push_back(v.get<int>() != 0);
    return out;
}

void expectSame(const std::vector<double>& got, const json& want, const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (std::size_t i = 0; i < got.size(); ++i)
        EXPECT_NEAR(got[i], want[i].get<double>(), 1e-12) << what << " [" << i << "]";
}

TEST(Stats, RocCurveAndAurocMatchSklearn) {
    for (const auto& c : reference()["curves"]) {
        const auto scores = c["scores"].get<std::vector<double>>();
        const auto positive = labels(c["positive"]);
        auto roc = ll::stats::rocCurve(scores, positive);
        ASSERT_TRUE(roc) << roc.error().message;
        const std::string name = c["name"];
        expectSame(roc->fpr, c["fpr"], name + " fpr");
        expectSame(roc->tpr, c["tpr"], name + " tpr");
        EXPECT_NEAR(roc->auc, c["auroc"].get<double>(), 1e-12) << name;
        EXPECT_NEAR(*ll::stats::auroc(scores, positive), c["auroc"].get<double>(), 1e-12);
    }
}

TEST(Stats, PrCurveAndAveragePrecisionMatchSklearn) {
    for (const auto& c : reference()["curves"]) {
        auto pr = ll::stats::prCurve(c["scores"].get<std::vector<double>>(), labels(c["positive"]));
        ASSERT_TRUE(pr) << pr.error().message;
        const std::string name = c["name"];
        expectSame(pr->precision, c["precision"], name + " precision");
        expectSame(pr->recall, c["recall"], name + " recall");
        EXPECT_NEAR(pr->averagePrecision, c["average_precision"].get<double>(), 1e-12) << name;
    }
}

TEST(Stats, TTestMatchesScipyTtestInd) {
    for (const auto& c : reference()["ttests"]) {
        auto t = ll::stats::studentTTest(c["a"].get<std::vector<double>>(),
                                         c["b"].get<std::vector<double>>());
        ASSERT_TRUE(t) << t.error().message;
        const std::string name = c["name"];
        EXPECT_NEAR(t->t, c["t"].get<double>(), 1e-10 * std::max(1.0, std::abs(t->t))) << name;
        EXPECT_EQ(t->df, c["df"].get<double>()) << name;
        EXPECT_NEAR(t->p, c["p"].get<double>(), 1e-12 + 1e-9 * c["p"].get<double>()) << name;
    }
    // The paper's shape: ten seeds against ten, 18 degrees of freedom.
    EXPECT_EQ(reference()["ttests"][0]["df"].get<int>(), 18);
}

TEST(Stats, IncompleteBetaAndTDistributionMatchScipy) {
    for (const auto& c : reference()["betainc"])
        EXPECT_NEAR(ll::stats::incompleteBeta(c["a"], c["b"], c["x"]), c["value"].get<double>(),
                    1e-13)
            << c.dump();
    for (const auto& c : reference()["t_cdf"])
        EXPECT_NEAR(ll::stats::studentTCdf(c["t"], c["df"]), c["value"].get<double>(), 1e-13)
            << c.dump();
}

TEST(Stats, PercentileMeanAndSdMatchNumpy) {
    const auto values = reference()["percentile_values"].get<std::vector<double>>();
    for (const auto& c : reference()["percentiles"])
        EXPECT_NEAR(ll::stats::percentile(values, c["q"]), c["value"].get<double>(), 1e-12)
            << c.dump();
    const auto& s = reference()["sd"];
    const auto v = s["values"].get<std::vector<double>>();
    EXPECT_NEAR(ll::stats::mean(v), s["mean"].get<double>(), 1e-14);
    EXPECT_NEAR(ll::stats::sd(v), s["sd"].get<double>(), 1e-14);
    EXPECT_TRUE(std::isnan(ll::stats::mean({})));
    EXPECT_EQ(ll::stats::sd({3.0}), 0);
}

TEST(Stats, RefusesWhatNoCurveOrTestCanUse) {
    auto oneKind = ll::stats::rocCurve({0.1, 0.2, 0.3}, {true, true, true});
    ASSERT_FALSE(oneKind);
    EXPECT_NE(oneKind.error().message.find("positive and negative"), std::string::npos);
    auto sizes = ll::stats::prCurve({0.1, 0.2}, {true});
    ASSERT_FALSE(sizes);
    EXPECT_NE(sizes.error().message.find("2 scores but 1 labels"), std::string::npos);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto notFinite = ll::stats::auroc({0.1, nan}, {true, false});
    ASSERT_FALSE(notFinite);
    EXPECT_NE(notFinite.error().message.find("score 1"), std::string::npos);
    auto tooFew = ll::stats::studentTTest({1.0}, {1.0, 2.0});
    ASSERT_FALSE(tooFew);
    EXPECT_NE(tooFew.error().message.find("two values"), std::string::npos);
    // Constant samples: no spread to divide by, yet a definite answer.
    auto same = ll::stats::studentTTest({2.0, 2.0}, {2.0, 2.0, 2.0});
    ASSERT_TRUE(same);
    EXPECT_EQ(same->t, 0);
    EXPECT_EQ(same->p, 1);
    auto apart = ll::stats::studentTTest({3.0, 3.0}, {2.0, 2.0});
    ASSERT_TRUE(apart);
    EXPECT_TRUE(std::isinf(apart->t) && apart->t > 0);
    EXPECT_EQ(apart->p, 0);
}

}  // namespace
