#pragma once

// The card of an exported dataset: card.json (every fact, for tools), card.md (the same for
// people) and croissant.json (MLCommons Croissant 1.0 with its Responsible-AI fields, marking
// the data synthetic). Private to export/.

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace ll::exporting {

/// card.md's text for a card.json object.
std::string cardMarkdown(const nlohmann::json& card);
/// croissant.json for a card.json object.
nlohmann::json croissant(const nlohmann::json& card);
/// Writes the three files into `dir`; returns card.md's text.
Result<std::string> writeCard(const std::filesystem::path& dir, const nlohmann::json& card);

}  // namespace ll::exporting
