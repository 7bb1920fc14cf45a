#pragma once

// What the model tests share: the fixture classifier, a small Fashion-MNIST subset, a short
// training run, and the two measures of learning the tests assert on.

#include <filesystem>
#include <memory>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/cpu.h"
#include "data/loader.h"
#include "eval/agreement.h"
#include "models/model.h"
#include "run/runloader.h"

namespace fixture {

inline std::filesystem::path tempDir(const std::string& name) {
    auto dir = std::filesystem::temp_directory_path() /
               ("latentlab-test-models-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    return dir;
}

/// The clean classifier trained by the fixture_classifier test.
inline std::unique_ptr<ll::GenerativeModel> classifier() {
    auto opened = ll::loadRun(LATENTLAB_FIXTURE_CLASSIFIER);
    if (!opened) {
        ADD_FAILURE() << "fixture classifier: " << opened.error().message;
        return nullptr;
    }
    return std::move(opened->model);
}

/// `limit` training images of Fashion-MNIST (a seeded, class-balanced-enough subset).
inline ll::Dataset fashion(std::int64_t limit, std::string split = "train") {
    auto data =
        ll::loadDataset({.source = "fashion-mnist", .split = split, .limit = limit, .seed = 11});
    if (!data) throw std::runtime_error(data.error().message);
    return std::move(*data);
}

/// A model built for the data's shape, or a test failure.
inline std::unique_ptr<ll::GenerativeModel> build(const std::string& name, const ll::Dataset& data,
                                                  ll::Settings settings = {}) {
    ll::ModelShape shape{.numClasses = data.numClasses()};
    if (data.x.dim() == 2) {
        shape.features = static_cast<int>(data.x.size(1));
    } else {
        shape.channels = static_cast<int>(data.x.size(1));
        shape.height = static_cast<int>(data.x.size(2));
        shape.width = static_cast<int>(data.x.size(3));
    }
    auto model = ll::createModel(name, shape, settings);
    if (!model) {
        ADD_FAILURE() << model.error().message;
        return nullptr;
    }
    ll::applyThreadSettings((*model)->workload());
    return std::move(*model);
}

/// `steps` optimisation steps on random batches of `data`; returns the last losses.
inline ll::LossMap train(ll::GenerativeModel& model, const ll::Dataset& data, int steps,
                         int batch = 64, std::uint64_t seed = 1) {
    torch::manual_seed(seed);
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(seed);
    ll::LossMap last;
    for (int i = 0; i < steps; ++i) {
        auto idx = torch::randint(data.size(), {batch}, gen, torch::kInt64);
        last = model.trainStep(data.x.index_select(0, idx), data.y.index_select(0, idx));
    }
    return last;
}

/// Share of class-conditional samples the fixture classifier puts in their class.
inline double agreement(ll::GenerativeModel& model, ll::GenerativeModel& judge,
                        ll::SampleRequest request = {}, std::int64_t count = 500) {
    auto result = ll::classifierAgreement(model, judge, request, count);
    if (!result) {
        ADD_FAILURE() << result.error().message;
        return 0;
    }
    return result->agreement;
}

/// For unconditional models: the fixture classifier's mean confidence (max softmax) on the
/// samples. Noise and blobs score low; garments the classifier recognises score high.
inline double confidence(ll::GenerativeModel& model, ll::GenerativeModel& judge,
                         std::int64_t count = 500, std::uint64_t seed = 3) {
    auto samples = model.sample({.count = count, .seed = seed});
    return torch::softmax(judge.classify(samples), 1).amax(1).mean().item<double>();
}

/// For unconditional models: how many classes the samples spread over, as the fixture
/// classifier sees them (the exponential of the entropy of its predicted-class histogram).
/// An untrained generator's blobs all land in one or two classes; garments spread over most.
inline double classSpread(ll::GenerativeModel& model, ll::GenerativeModel& judge,
                          std::int64_t count = 500, std::uint64_t seed = 3) {
    auto samples = model.sample({.count = count, .seed = seed});
    auto predicted = judge.classify(samples).argmax(1);
    auto histogram = torch::bincount(predicted, {}, judge.shape().numClasses).to(torch::kFloat64);
    auto p = histogram / histogram.sum();
    auto entropy = -(p * torch::log(p.clamp_min(1e-12))).sum();
    return std::exp(entropy.item<double>());
}

}  // namespace fixture
