// The classic classifiers of the learning-curve study against scikit-learn on the same
// features (fixtures written by reference/sklearn_reference.py): each of our nb, gda, qda and
// logistic fits with sklearn's settings and must reach sklearn's held-out accuracy to within
// one point and agree with its predictions; then bad input.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "study/classicclassifiers.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kFixtures = fs::path(LATENTLAB_TEST_DATA) / "study" / "fixtures";

struct Part {
    ll::FeatureMatrix x;
    std::vector<int> y;
};

Part readPart(const json& j) {
    Part p;
    p.x.rows = static_cast<std::int64_t>(j["x"].size());
    p.x.cols = static_cast<std::int64_t>(j["x"][0].size());
    for (const auto& row : j["x"])
        for (const auto& v : row) p.x.values.push_back(v.get<float>());
    p.y = j["y"].get<std::vector<int>>();
    return p;
}

ll::ClassicSettings settingsOf(const json& s) {
    ll::ClassicSettings settings;
    settings.varSmoothing = s.value("var_smoothing", settings.varSmoothing);
    settings.shrinkage = s.value("shrinkage", settings.shrinkage);
    settings.c = s.value("c", settings.c);
    settings.maxIterations = 2000;
    return settings;
}

class SklearnMatch : public ::testing::TestWithParam<std::string> {};

TEST_P(SklearnMatch, AccuracyWithinOnePointAndSamePredictions) {
    std::ifstream in(kFixtures / ("sklearn_" + GetParam() + ".json"));
    ASSERT_TRUE(in) << "missing fixture " << GetParam();
    const json doc = json::parse(in);
    const Part train = readPart(doc["train"]), test = readPart(doc["test"]);
    const int classes = doc["classes"].get<int>();
    ASSERT_FALSE(doc["results"].empty());
    for (const auto& r : doc["results"]) {
        const std::string name = r["method"].get<std::string>();
        SCOPED_TRACE(GetParam() + " " + name + " " + r["settings"].dump());
        auto method = ll::parseClassicMethod(name);
        ASSERT_TRUE(method) << method.error().message;
        auto fitted = ll::ClassicClassifier::fit(*method, train.x, train.y, classes,
                                                 settingsOf(r["settings"]));
        ASSERT_TRUE(fitted) << fitted.error().message;
        auto accuracy = fitted->accuracy(test.x, test.y);
        ASSERT_TRUE(accuracy) << accuracy.error().message;
        EXPECT_NEAR(*accuracy, r["accuracy"].get<double>(), 0.01);
        auto predicted = fitted->predict(test.x);
        ASSERT_TRUE(predicted);
        const auto theirs = r["predictions"].get<std::vector<int>>();
        ASSERT_EQ(predicted->size(), theirs.size());
        std::size_t same = 0;
        for (std::size_t i = 0; i < theirs.size(); ++i) same += (*predicted)[i] == theirs[i];
        EXPECT_GE(static_cast<double>(same) / theirs.size(), 0.99);
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SklearnMatch,
                         ::testing::Values("wine", "breast_cancer", "digits_pixels", "digits_pca"));

// Two Gaussian blobs, a few rows each, in two features.
Part blobs() {
    Part p{.x = {.rows = 8, .cols = 2}};
    p.x.values = {0, 0, 1, 0, 0, 1, 1, 1, 5, 5, 6, 5, 5, 6, 6, 6};
    p.y = {0, 0, 0, 0, 1, 1, 1, 1};
    return p;
}

TEST(ClassicClassifiers, ScoresAreJointLogLikelihoods) {
    // Naive Bayes by hand: class 0's mean (0.5, 0.5), variances 0.25, prior 1/2.
    const Part p = blobs();
    auto nb = ll::ClassicClassifier::fit(ll::ClassicMethod::NaiveBayes, p.x, p.y, 2);
    ASSERT_TRUE(nb);
    auto s = nb->scores(ll::FeatureMatrix{.rows = 1, .cols = 2, .values = {0.5f, 0.5f}});
    ASSERT_TRUE(s);
    const double expected = std::log(0.5) - 2 * 0.5 * std::log(2 * M_PI * 0.25);
    EXPECT_NEAR(s->at(0, 0), expected, 1e-5);
    EXPECT_LT(s->at(0, 1), s->at(0, 0));
    for (auto m : {ll::ClassicMethod::Gda, ll::ClassicMethod::Qda, ll::ClassicMethod::Logistic}) {
        auto fitted = ll::ClassicClassifier::fit(m, p.x, p.y, 2);
        ASSERT_TRUE(fitted) << ll::classicMethodName(m);
        EXPECT_EQ(*fitted->accuracy(p.x, p.y), 1.0) << ll::classicMethodName(m);
    }
}

TEST(ClassicClassifiers, NamesRoundTrip) {
    for (auto m : {ll::ClassicMethod::NaiveBayes, ll::ClassicMethod::Gda, ll::ClassicMethod::Qda,
                   ll::ClassicMethod::Logistic})
        EXPECT_EQ(*ll::parseClassicMethod(ll::classicMethodName(m)), m);
    auto bad = ll::parseClassicMethod("svm");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("nb, gda, qda or logistic"), std::string::npos);
    EXPECT_TRUE(ll::isGenerative(ll::ClassicMethod::Qda));
    EXPECT_FALSE(ll::isGenerative(ll::ClassicMethod::Logistic));
}

TEST(ClassicClassifiers, BadInputIsAClearError) {
    const auto error = [](const Part& p, int classes, ll::ClassicSettings s = {}) {
        auto r = ll::ClassicClassifier::fit(ll::ClassicMethod::Gda, p.x, p.y, classes, s);
        return r ? std::string() : r.error().message;
    };
    Part p = blobs();
    EXPECT_NE(error(p, 3).find("class 2 has 0 training rows"), std::string::npos);
    Part one = p;
    one.y.assign(8, 0);
    EXPECT_NE(error(one, 1).find("at least two classes"), std::string::npos);
    Part outOfRange = p;
    outOfRange.y[0] = 7;
    EXPECT_NE(error(outOfRange, 2).find("label 7"), std::string::npos);
    Part nan = p;
    nan.x.values[3] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_NE(error(nan, 2).find("not a finite number"), std::string::npos);
    Part shortRows = p;
    shortRows.x.values.pop_back();
    EXPECT_NE(error(shortRows, 2).find("feature matrix"), std::string::npos);
    EXPECT_NE(error(p, 2, {.shrinkage = 2}).find("shrinkage"), std::string::npos);
    auto fitted = ll::ClassicClassifier::fit(ll::ClassicMethod::Logistic, p.x, p.y, 2);
    ASSERT_TRUE(fitted);
    auto wrongWidth = fitted->predict(ll::FeatureMatrix{.rows = 1, .cols = 3, .values = {1, 2, 3}});
    ASSERT_FALSE(wrongWidth);
    EXPECT_NE(wrongWidth.error().message.find("3 features"), std::string::npos);
}

}  // namespace
