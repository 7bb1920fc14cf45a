#include "models/allocationbudget.h"

#include <limits>
#include <mutex>

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include "common/cpu.h"
#include "common/format.h"

namespace ll {

namespace {
thread_local AllocationBudget* tInnermost = nullptr;
}  // namespace

// LibTorch's CPU allocator with the budgets of the allocating thread in front. It hands out
// the allocator it wraps' own DataPtrs, so what it allocated is freed as before, and a thread
// with no budget pays one thread-local read per allocation.
class BudgetedAllocator final : public c10::Allocator {
public:
    explicit BudgetedAllocator(c10::Allocator* inner) : m_inner(inner) {}

    c10::DataPtr allocate(std::size_t n) const override {
        const AllocationBudget* passed = nullptr;  // the tightest one this would pass
        for (const AllocationBudget* b = tInnermost; b; b = b->m_outer)
            if (n > b->m_limit - b->m_used && (!passed || b->m_limit < passed->m_limit)) passed = b;
        if (passed) throw AllocationBudgetExceeded(passed->m_limit, passed->m_why);
        c10::DataPtr data = m_inner->allocate(n);
        for (AllocationBudget* b = tInnermost; b; b = b->m_outer) b->m_used += n;
        return data;
    }
    c10::DeleterFnPtr raw_deleter() const override { return m_inner->raw_deleter(); }

private:
    c10::Allocator* m_inner;
};

namespace {

// Never freed: LibTorch keeps the pointer, and tensors may still be allocated by static
// destructors after this file's statics are gone.
bool installWrapper() {
    // LibTorch registers its default CPU allocator at priority 0; a higher one wins.
    c10::SetAllocator(c10::DeviceType::CPU,
                      new BudgetedAllocator(c10::GetAllocator(c10::DeviceType::CPU)),
                      /*priority=*/1);
    return true;
}

void installOnce() {
    static std::once_flag once;
    std::call_once(once, installWrapper);
}

// Installed while the program starts, before any thread allocates (c10 registered its own
// allocator when its library loaded); installOnce covers a budget made before that.
[[maybe_unused]] const bool kInstalledAtStart = (installOnce(), true);

}  // namespace

AllocationBudgetExceeded::AllocationBudgetExceeded(std::uint64_t limit, std::string why)
    : m_limit(limit),
      m_why(std::move(why)),
      m_what("needs more than " + formatBytes(static_cast<double>(limit)) + ", " + m_why) {}

AllocationBudget::AllocationBudget(std::uint64_t limit, std::string why)
    : m_limit(limit), m_why(std::move(why)), m_outer(tInnermost) {
    installOnce();
    tInnermost = this;
}

AllocationBudget::~AllocationBudget() {
    tInnermost = m_outer;
}

BudgetsSetAside::BudgetsSetAside() : m_saved(tInnermost) {
    tInnermost = nullptr;
}

BudgetsSetAside::~BudgetsSetAside() {
    tInnermost = m_saved;
}

std::uint64_t modelBuildLimit() {
    const unsigned long long memory = physicalMemoryBytes();
    return memory > 0 ? memory / 4 * 3 : std::numeric_limits<std::uint64_t>::max();
}

}  // namespace ll
