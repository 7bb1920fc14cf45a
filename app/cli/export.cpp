// export: a synthetic dataset out of a generator run, with its manifest and card.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>

#include "cli/commands.h"
#include "cli/console.h"
#include "cli/options.h"
#include "eval/evaluate.h"
#include "export/datasetexport.h"

namespace ll::cli {

namespace {

struct ExportArgs {
    std::string run;
    std::string out;
    std::int64_t perClass = 100;
    std::vector<std::string> classes;
    std::string proportions;
    std::int64_t total = 0;
    bool perClassGiven = false;
    double minConfidence = 0;
    bool dropCopies = false;
    double copyDistance = std::nan("");
    std::int64_t cap = 0;
    std::int64_t batch = 200;
    double maxDraws = 4;
    std::string format;
    bool gzip = false;
    bool noCard = false;
    bool force = false;
    std::string extractor;
    std::string workspace;
    std::string metrics;
    std::int64_t tstrSteps = 600;
    SteerArgs steer;
};

int runExport(const ExportArgs& a) {
    const auto classNames = runClassNames(a.run);
    auto steered = a.steer.request(classNames);
    if (!steered) return failure("export: " + steered.error().message);
    auto classes = runClasses(a.classes, classNames);
    if (!classes) return failure("export: --classes: " + classes.error().message);
    ExportRequest r{.run = a.run,
                    .step = a.steer.step(),
                    .perClass = a.perClass,
                    .classes = *classes,
                    .total = a.total,
                    .steering = *steered,
                    .guidingClassifier = a.steer.classifier,
                    .minConfidence = a.minConfidence,
                    .dropCopies = a.dropCopies,
                    .copyDistance = a.copyDistance,
                    .capPerClass = a.cap,
                    .maxDrawFactor = a.maxDraws,
                    .batch = a.batch,
                    .gzip = a.gzip,
                    .card = !a.noCard,
                    .force = a.force,
                    .out = a.out,
                    .extractor = a.extractor,
                    .workspace = a.workspace,
                    .tstrSteps = a.tstrSteps};
    // The steering's classifier stays open in a.steer; the export opens its own by path.
    r.steering.classifier = nullptr;
    if (!a.proportions.empty()) {
        auto p = parseClassWeights(a.proportions, "--proportions", classNames);
        if (!p) return failure("export: " + p.error().message);
        r.proportions = *p;
    } else if (a.total != 0) {
        // A total alone is split evenly over the classes asked for (or every class).
        if (a.perClassGiven) return failure("export: give --per-class or --total, not both");
        if (!classNames) return failure("export: " + classNames.error().message);
        std::vector<int> over = r.classes;
        if (over.empty())
            for (int k = 0; k < static_cast<int>(classNames->size()); ++k) over.push_back(k);
        for (int k : over)
            if (std::ranges::find(r.proportions, k, &std::pair<int, double>::first) ==
                r.proportions.end())
                r.proportions.emplace_back(k, 1.0);
    }
    if (!a.metrics.empty()) {
        auto m = parseEvalMetrics(a.metrics);
        if (!m) return failure("export: " + m.error().message);
        r.metrics = *m;
    }
    if (a.format.empty()) {
        // png for images, csv for tables: the run says which.
        r.format = ExportFormat::Png;
        if (auto data = readRunData(a.run); data && data->shape.tabular())
            r.format = ExportFormat::Csv;
    } else {
        auto f = parseExportFormat(a.format);
        if (!f) return failure("export: " + f.error().message);
        r.format = *f;
    }
    if (auto ok = checkExport(r); !ok) return failure("export: " + ok.error().message);

    StageProgress progress;
    auto summary = exportDataset(r, std::ref(progress));
    progress.endLine();
    if (!summary) return failure("export: " + summary.error().message);
    std::int64_t kept = 0;
    for (const auto& [name, n] : summary->counts) kept += n;
    std::printf("exported %lld samples of %s (step %lld, %lld drawn) to %s\n",
                static_cast<long long>(kept), a.run.c_str(), static_cast<long long>(summary->step),
                static_cast<long long>(summary->drawn), a.out.c_str());
    for (const auto& [filter, n] : summary->dropped)
        std::printf("  dropped by %s: %lld\n", filter.c_str(), static_cast<long long>(n));
    for (const auto& s : summary->shortfalls) std::printf("  short: %s\n", s.c_str());
    if (!summary->card.empty()) std::printf("  card: %s\n", summary->card.c_str());
    return 0;
}

}  // namespace

Command addExport(CLI::App& app) {
    auto a = std::make_shared<ExportArgs>();
    auto* cmd = app.add_subcommand(
        "export",
        "Export a synthetic dataset: samples per class under any steering, filtered, as a PNG "
        "folder, IDX, NumPy or CSV, with manifest.csv and a dataset card");
    cmd->add_option("--run", a->run, "Generator run folder")->required();
    cmd->add_option("--out", a->out, "Folder to create (refused when not empty)")->required();
    cmd->add_option("--per-class", a->perClass, "Samples of each class")
        ->capture_default_str()
        ->each([a](const std::string&) { a->perClassGiven = true; });
    cmd->add_option("--classes", a->classes,
                    "Only these classes by name or number, e.g. Sneaker,Bag or 7,8 (default: all)")
        ->delimiter(',');
    cmd->add_option("--proportions", a->proportions,
                    "Instead of --per-class: a class mixture CLASS:WEIGHT,... of --total "
                    "samples (classes by name or number)");
    cmd->add_option("--total", a->total,
                    "Samples in all: split by --proportions, or evenly over the classes");
    cmd->add_option("--min-confidence", a->minConfidence,
                    "Keep a sample only when the domain classifier gives its class at least this "
                    "probability");
    cmd->add_flag("--drop-copies", a->dropCopies,
                  "Drop near-copies of training images (feature distance below --copy-distance)");
    cmd->add_option("--copy-distance", a->copyDistance,
                    "Near-copy distance (default: the 1st percentile of real held-out images' "
                    "distances to their nearest training image; data without a held-out split: "
                    "of training images' distances to their nearest other)");
    cmd->add_option("--cap-per-class", a->cap, "At most this many per class");
    cmd->add_option("--batch", a->batch, "Samples per draw")->capture_default_str();
    cmd->add_option("--max-draws", a->maxDraws,
                    "Give a class up after this many times its count in draws")
        ->capture_default_str();
    cmd->add_option("--format", a->format,
                    "png, idx, npy or csv (default: png for images, csv "
                    "for tables)");
    cmd->add_flag("--gzip", a->gzip, "IDX: write .gz files");
    cmd->add_flag("--no-card", a->noCard, "Skip card.md, card.json and croissant.json");
    cmd->add_flag("--force", a->force, "Replace the folder when it is not empty");
    cmd->add_option("--extractor", a->extractor,
                    "Domain classifier (extractor folder or classifier run; default: the "
                    "dataset's own)");
    cmd->add_option("--workspace", a->workspace, "Workspace to find the dataset's extractor in");
    cmd->add_option("--metrics", a->metrics, "The card's metrics (default: all)");
    cmd->add_option("--tstr-steps", a->tstrSteps, "Training steps of the card's TSTR classifiers")
        ->capture_default_str();
    a->steer.add(cmd);
    return {cmd, [a] { return runExport(*a); }};
}

}  // namespace ll::cli
