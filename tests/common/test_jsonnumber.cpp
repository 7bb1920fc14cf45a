// parseJson: JSON written outside is read without exceptions and without unbounded nesting;
// brackets inside strings are text, not depth.
#include <string>

#include <gtest/gtest.h>

#include "common/jsonnumber.h"

namespace {

std::string nested(int depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

TEST(ParseJson, ReadsUpToTheDepthLimitAndDiscardsDeeperOrMalformedText) {
    EXPECT_EQ(ll::jsonDepth(nested(ll::kMaxJsonDepth)), ll::kMaxJsonDepth);
    EXPECT_FALSE(ll::parseJson(nested(ll::kMaxJsonDepth)).is_discarded());
    EXPECT_TRUE(ll::parseJson(nested(ll::kMaxJsonDepth + 1)).is_discarded());
    EXPECT_TRUE(ll::parseJson(nested(1'000'000)).is_discarded());
    EXPECT_TRUE(ll::parseJson(R"({"a": )").is_discarded());
    EXPECT_TRUE(ll::parseJson("").is_discarded());
}

TEST(ParseJson, BracketsInsideStringsAreNotNesting) {
    // 200 brackets as text, escaped quotes and backslashes beside them.
    const std::string text = R"({"a": ")" + std::string(200, '[') + R"(\" \\", "b": [1]})";
    EXPECT_EQ(ll::jsonDepth(text), 2);
    const auto j = ll::parseJson(text);
    ASSERT_FALSE(j.is_discarded());
    EXPECT_EQ(j.at("a").get<std::string>(), std::string(200, '[') + "\" \\");
    EXPECT_EQ(j.at("b").at(0), 1);
}

TEST(ParseJson, PassesEventsToTheCallback) {
    int keys = 0;
    const auto j = ll::parseJson(R"({"a": 1, "b": {"c": 2}})",
                                 [&](int, nlohmann::json::parse_event_t event, nlohmann::json&) {
                                     keys += event == nlohmann::json::parse_event_t::key;
                                     return true;
                                 });
    EXPECT_FALSE(j.is_discarded());
    EXPECT_EQ(keys, 3);
}

}  // namespace
