#pragma once

// Option groups that several commands share: each is added to a command by one call and
// turned into a value of core by one more.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/error.h"
#include "data/datasetspec.h"
#include "eval/featuremetrics.h"
#include "models/request.h"
#include "run/runloader.h"
#include "study/diffusionclassifier.h"

namespace ll::cli {

/// Where the data comes from and how to shape it: --dataset and the parts a command asks
/// for. Set a field before add() to change its default (classify's split is "test").
struct DataArgs {
    enum Part : unsigned {
        Split = 1,         // --split
        CheckedSplit = 2,  // --split, refused unless train or test
        LabelColumn = 4,   // --label-column
        Image = 8,         // --image-size, --rgb, --gray
        Classes = 16,      // --classes
        LongTail = 32,     // --long-tail
        Limit = 64,        // --limit
    };
    std::string dataset;
    std::string split = "train";
    std::string labelColumn;
    int imageSize = 0;
    bool rgb = false;
    bool gray = false;
    std::vector<std::string> classes;  // as typed: names or numbers (common/classnames.h)
    double longTail = 1;
    std::int64_t limit = 0;

    /// Adds the options; once the command is parsed, one the data does not take (--rgb on a
    /// table) is refused as a usage error.
    void add(CLI::App* cmd, unsigned parts, const std::string& datasetHelp);
    /// The spec these options name (its seed is the command's to set).
    DatasetSpec spec() const;
    /// Why an option given does not apply to the data --dataset names; empty when all do.
    std::string mismatch() const;

private:
    const CLI::Option* m_splitOption = nullptr;
};

/// How to draw samples: seed, checkpoint, temperature, truncation, guidance of both kinds,
/// sampler, class mixture. Shared by every command that samples a run.
struct SteerArgs {
    std::uint64_t seed = 0;
    std::int64_t checkpoint = -1;
    double temperature = 1.0;
    double truncation = 0;
    double guidance = 0;
    int steps = 0;
    std::string sampler = "ddim";
    std::string classifier;
    double classifierScale = 0;
    std::string interval;
    std::string mix;
    // The guiding classifier, opened by request() and kept while its requests live.
    mutable std::shared_ptr<LoadedRun> classifierRun;

    void add(CLI::App* cmd);
    /// The request these options ask for, or why they are wrong; --mix names classes of
    /// `classNames` (the run's) by name or number.
    Result<SampleRequest> request(const Result<std::vector<std::string>>& classNames) const;
    std::optional<std::int64_t> step() const;
};

/// Refuses a number of 0 or less ("must be above 0, not 0"), for options whose 0 inside
/// means "the default": typed, it is a mistake, not a request for the default.
CLI::Validator positiveNumber();
/// Refuses a negative number ("must be at least 0, not -1").
CLI::Validator nonNegativeNumber();

/// "3:0.5,5:0.5" or "Sneaker:0.5,Bag:0.5" as (class, weight) pairs (--mix, --proportions),
/// classes by name or number among `classNames`; the error names `option`.
Result<std::vector<std::pair<int, double>>> parseClassWeights(
    const std::string& text, const std::string& option,
    const Result<std::vector<std::string>>& classNames);

/// The classes a run generates (its data.json), for the options that name them, or why the
/// run cannot be read.
Result<std::vector<std::string>> runClassNames(const std::string& run);

/// The classes `tokens` name among a run's `classNames` (by name, else number). Where the
/// run cannot be read, numbers pass as they are (opening the run says what is wrong) and a
/// name fails with why the run could not be read.
Result<std::vector<int>> runClasses(const std::vector<std::string>& tokens,
                                    const Result<std::vector<std::string>>& classNames);

/// The neighbours, KID subsets and data-copying cells of the feature-space metrics: evaluate
/// and metrics take the same options.
struct MetricArgs {
    FeatureMetricsConfig settings;

    void add(CLI::App* cmd);
};

/// How a diffusion run classifies (study/diffusionclassifier.h): timesteps, noise draws,
/// pruning stages and the loss. classify and learning-curve take the same options; `prefix`
/// names them apart where a command has others of the same name ("diffusion-").
struct DenoisingArgs {
    int timesteps = 50;
    int noiseDraws = 1;
    std::vector<int> stages;
    std::vector<int> keep;
    std::string loss = "l2";
    std::uint64_t seed = 0;

    void add(CLI::App* group, const std::string& prefix = "");
    /// The options these name (checked), or why they are wrong.
    Result<DiffusionClassifierOptions> options() const;
};

}  // namespace ll::cli
