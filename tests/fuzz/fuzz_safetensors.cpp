// safetensors bytes through the parser that reading an exported weights file uses.
#include "common/safetensors.h"
#include "fuzzinput.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)ll::safetensors::parse(std::string(reinterpret_cast<const char*>(data), size),
                                 "fuzz.safetensors");
    return 0;
}
