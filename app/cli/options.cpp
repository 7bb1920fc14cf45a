#include "cli/options.h"

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>
#include <utility>

#include "common/classnames.h"
#include "run/runfolder.h"

namespace ll::cli {

namespace {

// Refuses numbers below 0 (and 0 itself unless `zeroAllowed`); what is not a number at all
// is left to the option's own conversion, which says so.
CLI::Validator signCheck(bool zeroAllowed, std::string name) {
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            char* end = nullptr;
            const double value = std::strtod(text.c_str(), &end);
            if (end == text.c_str() || value > 0 || (zeroAllowed && value == 0)) return {};
            return (zeroAllowed ? "must be at least 0, not " : "must be above 0, not ") + text;
        },
        std::move(name));
}

}  // namespace

CLI::Validator positiveNumber() {
    return signCheck(false, "POSITIVE");
}

CLI::Validator nonNegativeNumber() {
    return signCheck(true, "NONNEGATIVE");
}

void DataArgs::add(CLI::App* cmd, unsigned parts, const std::string& datasetHelp) {
    auto* source = cmd->add_option("--dataset", dataset, datasetHelp);
    if (!dataset.empty()) source->capture_default_str();
    if (parts & (Split | CheckedSplit)) {
        auto* option =
            cmd->add_option("--split", split,
                            "Data kept in splits (IDX train and t10k files, train/ and test/ "
                            "image folders): train or test");
        if (parts & CheckedSplit) option->check(CLI::IsMember({"train", "test"}));
        option->capture_default_str();
        m_splitOption = option;
    }
    if (parts & LabelColumn)
        cmd->add_option("--label-column", labelColumn,
                        "CSV: label column by name or 0-based number (default: last)");
    if (parts & Image) {
        cmd->add_option("--image-size", imageSize,
                        "Image folders: resize to N x N (default: the images' own size, at "
                        "most " +
                            std::to_string(kImageSizeLimit) + ")");
        auto* rgbFlag =
            cmd->add_flag("--rgb", rgb, "Image folders: keep colour (default: as the images are)");
        cmd->add_flag("--gray", gray, "Image folders: grayscale (default: as the images are)")
            ->excludes(rgbFlag);
    }
    if (parts & Classes)
        cmd->add_option("--classes", classes,
                        "Keep only these classes, by name or by number from 0 (a name first: "
                        "--classes 1,2 keeps a table's labels 1 and 2)")
            ->delimiter(',');
    if (parts & LongTail)
        cmd->add_option("--long-tail", longTail, "Long-tail subset with this imbalance ratio");
    if (parts & Limit)
        cmd->add_option("--limit", limit, "Use at most this many samples (seeded subset)");
    // An option the data does not take is refused, not ignored: the user meant something.
    cmd->parse_complete_callback([this] {
        if (const std::string why = mismatch(); !why.empty()) throw CLI::ValidationError(why);
    });
}

std::string DataArgs::mismatch() const {
    if (dataset.empty()) return {};
    const SourceKind kind = sourceKind(dataset);
    if (kind == SourceKind::Missing) return {};  // the loader says so
    const bool images = kind == SourceKind::ImageFolder || kind == SourceKind::SplitImageFolder;
    const std::string what = kind == SourceKind::FashionMnist ? "Fashion-MNIST (IDX data)"
                             : kind == SourceKind::Table      ? "a table"
                             : images                         ? "an image folder"
                                                              : "IDX data";
    const std::string is = dataset + " is " + what;
    if (imageSize != 0 && !images)
        return "--image-size applies to image folders; " + is +
               (kind == SourceKind::Table ? "" : ", which keeps its own size");
    if ((rgb || gray) && !images)
        return std::string(rgb ? "--rgb" : "--gray") + " applies to image folders; " + is +
               (kind == SourceKind::Table ? "" : ", which keeps its own colour");
    if (!labelColumn.empty() && kind != SourceKind::Table)
        return "--label-column applies to CSV tables; " + is;
    if (m_splitOption && m_splitOption->count() > 0 && split == "test" &&
        !hasSplit(dataset, "test"))
        return "--split test needs data kept in splits (IDX train and t10k files, or an image "
               "folder with train/ and test/ folders); " +
               is + " with no test split" +
               (kind == SourceKind::Table ? "; give the held-out table itself as --dataset" : "");
    return {};
}

DatasetSpec DataArgs::spec() const {
    return {.source = absoluteSource(dataset),  // runs and studies keep it
            .split = split,
            .labelColumn = labelColumn,
            .imageSize = imageSize,
            .colour = rgb    ? ImageColour::Rgb
                      : gray ? ImageColour::Gray
                             : ImageColour::FollowData,
            .keepClassNames = classes,
            .longTailRatio = longTail,
            .limit = limit};
}

void SteerArgs::add(CLI::App* cmd) {
    cmd->add_option("--seed", seed, "Sampling seed")->capture_default_str();
    cmd->add_option("--checkpoint", checkpoint, "Checkpoint step (default: latest)");
    cmd->add_option(
           "--temperature", temperature,
           "Prior scale (VAE family; 0: the prior's centre); a table's categories are drawn "
           "at it (VAE family, cgan; 0: the most likely value)")
        ->check(nonNegativeNumber())
        ->capture_default_str();
    cmd->add_option("--truncation", truncation, "Truncate latents to |z| <= T (GANs; 0 = off)")
        ->check(nonNegativeNumber())
        ->capture_default_str();
    cmd->add_option("--guidance", guidance, "Classifier-free guidance weight (diffusion)")
        ->capture_default_str();
    // 0 stays the model's own: export cards repeat their command with it.
    cmd->add_option("--steps", steps, "Sampling steps (diffusion; 0, the default: the model's)")
        ->check(nonNegativeNumber());
    cmd->add_option("--sampler", sampler, "Diffusion sampler")
        ->check(CLI::IsMember({"ddim", "ddpm"}))
        ->capture_default_str();
    cmd->add_option("--classifier", classifier,
                    "Noisy-classifier run for classifier guidance (ddpm)");
    cmd->add_option("--classifier-scale", classifierScale,
                    "Classifier guidance scale (needs --classifier)")
        ->capture_default_str();
    cmd->add_option("--guidance-interval", interval,
                    "LO:HI: guide only while the noise level t/T lies in [LO, HI] (diffusion)");
    cmd->add_option("--mix", mix,
                    "Condition every sample on a class mixture, e.g. 3:0.5,5:0.5 or "
                    "Sneaker:0.5,Bag:0.5");
}

Result<std::vector<std::pair<int, double>>> parseClassWeights(
    const std::string& text, const std::string& option,
    const Result<std::vector<std::string>>& classNames) {
    std::vector<std::pair<int, double>> out;
    std::istringstream in(text);
    for (std::string part; std::getline(in, part, ',');) {
        // The weight follows the last colon: a class's name may hold one.
        const auto colon = part.rfind(':');
        double w = 0;
        std::istringstream weight(colon == std::string::npos ? "" : part.substr(colon + 1));
        if (colon == std::string::npos || !(weight >> w) || !(weight >> std::ws).eof() ||
            !(w >= 0) || !std::isfinite(w))
            return fail(option + " expects CLASS:WEIGHT pairs such as 3:0.5,5:0.5, got '" + part +
                        "'");
        auto k = runClasses({part.substr(0, colon)}, classNames);
        if (!k) return fail(option + ": " + k.error().message);
        out.emplace_back(k->front(), w);
    }
    return out;
}

Result<std::vector<int>> runClasses(const std::vector<std::string>& tokens,
                                    const Result<std::vector<std::string>>& classNames) {
    if (classNames) return classIndices(tokens, *classNames);
    // An unreadable run: numbers as they are, for opening the run to say what is wrong.
    std::vector<int> out;
    for (const auto& token : tokens) {
        int k = -1;
        std::istringstream number{std::string(trimmedToken(token))};
        if (!(number >> k) || !(number >> std::ws).eof() || k < 0)
            return fail("'" + token + "' names no class of the run: " + classNames.error().message);
        out.push_back(k);
    }
    return out;
}

Result<std::vector<std::string>> runClassNames(const std::string& run) {
    auto data = readRunData(run);
    if (!data) return tl::unexpected(data.error());
    return data->classNames;
}

Result<SampleRequest> SteerArgs::request(const Result<std::vector<std::string>>& classNames) const {
    SampleRequest r{.seed = seed,
                    .temperature = temperature,
                    .truncation = truncation,
                    .guidance = guidance,
                    .steps = steps,
                    .sampler = sampler == "ddpm" ? Sampler::Ddpm : Sampler::Ddim};
    if (!interval.empty()) {
        double lo = 0, hi = 0;
        char colon = 0;
        std::istringstream in(interval);
        if (!(in >> lo >> colon >> hi) || colon != ':' || !(in >> std::ws).eof() || lo < 0 ||
            hi > 1 || lo >= hi)
            return fail("--guidance-interval expects LO:HI with 0 <= LO < HI <= 1, got '" +
                        interval + "'");
        r.guidanceFrom = lo;
        r.guidanceTo = hi;
    }
    if (!mix.empty()) {
        auto weights = parseClassWeights(mix, "--mix", classNames);
        if (!weights) return tl::unexpected(weights.error());
        r.mixture = *weights;
    }
    if (classifierScale != 0 && classifier.empty())
        return fail("--classifier-scale needs --classifier NOISY_CLASSIFIER_RUN");
    if (!classifier.empty()) {
        auto opened = loadRun(classifier);
        if (!opened) return fail("classifier: " + opened.error().message);
        classifierRun = std::make_shared<LoadedRun>(std::move(*opened));
        r.classifier = classifierRun->model.get();
        r.classifierScale = classifierScale;
    }
    return r;
}

std::optional<std::int64_t> SteerArgs::step() const {
    return checkpoint >= 0 ? std::optional(checkpoint) : std::nullopt;
}

void MetricArgs::add(CLI::App* cmd) {
    auto& s = settings;
    cmd->add_option("--k", s.k, "Neighbours for precision/recall")->capture_default_str();
    cmd->add_option("--k-density", s.kDensity, "Neighbours for density/coverage")
        ->capture_default_str();
    cmd->add_option("--kid-subsets", s.kidSubsets, "KID subsets")->capture_default_str();
    cmd->add_option("--kid-size", s.kidSize, "Samples per KID subset (capped at the smaller set)")
        ->capture_default_str();
    cmd->add_option("--cells", s.cells, "k-means cells of the data-copying test")
        ->capture_default_str();
}

void DenoisingArgs::add(CLI::App* group, const std::string& prefix) {
    const auto name = [&](const char* option) { return "--" + prefix + option; };
    group->add_option(name("timesteps"), timesteps, "Evenly spaced timesteps t")
        ->capture_default_str();
    group->add_option(name("noise-draws"), noiseDraws, "Noises drawn for each t")
        ->capture_default_str();
    group
        ->add_option(name("stages"), stages,
                     "Pruning: after this many (t, noise) pairs (cumulative, comma list) only "
                     "the " +
                         name("keep") + " best classes go on")
        ->delimiter(',');
    group->add_option(name("keep"), keep, "Classes kept after each stage (comma list)")
        ->delimiter(',');
    group->add_option(name("loss"), loss, "Denoising error: l1 or l2")->capture_default_str();
    group->add_option(name("seed"), seed, "Seed of the shared noises")->capture_default_str();
}

Result<DiffusionClassifierOptions> DenoisingArgs::options() const {
    auto l = parseDenoisingLoss(loss);
    if (!l) return tl::unexpected(l.error());
    DiffusionClassifierOptions o{.timesteps = timesteps,
                                 .noiseDraws = noiseDraws,
                                 .stages = stages,
                                 .keep = keep,
                                 .loss = *l,
                                 .seed = seed};
    if (auto ok = checkDiffusionClassifierOptions(o); !ok) return tl::unexpected(ok.error());
    return o;
}

}  // namespace ll::cli
