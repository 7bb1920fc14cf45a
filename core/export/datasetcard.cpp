#include "export/datasetcard.h"

#include <cmath>
#include <cstdio>

#include "common/atomicfile.h"
#include "common/format.h"

namespace ll::exporting {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string number(const json& v) {
    return v.is_number() ? formatNumber(v.get<double>()) : std::string("-");
}

/// The metrics' table rows in the evaluation's order, with how to read each.
std::string metricsTable(const json& card) {
    const json& metrics = card.value("metrics", json::object());
    if (metrics.empty()) return "No metrics: the card was written without an evaluation.\n";
    std::string md =
        "| score | synthetic | real vs real (floor) | how to read it |\n|---|---|---|---|\n";
    const json& help = card.value("metric_help", json::object());
    for (const auto& [name, score] : metrics.items()) {
        const std::string label = card.value("metric_labels", json::object()).value(name, name);
        md += "| " + label + " | " + number(score.value("value", json())) + " | " +
              number(score.value("floor", json())) + " | " + help.value(name, "") + " |\n";
    }
    if (const json& errors = card.value("metric_errors", json::object()); !errors.empty()) {
        md += "\nNot computed:\n\n";
        for (const auto& [name, why] : errors.items())
            md += "- " + name + ": " + why.get<std::string>() + "\n";
    }
    return md;
}

/// A whole number of the card as text; "-" where it is missing.
std::string whole(const json& card, const char* key) {
    const auto it = card.find(key);
    return it != card.end() && it->is_number() ? std::to_string(it->get<std::int64_t>()) : "-";
}

std::string text(const json& card, const char* key) {
    const auto it = card.find(key);
    return it != card.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// "key `value`, ..." of a settings object, leaving out what is empty or off.
std::string settingsLine(const json& settings) {
    std::string line;
    for (const auto& [key, value] : settings.items()) {
        if (value.is_null() || (value.is_string() && value.get<std::string>().empty()) ||
            (value.is_array() && value.empty()) || (value.is_boolean() && !value.get<bool>()))
            continue;
        line += (line.empty() ? "" : ", ") + key + " `" +
                (value.is_string() ? value.get<std::string>() : value.dump()) + "`";
    }
    return line.empty() ? "none" : line;
}

}  // namespace

std::string cardMarkdown(const json& card) {
    std::string md = "# Synthetic dataset: " + card.value("name", std::string("export")) + "\n\n";
    md += "**Every sample in this dataset is synthetic**: drawn from the generative model `" +
          text(card, "model") + "` trained on `" + text(card, "dataset") +
          "`. No sample is a real observation.\n\n";
    md += "## How it was made\n\n";
    md += "- Run: `" + text(card, "run") + "`, checkpoint step " + whole(card, "checkpoint_step") +
          " (weights SHA-256 `" + text(card, "checkpoint_sha256") + "`)\n";
    md += "- Sampling settings: " + settingsLine(card.value("settings", json::object())) + "\n";
    md += "- Filters: " + settingsLine(card.value("filters", json::object())) + "\n";
    md += "- Format: " + text(card, "format_written") + ", " + whole(card, "kept") +
          " samples kept of " + whole(card, "drawn") + " drawn\n";
    md += "- To make it again, bit for bit (same build, same thread count " +
          whole(card, "threads") + "):\n\n  ```\n  " + text(card, "command") + "\n  ```\n\n";
    md += "## Counts\n\n| class | kept |\n|---|---|\n";
    // In the classes' order, not the JSON object's alphabetical one.
    const json counts = card.value("counts", json::object());
    for (const auto& name : card.value("classes", json::array())) {
        const auto n = counts.find(name.get<std::string>());
        if (n != counts.end() && n->is_number())
            md += "| " + name.get<std::string>() + " | " + std::to_string(n->get<std::int64_t>()) +
                  " |\n";
    }
    md += "\nDropped by the filters:";
    const json& dropped = card.value("dropped", json::object());
    if (dropped.empty()) md += " none asked for.";
    for (const auto& [filter, n] : dropped.items())
        md += " " + filter + " " + (n.is_number() ? std::to_string(n.get<std::int64_t>()) : "-") +
              ";";
    md += "\n";
    for (const auto& s : card.value("shortfalls", json::array()))
        md += "\n- Short: " + s.get<std::string>();
    md += "\n\n## Quality against real held-out data\n\n";
    if (const json& e = card.value("evaluation", json::object()); !e.empty())
        md += e.value("protocol", "") + "\n\n";
    md += metricsTable(card);
    if (const json& e = card.value("evaluation", json::object()); e.contains("command"))
        md += "\nThe same numbers from the folder itself:\n\n```\n" + e.value("command", "") +
              "\n```\n";
    md +=
        "\n## Files\n\n- `manifest.csv`: one row per sample: its file (and row), class, "
        "SHA-256, run, checkpoint and its SHA-256, seed and index of its draw, every "
        "sampling setting, the classifier's confidence and the distance to (and index of) "
        "the nearest training image.\n";
    for (const auto& f : card.value("files", json::array()))
        md += "- `" + f.get<std::string>() + "`\n";
    md +=
        "- `card.json` (this card for tools), `croissant.json` (Croissant 1.0 metadata with "
        "its Responsible-AI fields)\n";
    return md;
}

json croissant(const json& card) {
    const std::string name = card.value("name", std::string("synthetic"));
    json fields = json::array();
    json distribution = json::array();
    for (const auto& f : card.value("files", json::array())) {
        const std::string file = f.get<std::string>();
        distribution.push_back({{"@type", "cr:FileObject"},
                                {"@id", file},
                                {"name", file},
                                {"contentUrl", file},
                                {"encodingFormat", text(card, "encoding")}});
    }
    distribution.push_back({{"@type", "cr:FileObject"},
                            {"@id", "manifest.csv"},
                            {"name", "manifest.csv"},
                            {"contentUrl", "manifest.csv"},
                            {"encodingFormat", "text/csv"}});
    for (const char* column :
         {"file", "class", "class_name", "sha256", "seed", "confidence", "nn_distance"})
        fields.push_back(
            {{"@type", "cr:Field"},
             {"@id", std::string("manifest/") + column},
             {"name", column},
             {"source",
              {{"fileObject", {{"@id", "manifest.csv"}}}, {"extract", {{"column", column}}}}}});
    const std::string origin = "Drawn from the generative model '" + text(card, "model") +
                               "' (LatentLab run " + text(card, "run_id") + ", step " +
                               whole(card, "checkpoint_step") + ") trained on '" +
                               text(card, "dataset") + "'.";
    return {{"@context",
             {{"@language", "en"},
              {"@vocab", "https://schema.org/"},
              {"sc", "https://schema.org/"},
              {"cr", "http://mlcommons.org/croissant/"},
              {"rai", "http://mlcommons.org/croissant/RAI/"},
              {"dct", "http://purl.org/dc/terms/"}}},
            {"@type", "sc:Dataset"},
            {"dct:conformsTo", "http://mlcommons.org/croissant/1.0"},
            {"name", name},
            {"description", "Synthetic dataset. " + origin},
            {"dateCreated", text(card, "created")},
            {"creator", {{"@type", "sc:SoftwareApplication"}, {"name", "LatentLab"}}},
            {"isBasedOn", text(card, "dataset")},
            {"rai:hasSyntheticData", true},
            {"rai:dataCollection", origin + " Command: " + text(card, "command")},
            {"rai:dataCollectionType", json::array({"Synthetic data generation"})},
            {"rai:dataCollectionRawData", "None: every record is a model sample."},
            {"rai:dataPreprocessingProtocol",
             "Filters applied after sampling: " + card.value("filters", json::object()).dump()},
            {"rai:dataAnnotationProtocol",
             "Labels are the classes the samples were drawn for (conditional models) or the "
             "domain classifier's prediction (unconditional ones); not human annotations."},
            {"rai:dataLimitations",
             "Samples follow the training data's distribution only as far as the metrics in "
             "card.md show (each beside its real-vs-real floor); near-copies of training images "
             "may remain unless the copy filter was on."},
            {"rai:dataBiases", "Inherits the biases of '" + text(card, "dataset") +
                                   "' and of the model; per-class counts are in card.md."},
            {"rai:dataUseCases",
             "Augmentation, testing pipelines and classifiers (train on synthetic, test on real); "
             "not a substitute for real data in evaluation."},
            {"rai:personalSensitiveInformation",
             "None added; a sample may resemble a training image (see nn_distance)."},
            {"distribution", distribution},
            {"recordSet", json::array({{{"@type", "cr:RecordSet"},
                                        {"@id", "manifest"},
                                        {"name", "manifest"},
                                        {"field", fields}}})}};
}

Result<std::string> writeCard(const fs::path& dir, const json& card) {
    const std::string md = cardMarkdown(card);
    if (auto ok = writeFileAtomic(dir / "card.json", card.dump(1) + "\n"); !ok)
        return tl::unexpected(ok.error());
    if (auto ok = writeFileAtomic(dir / "card.md", md); !ok) return tl::unexpected(ok.error());
    if (auto ok = writeFileAtomic(dir / "croissant.json", croissant(card).dump(1) + "\n"); !ok)
        return tl::unexpected(ok.error());
    return md;
}

}  // namespace ll::exporting
