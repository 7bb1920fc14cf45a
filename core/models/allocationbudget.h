#pragma once

// A ceiling on the CPU memory one piece of work may allocate, for the work whose size comes
// from settings or files a user brings: building a model. A model's constructor allocates and
// initialises every weight; settings like hidden=50000,50000,50000 or a hostile import's
// metadata would otherwise fill the machine's memory until the kernel kills the process (the
// window with it). Under a budget, the allocation that would pass it throws instead, before it
// allocates, and the caller says why.

#include <cstdint>
#include <new>
#include <string>

namespace ll {

/// Thrown by a CPU allocation that would take its thread past a budget's ceiling (the lowest
/// ceiling it would pass, when it would pass several).
class AllocationBudgetExceeded : public std::bad_alloc {
public:
    AllocationBudgetExceeded(std::uint64_t limit, std::string why);
    const char* what() const noexcept override { return m_what.c_str(); }
    std::uint64_t limit() const { return m_limit; }
    /// The budget's reason and remedy, as its owner gave it, the end of a refusal: "more than
    /// three quarters of this machine's 23.0 GiB: use smaller settings".
    const std::string& why() const { return m_why; }

private:
    std::uint64_t m_limit;
    std::string m_why;
    std::string m_what;
};

/// While alive, every CPU tensor allocation made on the constructing thread counts against
/// `limit` bytes (what is freed is not given back: the count is of bytes allocated, an upper
/// bound of what is held). Budgets nest: an inner one counts against the outer too. Other
/// threads, and allocations outside LibTorch's CPU allocator, are not counted.
class AllocationBudget {
public:
    AllocationBudget(std::uint64_t limit, std::string why);
    ~AllocationBudget();
    AllocationBudget(const AllocationBudget&) = delete;
    AllocationBudget& operator=(const AllocationBudget&) = delete;

    /// Bytes allocated under this budget so far.
    std::uint64_t used() const { return m_used; }

private:
    friend class BudgetedAllocator;
    std::uint64_t m_limit;
    std::uint64_t m_used = 0;
    std::string m_why;
    AllocationBudget* m_outer;
};

/// While alive, this thread's budgets are set aside: what it allocates counts against none of
/// them, and a budget made meanwhile starts a chain of its own. For work inside a budgeted one
/// whose size the budget's owner does not answer for (a run a model links to, loaded with it).
class BudgetsSetAside {
public:
    BudgetsSetAside();
    ~BudgetsSetAside();
    BudgetsSetAside(const BudgetsSetAside&) = delete;
    BudgetsSetAside& operator=(const BudgetsSetAside&) = delete;

private:
    AllocationBudget* m_saved;
};

/// The budget for building a model on this machine: three quarters of its physical memory
/// (the ceiling the data readers use), or none when the memory cannot be told.
/// createModel builds every model under it.
std::uint64_t modelBuildLimit();

}  // namespace ll
