// export-weights and import-weights: a run's weights as a safetensors file, and back into a
// run folder that sample, evaluate and the window open like any run (core/run/weights.h).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/console.h"
#include "run/weights.h"

namespace ll::cli {

namespace {

struct ExportWeightsArgs {
    std::string run;
    std::int64_t checkpoint = -1;
    std::string out;
};

int runExportWeights(const ExportWeightsArgs& a) {
    const auto step = a.checkpoint >= 0 ? std::optional(a.checkpoint) : std::nullopt;
    auto exported = exportWeights(a.run, step, a.out);
    if (!exported) return failure("export-weights: " + exported.error().message);
    std::printf("wrote %zu tensors of %s (step %lld, checkpoint sha256 %s) to %s\n",
                exported->tensors, a.run.c_str(), static_cast<long long>(exported->step),
                exported->checkpointSha256.c_str(), a.out.c_str());
    return 0;
}

struct ImportWeightsArgs {
    std::string file;
    std::string out;
};

int runImportWeights(const ImportWeightsArgs& a) {
    auto imported = importWeights(a.file, a.out);
    if (!imported) return failure("import-weights: " + imported.error().message);
    std::printf("imported %zu tensors (model %s, step %lld) into %s\n", imported->tensors,
                imported->model.c_str(), static_cast<long long>(imported->step), a.out.c_str());
    return 0;
}

}  // namespace

Command addExportWeights(CLI::App& app) {
    auto a = std::make_shared<ExportWeightsArgs>();
    auto* cmd = app.add_subcommand(
        "export-weights",
        "Write a run's weights at a checkpoint as a .safetensors file, with the run, model, "
        "settings, data and the checkpoint's SHA-256 in its metadata");
    cmd->add_option("--run", a->run, "Run folder")->required();
    cmd->add_option("--checkpoint", a->checkpoint, "Checkpoint step (default: latest)");
    cmd->add_option("--out", a->out, ".safetensors file to write")->required();
    return {cmd, [a] { return runExportWeights(*a); }};
}

Command addImportWeights(CLI::App& app) {
    auto a = std::make_shared<ImportWeightsArgs>();
    auto* cmd = app.add_subcommand(
        "import-weights",
        "Make a run folder from a .safetensors file that export-weights wrote, ready to sample");
    cmd->add_option("file", a->file, ".safetensors file to import")->required();
    cmd->add_option("--out", a->out, "Run folder to create (new or empty)")->required();
    return {cmd, [a] { return runImportWeights(*a); }};
}

}  // namespace ll::cli
