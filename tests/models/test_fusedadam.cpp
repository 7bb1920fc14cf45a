// FusedAdam against LibTorch's own Adam: the same trajectory, the same state, interchangeable
// checkpoints, the multi-tensor step where it cannot fuse and LibTorch's with weight decay;
// fusedEma against the tensor formula.
#include <sstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/fusedadam.h"

namespace {

// Wide enough (300 x 300 weights) that a parameter spans several parallel chunks.
torch::nn::Sequential net(std::uint64_t seed) {
    torch::manual_seed(seed);
    return torch::nn::Sequential(torch::nn::Linear(20, 300), torch::nn::ReLU(),
                                 torch::nn::Linear(300, 300), torch::nn::ReLU(),
                                 torch::nn::Linear(300, 3));
}

void trainSteps(torch::nn::Sequential& model, torch::optim::Optimizer& optimizer, int steps,
                std::uint64_t dataSeed) {
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(dataSeed);
    for (int i = 0; i < steps; ++i) {
        auto x = torch::randn({64, 20}, gen);
        auto y = torch::randint(3, {64}, gen);
        optimizer.zero_grad();
        torch::nn::functional::cross_entropy(model->forward(x), y).backward();
        optimizer.step();
    }
}

double largestRelativeGap(torch::nn::Sequential& a, torch::nn::Sequential& b) {
    double gap = 0;
    auto pa = a->parameters();
    auto pb = b->parameters();
    for (std::size_t i = 0; i < pa.size(); ++i) {
        const double scale = pa[i].abs().max().item<double>() + 1e-12;
        gap = std::max(gap, (pa[i] - pb[i]).abs().max().item<double>() / scale);
    }
    return gap;
}

TEST(FusedAdam, FollowsLibTorchsAdam) {
    auto fused = net(3);
    auto plain = net(3);
    const auto options = torch::optim::AdamOptions(2e-3).betas({0.5, 0.999});
    ll::FusedAdam fusedOptimizer(fused->parameters(), options);
    torch::optim::Adam plainOptimizer(plain->parameters(), options);
    trainSteps(fused, fusedOptimizer, 60, 11);
    trainSteps(plain, plainOptimizer, 60, 11);
    // Float rounding only: both evaluate the same formula in float32.
    EXPECT_LT(largestRelativeGap(fused, plain), 1e-4);
    // The weights moved: a step that did nothing would pass the comparison above.
    auto start = net(3);
    EXPECT_GT(largestRelativeGap(fused, start), 1e-2);
}

TEST(FusedAdam, CheckpointsAreInterchangeableWithAdams) {
    // Train with FusedAdam, save its state, load it into LibTorch's Adam, go on with both.
    auto a = net(5);
    ll::FusedAdam fusedOptimizer(a->parameters(), torch::optim::AdamOptions(1e-3));
    trainSteps(a, fusedOptimizer, 10, 2);
    std::stringstream archive;
    torch::save(fusedOptimizer, archive);

    auto b = net(5);
    torch::NoGradGuard noGrad;
    for (std::size_t i = 0; i < a->parameters().size(); ++i)
        b->parameters()[i].copy_(a->parameters()[i]);
    torch::optim::Adam plainOptimizer(b->parameters(), torch::optim::AdamOptions(1e-3));
    torch::load(plainOptimizer, archive);
    {
        at::AutoGradMode grad(true);
        trainSteps(a, fusedOptimizer, 10, 4);
        trainSteps(b, plainOptimizer, 10, 4);
    }
    EXPECT_LT(largestRelativeGap(a, b), 1e-4);
    const auto& state =
        static_cast<torch::optim::AdamParamState&>(*plainOptimizer.state().begin()->second);
    EXPECT_EQ(state.step(), 20);
}

TEST(FusedAdam, TakesLibTorchsStepWithWeightDecay) {
    // Weight decay is not fused: the two optimisers then give the very same weights.
    auto fused = net(7);
    auto plain = net(7);
    const auto options = torch::optim::AdamOptions(1e-3).weight_decay(0.01);
    ll::FusedAdam fusedOptimizer(fused->parameters(), options);
    torch::optim::Adam plainOptimizer(plain->parameters(), options);
    trainSteps(fused, fusedOptimizer, 5, 1);
    trainSteps(plain, plainOptimizer, 5, 1);
    EXPECT_EQ(largestRelativeGap(fused, plain), 0.0);
}

TEST(FusedAdam, TakesTheMultiTensorStepWhereItCannotFuse) {
    // Float64 parameters (as any parameter on a GPU) take the multi-tensor step: LibTorch's
    // formula through ATen's _foreach_ kernels, so the same weights up to rounding.
    auto multi = net(7);
    auto plain = net(7);
    multi->to(torch::kFloat64);
    plain->to(torch::kFloat64);
    const auto options = torch::optim::AdamOptions(1e-3).betas({0.8, 0.99});
    ll::FusedAdam multiOptimizer(multi->parameters(), options);
    torch::optim::Adam plainOptimizer(plain->parameters(), options);
    for (int i = 0; i < 5; ++i) {
        for (auto* m : {&multi, &plain}) {
            auto x = torch::full({4, 20}, 0.1 * (i + 1), torch::kFloat64);
            (*m)->forward(x).pow(2).sum().backward();
        }
        multiOptimizer.step();
        plainOptimizer.step();
        multiOptimizer.zero_grad();
        plainOptimizer.zero_grad();
    }
    EXPECT_LT(largestRelativeGap(multi, plain), 1e-12);
    auto start = net(7);
    start->to(torch::kFloat64);
    EXPECT_GT(largestRelativeGap(multi, start), 1e-3);
    // The state is Adam's: five steps, moments of the parameters' type.
    for (const auto& [key, state] : multiOptimizer.state()) {
        const auto& adam = static_cast<const torch::optim::AdamParamState&>(*state);
        EXPECT_EQ(adam.step(), 5);
        EXPECT_EQ(adam.exp_avg().scalar_type(), torch::kFloat64);
    }
}

TEST(FusedEma, IsTheMovingAverage) {
    torch::manual_seed(1);
    std::vector<torch::Tensor> target = {torch::randn({300, 300}), torch::randn({7})};
    std::vector<torch::Tensor> source = {torch::randn({300, 300}), torch::randn({7})};
    std::vector<torch::Tensor> expected;
    for (std::size_t i = 0; i < target.size(); ++i)
        expected.push_back(target[i] * 0.9 + source[i] * 0.1);
    ll::fusedEma(target, source, 0.9);
    for (std::size_t i = 0; i < target.size(); ++i)
        EXPECT_TRUE(torch::allclose(target[i], expected[i], 1e-6, 1e-6)) << i;
}

}  // namespace
