#pragma once

// The commands of latentlab-cli, a file per group: each add function adds its subcommand
// with its options and returns what runs when it was the one given.

#include <functional>

#include <CLI/CLI.hpp>

namespace ll::cli {

struct Command {
    CLI::App* app = nullptr;
    std::function<int()> run;
};

// train.cpp
Command addTrain(CLI::App& app);
Command addTrainExtractor(CLI::App& app);
Command addModels(CLI::App& app);
// data.cpp
Command addData(CLI::App& app);
// sample.cpp
Command addSample(CLI::App& app);
Command addSweep(CLI::App& app);
// latent.cpp
Command addInterpolate(CLI::App& app);
Command addLatents(CLI::App& app);
Command addDecode(CLI::App& app);
// evaluate.cpp
Command addEvaluate(CLI::App& app);
// classify.cpp
Command addClassify(CLI::App& app);
// oneclass.cpp
Command addOneClass(CLI::App& app);
// learningcurve.cpp
Command addLearningCurve(CLI::App& app);
// rebalance.cpp
Command addRebalance(CLI::App& app);
// features.cpp
Command addMetrics(CLI::App& app);
Command addFeatures(CLI::App& app);
// export.cpp
Command addExport(CLI::App& app);
// weights.cpp
Command addExportWeights(CLI::App& app);
Command addImportWeights(CLI::App& app);
// report.cpp (builds with the GUI: its charts are the window's)
Command addReport(CLI::App& app);

}  // namespace ll::cli
