#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/table.h"
#include "models/catalog.h"
#include "run/trainconfig.h"

namespace ll {

/// The on-disk layout of a run (design.md): config.json, log.jsonl, checkpoints/, samples/.
namespace runfiles {
inline constexpr const char* kConfig = "config.json";
inline constexpr const char* kLog = "log.jsonl";
inline constexpr const char* kLatest = "checkpoints/latest.json";
/// Held by the process training the run (RunLock).
inline constexpr const char* kLock = "train.lock";
/// What the CLI prints while it trains the run for a closed window (train --resume).
inline constexpr const char* kBackgroundLog = "background.log";
std::filesystem::path checkpoint(const std::filesystem::path& run, std::int64_t step);
std::filesystem::path samples(const std::filesystem::path& run, std::int64_t step);
/// Tabular runs: generated rows as CSV.
std::filesystem::path sampleTable(const std::filesystem::path& run, std::int64_t step);
/// The run's folders, by what writes them: training's checkpoints (checkpoints/) and sample
/// grids (samples/), evaluation
/// records and their pictures (eval/), Steer's sweeps (sweeps/), Latent's interpolations
/// (latent/). The window reads them here rather than spelling the names itself.
std::filesystem::path checkpointsDir(const std::filesystem::path& run);
std::filesystem::path samplesDir(const std::filesystem::path& run);
std::filesystem::path evalDir(const std::filesystem::path& run);
std::filesystem::path sweepsDir(const std::filesystem::path& run);
std::filesystem::path latentDir(const std::filesystem::path& run);
/// The studies of the run as a classifier (studies/<study>/: result.json and its charts).
std::filesystem::path studies(const std::filesystem::path& run);
/// The steps that saved a sample grid (samples/step-NNNNNN.png), ascending.
std::vector<std::int64_t> sampleSteps(const std::filesystem::path& run);
}  // namespace runfiles

/// `<workspace>/runs/<yyyymmdd-hhmmss>-<model>-<dataset>`, made unique if it exists.
std::filesystem::path newRunFolder(const std::filesystem::path& workspace, const std::string& model,
                                   const std::string& dataset);

/// The default workspace: $LATENTLAB_WORKSPACE, else ~/LatentLab.
std::filesystem::path defaultWorkspace();

/// The workspace a command on `run` works in: `given` when not empty, else the one holding the
/// run (`<workspace>/runs/<run>`), else defaultWorkspace().
std::filesystem::path workspaceOfRun(const std::filesystem::path& run,
                                     const std::filesystem::path& given = {});

/// What the runs browser shows of a run.
struct RunInfo {
    std::filesystem::path dir;
    std::string model;
    std::string dataset;
    std::string status;  // running, paused, completed, cancelled, failed
    std::int64_t step = 0;
    std::int64_t totalSteps = 0;
    LossMap lastLosses;
};

Result<void> writeRunConfig(const std::filesystem::path& run, const TrainConfig& config,
                            const std::string& status, const std::string& datasetName,
                            std::int64_t step);
/// config.json's text, and the config it holds (`origin` names it in errors): what rank 0 of
/// a data-parallel run hands the others.
std::string runConfigText(const TrainConfig& config, const std::string& status,
                          const std::string& datasetName, std::int64_t step);
Result<TrainConfig> parseRunConfig(const std::string& text, const std::filesystem::path& origin);
/// data.json: what the model was trained on (its shape and class names), so a run can be
/// sampled without loading its dataset.
struct RunData {
    std::string datasetName;
    ModelShape shape;
    std::vector<std::string> classNames;
    /// Tabular data: column names and the standardisation (original = value * std + mean).
    std::vector<std::string> featureNames;
    std::vector<double> mean;
    std::vector<double> std;
    /// The text columns read as categories, one-hot among the features.
    std::vector<Categorical> categorical;
    /// How the data's file wrote its numbers (Dataset::decimal): "point", "comma" or "".
    std::string decimal;
    /// The digits after the point of each feature in the data's file (Dataset::decimals), or
    /// empty: what the run's written samples are rounded to.
    std::vector<int> decimals;
};
Result<void> writeRunData(const std::filesystem::path& run, const RunData& data);
Result<RunData> readRunData(const std::filesystem::path& run);
Result<TrainConfig> readRunConfig(const std::filesystem::path& run);
Result<RunInfo> readRunInfo(const std::filesystem::path& run);
/// Every run under workspace/runs, newest first; unreadable folders are skipped.
std::vector<RunInfo> listRuns(const std::filesystem::path& workspace);

/// The step and path of the run's last checkpoint (from checkpoints/latest.json).
Result<std::pair<std::int64_t, std::filesystem::path>> latestCheckpoint(
    const std::filesystem::path& run);
/// The steps of every checkpoint file in the run, ascending.
std::vector<std::int64_t> listCheckpoints(const std::filesystem::path& run);
Result<void> writeLatest(const std::filesystem::path& run, std::int64_t step);

/// Appends one JSON line (a whole line per write: a crash can cut only the last line, which
/// readers skip).
Result<void> appendLogLine(const std::filesystem::path& run, const std::string& jsonLine);
/// Drops logged lines past `step` (on resume, to forget steps after the last checkpoint).
Result<void> truncateLog(const std::filesystem::path& run, std::int64_t step);
/// Every parsable line of log.jsonl as (step, losses).
std::vector<std::pair<std::int64_t, LossMap>> readLossLog(const std::filesystem::path& run);
/// A data-parallel run's logged speed of each rank, as curves: "rank R steps/s" and
/// "rank R all-reduce ms" (milliseconds per step in all-reduces, waiting included) per logged
/// step; empty for a run of one process.
std::vector<std::pair<std::int64_t, LossMap>> readRankLog(const std::filesystem::path& run);

}  // namespace ll
