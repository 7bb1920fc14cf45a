// A run folder's JSON files (config.json, data.json, checkpoints/latest.json, log.jsonl)
// through every reader of them that opening a run uses.
#include "fuzzinput.h"
#include "run/runfolder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ll::fuzz::Input in(data, size);
    const auto run = ll::fuzz::freshFolder("run");
    std::filesystem::create_directories(run / "checkpoints");
    ll::fuzz::writeFile(run / ll::runfiles::kConfig, in.part());
    ll::fuzz::writeFile(run / "data.json", in.part());
    ll::fuzz::writeFile(run / ll::runfiles::kLatest, in.part());
    ll::fuzz::writeFile(run / ll::runfiles::kLog, in.rest());
    (void)ll::readRunConfig(run);
    (void)ll::readRunData(run);
    (void)ll::readRunInfo(run);
    (void)ll::latestCheckpoint(run);
    (void)ll::readLossLog(run);
    return 0;
}
