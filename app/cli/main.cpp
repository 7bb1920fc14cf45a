// latentlab-cli: every computing feature of LatentLab, headless. main() parses the command
// line and runs the one command given; each group of commands lives in its own file
// (commands.h), and everything they compute lives in core.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/console.h"
#include "common/cpu.h"

int main(int argc, char** argv) {
    using namespace ll::cli;
    ll::applyCpuSettings();
    CLI::App app{"LatentLab: train, sample and inspect generative models, headless"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Help for every command");
    // One line on a usage error too, like every other failure.
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return std::string("latentlab-cli: ") + e.what() + " (see --help)\n";
    });
    // In the order of --help.
    std::vector<Command> commands{addTrain(app),         addSample(app),         addEvaluate(app),
                                  addSweep(app),         addInterpolate(app),    addLatents(app),
                                  addDecode(app),        addTrainExtractor(app), addClassify(app),
                                  addMetrics(app),       addFeatures(app),       addExport(app),
                                  addExportWeights(app), addImportWeights(app)};
#ifdef LATENTLAB_WITH_REPORT
    commands.push_back(addReport(app));
#endif
    commands.push_back(addOneClass(app));
    commands.push_back(addLearningCurve(app));
    commands.push_back(addRebalance(app));
    commands.push_back(addData(app));
    commands.push_back(addModels(app));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    catchInterrupts();
    try {
        for (const auto& command : commands)
            if (command.app->parsed()) return command.run();
        return 0;
    } catch (const std::exception& e) {
        return failure(firstLine(e));
    }
}
