#pragma once

#include <exception>
#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace ll {

/// An expected failure: bad input, a missing file, a wrong checkpoint. The message is written
/// for the user and names the file and the fault; the UI decides how to show it.
struct Error {
    std::string message;
};

template <class T>
using Result = tl::expected<T, Error>;

/// Builds the failure branch of a Result: `return fail("x.idx: truncated data")`.
inline tl::unexpected<Error> fail(std::string message) {
    return tl::unexpected<Error>(Error{std::move(message)});
}

/// What an exception says, up to its first line: LibTorch's c10::Error appends a backtrace
/// that a user should not read.
inline std::string firstLine(const std::exception& e) {
    std::string what = e.what();
    if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    return what;
}

}  // namespace ll
