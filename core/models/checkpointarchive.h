#pragma once

// What LibTorch is given to read: a checkpoint's bytes, checked first. LibTorch 1.13 trusts
// the .pt file it opens. Its miniz is built without CRC checks, so a flipped bit reaches the
// TorchScript importer, which crashes on a class declaration it does not expect; its
// unpickler pops empty stacks, grows its memo to any index a file names, and reads a tensor
// past the end of a storage that claims more bytes than its record holds. GenerativeModel::load
// hands LibTorch only bytes that pass this check. Torch-free.

#include <string_view>

#include "common/error.h"

namespace ll {

/// Checks that `bytes` are an archive as torch::serialize::OutputArchive writes it, in every
/// part LibTorch's reader trusts:
///   - the zip: one end record at the end (and the zip64 one LibTorch adds, saying the same),
///     every record inside the file and apart from the others, stored or deflated within
///     deflate's limits, and whole by its CRC-32;
///   - the class declarations under code/: the attribute lists the writer prints, of the types
///     it uses, referring to classes the archive declares, without cycles, at most 64 deep;
///   - the pickles (data.pkl, constants.pkl, the .debug_pkl beside each class): only the
///     opcodes and globals the writer uses, never popping past a mark, a memo filled in order,
///     every tensor inside its storage and every storage inside its record, and the debug
///     records' indices inside their string table.
/// The error says which record is at fault and how, without the file's name.
Result<void> checkCheckpointArchive(std::string_view bytes);

}  // namespace ll
