// A feature extractor's manifest (extractor.json) and the weights file it names through
// readExtractor: what the evaluation and the Inspect mode read from a workspace's
// extractors/<dataset>/ folder (findExtractor) before they open its checkpoint.
#include "eval/extractor.h"
#include "fuzzinput.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ll::fuzz::Input in(data, size);
    const auto dir = ll::fuzz::freshFolder("extractor");
    std::filesystem::create_directories(dir / "checkpoints");
    // The seeds name checkpoints/step-000001.pt; its bytes are the part after the manifest.
    const auto manifest = in.part();
    ll::fuzz::writeFile(dir / "checkpoints" / "step-000001.pt", in.rest());
    ll::fuzz::writeFile(dir / ll::kExtractorFile, manifest);
    (void)ll::readExtractor(dir);
    return 0;
}
