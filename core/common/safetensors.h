#pragma once

// The safetensors format (huggingface.co/docs/safetensors), torch-free: an 8-byte
// little-endian header length N, N bytes of JSON header padded with spaces so that the data
// starts at a multiple of 8, then the data buffer. The header maps each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data buffer) and holds
// "__metadata__", a map of strings. Reading validates everything before trusting it: a
// truncated file or a header that lies about its tensors is refused with a message naming the
// file and the fault, never a crash or an allocation the file's size does not back.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace ll::safetensors {

enum class DType { Bool, U8, I8, I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64 };

/// The format's name of a dtype ("F32") and back; unknown names give nullopt.
std::string_view dtypeName(DType dtype);
std::optional<DType> dtypeFromName(std::string_view name);
/// Bytes per element.
std::size_t dtypeSize(DType dtype);

/// String to string, as the format's "__metadata__" holds it.
using Metadata = std::map<std::string, std::string>;

/// A tensor to write: its bytes are little-endian, C order, and `bytes` must stay alive until
/// the write returns.
struct TensorIn {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::string_view bytes;
};

/// A tensor as the header describes it; offsets are relative to the data buffer.
struct TensorEntry {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
};

/// A read, validated file: its metadata, its tensors ordered by offset, and its bytes.
struct File {
    Metadata metadata;
    std::vector<TensorEntry> tensors;
    /// The whole file; the data buffer starts at dataStart.
    std::string bytes;
    std::size_t dataStart = 0;

    /// The bytes of one tensor, little-endian, C order.
    std::string_view data(const TensorEntry& tensor) const;
    /// The tensor of that name, or nullptr.
    const TensorEntry* find(std::string_view name) const;
};

/// The largest header accepted (the reference implementation's limit too).
inline constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

/// The file's bytes. Names must be unique, non-empty and not "__metadata__"; each tensor's
/// bytes must match its shape and dtype. Tensors are laid out largest element first, so each
/// starts at a multiple of its element size. `what` names the output in errors.
Result<std::string> encode(const std::vector<TensorIn>& tensors, const Metadata& metadata,
                           std::string_view what = "safetensors");
/// encode(), written atomically to `path`.
Result<void> write(const std::filesystem::path& path, const std::vector<TensorIn>& tensors,
                   const Metadata& metadata);

/// Parses and validates a file's bytes; `what` (the file's name) starts every error message.
Result<File> parse(std::string bytes, std::string_view what);
/// Reads and validates a file.
Result<File> read(const std::filesystem::path& path);

}  // namespace ll::safetensors
