#pragma once

// LL_VECTOR_LOOP: plain loops the compiler vectorises, one clone per instruction set, chosen
// when the library loads (GCC's target_clones). A file using it is built at -O3 with
// -fno-math-errno (core/CMakeLists.txt), so that sqrt is one instruction. Not under
// ThreadSanitizer: the clones' resolver runs while the loader relocates, before TSan's runtime
// has started, and TSan instruments it (a test crashed there).
#if defined(__SANITIZE_THREAD__) || !defined(__x86_64__)
#define LL_VECTOR_LOOP
#else
#define LL_VECTOR_LOOP __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
