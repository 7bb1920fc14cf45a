#pragma once

// The floor of TSTR (train on synthetic, test on real) is TRTR: the same classifier trained on
// as many real images and tested on the same reference. It depends on nothing but those images,
// the steps and the seed, yet costs as much as TSTR itself (half a minute for 600 steps on two
// cores), and every export card and evaluation of a dataset trains it again. This cache keeps
// it in `<workspace>/cache/trtr/<key>.json`, the key a SHA-256 of every input (the images'
// bytes, the labels, steps, seed, the LibTorch version and the thread count, which can change
// the last bits), so a hit is the number a fresh training would give on this machine.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <torch/types.h>

namespace ll {

/// The key of a TRTR accuracy: 64 hex digits.
std::string trtrKey(const torch::Tensor& trainX, const torch::Tensor& trainY,
                    const torch::Tensor& testX, const torch::Tensor& testY, std::int64_t steps,
                    std::uint64_t seed);

/// The accuracy stored under `key`, if a readable entry is there (a damaged one is a miss).
std::optional<double> cachedTrtr(const std::filesystem::path& workspace, const std::string& key);

/// Stores an accuracy (atomically; a cache that cannot be written is no error: the next run
/// trains again).
void storeTrtr(const std::filesystem::path& workspace, const std::string& key, double accuracy,
               std::int64_t trainRows, std::int64_t testRows, std::int64_t steps);

}  // namespace ll
