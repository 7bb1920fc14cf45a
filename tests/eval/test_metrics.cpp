// Feature-space metrics against the numpy/scipy reference (reference/metrics_reference.py
// writes the fixtures and expected.json), the .npy reader and writer, and bad input.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/npy.h"
#include "eval/metrics.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kFixtures = fs::path(LATENTLAB_TEST_DATA) / "eval" / "fixtures";

torch::Tensor load(const std::string& name) {
    auto array = ll::readNpy(kFixtures / name);
    if (!array) ADD_FAILURE() << array.error().message;
    return array ? *array : torch::Tensor();
}

const json& expected() {
    static const json j = json::parse(std::ifstream(kFixtures / "expected.json"));
    return j;
}

const json& protocol() {
    return expected()["protocol"];
}

// The reference's tolerance: 1e-4 relative; values near 0 (a Z, a C_T) get a tiny floor.
void expectClose(double actual, double want, const std::string& what) {
    EXPECT_NEAR(actual, want, 1e-4 * std::abs(want) + 1e-9) << what;
}

template <class T>
std::string errorOf(const ll::Result<T>& r) {
    if (r) {
        ADD_FAILURE() << "expected a failure";
        return {};
    }
    return r.error().message;
}

// A file in this process's scratch folder, which goes when the tests end.
fs::path scratch(const std::string& name) {
    static const struct Folder {
        fs::path path =
            fs::temp_directory_path() / ("latentlab-test-eval-" + std::to_string(::getpid()));
        Folder() { fs::create_directories(path); }
        ~Folder() {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    } folder;
    return folder.path / name;
}

std::string bytesOf(const fs::path& file) {
    auto bytes = ll::readFile(file);
    return bytes ? *bytes : std::string();
}

}  // namespace

// ---- .npy ----

TEST(Npy, ReadsWhatNumpyWrote) {
    const auto real = load("real.npy");
    ASSERT_TRUE(real.defined());
    EXPECT_EQ(real.scalar_type(), torch::kFloat32);
    EXPECT_EQ(real.dim(), 2);
    const auto f8 = load("npy/f8.npy");
    EXPECT_EQ(f8.scalar_type(), torch::kFloat64);
    EXPECT_TRUE(torch::equal(f8, real.slice(0, 0, 5).to(torch::kFloat64)));
    EXPECT_TRUE(torch::equal(load("npy/vector.npy"), real[0]));
    EXPECT_TRUE(torch::equal(load("npy/v2.npy"), real.slice(0, 0, 3))) << "format 2.0 header";
}

TEST(Npy, WritesTheBytesNumpyWrites) {
    const auto real = load("real.npy");
    const std::pair<torch::Tensor, std::string> cases[] = {
        {real, "real.npy"},
        {real.slice(0, 0, 5).to(torch::kFloat64), "npy/f8.npy"},
        {real[0], "npy/vector.npy"}};
    for (const auto& [array, numpyFile] : cases) {
        const auto out = scratch("copy.npy");
        ASSERT_TRUE(ll::writeNpy(out, array));
        EXPECT_EQ(bytesOf(out), bytesOf(kFixtures / numpyFile)) << numpyFile;
    }
}

TEST(Npy, RoundTrip) {
    torch::manual_seed(3);
    for (const auto& array :
         {torch::randn({7, 3}), torch::randn({4}, torch::kFloat64), torch::randn({2, 0}),
          torch::randn(c10::IntArrayRef{}, torch::kFloat64), torch::randn({3, 4}).t()}) {
        const auto path = scratch("round.npy");
        ASSERT_TRUE(ll::writeNpy(path, array));
        const auto back = ll::readNpy(path);
        ASSERT_TRUE(back) << back.error().message;
        EXPECT_EQ(back->scalar_type(), array.scalar_type());
        EXPECT_TRUE(torch::equal(*back, array)) << array.sizes();
    }
    EXPECT_NE(
        errorOf(ll::writeNpy(scratch("int.npy"), torch::arange(3))).find("float32 or float64"),
        std::string::npos);
}

TEST(Npy, RefusesWhatItCannotRead) {
    const auto truncated = scratch("truncated.npy");
    ASSERT_TRUE(ll::writeFileAtomic(truncated, bytesOf(kFixtures / "npy/f8.npy").substr(0, 300)));
    const auto text = scratch("text.npy");
    ASSERT_TRUE(ll::writeFileAtomic(text, "a,b\n1,2\n"));
    const std::pair<fs::path, std::string> cases[] = {
        {kFixtures / "npy/int64.npy", "type '<i8' are not supported"},
        {kFixtures / "npy/bigendian.npy", "type '>f4' are not supported"},
        {kFixtures / "npy/fortran.npy", "Fortran-order arrays are not supported"},
        {truncated, "bytes of values, its shape (5, 16) needs 640"},
        {text, "not a NumPy .npy file"},
        {"/no/such/file.npy", "/no/such/file.npy: no such file"}};
    for (const auto& [file, message] : cases) {
        const auto error = errorOf(ll::readNpy(file));
        EXPECT_NE(error.find(message), std::string::npos) << error;
        EXPECT_NE(error.find(file.string()), std::string::npos) << "names the file: " << error;
    }
}

TEST(Npy, RefusesAHeaderThatClaimsMoreThanTheFileHoldsBeforeAllocating) {
    // 200 bytes of values under a header that claims 10^12 (or 2^120) floats: an error naming
    // the file and the sizes, not a failed allocation. A zero beside dimensions whose product
    // overflows (found by tests/fuzz/fuzz_npy) once made torch throw past the reader.
    const auto hostile = [](const std::string& shape) {
        const std::string dict =
            "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }\n";
        std::string bytes("\x93NUMPY\x01\x00", 8);
        bytes += static_cast<char>(dict.size() & 0xff);
        bytes += static_cast<char>(dict.size() >> 8);
        return bytes + dict + std::string(200, '\0');
    };
    const std::pair<std::string, std::string> cases[] = {
        {"(1000000, 1000000)",
         "holds 200 bytes of values, its shape (1000000, 1000000) needs "
         "4000000000000"},
        {"(1099511627776, 1099511627776, 1099511627776)", "larger than any array can be"},
        {"(0, 1099511627776, 1099511627776)", "larger than any array can be"},
        {"(3, 0)", "holds 200 bytes of values, its shape (3, 0) needs 0"}};
    for (const auto& [shape, message] : cases) {
        const auto file = scratch("hostile.npy");
        ASSERT_TRUE(ll::writeFileAtomic(file, hostile(shape)));
        const auto error = errorOf(ll::readNpy(file));
        EXPECT_NE(error.find(message), std::string::npos) << error;
        EXPECT_NE(error.find(file.string()), std::string::npos) << error;
    }
}

// ---- metrics against the reference ----

TEST(Metrics, FrechetDistanceMatchesScipy) {
    const auto fid = ll::frechetDistance(load("real.npy"), load("fake.npy"));
    ASSERT_TRUE(fid) << fid.error().message;
    expectClose(*fid, expected()["fid"], "fid");
}

TEST(Metrics, KernelInceptionDistanceMatchesReference) {
    const auto& p = protocol();
    const ll::KidConfig config{
        .subsets = p["kid_subsets"], .subsetSize = p["kid_subset_size"], .seed = p["seed"]};
    const auto real = load("real.npy"), fake = load("fake.npy");
    const auto kid = ll::kernelInceptionDistance(real, fake, config);
    ASSERT_TRUE(kid) << kid.error().message;
    expectClose(kid->mean, expected()["kid"], "kid");
    expectClose(kid->std, expected()["kid_std"], "kid_std");
    EXPECT_EQ(kid->subsets, config.subsets);
    EXPECT_EQ(kid->subsetSize, config.subsetSize);

    // The draw itself, so that a script in another language can repeat it.
    const auto subsets = ll::drawKidSubsets(real.size(0), fake.size(0), config.subsets,
                                            config.subsetSize, config.seed);
    const auto& first = expected()["kid_first_subset"];
    for (std::size_t i = 0; i < first["real"].size(); ++i) {
        EXPECT_EQ(subsets[0].real[i], first["real"][i].get<std::int64_t>()) << i;
        EXPECT_EQ(subsets[0].fake[i], first["fake"][i].get<std::int64_t>()) << i;
    }
    // The core on explicit subsets gives the same as the seeded wrapper.
    const auto again = ll::kernelInceptionDistance(real, fake, subsets);
    ASSERT_TRUE(again);
    EXPECT_DOUBLE_EQ(again->mean, kid->mean);
}

TEST(Metrics, PrecisionRecallDensityCoverageMatchReference) {
    const auto real = load("real.npy"), fake = load("fake.npy");
    const auto pr = ll::precisionRecall(real, fake, protocol()["k_precision_recall"]);
    ASSERT_TRUE(pr) << pr.error().message;
    expectClose(pr->precision, expected()["precision"], "precision");
    expectClose(pr->recall, expected()["recall"], "recall");
    const auto dc = ll::densityCoverage(real, fake, protocol()["k_density_coverage"]);
    ASSERT_TRUE(dc) << dc.error().message;
    expectClose(dc->density, expected()["density"], "density");
    expectClose(dc->coverage, expected()["coverage"], "coverage");
}

class DataCopyingTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DataCopyingTest, MatchesReferenceCellByCell) {
    const auto& p = protocol();
    const auto& want = expected()["ct"][GetParam()];
    const auto result =
        ll::dataCopying(load("train.npy"), load("test.npy"), load(GetParam() + ".npy"),
                        {.cells = p["cells"],
                         .minGenerated = p["min_generated"],
                         .maxIterations = p["kmeans_iterations"]});
    ASSERT_TRUE(result) << result.error().message;
    expectClose(result->ct, want["ct"], "ct");
    ASSERT_EQ(result->cells.size(), want["cells"].size());
    for (std::size_t c = 0; c < result->cells.size(); ++c) {
        const auto& cell = result->cells[c];
        const auto& ref = want["cells"][c];
        const std::string where = "cell " + std::to_string(c);
        EXPECT_EQ(cell.id, ref["cell"]) << where;
        EXPECT_EQ(cell.train, ref["train"]) << where;
        EXPECT_EQ(cell.test, ref["test"]) << where;
        EXPECT_EQ(cell.generated, ref["generated"]) << where;
        EXPECT_EQ(cell.kept, ref["kept"]) << where;
        expectClose(cell.z, ref["z"], where + " z");
    }
    EXPECT_EQ(result->centroids.size(0), p["cells"].get<std::int64_t>());
    EXPECT_EQ(result->centroids.size(1), load("train.npy").size(1));
}

// copies: a generator that memorised training rows; fresh: an honest one; fake: a shifted one.
INSTANTIATE_TEST_SUITE_P(Metrics, DataCopyingTest, ::testing::Values("copies", "fresh", "fake"),
                         [](const auto& info) { return info.param; });

TEST(Metrics, CopyingIsClearlyNegative) {
    const auto& p = protocol();
    const auto result = ll::dataCopying(load("train.npy"), load("test.npy"), load("copies.npy"),
                                        {.cells = p["cells"], .minGenerated = p["min_generated"]});
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_LT(result->ct, -3);
}

TEST(Metrics, InceptionScoreMatchesScipy) {
    const auto score = ll::inceptionScore(load("logits.npy"));
    ASSERT_TRUE(score) << score.error().message;
    expectClose(*score, expected()["inception_score"], "inception score");
}

// ---- properties ----

TEST(Metrics, IdenticalSetsAgreeFully) {
    const auto real = load("real.npy");
    const auto fid = ll::frechetDistance(real, real);
    ASSERT_TRUE(fid);
    EXPECT_NEAR(*fid, 0, 1e-9 * real.to(torch::kFloat64).var(0).sum().item<double>());
    const auto pr = ll::precisionRecall(real, real);
    ASSERT_TRUE(pr);
    EXPECT_EQ(pr->precision, 1.0);
    EXPECT_EQ(pr->recall, 1.0);
    const auto dc = ll::densityCoverage(real, real);
    ASSERT_TRUE(dc);
    EXPECT_EQ(dc->coverage, 1.0);
    // A classifier that cannot tell samples apart scores 1.
    const auto flat = ll::inceptionScore(torch::zeros({50, 10}));
    ASSERT_TRUE(flat);
    EXPECT_NEAR(*flat, 1.0, 1e-12);
}

// The metrics compute in float64 whatever the input's type.
TEST(Metrics, Float32AndFloat64InputsAgree) {
    const auto real = load("real.npy"), fake = load("fake.npy");
    const auto a = ll::frechetDistance(real, fake);
    const auto b = ll::frechetDistance(real.to(torch::kFloat64), fake.to(torch::kFloat64));
    ASSERT_TRUE(a && b);
    EXPECT_DOUBLE_EQ(*a, *b);
}

// ---- bad input ----

// The distances are screened in float32 and decided exactly in float64. Points far from the
// origin and close to one another defeat the screen (float32 cannot tell them apart): the
// answers must still be float64's, brute force.
TEST(Metrics, FloatScreenGivesFloat64Answers) {
    torch::manual_seed(5);
    const auto offset = torch::full({1, 32}, 1000.0, torch::kFloat64);
    const auto points = offset + 1e-3 * torch::randn({400, 32}, torch::kFloat64);
    const auto queries = offset + 1e-3 * torch::randn({150, 32}, torch::kFloat64);
    const int k = 3;
    auto near = ll::nearestNeighbours(queries, points, k);
    ASSERT_TRUE(near) << near.error().message;
    // From the differences: cdist's matrix-product form would lose these to cancellation too.
    const auto distances = [](const torch::Tensor& a, const torch::Tensor& b) {
        return (a.unsqueeze(1) - b.unsqueeze(0)).norm(2, 2);
    };
    const auto d = distances(queries, points);
    const auto [bruteD, bruteI] = d.topk(k, 1, /*largest=*/false);
    EXPECT_TRUE(torch::equal(near->indices, bruteI));
    EXPECT_TRUE(torch::allclose(near->distances, bruteD, 1e-9, 1e-12));

    // Precision by brute force: a fake counts when some real ball (radius: the real sample's
    // k-th real neighbour, itself excluded) holds it.
    auto self = distances(points, points);
    self.fill_diagonal_(std::numeric_limits<double>::infinity());
    const auto radii = std::get<0>(self.topk(k, 1, false)).select(1, k - 1);
    const double precision =
        d.le(radii.unsqueeze(0)).any(1).to(torch::kFloat64).mean().item<double>();
    auto pr = ll::precisionRecall(points, queries, k);
    ASSERT_TRUE(pr) << pr.error().message;
    EXPECT_NEAR(pr->precision, precision, 1e-12);
    EXPECT_GT(precision, 0.0);
    EXPECT_LT(precision, 1.0);
}

TEST(Metrics, TooFewSamplesSayHowManyAreNeeded) {
    const auto real = load("real.npy");  // 16 features
    const auto few = real.slice(0, 0, 10);
    EXPECT_NE(errorOf(ll::frechetDistance(real, few)).find("FID needs at least 17 fake samples"),
              std::string::npos)
        << errorOf(ll::frechetDistance(real, few));
    const auto three = real.slice(0, 0, 3);
    const auto pr = errorOf(ll::precisionRecall(three, real, 3));
    EXPECT_NE(pr.find("needs at least 4 real samples"), std::string::npos) << pr;
    EXPECT_NE(pr.find("got 3"), std::string::npos) << pr;
    const auto dc = errorOf(ll::densityCoverage(real.slice(0, 0, 5), real, 5));
    EXPECT_NE(dc.find("needs at least 6 real samples"), std::string::npos) << dc;
    const auto kid =
        errorOf(ll::kernelInceptionDistance(real, real.slice(0, 0, 1), ll::KidConfig{}));
    EXPECT_NE(kid.find("KID needs at least 2 fake samples"), std::string::npos) << kid;
    const auto ct = errorOf(ll::dataCopying(real.slice(0, 0, 5), real, real, {.cells = 8}));
    EXPECT_NE(ct.find("needs at least 8 train samples"), std::string::npos) << ct;
    const auto fewGenerated = errorOf(ll::dataCopying(real, real, real.slice(0, 0, 19)));
    EXPECT_NE(fewGenerated.find("needs at least 20 generated samples"), std::string::npos)
        << fewGenerated;
}

TEST(Metrics, MismatchedFeaturesAreRefused) {
    const auto real = load("real.npy"), narrow = load("narrow.npy");
    const auto error = errorOf(ll::frechetDistance(real, narrow));
    EXPECT_NE(error.find("real has 16 features per sample, fake has 8"), std::string::npos)
        << error;
    EXPECT_FALSE(ll::precisionRecall(real, narrow));
    EXPECT_FALSE(ll::densityCoverage(real, narrow));
    EXPECT_FALSE(ll::kernelInceptionDistance(real, narrow, ll::KidConfig{}));
    EXPECT_FALSE(ll::dataCopying(real, real, narrow));
    const auto shape = errorOf(ll::frechetDistance(real[0], real));
    EXPECT_NE(shape.find("expected an array of samples x features, got shape [16]"),
              std::string::npos)
        << shape;
}

TEST(Metrics, NanAndInfinityAreRefused) {
    auto fake = load("fake.npy").clone();
    fake[12][3] = std::numeric_limits<float>::quiet_NaN();
    const auto real = load("real.npy");
    for (const auto& error :
         {errorOf(ll::frechetDistance(real, fake)), errorOf(ll::precisionRecall(real, fake)),
          errorOf(ll::densityCoverage(real, fake)),
          errorOf(ll::kernelInceptionDistance(real, fake, ll::KidConfig{})),
          errorOf(ll::dataCopying(real, real, fake))})
        EXPECT_NE(error.find("row 12 holds NaN or infinite values"), std::string::npos) << error;
    auto logits = load("logits.npy").clone();
    logits[0][0] = std::numeric_limits<float>::infinity();
    EXPECT_NE(errorOf(ll::inceptionScore(logits)).find("logits: row 0 holds NaN"),
              std::string::npos);
}

TEST(Metrics, KidSubsetsOutOfRangeAreRefused) {
    const auto real = load("real.npy");
    const std::vector<ll::KidSubset> subsets{{.real = {0, 1, 9999}, .fake = {0, 1, 2}}};
    const auto error = errorOf(ll::kernelInceptionDistance(real, real, subsets));
    EXPECT_NE(error.find("row 9999 is out of range"), std::string::npos) << error;
}

// Constant features (dead ReLU units of an extractor) make both covariances singular: the
// rounding noise in their zero eigenvalues must not reach the distance.
TEST(Fid, SingularCovariancesOfIdenticalSetsGiveZero) {
    torch::manual_seed(3);
    const auto live = torch::randn({400, 12}, torch::kFloat64) * 30;
    const auto features = torch::cat({live, torch::zeros({400, 20}, torch::kFloat64)}, 1);
    auto same = ll::frechetDistance(features, features);
    ASSERT_TRUE(same) << same.error().message;
    EXPECT_LT(std::abs(*same), 1e-9);
    auto shifted = ll::frechetDistance(features, features + 1.0);
    ASSERT_TRUE(shifted) << shifted.error().message;
    EXPECT_NEAR(*shifted, 32.0, 1e-8);  // |mean difference|^2 = 32 features x 1^2
}
