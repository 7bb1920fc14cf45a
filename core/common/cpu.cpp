#include "common/cpu.h"

#include <dlfcn.h>
#include <malloc.h>
#include <sched.h>
#include <unistd.h>
#include <atomic>
#include <thread>

#include <torch/torch.h>

#include "common/format.h"

namespace ll {

namespace {

std::atomic<int> g_coreLimit{0};

// LibTorch reaches BLAS through libblas.so.3, which Debian's alternatives point at OpenBLAS or
// the reference BLAS: look the OpenBLAS entry points up at run time instead of linking them.
using SetThreads = void (*)(int);
using GetThreads = int (*)();
using GetConfig = char* (*)();

std::atomic<int> g_leases{0};   // threads holding a lease
thread_local int t_leases = 0;  // leases this thread holds

}  // namespace

ThreadSettingsLease::ThreadSettingsLease() {
    ++t_leases;
    ++g_leases;
}

ThreadSettingsLease::~ThreadSettingsLease() {
    --t_leases;
    --g_leases;
}

void applyAllocatorSettings() {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    // Tensors above 32 MiB would still be mapped fresh every time; keep them in the heap too.
    mallopt(M_MMAP_MAX, 0);
    // One arena, the main one, for every thread. Any other arena is a chain of mmap'd heaps of
    // at most 64 MiB, and glibc unmaps a heap as soon as it is wholly free, whatever the trim
    // threshold: a training step on a thread of its own (the CLI's worker, the window's
    // trainer) freed its temporaries at the end of each step, the heap went back to the
    // system and the next step faulted it in again. dcgan-cpu, 300 steps through latentlab-cli
    // (perf stat): 0.12 to 3.9 million page faults and 13.2 to 5.9 steps/s from one run to the
    // next with an arena per core; 103,000 (start-up and data alone) and 11.9 to 15.3 steps/s
    // with one. The threads seldom allocate at once (a step allocates on its own thread; the
    // pools' workers write into tensors made before), so they hardly wait on the lock.
    mallopt(M_ARENA_MAX, 1);
}

void releaseFreeMemory() {
    malloc_trim(0);
}

void setBlasThreads(int threads) {
    static const auto set =
        reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    if (set) set(threads);
}

int blasThreads() {
    static const auto get =
        reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    return get ? get() : 0;
}

void applyThreadSettings(Workload workload, int threads) {
    if (g_leases.load() > t_leases) return;  // another thread's training run holds the pools
    const int n = threads > 0 ? threads : usableCores();
    // Two pools on the same cores fight: one gets them all, the other runs single-threaded.
    if (workload == Workload::Conv) {
        torch::set_num_threads(n);
        setBlasThreads(1);
    } else {
        torch::set_num_threads(1);
        setBlasThreads(n);
    }
}

int usableCores() {
    // The cores this process may run on (taskset, a container's cpuset), not the machine's.
    cpu_set_t allowed;
    const int all = sched_getaffinity(0, sizeof allowed, &allowed) == 0
                        ? std::max(1, CPU_COUNT(&allowed))
                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const int limit = g_coreLimit.load();
    return limit > 0 ? std::min(all, limit) : all;
}

void limitCores(int count) {
    g_coreLimit = std::max(0, count);
}

void applyCpuSettings() {
    applyAllocatorSettings();
    applyThreadSettings(Workload::Mlp);
}

std::string cpuSummary() {
    auto config = reinterpret_cast<GetConfig>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
    std::string blas = "reference BLAS (slow: install libopenblas0-pthread)";
    if (config) {
        // "OpenBLAS 0.3.21 NO_AFFINITY Haswell MAX_THREADS=64": keep name and version.
        blas = config();
        if (auto sp = blas.find(' ', blas.find(' ') + 1); sp != std::string::npos) blas.resize(sp);
    }
    const int n = usableCores();
    return "CPU, " + std::to_string(n) + (n == 1 ? " core, " : " cores, ") + blas;
}

std::string threadSummary() {
    const int torchThreads = torch::get_num_threads();
    std::string text =
        std::to_string(torchThreads) + (torchThreads == 1 ? " torch thread" : " torch threads");
    if (const int blas = blasThreads(); blas > 0) text += ", OpenBLAS " + std::to_string(blas);
    return text;
}

unsigned long long physicalMemoryBytes() {
    const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0
               ? static_cast<unsigned long long>(pages) * static_cast<unsigned long long>(size)
               : 0;
}

std::string beyondMemory(double bytes) {
    const auto memory = static_cast<double>(physicalMemoryBytes());
    if (memory <= 0 || bytes <= 0.75 * memory) return {};
    return " need about " + formatBytes(bytes) +
           " to read, more than three quarters of this machine's " + formatBytes(memory);
}

}  // namespace ll
