#pragma once

// The imbalance lab's data side: making a training set imbalanced (a long tail or chosen
// minority classes) and the classic ways of rebalancing it, each meaning what its
// imbalanced-learn namesake does (tests/study/reference/imblearn_reference.py):
//   randomUnderSample  RandomUnderSampler(sampling_strategy="auto" or a target per class)
//   randomOverSample   RandomOverSampler(sampling_strategy="auto" or a target per class)
//   smote              SMOTE(k_neighbors=k): a new row on the segment between a row of the
//                      class and one of its k nearest same-class rows
// They return indices or new rows, never copies of the data, so that a caller can rebalance
// images, tables or features alike and show a SMOTE row's two parents. Labels are a 1-D
// integer tensor; every draw comes from a CPU generator seeded with `seed`, and results live on
// the CPU. Internal to core (torch); the window reads the study's results, not these.

#include <cstdint>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "common/error.h"

namespace ll {

/// How to make a training set imbalanced.
struct ImbalanceProfile {
    enum class Kind { AsIs, LongTail, Minority } kind = Kind::AsIs;
    /// LongTail: class k of `order` (default: class order 0..K-1) keeps
    /// round(n * ratio^(-k/(K-1))) rows, n = the smallest class's count, so the first class
    /// keeps n and the last n/ratio (at least 1). ratio >= 1.
    double ratio = 100;
    /// LongTail: every class once, from the one that keeps the most rows to the one that keeps
    /// the fewest; empty: 0..K-1.
    std::vector<int> order;
    /// Minority: these classes make up these shares of the imbalanced training set (every
    /// other class keeps all its rows): m_i = round(share_i * M / (1 - sum shares)), M the
    /// rows of the other classes; each m_i >= 1 and <= the class's rows, shares in (0, 1),
    /// sum < 1.
    std::vector<std::pair<int, double>> minority;
};

/// The rows (sorted indices into `labels`) an imbalanced training set keeps, drawn without
/// replacement with `seed`. AsIs keeps every row. Errors name the class and the numbers
/// ("class 3 would keep 0 rows..."): a label out of range, an empty class under LongTail, a
/// ratio below 1, an order that is not a permutation of the classes, a minority class named
/// twice or out of range, a share outside (0, 1), shares that sum to 1 or more.
Result<torch::Tensor> imbalancedIndices(const torch::Tensor& labels, int numClasses,
                                        const ImbalanceProfile& profile, std::uint64_t seed);

/// The classes a profile made minor, ascending: Minority's classes; LongTail's ceil(K/3)
/// smallest, which are the last ceil(K/3) of its order whatever `counts` says (so the counts
/// before or after imbalancedIndices give the same answer); AsIs: the classes with fewer rows
/// than half the largest (may be empty). K = counts.size().
std::vector<int> minorityClasses(const std::vector<std::int64_t>& counts,
                                 const ImbalanceProfile& profile);

/// Rows per class of `labels` (values in [0, numClasses), else a c10::Error naming the label).
std::vector<std::int64_t> classCounts(const torch::Tensor& labels, int numClasses);

/// A stratified split: of every class, round(fraction x its rows) drawn with `seed` are held
/// out. Returns (kept, held), each sorted row indices.
std::pair<torch::Tensor, torch::Tensor> stratifiedSplit(const torch::Tensor& labels, int numClasses,
                                                        double fraction, std::uint64_t seed);

/// Random under-sampling (imblearn RandomUnderSampler): every class cut to `target[k]` rows
/// (empty target: every class to the smallest non-empty class's count; a class with fewer
/// keeps all); returns the kept indices, sorted. Without replacement, seeded. A label out of
/// range or a target of another length than numClasses is a c10::Error (the caller's bug).
torch::Tensor randomUnderSample(const torch::Tensor& labels, int numClasses, std::uint64_t seed,
                                const std::vector<std::int64_t>& target = {});

/// Random over-sampling (imblearn RandomOverSampler): indices of the original rows (0..N-1)
/// followed by the drawn copies (with replacement) that bring every class to `target[k]`
/// (empty: the largest class's count; a class with no rows stays empty), class by class. A
/// class with no rows and a target above 0, a label out of range or a target of another length
/// than numClasses is a c10::Error.
torch::Tensor randomOverSample(const torch::Tensor& labels, int numClasses, std::uint64_t seed,
                               const std::vector<std::int64_t>& target = {});

struct SmoteOptions {
    int k = 5;  ///< same-class nearest neighbours (Euclidean, the row itself excluded)
    /// New rows per class: target[k] - count[k] for each class below its target; empty target:
    /// every class up to the largest class's count (imblearn's sampling_strategy="auto").
    std::vector<std::int64_t> target;
};

/// SMOTE's new rows: each is x[i] + gap * (x[j] - x[i]) with i a row of the class (drawn
/// uniformly with replacement), j one of i's k nearest same-class rows (drawn uniformly), gap
/// uniform in [0, 1). Rows come class by class, ascending; all tensors on the CPU.
struct SmoteResult {
    torch::Tensor x;        ///< M x F, the input's floating dtype, the new rows only
    torch::Tensor y;        ///< M int64
    torch::Tensor parents;  ///< M x 2 int64: (i, j), indices into the input rows
    torch::Tensor gaps;     ///< M float64
};

/// x: N x F floating (images flattened by the caller), labels: N int64 in [0, numClasses).
/// Error when a class to oversample has fewer than k + 1 rows: "SMOTE with k = 5 needs at
/// least 6 rows of every class it oversamples; class 3 has 4" (the caller prefixes the class
/// name if it wants); also for k < 1, bad shapes, a label out of range, a target of another
/// length than numClasses or a feature that is not finite. Neighbours by float64 distances,
/// block-wise and only for the rows drawn as i: memory stays bounded (6,000 rows x 784
/// features never build an N x N x F tensor). Ties among equally near rows are broken as
/// torch::topk breaks them.
Result<SmoteResult> smote(const torch::Tensor& x, const torch::Tensor& labels, int numClasses,
                          const SmoteOptions& options, std::uint64_t seed);

}  // namespace ll
