// The allocation budget: LibTorch's CPU allocations on the budgeted thread count against it,
// one that would pass it throws before it allocates, budgets nest, and a model built under one
// is refused by createModel with the budget's reason.
#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/allocationbudget.h"
#include "models/model.h"

namespace {

constexpr std::uint64_t kMiB = 1u << 20;

TEST(AllocationBudget, CountsThisThreadsAllocationsAndRefusesTheOneThatWouldPassIt) {
    const ll::AllocationBudget budget(4 * kMiB, "a test's four MiB");
    auto a = torch::empty({1024, 1024}, torch::kUInt8);  // 1 MiB
    EXPECT_GE(budget.used(), kMiB);
    EXPECT_LT(budget.used(), kMiB + 4096);
    const auto before = budget.used();
    try {
        auto b = torch::empty({4 * 1024, 1024}, torch::kUInt8);  // 4 MiB more
        FAIL() << "allocated past the budget";
    } catch (const ll::AllocationBudgetExceeded& e) {
        EXPECT_EQ(e.limit(), 4 * kMiB);
        EXPECT_EQ(e.why(), "a test's four MiB");
        EXPECT_EQ(std::string(e.what()), "needs more than 4.0 MiB, a test's four MiB");
    }
    EXPECT_EQ(budget.used(), before) << "the refused allocation was not counted";
    // What is freed is not given back: the count is an upper bound of what is held.
    a = torch::Tensor();
    EXPECT_THROW(torch::empty({3 * 1024 + 512, 1024}, torch::kUInt8), ll::AllocationBudgetExceeded);
    EXPECT_NO_THROW(torch::empty({2 * 1024, 1024}, torch::kUInt8));
}

TEST(AllocationBudget, EndsWithItsScopeAndCountsNoOtherThread) {
    {
        const ll::AllocationBudget budget(kMiB, "one MiB");
        std::thread other([] { EXPECT_NO_THROW(torch::empty({8 * 1024 * 1024}, torch::kUInt8)); });
        other.join();
        EXPECT_LT(budget.used(), 4096u);
    }
    EXPECT_NO_THROW(torch::empty({8 * 1024 * 1024}, torch::kUInt8));
}

TEST(AllocationBudget, NestsAndNamesTheLowestCeilingPassed) {
    const ll::AllocationBudget outer(3 * kMiB, "outer");
    {
        const ll::AllocationBudget inner(8 * kMiB, "inner");
        auto a = torch::empty({2 * 1024 * 1024}, torch::kUInt8);
        EXPECT_GE(inner.used(), 2 * kMiB);
        try {
            // Passes both: the lower ceiling is named, though the outer one is further out.
            (void)torch::empty({16 * 1024 * 1024}, torch::kUInt8);
            FAIL();
        } catch (const ll::AllocationBudgetExceeded& e) {
            EXPECT_EQ(e.why(), "outer");
        }
    }
    EXPECT_GE(outer.used(), 2 * kMiB) << "the inner budget's allocations count in the outer";
    {
        const ll::BudgetsSetAside aside;
        EXPECT_NO_THROW(torch::empty({16 * 1024 * 1024}, torch::kUInt8));
        const ll::AllocationBudget own(kMiB, "own");
        EXPECT_THROW(torch::empty({2 * 1024 * 1024}, torch::kUInt8), ll::AllocationBudgetExceeded);
    }
    EXPECT_LT(outer.used(), 3 * kMiB) << "what was set aside is not counted";
    EXPECT_THROW(torch::empty({2 * 1024 * 1024}, torch::kUInt8), ll::AllocationBudgetExceeded);
}

TEST(AllocationBudget, CreateModelRefusesAModelPastABudgetWithItsReason) {
    const ll::ModelShape shape{.channels = 1, .height = 28, .width = 28, .numClasses = 10};
    {
        // 784 x 1000 weights are 3 MiB: past the caller's budget of 1 MiB.
        const ll::AllocationBudget budget(kMiB, "more than this test allows: use fewer units");
        auto model = ll::createModel("vae", shape, {{"net", "mlp"}, {"hidden", "1000"}});
        ASSERT_FALSE(model);
        EXPECT_EQ(model.error().message,
                  "model 'vae' with these settings needs more than 1.0 MiB to build, more than "
                  "this test allows: use fewer units");
        // The same model within the budget builds.
        EXPECT_TRUE(ll::createModel("vae", shape, {{"net", "mlp"}, {"hidden", "100"}}));
    }
    // With no caller's budget, the machine's: a billion units are terabytes.
    auto huge = ll::createModel("vae", shape, {{"net", "mlp"}, {"hidden", "1000000000"}});
    ASSERT_FALSE(huge);
    EXPECT_NE(huge.error().message.find("more than three quarters of this machine's"),
              std::string::npos)
        << huge.error().message;
    EXPECT_NE(huge.error().message.find("use smaller settings"), std::string::npos);
}

}  // namespace
