#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

namespace ll {

class GenerativeModel;
struct Dataset;

/// A model's latent space seen from above: latents of real data (encoded, VAE family) and of
/// the model's own draws (their seeds' latents), projected on the two leading principal axes
/// of them all, with the leading principal directions for sliders (GANSpace, Haerkoenen et
/// al. 2020). Torch-free: the window draws it.
struct LatentMap {
    int dims = 0;
    std::vector<float> x, y;                     // each point on the map
    std::vector<int> label;                      // its class (-1: none)
    std::vector<std::uint8_t> real;              // 1: an encoded data row, 0: a drawn latent
    std::vector<std::int64_t> index;             // the data row, or the draw's number
    std::vector<float> latents;                  // each point's latent: points x dims
    std::vector<float> mean;                     // dims
    std::vector<std::vector<float>> directions;  // unit vectors, leading first
    std::vector<float> spread;                   // standard deviation along each
    std::string note;                            // what is missing and why, if anything
};

/// Where a latent lies on the map: its coordinates on the two leading directions.
std::pair<float, float> projectLatent(const LatentMap& map, const std::vector<float>& latent);

/// `count` drawn latents (draw i: latent i % 500 of seed + i / 500 in draws of 500, class
/// i % classes for conditional models, else none) and, when `data` is given and the model
/// encodes, `count` encoded rows of it (a seeded subset); `directions` principal
/// directions (at least 2).
Result<LatentMap> buildLatentMap(GenerativeModel& model, const Dataset* data, std::int64_t count,
                                 std::uint64_t seed, int directions = 8);

/// Writes the map's points as CSV: kind (real / drawn), index, class, class_name, pc1, pc2.
Result<void> writeLatentMapCsv(const LatentMap& map, const std::vector<std::string>& classNames,
                               const std::string& path);

}  // namespace ll
