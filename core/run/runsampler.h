#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/samplegrid.h"
#include "common/table.h"
#include "models/request.h"
#include "run/runfolder.h"
#include "sample/latentend.h"
#include "sample/latentmap.h"

namespace ll {

/// A trained run opened for sampling, behind a torch-free face so that widgets can hold one.
/// Calls block while the model computes: call them from a worker thread.
class RunSampler {
public:
    /// Opens the run at its latest checkpoint, or at `step` when given.
    static Result<std::unique_ptr<RunSampler>> open(const std::filesystem::path& run,
                                                    std::optional<std::int64_t> step = {});
    ~RunSampler();
    RunSampler(const RunSampler&) = delete;
    RunSampler& operator=(const RunSampler&) = delete;

    const RunData& data() const;
    const TrainConfig& config() const;
    std::int64_t step() const;
    std::string modelName() const;
    bool generates() const;
    bool tabular() const;

    /// The noisy classifier whose gradient guides diffusion samples (classifier guidance):
    /// requests with a classifierScale use it. An empty path forgets it.
    Result<void> setGuidingClassifier(const std::filesystem::path& run);
    bool hasGuidingClassifier() const;

    /// Diffusion draws step by step: the grid of the current predictions after each
    /// denoising step, the steps done and their number; returning false stops the draw
    /// (which then fails with "sampling stopped").
    using StepFn = std::function<bool(const SampleGrid& grid, int done, int total)>;

    /// Images as a grid of `cols` columns; `rowLabels` names the rows (may be empty).
    Result<SampleGrid> grid(const SampleRequest& request, int cols,
                            std::vector<std::string> rowLabels = {}, const StepFn& onStep = {});
    /// One row per class (at most maxRows classes), `cols` samples each, labelled by class.
    Result<SampleGrid> classGrid(std::uint64_t seed, int cols, int maxRows = 10,
                                 SampleRequest settings = {}, const StepFn& onStep = {});
    /// Tabular rows in original units.
    Result<TableSamples> table(const SampleRequest& request);

    // The latent browser. Latents are rows of latentDims() floats.

    /// Whether the model has a latent space to browse, and its width.
    bool hasLatents() const;
    int latentDims() const;
    /// The run's latent map (buildLatentMap): `count` drawn latents and, when the model
    /// encodes, `count` rows of its training data encoded; `images` gets one tile per point
    /// in the map's order, cols 64: real points as the data has them, drawn ones decoded
    /// (pixel-space diffusion only when `decodeDrawn`: it takes minutes; else black tiles).
    Result<LatentMap> latentMap(std::int64_t count, std::uint64_t seed, int directions,
                                SampleGrid* images, bool decodeDrawn);
    /// The latent sample `index` of `request` starts from (locked tiles included).
    Result<std::vector<float>> latentOf(const SampleRequest& request, std::int64_t index);
    /// Images drawn from the given latents (request.count of them, flattened) under the
    /// request's condition and steering, `cols` to a row.
    Result<SampleGrid> decode(const std::vector<float>& latents, const SampleRequest& request,
                              int cols, const StepFn& onStep = {});
    /// `steps` images along the path between two latents (one row), under `base`'s steering;
    /// written as a PNG strip and a video (.mp4 or .avi) where the paths are not empty.
    Result<SampleGrid> interpolate(const LatentEnd& from, const LatentEnd& to, int steps,
                                   Interpolation mode, const SampleRequest& base,
                                   const std::filesystem::path& png = {},
                                   const std::filesystem::path& video = {});

private:
    RunSampler();
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace ll
