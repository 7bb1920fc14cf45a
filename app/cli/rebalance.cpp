// rebalance: the imbalance lab (issue 14): SMOTE, under- and over-sampling against a
// conditional generator's samples, scored on the minority classes over seeds.
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/console.h"
#include "cli/options.h"
#include "study/rebalance.h"

namespace ll::cli {

namespace {

struct RebalanceArgs {
    DataArgs data;
    double longTail = 0;
    std::string minority;
    bool asIs = false;
    std::string methods = "none,under,over,smote,smote+under";
    std::vector<std::string> generatorRuns;
    std::string vaeRun;
    std::string out;
    RebalanceRequest request;
};

Result<std::vector<std::string>> parseMethods(const std::string& text) {
    std::vector<std::string> methods;
    std::stringstream in(text);
    for (std::string m; std::getline(in, m, ',');)
        if (!m.empty()) methods.push_back(m);
    if (methods.empty()) return fail("--methods names no method");
    return methods;
}

// "0.812 +- 0.034", or "-" where a metric is undefined.
std::string cell(const MethodScores& m, const std::string& metric) {
    const double mean = m.mean.at(metric), sd = m.sd.at(metric);
    if (!std::isfinite(mean)) return "-";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3f +- %.3f", mean, std::isfinite(sd) ? sd : 0.0);
    return buffer;
}

std::string countsText(const std::vector<std::string>& names,
                       const std::vector<std::int64_t>& counts) {
    std::string out;
    for (std::size_t k = 0; k < names.size() && k < counts.size(); ++k)
        out += (out.empty() ? "" : ", ") + names[k] + " " + std::to_string(counts[k]);
    return out;
}

int runRebalanceCommand(RebalanceArgs& a) {
    RebalanceRequest& r = a.request;
    r.data = a.data.spec();
    r.out = a.out;
    r.vaeRun = a.vaeRun;
    for (const auto& g : a.generatorRuns) r.generatorRuns.emplace_back(g);
    const int modes = (a.longTail > 0) + !a.minority.empty() + a.asIs;
    if (modes != 1)
        return failure(
            "rebalance: choose one of --long-tail RATIO, --minority CLASS:SHARE,... "
            "or --as-is");
    if (a.longTail > 0) {
        r.imbalance = ImbalanceMode::LongTail;
        r.longTailRatio = a.longTail;
    } else if (!a.minority.empty()) {
        r.imbalance = ImbalanceMode::Minority;
        auto shares = parseMinorityShares(a.minority);
        if (!shares) return failure("rebalance: " + shares.error().message);
        r.minority = *shares;
    } else {
        r.imbalance = ImbalanceMode::AsIs;
    }
    auto methods = parseMethods(a.methods);
    if (!methods) return failure("rebalance: " + methods.error().message);
    r.methods = *methods;
    if (auto ok = checkRebalance(r); !ok) return failure(ok.error().message);

    StageProgress progress;
    auto result = runRebalance(r, std::ref(progress));
    progress.endLine();
    if (!result) return failure(result.error().message);
    for (const auto& note : result->notes) std::printf("note: %s\n", note.c_str());
    std::string minority;
    for (const auto& m : result->minority) minority += (minority.empty() ? "" : ", ") + m;
    std::printf(
        "rebalance on %s (%s; %s classifier): imbalanced training counts %s; minority %s; "
        "scored on %s (%s); %zu of %zu parts reused\n",
        r.data.source.c_str(), result->imbalance.c_str(), result->classifier.c_str(),
        countsText(result->classes, result->counts).c_str(), minority.c_str(),
        result->heldOut.c_str(), countsText(result->classes, result->heldOutCounts).c_str(),
        static_cast<std::size_t>(result->partsReused),
        result->methods.size() * static_cast<std::size_t>(r.seeds));
    std::printf("  %-12s %-16s %-16s %-16s %-16s %-16s\n", "method", "minority recall",
                "balanced acc.", "macro F1", "G-mean", "minority AUROC");
    for (const auto& m : result->methods)
        std::printf("  %-12s %-16s %-16s %-16s %-16s %-16s\n", m.method.c_str(),
                    cell(m, "minority_recall").c_str(), cell(m, "balanced_accuracy").c_str(),
                    cell(m, "macro_f1").c_str(), cell(m, "g_mean").c_str(),
                    cell(m, "minority_auroc").c_str());
    std::printf("  (mean +- sd over %d seed%s)\n", r.seeds, r.seeds == 1 ? "" : "s");
    std::printf("  %s\n", result->json.c_str());
    if (!result->metricsChart.empty()) std::printf("  %s\n", result->metricsChart.c_str());
    if (!result->recallChart.empty()) std::printf("  %s\n", result->recallChart.c_str());
    for (const auto& [method, figure] : result->samples) std::printf("  %s\n", figure.c_str());
    return 0;
}

}  // namespace

Command addRebalance(CLI::App& app) {
    auto a = std::make_shared<RebalanceArgs>();
    auto& r = a->request;
    auto* cmd = app.add_subcommand(
        "rebalance",
        "The imbalance lab: make the training set imbalanced (a long tail or minority classes), "
        "rebalance it with under- and over-sampling, SMOTE (in input or a VAE's latent space, "
        "or followed by under-sampling) or a conditional generator's samples, train the same "
        "classifier on each over seeds and score minority recall, balanced accuracy, macro F1, "
        "G-mean and minority AUROC on the held-out part; writes OUT/result.json (key methods), "
        "OUT/metrics.png, OUT/per-class-recall.png, samples figures, and resumes from "
        "OUT/parts/");
    a->data.add(
        cmd,
        DataArgs::Split | DataArgs::LabelColumn | DataArgs::Image | DataArgs::Classes |
            DataArgs::Limit,
        "fashion-mnist, an IDX folder or file, an image folder or a CSV (any table of text)");
    cmd->add_option("--long-tail", a->longTail,
                    "Long tail: the largest class keeps all its rows, the smallest 1/RATIO of "
                    "that, exponential in between");
    cmd->add_option("--minority", a->minority,
                    "Minority classes at shares of the training rows, CLASS:SHARE by name or "
                    "number, e.g. 3:0.02,5:0.02 or malignant:0.05");
    cmd->add_flag("--as-is", a->asIs,
                  "Keep the training set as it is (its minority: classes under half the largest)");
    cmd->add_option("--methods", a->methods,
                    "none, under, over, smote, smote+under, smote-latent, cvae, cgan, acgan, ddpm, "
                    "latent-ddpm, comma-separated")
        ->capture_default_str();
    cmd->add_option("--seeds", r.seeds, "Repeats; seed s draws and initialises with seed + s")
        ->capture_default_str();
    cmd->add_option("--seed", r.seed, "Base seed (also the imbalance's draw)")
        ->capture_default_str();
    cmd->add_option("--out", a->out, "Output folder (a rerun with the same options resumes)")
        ->required();
    cmd->add_option("--held-out", r.heldOutFraction,
                    "CSV and image folders: the stratified fraction held out for scoring")
        ->capture_default_str();
    cmd->add_option("--held-out-limit", r.heldOutLimit,
                    "Score on at most this many held-out rows (0: all)");
    cmd->add_option("--classifier", r.classifier,
                    "cnn (images), mlp or logistic (tables); default cnn for images, logistic "
                    "for tables");
    cmd->add_option("--classifier-preset", r.classifierPreset,
                    "cnn, mlp: a classifier preset (classifier-cpu)");
    cmd->add_option("--classifier-steps", r.classifierSteps,
                    "cnn, mlp: training steps, the same for every method")
        ->capture_default_str();
    cmd->add_option("--classifier-batch", r.classifierBatch, "cnn, mlp: batch size")
        ->capture_default_str();
    cmd->add_option("--logistic-c", r.logistic.c, "logistic: inverse L2 strength, sklearn's C")
        ->capture_default_str();
    cmd->add_option("--smote-k", r.smoteK, "SMOTE: same-class nearest neighbours")
        ->capture_default_str();
    cmd->add_option("--smote-under-share", r.smoteUnderShare,
                    "smote+under: SMOTE every class up to SHARE x the largest class's count, then "
                    "under-sample every larger class to that count")
        ->capture_default_str();
    cmd->add_option("--generator-run", a->generatorRuns,
                    "A conditional generator run of the lab's data and classes; its model names "
                    "its method (repeatable). Generator methods without one are trained by the "
                    "lab on the imbalanced set under OUT/generator/");
    cmd->add_option("--generator-preset", r.generatorPresets,
                    "Preset for a generator the lab trains, e.g. cgan-cpu (repeatable; default "
                    "<model>-cpu)");
    cmd->add_option("--generator-steps", r.generatorSteps,
                    "Steps for the generators the lab trains (0: the preset's)");
    cmd->add_option("--guidance", r.guidance, "Diffusion generators: classifier-free guidance")
        ->capture_default_str();
    cmd->add_option("--min-confidence", r.minConfidence,
                    "Keep a generated sample only when the domain classifier gives its class at "
                    "least this probability (0: all)")
        ->capture_default_str();
    cmd->add_option("--vae-run", a->vaeRun,
                    "smote-latent: a vae, cvae or chaotic-vae run of the lab's data (default: "
                    "the lab trains --vae-preset)");
    cmd->add_option("--vae-preset", r.vaePreset, "smote-latent: the VAE the lab trains")
        ->capture_default_str();
    cmd->add_option("--extractor", r.extractor,
                    "Domain classifier for --min-confidence (extractor folder or classifier "
                    "run; default: the dataset's own)");
    cmd->add_option("--workspace", r.workspace, "Workspace to find the dataset's extractor in");
    cmd->add_option("--threads", r.threads, "Training threads (0: every core)");
    return {cmd, [a] { return runRebalanceCommand(*a); }};
}

}  // namespace ll::cli
