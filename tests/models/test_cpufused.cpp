// The fused CPU paths (models/cpufused.h): GroupNorm + SiLU and its backward against LibTorch's
// two operators on the shapes and values that strain them, and the diffusion networks'
// channels-last forward (without gradients, and with them in training) against LibTorch's.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/cpufused.h"
#include "models/precision.h"
#include "models/unet.h"

namespace {

torch::Tensor reference(const torch::Tensor& x, std::int64_t groups, const torch::Tensor& gamma,
                        const torch::Tensor& beta, const torch::Tensor& bias) {
    auto h = bias.defined() ? x + bias.unsqueeze(-1).unsqueeze(-1) : x;
    return torch::silu(torch::group_norm(h, groups, gamma, beta, 1e-5));
}

torch::Tensor inDouble(const torch::Tensor& t) {
    return t.defined() ? t.to(torch::kDouble).contiguous() : t;
}

// Largest gap between groupNormSiLU and LibTorch's operators in double precision, relative to
// the answer's scale.
double fusedGap(const torch::Tensor& x, std::int64_t groups, const torch::Tensor& gamma,
                const torch::Tensor& beta, const torch::Tensor& bias) {
    torch::NoGradGuard noGrad;
    const auto want =
        reference(inDouble(x), groups, inDouble(gamma), inDouble(beta), inDouble(bias));
    const auto got = ll::groupNormSiLU(x, groups, gamma, beta, 1e-5, bias).to(torch::kDouble);
    EXPECT_EQ(got.sizes(), want.sizes());
    EXPECT_EQ(got.is_contiguous(at::MemoryFormat::ChannelsLast),
              x.is_contiguous(at::MemoryFormat::ChannelsLast));
    return ((got - want).abs().max() / (want.abs().max() + 1e-12)).item<double>();
}

torch::Tensor channelsLast(const torch::Tensor& x) {
    return x.contiguous(at::MemoryFormat::ChannelsLast);
}

// Calls check(x, groups, gamma, beta, bias) on random values of each shape that strains the
// kernels: group sizes 1, 2, 3 and 16; a single pixel; a single sample; an image larger than a
// span; a channel count that divides no span evenly.
template <class Check>
void onEveryShape(Check check) {
    struct Case {
        std::int64_t n, c, h, w, groups;
    };
    for (const Case& k :
         {Case{4, 16, 28, 28, 8}, Case{2, 24, 7, 5, 8}, Case{3, 3, 9, 9, 1}, Case{5, 32, 1, 1, 16},
          Case{1, 64, 14, 14, 8}, Case{2, 8, 64, 64, 4}, Case{2, 7, 6, 6, 7}}) {
        SCOPED_TRACE(testing::Message()
                     << k.n << "x" << k.c << "x" << k.h << "x" << k.w << " g" << k.groups);
        check(channelsLast(torch::randn({k.n, k.c, k.h, k.w})), k.groups, torch::randn({k.c}),
              torch::randn({k.c}), torch::randn({k.n, k.c}));
    }
}

TEST(GroupNormSiLU, MatchesLibTorchOnEveryShape) {
    torch::manual_seed(1);
    onEveryShape([](const torch::Tensor& x, std::int64_t groups, const torch::Tensor& gamma,
                    const torch::Tensor& beta, const torch::Tensor& bias) {
        EXPECT_LT(fusedGap(x, groups, gamma, beta, {}), 1e-5);
        EXPECT_LT(fusedGap(x, groups, gamma, beta, bias), 1e-5);
        EXPECT_LT(fusedGap(x, groups, {}, {}, {}), 1e-5);
    });
}

TEST(GroupNormSiLU, HoldsItsPrecisionFarFromZero) {
    torch::manual_seed(2);
    // A mean far larger than the spread: a one-pass variance (E[x^2] - E[x]^2) in float would
    // cancel to noise here: against double precision, LibTorch 1.13's own channels-last kernel
    // is 2.4 times the answer's scale off, its contiguous one 0.24 %, the fused one 0.18 %.
    const auto offset = channelsLast(1000 + 0.01 * torch::randn({2, 16, 32, 32}));
    EXPECT_LT(fusedGap(offset, 8, torch::ones({16}), torch::zeros({16}), {}), 1e-2);
    // SiLU's tails: normalised values times 60 reach beyond +-100, where e^-v overflows a float.
    const auto x = channelsLast(torch::randn({2, 16, 8, 8}));
    const auto wide = torch::full({16}, 60.0f);
    EXPECT_LT(fusedGap(x, 1, wide, torch::zeros({16}), {}), 1e-6);
    torch::NoGradGuard noGrad;
    const auto y = ll::groupNormSiLU(x, 1, wide, torch::zeros({16}), 1e-5, {});
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    EXPECT_LT(y.min().item<double>(), 0.0);
    EXPECT_GT(y.min().item<double>(), -0.279);  // silu's minimum is -0.2785 at -1.278
}

TEST(GroupNormSiLU, TakesLibTorchsOperatorsWhereItCannotFuse) {
    torch::manual_seed(3);
    const auto gamma = torch::randn({16});
    const auto beta = torch::randn({16});
    const auto bias = torch::randn({4, 16});
    // Contiguous (not channels-last) memory, double precision, and a call that records
    // gradients all give LibTorch's answer, with its layout.
    const auto x = torch::randn({4, 16, 10, 10});
    EXPECT_LT(fusedGap(x, 8, gamma, beta, bias), 1e-6);
    EXPECT_LT(fusedGap(x.to(torch::kDouble), 8, gamma.to(torch::kDouble), beta.to(torch::kDouble),
                       bias.to(torch::kDouble)),
              1e-12);
    ll::PrecisionScope bf16(ll::Precision::BFloat16);
    EXPECT_LT(fusedGap(channelsLast(x), 8, gamma, beta, bias), 1e-6);
}

// Gradients of <y, dy> by the fused backward and by LibTorch's operators in float, each against
// LibTorch's in double precision: per input that has a gradient (x, gamma, beta, the bias),
// the largest gap of the fused one, and of LibTorch's own float kernels as the yardstick. Gaps
// are relative to the gradient's scale, or to x's where that is larger (the bias's gradient
// is zero in exact arithmetic when a group is one channel wide).
struct Gap {
    double fused, libtorch;
};

std::vector<Gap> gradientGaps(const torch::Tensor& x, std::int64_t groups,
                              const torch::Tensor& gamma, const torch::Tensor& beta,
                              const torch::Tensor& bias) {
    const auto dy = channelsLast(torch::randn(x.sizes()));
    auto gradients = [&](const std::vector<torch::Tensor>& in, bool fused) {
        std::vector<torch::Tensor> leaves;
        for (const auto& t : in) leaves.push_back(t.defined() ? t.detach().requires_grad_() : t);
        const auto y =
            fused ? ll::groupNormSiLU(leaves[0], groups, leaves[1], leaves[2], 1e-5, leaves[3])
                  : reference(leaves[0], groups, leaves[1], leaves[2], leaves[3]);
        if (fused) EXPECT_TRUE(y.is_contiguous(at::MemoryFormat::ChannelsLast));
        (y * dy.to(y.scalar_type())).sum().backward();
        std::vector<torch::Tensor> out;
        for (const auto& t : leaves)
            if (t.defined()) out.push_back(t.grad().to(torch::kDouble));
        return out;
    };
    const auto want =
        gradients({inDouble(x), inDouble(gamma), inDouble(beta), inDouble(bias)}, false);
    const auto fused = gradients({x, gamma, beta, bias}, true);
    const auto aten = gradients({x.contiguous(), gamma, beta, bias}, false);
    std::vector<Gap> gaps;
    const double xScale = want[0].abs().max().item<double>();
    for (std::size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(fused[i].sizes(), want[i].sizes());
        const double scale = std::max(want[i].abs().max().item<double>(), xScale) + 1e-12;
        gaps.push_back({(fused[i] - want[i]).abs().max().item<double>() / scale,
                        (aten[i] - want[i]).abs().max().item<double>() / scale});
    }
    return gaps;
}

// Within 1e-4 of the exact gradients, or as close as LibTorch's own float kernels come.
void expectClose(const std::vector<Gap>& gaps, std::size_t count) {
    ASSERT_EQ(gaps.size(), count);
    for (const Gap& gap : gaps) EXPECT_LT(gap.fused, std::max(1e-4, 4 * gap.libtorch));
}

TEST(GroupNormSiLU, ItsBackwardMatchesLibTorchOnEveryShape) {
    torch::manual_seed(6);
    onEveryShape([](const torch::Tensor& x, std::int64_t groups, const torch::Tensor& gamma,
                    const torch::Tensor& beta, const torch::Tensor& bias) {
        expectClose(gradientGaps(x, groups, gamma, beta, bias), 4);
        expectClose(gradientGaps(x, groups, gamma, beta, {}), 3);
        expectClose(gradientGaps(x, groups, {}, {}, {}), 1);  // only x has a gradient
    });
    // A mean far from zero, and SiLU's tails.
    expectClose(gradientGaps(channelsLast(1000 + 0.01 * torch::randn({2, 16, 12, 12})), 8,
                             torch::randn({16}), torch::randn({16}), torch::randn({2, 16})),
                4);
    expectClose(gradientGaps(channelsLast(torch::randn({2, 16, 8, 8})), 1, torch::full({16}, 60.0f),
                             torch::zeros({16}), {}),
                3);
}

TEST(GroupNormSiLU, GivesTheSameNumbersOnAnyNumberOfThreads) {
    torch::manual_seed(7);
    const auto x = channelsLast(torch::randn({9, 32, 14, 14})).requires_grad_();
    const auto gamma = torch::randn({32}).requires_grad_();
    const auto bias = torch::randn({9, 32}).requires_grad_();
    const auto dy = channelsLast(torch::randn({9, 32, 14, 14}));
    auto run = [&](int threads) {
        const int before = at::get_num_threads();
        at::set_num_threads(threads);
        const auto y = ll::groupNormSiLU(x, 8, gamma, torch::zeros({32}), 1e-5, bias);
        const auto grads = torch::autograd::grad({y}, {x, gamma, bias}, {dy});
        at::set_num_threads(before);
        return std::vector<torch::Tensor>{y.detach(), grads[0], grads[1], grads[2]};
    };
    const auto one = run(1);
    const auto two = run(2);
    for (std::size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(one[i].equal(two[i])) << i;
}

TEST(GroupNormSiLU, AnEmptyBatchGivesAnEmptyBatch) {
    torch::NoGradGuard noGrad;
    for (const auto& shape : {std::vector<std::int64_t>{0, 16, 5, 5}, {3, 16, 0, 0}}) {
        const auto x = channelsLast(torch::randn(shape));
        const auto y = ll::groupNormSiLU(x, 8, torch::ones({16}), torch::zeros({16}), 1e-5, {});
        EXPECT_EQ(y.sizes(), x.sizes());
    }
}

TEST(CpuInferencePath, OnlyWithoutGradientsAndAutocastForFloatOnTheCpu) {
    const auto x = torch::randn({2, 3});
    EXPECT_FALSE(ll::cpuInferencePath(x));
    EXPECT_TRUE(ll::cpuChannelsLastPath(x));
    EXPECT_FALSE(ll::cpuChannelsLastPath(x.to(torch::kDouble)));
    {
        ll::PrecisionScope bf16(ll::Precision::BFloat16);
        EXPECT_FALSE(ll::cpuChannelsLastPath(x));
    }
    torch::NoGradGuard noGrad;
    EXPECT_TRUE(ll::cpuInferencePath(x));
    EXPECT_FALSE(ll::cpuInferencePath(x.to(torch::kDouble)));
    ll::PrecisionScope bf16(ll::Precision::BFloat16);
    EXPECT_FALSE(ll::cpuInferencePath(x));
}

// Every parameter drawn afresh: the U-Net starts with a zero output layer, which would hide
// everything before it.
template <class Net>
void randomise(Net& net) {
    torch::NoGradGuard noGrad;
    for (auto& p : net->parameters()) p.normal_(0, 0.2);
}

TEST(CpuInferencePath, TheUNetPredictsAsWithGradients) {
    torch::manual_seed(4);
    ll::UNet net(1, 16, 10);
    randomise(net);
    net->eval();
    const auto x = torch::randn({6, 1, 28, 28});
    const auto t = torch::randint(0, 1000, {6});
    const auto labels = torch::tensor({0, 3, 9, 10, 10, 2});
    const auto want = net->forward(x, t, labels).detach();
    torch::Tensor got;
    {
        torch::NoGradGuard noGrad;
        got = net->forward(x, t, labels);
    }
    EXPECT_TRUE(got.is_contiguous());
    const double scale = want.abs().max().item<double>();
    ASSERT_GT(scale, 1e-3);
    EXPECT_LT((got - want).abs().max().item<double>() / scale, 1e-4);
    // Colour, and a width whose groups are one channel wide.
    ll::UNet colour(3, 8, 4);
    randomise(colour);
    const auto xc = torch::randn({3, 3, 16, 16});
    const auto tc = torch::randint(0, 1000, {3});
    const auto lc = torch::tensor({0, 1, 4});
    const auto wantColour = colour->forward(xc, tc, lc).detach();
    torch::NoGradGuard noGrad;
    const auto gotColour = colour->forward(xc, tc, lc);
    EXPECT_LT(
        (gotColour - wantColour).abs().max().item<double>() / wantColour.abs().max().item<double>(),
        1e-4);
}

TEST(CpuInferencePath, TheNoisyClassifierScoresAsWithGradients) {
    torch::manual_seed(5);
    ll::NoisyClassifierNet net(1, 16, 10);
    randomise(net);
    const auto x = torch::randn({5, 1, 28, 28});
    const auto alphaBar = torch::rand({5});
    const auto want = net->forward(x, alphaBar).detach();
    torch::NoGradGuard noGrad;
    const auto got = net->forward(x, alphaBar);
    EXPECT_LT((got - want).abs().max().item<double>() / want.abs().max().item<double>(), 1e-4);
    EXPECT_EQ(got.argmax(1).equal(want.argmax(1)), true);
}

// `twin`, a network built like `net`, made double with net's weights.
template <class Net>
Net inDouble(const Net& net, Net twin) {
    twin->to(torch::kDouble);
    torch::NoGradGuard noGrad;
    const auto from = net->parameters();
    const auto to = twin->parameters();
    for (std::size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
    return twin;
}

// One training step's gradients: the float channels-last path against the same network in
// double precision, which takes LibTorch's modules.
template <class Net, class Forward>
void expectTheSameGradients(Net& net, Net& twin, Forward forward) {
    auto loss = forward(net, torch::kFloat);
    auto twinLoss = forward(twin, torch::kDouble);
    loss.backward();
    twinLoss.backward();
    const torch::OrderedDict<std::string, torch::Tensor> mine = net->named_parameters();
    const torch::OrderedDict<std::string, torch::Tensor> theirs = twin->named_parameters();
    for (const auto& p : mine) {
        SCOPED_TRACE(p.key());
        const torch::Tensor want = theirs[p.key()].grad();
        const torch::Tensor got = p.value().grad();
        ASSERT_TRUE(got.defined());
        const double scale = want.abs().max().item<double>();
        EXPECT_LT((got.to(torch::kDouble) - want).abs().max().item<double>(), 1e-3 * scale + 1e-7);
    }
}

TEST(CpuChannelsLastPath, TheNoisyClassifierTrainsAsLibTorchsModulesDo) {
    torch::manual_seed(8);
    ll::NoisyClassifierNet net(1, 16, 10);
    randomise(net);
    auto twin = inDouble(net, ll::NoisyClassifierNet(1, 16, 10));
    const auto x = torch::randn({6, 1, 28, 28});
    const auto alphaBar = torch::rand({6});
    const auto labels = torch::tensor({0, 1, 2, 3, 9, 9});
    expectTheSameGradients(net, twin, [&](ll::NoisyClassifierNet& n, torch::ScalarType type) {
        return torch::cross_entropy_loss(n->forward(x.to(type), alphaBar), labels);
    });
}

TEST(CpuChannelsLastPath, TheUNetTrainsAsLibTorchsModulesDo) {
    torch::manual_seed(9);
    ll::UNet net(1, 16, 10);
    randomise(net);
    auto twin = inDouble(net, ll::UNet(1, 16, 10));
    const auto x = torch::randn({4, 1, 16, 16});
    const auto noise = torch::randn({4, 1, 16, 16});
    const auto t = torch::randint(0, 1000, {4});
    const auto labels = torch::tensor({0, 3, 10, 7});
    expectTheSameGradients(net, twin, [&](ll::UNet& n, torch::ScalarType type) {
        return torch::mse_loss(n->forward(x.to(type), t, labels), noise.to(type));
    });
}

}  // namespace
