// evaluate: scores of a run's samples against real data.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>

#include "cli/commands.h"
#include "cli/console.h"
#include "cli/options.h"
#include "eval/evaluate.h"
#include "run/runfolder.h"

namespace ll::cli {

namespace {

struct EvaluateArgs {
    std::string run;
    std::string extractor;
    bool pixels = false;
    std::int64_t count = 2000;
    std::string metrics;
    std::string workspace;
    bool allCheckpoints = false;
    std::vector<double> sweep;
    std::string samples;
    std::string heldOut;
    std::string heldOutLabel;
    std::int64_t tstrSteps = 600;
    MetricArgs metric;
    SteerArgs steer;
};

void printEvaluation(const EvalRecord& r) {
    std::printf("step %lld: %s\n", static_cast<long long>(r.step), r.protocol.c_str());
    std::printf("%-28s %12s %12s\n", "metric", "value", "floor");
    for (const auto& s : r.scores) {
        char value[48];
        if (std::isnan(s.std))
            std::snprintf(value, sizeof value, "%.4g", s.value);
        else
            std::snprintf(value, sizeof value, "%.4g+-%.2g", s.value, s.std);
        std::printf("%-28s %12s %12.4g\n", scoreLabel(s.name).c_str(), value, s.floor);
    }
    for (const auto& [name, why] : r.errors)
        std::printf("%-28s %12s  (%s)\n", scoreLabel(name).c_str(), "-", why.c_str());
    if (!r.generatedClasses.empty()) {
        std::printf("\n%-20s %10s %10s\n", "predicted class", "generated", "real");
        for (std::size_t k = 0; k < r.classNames.size() && k < r.generatedClasses.size(); ++k)
            std::printf("%-20.20s %10lld %10lld\n", r.classNames[k].c_str(),
                        static_cast<long long>(r.generatedClasses[k]),
                        static_cast<long long>(k < r.realClasses.size() ? r.realClasses[k] : 0));
    }
}

// A guidance sweep as one table: fidelity against diversity, weight by weight.
void printSweep(const std::string& run, const std::vector<double>& guidances) {
    std::printf("\n%-10s", "guidance");
    const auto records = listEvaluations(run);
    for (const char* m : {"fid", "precision", "recall", "agreement"}) std::printf(" %10s", m);
    std::printf("\n");
    for (const auto& r : records) {
        if (std::find(guidances.begin(), guidances.end(), r.guidance) == guidances.end()) continue;
        std::printf("%-10g", r.guidance);
        for (const char* m : {"fid", "precision", "recall", "agreement"})
            std::printf(" %10.4g", r.score(m) ? r.score(m)->value : kNoValue);
        std::printf("\n");
    }
}

// The record an evaluation wrote, as a table; 0, or the failure's exit code.
int printRecord(const Result<std::filesystem::path>& file) {
    if (!file) return failure("evaluate: " + file.error().message);
    auto record = readEvaluation(*file);
    if (!record) return failure(record.error().message);
    printEvaluation(*record);
    std::fprintf(stderr, "wrote %s\n", file->string().c_str());
    return 0;
}

int runEvaluate(const EvaluateArgs& a) {
    auto metrics = parseEvalMetrics(a.metrics);
    if (!metrics) return failure("evaluate: " + metrics.error().message);
    if (a.count < 2 || a.count > 1000000)
        return failure("evaluate: --count must lie in 2..1000000");
    if (!a.extractor.empty() && a.pixels)
        return failure("evaluate: give --extractor or --pixels, not both");
    if (a.allCheckpoints && a.steer.step())
        return failure("evaluate: give --checkpoint STEP or --all-checkpoints, not both");
    if (!a.samples.empty() && (a.allCheckpoints || !a.sweep.empty()))
        return failure("evaluate: --samples scores one folder, not checkpoints or a sweep");
    const auto& m = a.metric.settings;
    // None named: the defaults, those needing a classifier left out where there is none.
    EvalOptions options{.metrics = a.metrics.empty() ? std::vector<std::string>{} : *metrics,
                        .count = a.count,
                        .request = {},
                        .extractor = a.extractor,
                        .pixels = a.pixels,
                        .workspace = a.workspace,
                        .k = m.k,
                        .kDensity = m.kDensity,
                        .kidSubsets = m.kidSubsets,
                        .kidSize = m.kidSize,
                        .cells = m.cells,
                        .tstrSteps = a.tstrSteps};
    auto steered = a.steer.request(runClassNames(a.run));
    if (!steered) return failure("evaluate: " + steered.error().message);
    options.request = *steered;
    if (!a.heldOut.empty())
        options.heldOut = {.source = absoluteSource(a.heldOut), .labelColumn = a.heldOutLabel};
    else if (!a.heldOutLabel.empty())
        return failure("evaluate: --held-out-label-column needs --held-out");
    std::vector<std::optional<std::int64_t>> steps{a.steer.step()};
    if (a.allCheckpoints) {
        steps.clear();
        for (auto s : listCheckpoints(a.run)) steps.push_back(s);
        if (steps.empty()) return failure("evaluate: " + a.run + " has no checkpoints");
    }
    if (!a.samples.empty()) {
        StageProgress progress;
        auto file =
            evaluateSampleFolder(a.run, a.steer.step(), a.samples, options, std::ref(progress));
        progress.endLine();
        return printRecord(file);
    }
    const std::vector<double> guidances = a.sweep.empty() ? std::vector{a.steer.guidance} : a.sweep;
    for (const auto& step : steps)
        for (double g : guidances) {
            options.request.guidance = g;
            StageProgress progress;
            Result<std::filesystem::path> file;
            try {
                file = evaluateRun(a.run, step, options, std::ref(progress));
            } catch (const std::exception& e) {
                progress.endLine();
                return failure("evaluate: " + firstLine(e));
            }
            progress.endLine();
            if (int failed = printRecord(file)) return failed;
        }
    if (guidances.size() > 1) printSweep(a.run, guidances);
    return 0;
}

}  // namespace

Command addEvaluate(CLI::App& app) {
    auto a = std::make_shared<EvaluateArgs>();
    auto* cmd = app.add_subcommand(
        "evaluate",
        "Score a run's samples against real data, each score beside its real-vs-real floor; "
        "writes eval/step-NNNNNN-gW.json (+ PNGs) into the run and prints a table");
    cmd->add_option("--run", a->run, "Run folder")->required();
    cmd->add_option("--count", a->count, "Samples to generate")->capture_default_str();
    cmd->add_option("--metrics", a->metrics,
                    "Comma list of fid, kid, precision, recall, density, coverage, is, "
                    "agreement, classes, neighbours, ct, tstr, or all (default: all but tstr)");
    cmd->add_option("--extractor", a->extractor,
                    "Feature extractor folder or classifier run (default: the dataset's own, "
                    "from the workspace or shipped)");
    cmd->add_flag("--pixels", a->pixels, "Raw pixels (or standardised rows) as the feature space");
    cmd->add_option("--workspace", a->workspace,
                    "Where to look for extractors (default: the run's workspace)");
    cmd->add_flag("--all-checkpoints", a->allCheckpoints,
                  "Evaluate every saved checkpoint (metrics over training steps)");
    cmd->add_option("--guidance-sweep", a->sweep,
                    "Evaluate at each of these guidance weights (comma list)")
        ->delimiter(',');
    cmd->add_option("--samples", a->samples,
                    "Score these samples instead of drawing: a folder as sample and export "
                    "write it (PNGs with manifest.csv) or a CSV of rows");
    cmd->add_option("--held-out", a->heldOut,
                    "Real data training did not see, to score against (reference, ct, tstr): "
                    "a file or folder like the run's data, read as it was (default: the data's "
                    "own test split, else halves of the training data)");
    cmd->add_option("--held-out-label-column", a->heldOutLabel,
                    "CSV: the held-out file's label column (default: the run's)");
    a->metric.add(cmd);
    cmd->add_option("--tstr-steps", a->tstrSteps,
                    "Training steps of the train-on-synthetic classifiers")
        ->capture_default_str();
    a->steer.add(cmd);
    return {cmd, [a] { return runEvaluate(*a); }};
}

}  // namespace ll::cli
