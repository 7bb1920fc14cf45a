// A .npy file through readNpy (what `metrics` and the feature caches read).
#include "common/npy.h"
#include "fuzzinput.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto file = ll::fuzz::scratch() / "array.npy";
    ll::fuzz::writeFile(file, {reinterpret_cast<const char*>(data), size});
    (void)ll::readNpy(file);
    return 0;
}
