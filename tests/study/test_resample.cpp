// The imbalance lab's resampling: the imbalanced training set has exactly the asked counts
// (a long tail, chosen minority shares) and refuses profiles it cannot meet; random under- and
// over-sampling leave imbalanced-learn's class counts with rows of the class's own; SMOTE's new
// rows lie on the segment between a row and one of its k nearest same-class rows (checked
// against sklearn's NearestNeighbors distances and recomputed here), in imblearn's numbers per
// class (fixtures/imblearn_sampling.json, written by reference/imblearn_reference.py).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "study/resample.h"

namespace fs = std::filesystem;
using nlohmann::json;
using torch::Tensor;

namespace {

const json& reference() {
    static const json j = [] {
        std::ifstream in(fs::path(LATENTLAB_TEST_DATA) / "study/fixtures/imblearn_sampling.json");
        return json::parse(in);
    }();
    return j;
}

std::vector<std::int64_t> vec(const Tensor& t) {
    const Tensor c = t.to(torch::kInt64).contiguous();
    return {c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel()};
}

// 600 rows of each of 10 classes, shuffled.
Tensor tenBalanced() {
    return torch::arange(10, torch::kInt64)
        .repeat_interleave(600)
        .index_select(0, torch::randperm(6000, torch::make_generator<torch::CPUGeneratorImpl>(3),
                                         torch::kInt64));
}

void expectSortedUnique(const Tensor& idx, std::int64_t n) {
    const auto v = vec(idx);
    ASSERT_FALSE(v.empty());
    EXPECT_TRUE(std::adjacent_find(v.begin(), v.end(), std::greater_equal<>()) == v.end())
        << "indices not sorted and unique";
    EXPECT_GE(v.front(), 0);
    EXPECT_LT(v.back(), n);
}

void expectRefused(const ll::Result<Tensor>& r, const std::string& message) {
    ASSERT_FALSE(r) << "accepted; expected \"" << message << "\"";
    EXPECT_EQ(r.error().message, message);
}

TEST(ImbalancedIndices, LongTailKeepsTheAskedCounts) {
    const Tensor y = tenBalanced();
    ll::ImbalanceProfile p{.kind = ll::ImbalanceProfile::Kind::LongTail, .ratio = 100};
    auto idx = ll::imbalancedIndices(y, 10, p, 1);
    ASSERT_TRUE(idx) << idx.error().message;
    expectSortedUnique(*idx, 6000);
    const std::vector<std::int64_t> want{600, 360, 216, 129, 77, 46, 28, 17, 10, 6};
    EXPECT_EQ(ll::classCounts(y.index_select(0, *idx), 10), want);
    // The same seed draws the same rows, another seed others.
    EXPECT_TRUE(torch::equal(*idx, *ll::imbalancedIndices(y, 10, p, 1)));
    EXPECT_FALSE(torch::equal(*idx, *ll::imbalancedIndices(y, 10, p, 2)));
    // An order puts the tail elsewhere.
    p.order = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
    auto reversed = ll::imbalancedIndices(y, 10, p, 1);
    ASSERT_TRUE(reversed) << reversed.error().message;
    auto counts = ll::classCounts(y.index_select(0, *reversed), 10);
    std::reverse(counts.begin(), counts.end());
    EXPECT_EQ(counts, want);
    EXPECT_EQ(ll::minorityClasses(counts, p), (std::vector<int>{0, 1, 2, 3}));
    p.order.clear();
    EXPECT_EQ(ll::minorityClasses(want, p), (std::vector<int>{6, 7, 8, 9}));
    // Ratio 1 keeps every row of a balanced set; n is the smallest class's count.
    p.ratio = 1;
    EXPECT_EQ(ll::imbalancedIndices(y, 10, p, 1)->size(0), 6000);
}

TEST(ImbalancedIndices, MinorityClassesMakeUpTheirShares) {
    const Tensor y = tenBalanced();
    ll::ImbalanceProfile p{.kind = ll::ImbalanceProfile::Kind::Minority,
                           .minority = {{3, 0.02}, {5, 0.02}}};
    auto idx = ll::imbalancedIndices(y, 10, p, 7);
    ASSERT_TRUE(idx) << idx.error().message;
    expectSortedUnique(*idx, 6000);
    // 4,800 other rows: round(0.02 x 4800 / 0.96) = 100 of each, 2 % of 5,000.
    const std::vector<std::int64_t> want{600, 600, 600, 100, 600, 100, 600, 600, 600, 600};
    EXPECT_EQ(ll::classCounts(y.index_select(0, *idx), 10), want);
    EXPECT_EQ(ll::minorityClasses(want, p), (std::vector<int>{3, 5}));
    // As is: every row, and the classes under half the largest.
    auto all = ll::imbalancedIndices(y, 10, {}, 7);
    ASSERT_TRUE(all);
    EXPECT_TRUE(torch::equal(*all, torch::arange(6000, torch::kInt64)));
    EXPECT_EQ(ll::minorityClasses(want, {}), (std::vector<int>{3, 5}));
    EXPECT_TRUE(ll::minorityClasses({10, 6, 5}, {}).empty());
}

TEST(ImbalancedIndices, RefusesProfilesItCannotMeet) {
    const Tensor y = tenBalanced();
    using Kind = ll::ImbalanceProfile::Kind;
    expectRefused(ll::imbalancedIndices(y, 10, {.kind = Kind::LongTail, .ratio = 0.5}, 1),
                  "a long tail's ratio must be a number of at least 1 (got 0.5)");
    expectRefused(ll::imbalancedIndices(
                      y, 10, {.kind = Kind::LongTail, .order = {0, 1, 2, 3, 4, 5, 6, 7, 8, 8}}, 1),
                  "a long tail's order names class 8 twice");
    expectRefused(ll::imbalancedIndices(y, 10, {.kind = Kind::LongTail, .order = {0, 1}}, 1),
                  "a long tail's order names 2 classes; the data has 10");
    expectRefused(ll::imbalancedIndices(y, 11, {.kind = Kind::LongTail}, 1),
                  "class 10 has no rows; a long tail needs rows of every class");
    expectRefused(ll::imbalancedIndices(y, 10, {.kind = Kind::Minority}, 1),
                  "a minority profile names no class");
    expectRefused(
        ll::imbalancedIndices(y, 10, {.kind = Kind::Minority, .minority = {{3, 0.00005}}}, 1),
        "class 3 would keep 0 rows: a share of 0.00005 beside other classes of 5400 rows "
        "rounds to none");
    expectRefused(ll::imbalancedIndices(y, 10, {.kind = Kind::Minority, .minority = {{3, 0.2}}}, 1),
                  "class 3 would need 1350 rows for a share of 0.2 but has 600");
    expectRefused(
        ll::imbalancedIndices(y, 10, {.kind = Kind::Minority, .minority = {{3, 0.6}, {4, 0.5}}}, 1),
        "the minority shares sum to 1.1; they must leave room for the other classes "
        "(sum below 1)");
    expectRefused(ll::imbalancedIndices(y, 10, {.kind = Kind::Minority, .minority = {{3, 1.5}}}, 1),
                  "class 3's minority share must lie between 0 and 1 (got 1.5)");
    expectRefused(
        ll::imbalancedIndices(y, 10, {.kind = Kind::Minority, .minority = {{12, 0.1}}}, 1),
        "minority class 12 is outside 0..9");
    expectRefused(ll::imbalancedIndices(
                      y, 10, {.kind = Kind::Minority, .minority = {{3, 0.01}, {3, 0.01}}}, 1),
                  "minority class 3 is named twice");
    const auto firstNine = torch::nonzero(y == 9)[0][0].item<std::int64_t>();
    expectRefused(ll::imbalancedIndices(y, 9, {}, 1),
                  "label 9 of row " + std::to_string(firstNine) + " is outside 0..8");
}

// The class counts of the rows `idx` picks are imblearn's.
void expectCounts(const Tensor& y, const Tensor& idx, int k, const json& want) {
    EXPECT_EQ(ll::classCounts(y.index_select(0, idx), k), want.get<std::vector<std::int64_t>>());
}

TEST(RandomSampling, CountsMatchImblearn) {
    for (const auto& c : reference()["random"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        const Tensor y = torch::tensor(c["labels"].get<std::vector<std::int64_t>>());
        const int k = c["classes"].get<int>();
        const auto n = y.size(0);
        for (std::uint64_t seed : {1, 2}) {
            const Tensor under = ll::randomUnderSample(y, k, seed);
            expectSortedUnique(under, n);  // so a subset of the rows, none twice
            expectCounts(y, under, k, c["under_auto"]);
            const auto target = c["under_dict"]["target"].get<std::vector<std::int64_t>>();
            const Tensor cut = ll::randomUnderSample(y, k, seed, target);
            expectSortedUnique(cut, n);
            expectCounts(y, cut, k, c["under_dict"]["counts"]);

            for (const auto& [t, want] :
                 {std::pair{std::vector<std::int64_t>{}, c["over_auto"]},
                  std::pair{c["over_dict"]["target"].get<std::vector<std::int64_t>>(),
                            c["over_dict"]["counts"]}}) {
                const Tensor over = ll::randomOverSample(y, k, seed, t);
                // The original rows first, in order; then copies, each a row of the class it
                // adds to (class counts of the copies alone are the targets minus the counts).
                EXPECT_TRUE(torch::equal(over.slice(0, 0, n), torch::arange(n, torch::kInt64)));
                expectCounts(y, over, k, want);
                const auto copies = vec(over.slice(0, n));
                EXPECT_TRUE(std::all_of(copies.begin(), copies.end(),
                                        [&](std::int64_t i) { return i >= 0 && i < n; }));
                const auto copyLabels = vec(y.index_select(0, over.slice(0, n)));
                EXPECT_TRUE(std::is_sorted(copyLabels.begin(), copyLabels.end()))
                    << "copies come class by class";
            }
        }
        EXPECT_FALSE(torch::equal(ll::randomUnderSample(y, k, 1), ll::randomUnderSample(y, k, 2)));
    }
    EXPECT_THROW(ll::randomUnderSample(torch::tensor({0, 1, 1}), 2, 1, {1}), c10::Error);
    EXPECT_THROW(ll::randomOverSample(torch::tensor({0, 0, 0}), 2, 1, {3, 3}), c10::Error);
    EXPECT_THROW(ll::randomOverSample(torch::tensor({0, 3}), 2, 1), c10::Error);
}

struct SmoteSet {
    Tensor x, y;
    int classes = 0, k = 0;
    std::vector<double> kth;
};

SmoteSet smoteSet(const json& c) {
    SmoteSet s;
    std::vector<double> flat;
    for (const auto& row : c["x"])
        for (const auto& v : row) flat.push_back(v.get<double>());
    const auto n = static_cast<std::int64_t>(c["x"].size());
    s.x = torch::tensor(flat, torch::kFloat64).reshape({n, -1});
    s.y = torch::tensor(c["labels"].get<std::vector<std::int64_t>>());
    s.classes = c["classes"].get<int>();
    s.k = c["k"].get<int>();
    s.kth = c["kth_distance"].get<std::vector<double>>();
    return s;
}

// Every new row against the geometry SMOTE promises; returns how often each neighbour rank
// (0 = nearest) was drawn.
std::vector<int> checkGeometry(const SmoteSet& s, const ll::SmoteResult& r) {
    const Tensor& x = s.x;
    const auto labels = vec(s.y), parents = vec(r.parents), ys = vec(r.y);
    const auto m = r.x.size(0);
    EXPECT_EQ(r.x.scalar_type(), torch::kFloat64);  // the input's
    EXPECT_EQ(r.parents.sizes(), (std::vector<std::int64_t>{m, 2}));
    EXPECT_EQ(r.gaps.size(0), m);
    EXPECT_GE(r.gaps.min().item<double>(), 0);
    EXPECT_LT(r.gaps.max().item<double>(), 1);
    // On the segment: x[i] + gap (x[j] - x[i]).
    const Tensor xi = x.index_select(0, r.parents.select(1, 0));
    const Tensor xj = x.index_select(0, r.parents.select(1, 1));
    const Tensor rebuilt = xi + r.gaps.unsqueeze(1) * (xj - xi);
    EXPECT_LT((r.x - rebuilt).abs().max().item<double>(), 1e-5);
    std::vector<int> ranks(static_cast<std::size_t>(s.k), 0);
    for (std::int64_t t = 0; t < m; ++t) {
        const auto i = parents[std::size_t(2 * t)], j = parents[std::size_t(2 * t + 1)];
        EXPECT_NE(i, j);
        EXPECT_EQ(labels[std::size_t(i)], ys[std::size_t(t)]);
        EXPECT_EQ(labels[std::size_t(j)], ys[std::size_t(t)]);
        // No farther than sklearn's k-th nearest same-class row...
        const double dij = (x[i] - x[j]).norm().item<double>();
        EXPECT_LE(dij, s.kth[std::size_t(i)] + 1e-9) << "row " << t << ": " << i << " -> " << j;
        // ...and, recomputed here, fewer than k same-class rows are nearer.
        const Tensor same = torch::nonzero(s.y == labels[std::size_t(i)]).squeeze(1);
        const Tensor d = (x.index_select(0, same) - x[i]).norm(2, 1);
        const auto nearer = (d < dij - 1e-12).sum().item<std::int64_t>() - 1;  // less itself
        EXPECT_LT(nearer, s.k);
        if (nearer >= 0 && nearer < s.k) ranks[std::size_t(nearer)] += 1;
    }
    return ranks;
}

std::vector<std::int64_t> newPerClass(const ll::SmoteResult& r, int k) {
    return ll::classCounts(r.y, k);
}

TEST(Smote, NewRowsLieBetweenNeighboursInImblearnsNumbers) {
    for (const auto& c : reference()["smote"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        const SmoteSet s = smoteSet(c);
        auto r = ll::smote(s.x, s.y, s.classes, {.k = s.k}, 5);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(newPerClass(*r, s.classes), c["smote_auto_new"].get<std::vector<std::int64_t>>());
        const auto ranks = checkGeometry(s, *r);
        for (int rank = 0; rank < s.k; ++rank)
            EXPECT_GT(ranks[std::size_t(rank)], 0) << "neighbour " << rank << " never drawn";

        const auto target = c["smote_dict"]["target"].get<std::vector<std::int64_t>>();
        auto d = ll::smote(s.x, s.y, s.classes, {.k = s.k, .target = target}, 6);
        ASSERT_TRUE(d) << d.error().message;
        EXPECT_EQ(newPerClass(*d, s.classes),
                  c["smote_dict"]["new"].get<std::vector<std::int64_t>>());
        checkGeometry(s, *d);

        // Seeded: the same seed gives the same rows.
        auto again = ll::smote(s.x, s.y, s.classes, {.k = s.k}, 5);
        EXPECT_TRUE(torch::equal(again->parents, r->parents));
        EXPECT_TRUE(torch::equal(again->x, r->x));
    }
}

TEST(Smote, NothingToAddGivesEmptyResults) {
    const SmoteSet s = smoteSet(reference()["smote"][0]);
    auto r = ll::smote(s.x, s.y, s.classes, {.k = 5, .target = {1, 1, 1}}, 1);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->x.sizes(), (std::vector<std::int64_t>{0, s.x.size(1)}));
    EXPECT_EQ(r->parents.sizes(), (std::vector<std::int64_t>{0, 2}));
}

// A large majority beside a small minority, as images: only the minority's rows need
// neighbours, so this stays quick and small.
TEST(Smote, ImageSizedRowsStayQuick) {
    auto g = torch::make_generator<torch::CPUGeneratorImpl>(9);
    const Tensor x = torch::rand({6300, 784}, g, torch::kFloat32);
    const Tensor y =
        torch::cat({torch::zeros({6000}, torch::kInt64), torch::ones({300}, torch::kInt64)});
    auto r = ll::smote(x, y, 2, {}, 1);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(newPerClass(*r, 2), (std::vector<std::int64_t>{0, 5700}));
    EXPECT_EQ(r->x.scalar_type(), torch::kFloat32);
    EXPECT_EQ(r->x.size(1), 784);
    const Tensor xi = x.index_select(0, r->parents.select(1, 0)).to(torch::kFloat64);
    const Tensor xj = x.index_select(0, r->parents.select(1, 1)).to(torch::kFloat64);
    const Tensor rebuilt = xi + r->gaps.unsqueeze(1) * (xj - xi);
    EXPECT_LT((r->x.to(torch::kFloat64) - rebuilt).abs().max().item<double>(), 1e-5);
    EXPECT_GE(r->parents.min().item<std::int64_t>(), 6000);
}

TEST(Smote, RefusesClassesTooSmallAndBadInput) {
    const Tensor x = torch::rand({24, 3});
    const Tensor y =
        torch::cat({torch::zeros({20}, torch::kInt64), torch::full({4}, 3, torch::kInt64)});
    const auto refused = [](const ll::Result<ll::SmoteResult>& r, const std::string& message) {
        ASSERT_FALSE(r) << "accepted; expected \"" << message << "\"";
        EXPECT_EQ(r.error().message, message);
    };
    refused(ll::smote(x, y, 4, {}, 1),
            "SMOTE with k = 5 needs at least 6 rows of every class it oversamples; class 1 has 0");
    refused(ll::smote(x, y, 4, {.target = {20, 0, 0, 10}}, 1),
            "SMOTE with k = 5 needs at least 6 rows of every class it oversamples; class 3 has 4");
    EXPECT_TRUE(ll::smote(x, y, 4, {.k = 3, .target = {20, 0, 0, 10}}, 1));
    refused(ll::smote(x, y, 4, {.k = 0}, 1), "SMOTE needs k of at least 1 neighbour (got 0)");
    refused(ll::smote(x, y, 4, {.k = 3, .target = {20, 0}}, 1),
            "a SMOTE target has 2 classes; the labels have 4");
    refused(ll::smote(x, y.slice(0, 0, 10), 4, {}, 1), "SMOTE got 24 rows but 10 labels");
    refused(ll::smote(x, y, 3, {}, 1), "label 3 of row 20 is outside 0..2");
    refused(ll::smote(x.to(torch::kInt64), y, 4, {}, 1),
            "SMOTE needs floating-point features (got Long)");
    Tensor bad = x.clone();
    bad[2][1] = std::numeric_limits<float>::quiet_NaN();
    refused(ll::smote(bad, y, 4, {.k = 3, .target = {20, 0, 0, 10}}, 1),
            "SMOTE got a feature that is not a finite number");
}

}  // namespace
