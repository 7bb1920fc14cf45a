// data: what a dataset holds once loaded, and what was done to its images, without training.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/console.h"
#include "cli/options.h"
#include "data/dataset.h"
#include "data/loader.h"

namespace ll::cli {

namespace {

int runData(const DataArgs& a) {
    auto loaded = loadDataset(a.spec());
    if (!loaded) return failure(loaded.error().message);
    const DatasetSummary s = loaded->summary();
    if (s.modality == Modality::Image)
        std::printf("%s: %lld images of %dx%dx%d (channels x height x width), %zu classes\n",
                    s.name.c_str(), static_cast<long long>(s.count), s.channels, s.height, s.width,
                    s.classNames.size());
    else
        std::printf("%s: %lld rows of %d features, %zu classes\n", s.name.c_str(),
                    static_cast<long long>(s.count), s.features, s.classNames.size());
    if (!s.imageNote.empty()) std::printf("images: %s\n", s.imageNote.c_str());
    if (hasSplit(a.dataset, "train") && hasSplit(a.dataset, "test"))
        std::printf("split: %s (--split %s reads the other; evaluation holds it out)\n",
                    a.split.c_str(), a.split == "test" ? "train" : "test");
    else if (hasSplits(a.dataset))
        std::printf("split: the file of the other split beside it is held out for evaluation\n");
    for (std::size_t k = 0; k < s.classNames.size(); ++k)
        std::printf("  %3zu %-24s %8lld\n", k, s.classNames[k].c_str(),
                    static_cast<long long>(k < s.classCounts.size() ? s.classCounts[k] : 0));
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
