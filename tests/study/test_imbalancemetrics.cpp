// The imbalance lab's scores against scikit-learn and imbalanced-learn on fixed predictions
// (tests/study/reference/imblearn_reference.py wrote fixtures/imblearn_metrics.json): per-class
// recall, precision and F1, accuracy, balanced accuracy, macro F1, G-mean, minority recall and
// the minority AUROC, to 1e-9; cases with a class never predicted, a class predicted but never
// true, a class absent from both, and tied scores. And the refusals of input that scores
// nothing.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "study/imbalancemetrics.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kTolerance = 1e-9;

const json& reference() {
    static const json j = [] {
        std::ifstream in(fs::path(LATENTLAB_TEST_DATA) / "study/fixtures/imblearn_metrics.json");
        return json::parse(in);
    }();
    return j;
}

void expectSame(const std::vector<double>& got, const json& want, const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (std::size_t i = 0; i < got.size(); ++i)
        EXPECT_NEAR(got[i], want[i].get<double>(), kTolerance) << what << " [" << i << "]";
}

// A value or null (NaN on our side).
void expectSameOrNaN(double got, const json& want, const std::string& what) {
    if (want.is_null())
        EXPECT_TRUE(std::isnan(got)) << what << ": " << got << " where sklearn has none";
    else
        EXPECT_NEAR(got, want.get<double>(), kTolerance) << what;
}

ll::ImbalanceScores scoresOf(const json& c) {
    auto s = ll::imbalanceScores(c["labels"].get<std::vector<int>>(),
                                 c["predictions"].get<std::vector<int>>(), c["classes"].get<int>(),
                                 c["minority"].get<std::vector<int>>(),
                                 c["probabilities"].get<std::vector<std::vector<double>>>());
    EXPECT_TRUE(s) << s.error().message;
    return s ? *s : ll::ImbalanceScores{};
}

TEST(ImbalanceMetrics, MatchSklearnAndImblearn) {
    ASSERT_GE(reference()["cases"].size(), 8u);
    for (const auto& c : reference()["cases"]) {
        const std::string name = c["name"];
        SCOPED_TRACE(name);
        const auto s = scoresOf(c);
        expectSame(s.recall, c["recall"], "recall");
        expectSame(s.precision, c["precision"], "precision");
        expectSame(s.f1, c["f1"], "f1");
        EXPECT_EQ(s.support, c["support"].get<std::vector<std::int64_t>>());
        EXPECT_NEAR(s.accuracy, c["accuracy"].get<double>(), kTolerance);
        EXPECT_NEAR(s.balancedAccuracy, c["balanced_accuracy"].get<double>(), kTolerance);
        EXPECT_NEAR(s.macroF1, c["macro_f1"].get<double>(), kTolerance);
        EXPECT_NEAR(s.gMean, c["gmean"].get<double>(), kTolerance);
        expectSameOrNaN(s.minorityRecall, c["minority_recall"], "minority recall");
        expectSameOrNaN(s.minorityAuroc, c["minority_auroc"], "minority AUROC");
    }
}

const json& caseNamed(const std::string& name) {
    for (const auto& c : reference()["cases"])
        if (c["name"] == name) return c;
    ADD_FAILURE() << "no fixture case " << name;
    static const json none;
    return none;
}

// The fixture covers what the header promises about missing classes.
TEST(ImbalanceMetrics, MissingClassesAreHandledAsTheLibrariesDo) {
    // Never predicted: recall 0, so the G-mean is 0, while balanced accuracy is not.
    auto never = scoresOf(caseNamed("never_predicted"));
    EXPECT_EQ(never.recall[7], 0.0);
    EXPECT_EQ(never.precision[7], 0.0);
    EXPECT_EQ(never.gMean, 0.0);
    EXPECT_GT(never.balancedAccuracy, 0.5);
    // Predicted but never true: balanced accuracy leaves class 4 out, the G-mean does not.
    auto ghost = scoresOf(caseNamed("predicted_not_true"));
    EXPECT_EQ(ghost.support[4], 0);
    EXPECT_EQ(ghost.gMean, 0.0);
    double mean = 0;
    for (int c = 0; c < 4; ++c) mean += ghost.recall[static_cast<std::size_t>(c)] / 4;
    EXPECT_NEAR(ghost.balancedAccuracy, mean, 1e-15);
    // Neither: class 5 is in no average.
    auto absent = scoresOf(caseNamed("absent_class"));
    EXPECT_EQ(absent.f1[5], 0.0);
    EXPECT_GT(absent.gMean, 0.5);
    EXPECT_TRUE(std::isnan(absent.minorityAuroc));  // no probabilities given
    // Every minority class without true rows: no minority recall, no AUROC.
    auto gone = scoresOf(caseNamed("minority_absent"));
    EXPECT_TRUE(std::isnan(gone.minorityRecall));
    EXPECT_TRUE(std::isnan(gone.minorityAuroc));
    auto perfect = scoresOf(caseNamed("perfect"));
    EXPECT_EQ(perfect.gMean, 1.0);
    EXPECT_EQ(perfect.macroF1, 1.0);
}

TEST(ImbalanceMetrics, NoMinorityGivesNaN) {
    auto s = ll::imbalanceScores({0, 1, 1, 0}, {0, 1, 0, 0}, 2);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_TRUE(std::isnan(s->minorityRecall));
    EXPECT_TRUE(std::isnan(s->minorityAuroc));
    EXPECT_DOUBLE_EQ(s->accuracy, 0.75);
    EXPECT_DOUBLE_EQ(s->balancedAccuracy, 0.75);
}

TEST(ImbalanceMetrics, RefusesInputThatScoresNothing) {
    const auto refused = [](const ll::Result<ll::ImbalanceScores>& s, const std::string& part) {
        ASSERT_FALSE(s) << "accepted; expected an error with \"" << part << "\"";
        EXPECT_NE(s.error().message.find(part), std::string::npos) << s.error().message;
    };
    refused(ll::imbalanceScores({0, 1}, {0}, 2), "2 labels but 1 predictions");
    refused(ll::imbalanceScores({}, {}, 2), "no samples");
    refused(ll::imbalanceScores({0, 2}, {0, 1}, 2), "label 1 is 2, outside 0..1");
    refused(ll::imbalanceScores({0, 1}, {0, -1}, 2), "prediction 1 is -1");
    refused(ll::imbalanceScores({0, 1}, {0, 1}, 2, {3}), "minority class 0 is 3");
    refused(ll::imbalanceScores({0, 1}, {0, 1}, 2, {1}, {{0.5, 0.5}}),
            "1 rows of probabilities for 2 samples");
    refused(ll::imbalanceScores({0, 1}, {0, 1}, 2, {1}, {{0.5, 0.5}, {1.0}}),
            "probability row 1 has 1 values for 2 classes");
    refused(ll::imbalanceScores({0, 1}, {0, 1}, 2, {1}, {{0.5, 0.5}, {NAN, 0.5}}),
            "probability row 1 has a value that is not a finite number");
    refused(ll::imbalanceScores({0}, {0}, 0), "at least one class");
}

}  // namespace
