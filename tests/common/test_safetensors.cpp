// The safetensors format (common/safetensors.h): round trips, and every malformed file refused
// with a message that names the file and the fault, never a crash.
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/atomicfile.h"
#include "common/safetensors.h"

namespace fs = std::filesystem;
namespace st = ll::safetensors;

namespace {

// The values' bytes, viewed in place (TensorIn holds a view): the vector must outlive it.
template <class T>
std::string_view bytesOf(const std::vector<T>& values) {
    return std::string_view(reinterpret_cast<const char*>(values.data()),
                            values.size() * sizeof(T));
}

std::string le64(std::uint64_t v) {
    std::string s;
    for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return s;
}

// A file by hand: the header as given (padded to 8), then the data buffer.
std::string rawFile(std::string header, const std::string& data) {
    while ((8 + header.size()) % 8 != 0) header.push_back(' ');
    return le64(header.size()) + header + data;
}

// The error a parse gives, or "" when the bytes were accepted.
std::string refusal(std::string bytes) {
    auto r = st::parse(std::move(bytes), "w.safetensors");
    return r ? std::string() : r.error().message;
}

#define EXPECT_REFUSED(bytes, text)                                                  \
    do {                                                                             \
        const std::string why = refusal(bytes);                                      \
        EXPECT_EQ(why.rfind("w.safetensors: ", 0), 0u) << "names the file: " << why; \
        EXPECT_NE(why.find(text), std::string::npos) << why;                         \
    } while (0)

const std::string kF32x2 = R"("dtype":"F32","shape":[2])";

}  // namespace

TEST(Safetensors, RoundTripsEveryDtypeAndShape) {
    const std::vector<float> f32{1.5f, -2.f, 3.25f, 0.f, 7.f, 1e-3f};
    const std::vector<double> f64{3.141592653589793, -1e300};
    const std::vector<std::int64_t> i64{-9000000000LL};
    const std::vector<std::int32_t> i32{};
    const std::vector<std::uint8_t> u8{0, 1, 255, 7, 8, 9};
    const std::vector<std::uint16_t> bf16{0x3f80, 0xc000};  // 1, -2
    const std::vector<std::uint16_t> f16{0x3c00, 0x4000, 0x0000, 0xbc00};
    const std::vector<std::uint8_t> flags{1, 0, 1};
    const std::vector<st::TensorIn> in{{"net.fc.weight", st::DType::F32, {2, 3}, bytesOf(f32)},
                                       {"u8", st::DType::U8, {3, 1, 2}, bytesOf(u8)},
                                       {"scalar", st::DType::I64, {}, bytesOf(i64)},
                                       {"empty", st::DType::I32, {0, 4}, bytesOf(i32)},
                                       {"f64", st::DType::F64, {2}, bytesOf(f64)},
                                       {"bf16", st::DType::BF16, {2}, bytesOf(bf16)},
                                       {"f16", st::DType::F16, {2, 2}, bytesOf(f16)},
                                       {"mask", st::DType::Bool, {3}, bytesOf(flags)}};
    const st::Metadata meta{{"format", "test"}, {"note", "ünïcode ✓"}};
    const fs::path file = fs::temp_directory_path() /
                          ("latentlab-test-st-" + std::to_string(::getpid()) + ".safetensors");
    ASSERT_TRUE(st::write(file, in, meta));
    auto back = st::read(file);
    fs::remove(file);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->metadata, meta);
    ASSERT_EQ(back->tensors.size(), in.size());
    EXPECT_EQ(back->dataStart % 8, 0u) << "header padded to 8 bytes";
    for (const auto& t : in) {
        const st::TensorEntry* e = back->find(t.name);
        ASSERT_NE(e, nullptr) << t.name;
        EXPECT_EQ(e->dtype, t.dtype) << t.name;
        EXPECT_EQ(e->shape, t.shape) << t.name;
        EXPECT_EQ(back->data(*e), t.bytes) << t.name;
        EXPECT_EQ(e->begin % st::dtypeSize(e->dtype), 0u) << t.name << " aligned to its elements";
    }
    // The header is plain JSON after a little-endian length, as the spec lays it out.
    const std::string& bytes = back->bytes;
    EXPECT_EQ(bytes[8], '{');
    EXPECT_NE(bytes.find(R"("dtype":"BF16")"), std::string::npos);
    EXPECT_NE(bytes.find(R"("__metadata__":{)"), std::string::npos);
}

TEST(Safetensors, DtypeNamesRoundTrip) {
    for (const char* name : {"BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32",
                             "I64", "U64", "F64"}) {
        const auto d = st::dtypeFromName(name);
        ASSERT_TRUE(d) << name;
        EXPECT_EQ(st::dtypeName(*d), name);
    }
    EXPECT_FALSE(st::dtypeFromName("F99"));
    EXPECT_EQ(st::dtypeSize(st::DType::BF16), 2u);
    EXPECT_EQ(st::dtypeSize(st::DType::F64), 8u);
}

TEST(Safetensors, WritingRefusesInconsistentTensors) {
    const std::string eight(8, '\0');
    auto encode = [](std::vector<st::TensorIn> t) {
        auto r = st::encode(t, {}, "out.safetensors");
        return r ? std::string() : r.error().message;
    };
    EXPECT_NE(encode({{"a", st::DType::F32, {3}, eight}}).find("do not hold shape [3]"),
              std::string::npos);
    EXPECT_NE(encode({{"a", st::DType::F32, {2}, eight}, {"a", st::DType::F32, {2}, eight}})
                  .find("two tensors named 'a'"),
              std::string::npos);
    EXPECT_NE(encode({{"__metadata__", st::DType::U8, {8}, eight}}).find("cannot name"),
              std::string::npos);
    EXPECT_NE(encode({{"a", st::DType::U8, {-8}, eight}}).find("negative"), std::string::npos);
}

TEST(Safetensors, RefusesTruncatedAndLyingLengths) {
    EXPECT_REFUSED(std::string("\x10\0\0", 3), "too short");
    EXPECT_REFUSED(le64(64) + "{}", "runs past the end of the file");
    EXPECT_REFUSED(le64(st::kMaxHeaderBytes + 1) + "{}", "100 MB limit");
    EXPECT_REFUSED(le64(~0ull) + "{}", "100 MB limit");
    // A valid file cut anywhere is refused.
    const std::string whole =
        rawFile(R"({"a":{)" + kF32x2 + R"(,"data_offsets":[0,8]}})", std::string(8, '\x01'));
    ASSERT_EQ(refusal(whole), "");
    for (std::size_t n = 0; n < whole.size(); ++n)
        EXPECT_NE(refusal(whole.substr(0, n)), "") << "cut at " << n;
}

TEST(Safetensors, RefusesMalformedHeaders) {
    const std::string data8(8, '\0');
    EXPECT_REFUSED(rawFile("{\"a\": oops", data8), "not valid JSON");
    EXPECT_REFUSED(rawFile("[1, 2]", ""), "not a JSON object");
    EXPECT_REFUSED(rawFile(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", data8),
                   "tensor 'a': missing 'dtype'");
    EXPECT_REFUSED(rawFile(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", data8),
                   "missing 'shape'");
    EXPECT_REFUSED(rawFile(R"({"a":{)" + kF32x2 + "}}", data8), "missing 'data_offsets'");
    EXPECT_REFUSED(rawFile(R"({"a":{"dtype":"F99","shape":[2],"data_offsets":[0,8]}})", data8),
                   "unknown dtype 'F99'");
    EXPECT_REFUSED(rawFile(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}})", data8),
                   "shape [2, 2] of F32 needs 16 bytes, but data_offsets [0, 8] span 8");
    EXPECT_REFUSED(rawFile(R"({"a":{"dtype":"F32","shape":[-1,2],"data_offsets":[0,8]}})", data8),
                   "negative dimension -1");
    EXPECT_REFUSED(rawFile(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", data8),
                   "holds 2.5");
    EXPECT_REFUSED(
        rawFile(R"({"a":{"dtype":"U8","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})",
                data8),
        "more than 2^64");
    EXPECT_REFUSED(rawFile(R"({"a":{)" + kF32x2 + R"(,"data_offsets":[0]}})", data8),
                   "are not two whole numbers");
    EXPECT_REFUSED(
        rawFile(R"({"__metadata__":{"k":1},"a":{)" + kF32x2 + R"(,"data_offsets":[0,8]}})", data8),
        "__metadata__ value of 'k' is not a string");
    EXPECT_REFUSED(
        rawFile(R"({"__metadata__":[],"a":{)" + kF32x2 + R"(,"data_offsets":[0,8]}})", data8),
        "__metadata__ is not a map of strings");
    EXPECT_REFUSED(rawFile(R"({"a":{)" + kF32x2 + R"(,"data_offsets":[0,8]},"a":{)" + kF32x2 +
                               R"(,"data_offsets":[0,8]}})",
                           data8),
                   "names 'a' twice");
    EXPECT_REFUSED(rawFile(R"({"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})",
                           std::string("\x01\x02", 2)),
                   "BOOL value other than 0 or 1");
}

TEST(Safetensors, RefusesOffsetsThatDoNotCoverTheBufferExactly) {
    const std::string a = R"({"a":{)" + kF32x2 + R"(,"data_offsets":)";
    const std::string b = R"(,"b":{)" + kF32x2 + R"(,"data_offsets":)";
    EXPECT_REFUSED(rawFile(a + "[0,8]}}", std::string(4, '\0')),
                   "data_offsets [0, 8] lie outside the 4-byte data buffer");
    EXPECT_REFUSED(rawFile(a + "[8,0]}}", std::string(8, '\0')), "end before they begin");
    EXPECT_REFUSED(rawFile(a + "[0,8]}" + b + "[4,12]}}", std::string(12, '\0')),
                   "tensors 'a' and 'b' overlap");
    EXPECT_REFUSED(rawFile(a + "[0,8]}" + b + "[12,20]}}", std::string(20, '\0')),
                   "bytes [8, 12] before tensor 'b' belong to no tensor");
    EXPECT_REFUSED(rawFile(a + "[4,12]}}", std::string(12, '\0')),
                   "bytes [0, 4] before tensor 'a'");
    EXPECT_REFUSED(rawFile(a + "[0,8]}}", std::string(16, '\0')),
                   "bytes [8, 16] of the data buffer belong to no tensor");
    // Out of order in the header is fine as long as the offsets tile the buffer.
    EXPECT_EQ(refusal(rawFile(a + "[8,16]}" + b + "[0,8]}}", std::string(16, '\0'))), "");
}

TEST(Safetensors, ReadNamesAMissingFile) {
    auto r = st::read("/nonexistent/x.safetensors");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("/nonexistent/x.safetensors"), std::string::npos);
}

// 2000 random mutations of a valid file: each is read or refused, never a crash or a read
// outside the file (run under ASan to be sure).
TEST(Safetensors, SurvivesRandomMutations) {
    const std::vector<float> w(24, 0.5f);
    const std::vector<std::int64_t> n{1, 2, 3};
    const std::vector<std::uint8_t> flags{0, 1};
    auto valid = st::encode({{"net.weight", st::DType::F32, {4, 6}, bytesOf(w)},
                             {"state.steps", st::DType::I64, {3}, bytesOf(n)},
                             {"mask", st::DType::Bool, {2}, bytesOf(flags)}},
                            {{"format", "latentlab-weights-1"}, {"settings", "{\"a\":\"1\"}"}});
    ASSERT_TRUE(valid);
    std::mt19937 rng(12);
    int accepted = 0;
    for (int i = 0; i < 2000; ++i) {
        std::string bytes = *valid;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const auto at = rng() % bytes.size();
            switch (rng() % 4) {
                case 0:
                    bytes[at] = static_cast<char>(rng());
                    break;
                case 1:
                    bytes[at] = "0123456789{}[],:\"-"[rng() % 18];
                    break;  // header-ish
                case 2:
                    bytes.resize(at);
                    break;  // truncate
                default:
                    bytes.insert(at, 1, static_cast<char>(rng()));
                    break;
            }
            if (bytes.empty()) break;
        }
        auto r = st::parse(bytes, "fuzz.safetensors");
        if (!r) {
            EXPECT_EQ(r.error().message.rfind("fuzz.safetensors: ", 0), 0u) << r.error().message;
            continue;
        }
        ++accepted;
        std::uint64_t total = 0;
        for (const auto& t : r->tensors) {
            EXPECT_LE(r->dataStart + t.end, r->bytes.size());
            total += t.end - t.begin;
        }
        EXPECT_EQ(r->dataStart + total, r->bytes.size());
    }
    // Byte flips inside tensor data leave a valid file: some mutations must be accepted.
    EXPECT_GT(accepted, 0);
}
