// A CSV file through loadDataset (with or without sklearn's count line, any label column).
// Mode byte: the label column (last, first, by number, by a name that may not exist).
#include "data/loader.h"
#include "fuzzinput.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ll::fuzz::Input in(data, size);
    const std::uint8_t mode = in.byte();
    const auto dir = ll::fuzz::freshFolder("csv");
    const auto file = dir / "table.csv";
    ll::fuzz::writeFile(file, in.rest());
    static const char* columns[] = {"", "0", "1", "label", "target", "class", "99999999999"};
    ll::DatasetSpec spec{.source = file.string(), .labelColumn = columns[mode % 7]};
    (void)ll::loadDataset(spec);
    return 0;
}
