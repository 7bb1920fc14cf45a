#pragma once

#include <string>

namespace ll {

/// What a workload is made of decides who gets the cores (design.md, "Determinism and
/// devices"): OpenMP for convolutions, OpenBLAS for matrix products of MLPs.
enum class Workload { Mlp, Conv };

/// Process-wide allocator settings: large tensors stay in the heap instead of being mapped
/// and page-faulted in again every step. Call once at start-up, before any tensor exists.
void applyAllocatorSettings();
/// Hands the heap's free pages back to the system (malloc_trim). The allocator settings keep
/// them for speed, so a long-lived process (the window) otherwise holds its high-water mark:
/// the window calls this once a minute, which costs training a few page faults.
void releaseFreeMemory();

/// Gives the cores to the thread pool that suits the workload, `threads` of them (0: every
/// usable core), and one thread to the other pool: an MLP's matrix products run in OpenBLAS,
/// so torch's own pool keeps one, and a convolution's run in torch's pool, so OpenBLAS keeps
/// one. Both pools at full size on the same cores fight: torch's OpenMP workers spin at
/// every operator while OpenBLAS's threads need the cores (latent-ddpm's MLP denoiser trained
/// at 38 steps/s with both at two threads, at 181 with torch's at one). The pools are
/// process-wide: while another thread holds a ThreadSettingsLease, this leaves them as that
/// thread set them.
void applyThreadSettings(Workload workload, int threads = 0);

/// OpenBLAS's threads: sets them (nothing happens when BLAS is another library), reads them
/// (0 when it is another: the reference BLAS has none).
void setBlasThreads(int threads);
int blasThreads();

/// Held by a training run on its thread for as long as it trains: applyThreadSettings() from
/// other threads (a draw in the window, an evaluation) is then a no-op, so they neither take
/// the run's cores nor hand it the wrong pool. The holder's own calls still apply.
class ThreadSettingsLease {
public:
    ThreadSettingsLease();
    ~ThreadSettingsLease();
    ThreadSettingsLease(const ThreadSettingsLease&) = delete;
    ThreadSettingsLease& operator=(const ThreadSettingsLease&) = delete;
};

/// The cores this process may run on (its CPU affinity: taskset, a container's cpuset), at
/// most limitCores' count. The thread pools take this many.
int usableCores();

/// The cores this process may use from now on (0: all of them): the processes of a local
/// data-parallel run share the machine's cores instead of each taking them all.
void limitCores(int count);

/// applyAllocatorSettings() plus applyThreadSettings(Workload::Mlp).
void applyCpuSettings();

/// The machine in a few words for the status bar and logs: cores and BLAS. Each run sizes its
/// own thread pools (applyThreadSettings), so their counts are threadSummary's.
std::string cpuSummary();
/// The calling thread's pools: "2 torch threads, OpenBLAS 1" (a run's, on its thread).
std::string threadSummary();

/// The machine's physical memory in bytes (0 when it cannot be told).
unsigned long long physicalMemoryBytes();
/// Empty when `bytes` fit in three quarters of the machine's memory; else the end of a refusal:
/// " need about 22.4 GiB to read, more than three quarters of this machine's 23.0 GiB".
std::string beyondMemory(double bytes);

}  // namespace ll
