// The frozen encoder's cache (models/encodingcache.h) and latent-ddpm's use of it: looked-up
// rows equal encoded ones, only unseen rows reach the encoder, labels and content tell rows
// apart, the byte limit holds, and a checkpoint load forgets what the old weights gave.

#include <filesystem>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/encodingcache.h"
#include "run/runloader.h"

namespace {

/// A deterministic stand-in encoder: one linear map of the image plus the label; records the
/// rows it was asked for, by their first value.
struct CountingEncoder {
    torch::Tensor weight = torch::randn({28 * 28, 4}, torch::TensorOptions().dtype(torch::kFloat));
    std::vector<std::int64_t> calls;  // rows per call

    torch::Tensor operator()(const torch::Tensor& x, const torch::Tensor& y) {
        calls.push_back(x.size(0));
        return x.flatten(1).matmul(weight) + y.to(torch::kFloat).unsqueeze(1);
    }
    ll::EncodingCache::Encoder fn() {
        return [this](const torch::Tensor& x, const torch::Tensor& y) { return (*this)(x, y); };
    }
};

TEST(EncodingCache, LooksUpSeenRowsAndEncodesOnlyTheOthers) {
    torch::manual_seed(1);
    CountingEncoder encoder;
    ll::EncodingCache cache;
    const auto x = torch::rand({16, 1, 28, 28});
    const auto y = torch::arange(16) % 10;

    const auto first = cache.lookup(x, y, encoder.fn());
    EXPECT_TRUE(torch::equal(first, encoder(x, y)));
    encoder.calls.clear();
    EXPECT_EQ(cache.size(), 16);

    // Rows 3..10 seen, then 6 new ones, shuffled together: only the new ones are encoded, in
    // batch order, and every row comes back in its own place.
    const auto fresh = torch::rand({6, 1, 28, 28});
    const auto freshY = torch::arange(6) % 10;
    const auto order = torch::randperm(14);
    const auto mixedX = torch::cat({x.slice(0, 3, 11), fresh}).index_select(0, order);
    const auto mixedY = torch::cat({y.slice(0, 3, 11), freshY}).index_select(0, order);
    const auto mixed = cache.lookup(mixedX, mixedY, encoder.fn());
    ASSERT_EQ(encoder.calls, std::vector<std::int64_t>{6});
    EXPECT_TRUE(torch::allclose(mixed, encoder(mixedX, mixedY), 1e-5, 1e-5));
    EXPECT_EQ(cache.size(), 22);

    // An empty batch is an empty answer.
    EXPECT_EQ(ll::EncodingCache().lookup(x.slice(0, 0, 0), y.slice(0, 0, 0), encoder.fn()).size(0),
              0);
    encoder.calls.clear();

    // All seen: no call at all.
    encoder.calls.clear();
    const auto again = cache.lookup(mixedX, mixedY, encoder.fn());
    EXPECT_TRUE(encoder.calls.empty());
    EXPECT_TRUE(torch::equal(again, mixed));
}

TEST(EncodingCache, TellsRowsApartByLabelAndByOneValue) {
    torch::manual_seed(2);
    CountingEncoder encoder;
    ll::EncodingCache cache;
    const auto x = torch::rand({4, 1, 28, 28});
    const auto y = torch::zeros({4}, torch::kInt64);
    cache.lookup(x, y, encoder.fn());
    encoder.calls.clear();

    // The same images with another label (a conditional encoder's mean depends on it).
    const auto relabelled = cache.lookup(x, y + 1, encoder.fn());
    EXPECT_EQ(encoder.calls, std::vector<std::int64_t>{4});
    EXPECT_TRUE(torch::allclose(relabelled, encoder(x, y + 1)));

    // One pixel of one image moved by the smallest float step.
    encoder.calls.clear();
    auto nudged = x.clone();
    nudged[2][0][27][27] = std::nextafter(nudged[2][0][27][27].item<float>(), 2.0f);
    const auto out = cache.lookup(nudged, y, encoder.fn());
    EXPECT_EQ(encoder.calls, std::vector<std::int64_t>{1});
    EXPECT_TRUE(torch::allclose(out, encoder(nudged, y)));
}

TEST(EncodingCache, KeepsNoMoreThanItsBytesAndStillAnswersBeyond) {
    torch::manual_seed(3);
    CountingEncoder encoder;
    ll::EncodingCache cache(10 * 4 * sizeof(float));  // ten rows of four floats
    const auto x = torch::rand({16, 1, 28, 28});
    const auto y = torch::arange(16) % 10;
    EXPECT_TRUE(torch::equal(cache.lookup(x, y, encoder.fn()), encoder(x, y)));
    EXPECT_EQ(cache.size(), 10);
    encoder.calls.clear();
    const auto out = cache.lookup(x, y, encoder.fn());
    EXPECT_EQ(encoder.calls, std::vector<std::int64_t>{6});  // the six it could not keep
    EXPECT_TRUE(torch::allclose(out, encoder(x, y), 1e-5, 1e-5));
    EXPECT_EQ(cache.size(), 10);

    cache.clear();
    EXPECT_EQ(cache.size(), 0);
    encoder.calls.clear();
    cache.lookup(x.slice(0, 0, 2), y.slice(0, 0, 2), encoder.fn());
    EXPECT_EQ(encoder.calls, std::vector<std::int64_t>{2});
}

TEST(EncodingCache, LatentDdpmForgetsCachedMeansWhenACheckpointReplacesItsVae) {
    // Model b caches its own encoder's means, then loads a's checkpoint: its next step must
    // be a's step exactly, which it is only if it encodes with a's encoder again.
    const ll::Settings settings{{"vae_net", "conv"}, {"vae_width", "8"}, {"vae_steps", "2"},
                                {"latent", "4"},     {"hidden", "32"},   {"depth", "1"}};
    torch::manual_seed(4);
    const auto x = torch::rand({32, 1, 28, 28});
    const auto y = torch::arange(32) % 10;
    auto a = ll::buildModel("latent-ddpm", {}, settings);
    torch::manual_seed(5);
    auto b = ll::buildModel("latent-ddpm", {}, settings);
    ASSERT_TRUE(a && b);
    for (auto* model : {a->get(), b->get()})
        for (int i = 0; i < 4; ++i) model->trainStep(x, y);  // 2 VAE steps, 2 denoiser steps

    const auto dir = std::filesystem::temp_directory_path() /
                     ("latentlab-test-encodingcache-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    ASSERT_TRUE((*a)->save(dir / "a.pt"));
    ASSERT_TRUE((*b)->load(dir / "a.pt"));
    std::filesystem::remove_all(dir);

    torch::manual_seed(6);
    const double fromA = (*a)->trainStep(x, y).at("loss");
    torch::manual_seed(6);
    const double fromB = (*b)->trainStep(x, y).at("loss");
    EXPECT_EQ(fromA, fromB);
}

}  // namespace
