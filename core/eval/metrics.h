#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "common/error.h"

namespace ll {

// Feature-space metrics of generated samples against real ones. Every function takes feature
// arrays of shape samples x features (any floating type, CPU), computes in float64 and refuses
// too few samples, mismatched feature counts and NaN or infinite values with a message that
// says what is needed.

/// Fréchet Inception Distance (Heusel et al. 2017) between Gaussians fitted to the two sets
/// (unbiased covariances). Needs more samples than features in each set, so that both
/// covariances have full rank.
Result<double> frechetDistance(const torch::Tensor& real, const torch::Tensor& fake);

/// The rows of one KID subset of each set.
struct KidSubset {
    std::vector<std::int64_t> real;
    std::vector<std::int64_t> fake;
};

struct Kid {
    double mean = 0;
    double std = 0;  // population standard deviation over the subsets (ddof 0, as torch-fidelity)
    int subsets = 0;
    std::int64_t subsetSize = 0;
};

/// Kernel Inception Distance (Binkowski et al. 2018): the unbiased MMD^2 with the kernel
/// k(x, y) = (x.y / d + 1)^3 on each subset, averaged. Each subset needs at least 2 rows of
/// each set.
Result<Kid> kernelInceptionDistance(const torch::Tensor& real, const torch::Tensor& fake,
                                    const std::vector<KidSubset>& subsets);

struct KidConfig {
    int subsets = 100;
    std::int64_t subsetSize = 1000;  // capped at the smaller set, as in clean-fid
    std::uint64_t seed = 0;
};

/// KID on subsets drawn by drawKidSubsets().
Result<Kid> kernelInceptionDistance(const torch::Tensor& real, const torch::Tensor& fake,
                                    const KidConfig& config);

/// `count` subsets of `size` distinct rows of each set (all rows of a smaller set), drawn so
/// that a script in any language repeats them: one SplitMix64 stream from `seed`; each subset
/// draws its real rows, then its fake rows, by a partial Fisher-Yates shuffle of 0..n-1 that
/// swaps position i with i + next() % (n - i) for i < size.
std::vector<KidSubset> drawKidSubsets(std::int64_t realCount, std::int64_t fakeCount, int count,
                                      std::int64_t size, std::uint64_t seed);

struct PrecisionRecall {
    double precision = 0;  // share of fakes inside some real sample's k-NN ball
    double recall = 0;     // share of reals inside some fake sample's k-NN ball
};

/// Improved precision and recall (Kynkaenniemi et al. 2019). A ball's radius is the distance
/// to the centre's k-th nearest neighbour in its own set, the centre excluded; balls are
/// closed. k = 3 as in the paper; needs at least k + 1 samples per set.
Result<PrecisionRecall> precisionRecall(const torch::Tensor& real, const torch::Tensor& fake,
                                        int k = 3);

struct DensityCoverage {
    double density = 0;   // (1 / kM) sum over fakes of the real k-NN balls that hold them
    double coverage = 0;  // share of real k-NN balls that hold at least one fake
};

/// Density and coverage (Naeem et al. 2020), with closed real k-NN balls as above. k = 5 as in
/// the paper; needs at least k + 1 real samples.
Result<DensityCoverage> densityCoverage(const torch::Tensor& real, const torch::Tensor& fake,
                                        int k = 5);

struct DataCopyingConfig {
    int cells = 10;
    // A cell enters C_T only with at least this many generated samples: the paper's
    // Q_m(cell) >= tau with tau = 20 / m.
    std::int64_t minGenerated = 20;
    int maxIterations = 100;  // Lloyd assignment steps
};

/// One cell of the training partition, for a view that colours cells.
struct CopyingCell {
    int id = 0;
    std::int64_t train = 0;
    std::int64_t test = 0;
    std::int64_t generated = 0;
    double z = 0;  // Z_U of the cell; 0 where the cell lacks training, test or generated points
    bool kept = false;  // part of C_T
};

struct DataCopying {
    double ct = 0;  // well below 0: the generator copies its training data
    std::vector<CopyingCell> cells;
    torch::Tensor centroids;  // cells x features, float64: a point's cell is its nearest one
};

/// The data-copying test C_T (Meehan, Chaudhuri and Dasgupta 2020). The training set is cut
/// into cells by k-means; in each cell, the Mann-Whitney U of the generated points' distances
/// to their nearest training point of the cell against the held-out test points' distances
/// gives Z_U (mid-ranks for ties, the tie-corrected variance, no continuity correction); C_T
/// averages Z_U over the cells with enough generated samples, weighted by their test share.
/// k-means starts from the training rows floor(i n / cells) (reproducible in any language,
/// unlike k-means++) and runs Lloyd's algorithm until no point changes cell; a cell that
/// empties keeps its centroid.
Result<DataCopying> dataCopying(const torch::Tensor& train, const torch::Tensor& test,
                                const torch::Tensor& generated,
                                const DataCopyingConfig& config = {});

/// The k nearest rows of `points` to each query row, nearest first: distances (queries x k,
/// float64, exact 0 for copies) and row indices (int64). Needs at least k points.
struct Nearest {
    torch::Tensor distances;
    torch::Tensor indices;
};
Result<Nearest> nearestNeighbours(const torch::Tensor& queries, const torch::Tensor& points, int k);

/// Inception Score (Salimans et al. 2016) from a classifier's logits (samples x classes):
/// exp(E_x KL(p(y|x) || p(y))), over all samples as one split. Needs at least 2 samples and 2
/// classes. Probabilities p > 0 work too, passed as log p.
Result<double> inceptionScore(const torch::Tensor& logits);

}  // namespace ll
