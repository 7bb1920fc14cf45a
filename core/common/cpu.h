#pragma once

#include <string>

namespace ll {

/// What a workload is made of decides who gets the cores (design.md, "Determinism and
/// devices"): OpenMP for convolutions, OpenBLAS for matrix products of MLPs.
enum class Workload { Mlp, Conv };

/// Process-wide allocator settings: large tensors stay in the heap instead of being mapped
/// and page-faulted in again every step. Call once at start-up, before any tensor exists.
void applyAllocatorSettings();

/// Gives the cores to the thread pool that suits the workload.
void applyThreadSettings(Workload workload);

/// applyAllocatorSettings() plus applyThreadSettings(Workload::Mlp).
void applyCpuSettings();

/// One line for the status bar and logs: cores, threads, BLAS.
std::string cpuSummary();

}  // namespace ll
