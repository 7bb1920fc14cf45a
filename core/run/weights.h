#pragma once

// A run's weights as a safetensors file (common/safetensors.h), and back into a run folder.
//
// Tensor names are dotted paths: the model's checkpoint key, then the submodules' registered
// names, then the parameter or buffer: "net.encoder.layers.0.weight",
// "generator.norm.running_mean". They are the nesting of the checkpoint GenerativeModel::save
// writes, flattened. Optimiser state is not exported. The "__metadata__" strings:
//   format             "latentlab-weights-1"
//   run                the run folder's name
//   model              the model's registry name
//   settings           the model's settings, a JSON object of strings
//   data               the run's data.json (shape, class names; tabular: feature names, mean, std)
//   step               the checkpoint's training step
//   checkpoint_sha256  SHA-256 of the checkpoint file the weights come from
//   dataset            the run's dataset spec (config.json's "dataset"), where it has one

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/error.h"

namespace ll {

inline constexpr const char* kWeightsFormat = "latentlab-weights-1";

struct WeightsExported {
    std::int64_t step = 0;
    std::size_t tensors = 0;
    std::string checkpointSha256;
};

/// Writes the weights of `run` at `step` (default: its latest checkpoint) to `outFile`,
/// atomically. The checkpoint is loaded into its model first, so one that does not load is
/// refused with the loader's message.
Result<WeightsExported> exportWeights(const std::filesystem::path& run,
                                      std::optional<std::int64_t> step,
                                      const std::filesystem::path& outFile);

struct WeightsImported {
    std::string model;
    std::int64_t step = 0;
    std::size_t tensors = 0;
};

/// Builds a run folder at `outRun` (which must not exist or be empty) from an exported file:
/// config.json (status "imported"), data.json and a weights-only checkpoint at the exported
/// step, laid out as GenerativeModel::save lays it out. The folder appears only once the run
/// loads; on any failure nothing is left behind. A setting that names another run (latent-ddpm's
/// "autoencoder") still names it: that run must exist where the settings say.
Result<WeightsImported> importWeights(const std::filesystem::path& file,
                                      const std::filesystem::path& outRun);

}  // namespace ll
