// data: what a dataset holds once loaded, and what was done to its images, without training.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/console.h"
#include "cli/options.h"
#include "common/text.h"
#include "data/dataset.h"
#include "data/loader.h"

namespace ll::cli {

namespace {

// "1 row", "4 rows".
std::string counted(std::int64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

int runData(const DataArgs& a) {
    auto loaded = loadDataset(a.spec());
    if (!loaded) return failure(loaded.error().message);
    const DatasetSummary s = loaded->summary();
    const std::string classes = counted(std::int64_t(s.classNames.size()), "class", "classes");
    if (s.modality == Modality::Image)
        std::printf("%s: %s of %dx%dx%d (channels x height x width), %s\n", s.name.c_str(),
                    counted(s.count, "image", "images").c_str(), s.channels, s.height, s.width,
                    classes.c_str());
    else
        std::printf("%s: %s of %s, %s\n", s.name.c_str(), counted(s.count, "row", "rows").c_str(),
                    counted(s.features, "feature", "features").c_str(), classes.c_str());
    if (s.modality == Modality::Tabular)
        std::printf("features: %s\n", joinedNames(s.featureNames, 400).c_str());
    if (!s.note.empty())
        std::printf("%s: %s\n", s.modality == Modality::Image ? "images" : "table", s.note.c_str());
    if (hasSplit(a.dataset, "train") && hasSplit(a.dataset, "test"))
        std::printf("split: %s (--split %s reads the other; evaluation holds it out)\n",
                    a.split.c_str(), a.split == "test" ? "train" : "test");
    else if (hasSplits(a.dataset))
        std::printf("split: the file of the other split beside it is held out for evaluation\n");
    // Every class up to a screenful; a name as long as a paragraph is cut.
    const std::size_t shown = s.classNames.size() <= 200 ? s.classNames.size() : 100;
    for (std::size_t k = 0; k < shown; ++k)
        std::printf("  %3zu %-24s %8lld\n", k, clipped(s.classNames[k], 60).c_str(),
                    static_cast<long long>(k < s.classCounts.size() ? s.classCounts[k] : 0));
    if (shown < s.classNames.size())
        std::printf("  ... and %zu more classes\n", s.classNames.size() - shown);
    return 0;
}

}  // namespace

Command addData(CLI::App& app) {
    auto a = std::make_shared<DataArgs>();
    auto* cmd = app.add_subcommand(
        "data", "Load a dataset as train would and tell what it holds: size, colour, classes");
    a->dataset = "fashion-mnist";
    a->add(cmd,
           DataArgs::CheckedSplit | DataArgs::LabelColumn | DataArgs::Image | DataArgs::Classes |
               DataArgs::LongTail | DataArgs::Limit,
           "fashion-mnist, a folder of IDX files, an IDX images file, an image folder (maybe "
           "in train/ and test/ folders) or a CSV (any table of text)");
    return {cmd, [a] { return runData(*a); }};
}

}  // namespace ll::cli
