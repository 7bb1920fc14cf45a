#pragma once

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

}  // namespace ll
