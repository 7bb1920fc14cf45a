// Classes named on a command line: by name first, then by number, and written back so.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/classnames.h"

namespace {

using Names = std::vector<std::string>;

std::string errorOf(const ll::Result<int>& r) {
    return r ? std::string() : r.error().message;
}

TEST(ClassNames, ANameComesBeforeANumber) {
    // wine's labels: the class named "2" is class number 1.
    const Names wine{"1", "2", "3"};
    EXPECT_EQ(ll::classIndex("2", wine), 1);
    EXPECT_EQ(ll::classIndex("0", wine), 0);  // no class named 0: the number
    EXPECT_EQ(ll::classIndex(" 3 ", wine), 2);
    const Names fashion{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    EXPECT_EQ(ll::classIndex("Sneaker", fashion), 7);
    EXPECT_EQ(ll::classIndex(" Ankle boot", fashion), 9);
    EXPECT_EQ(ll::classIndex("9", fashion), 9);
    EXPECT_EQ(ll::classIndex("sneaker", fashion), 7);  // case only where it names one class
    EXPECT_EQ(ll::classIndex("bag", Names{"Bag", "bag"}), 1);
    EXPECT_EQ(ll::classIndex(" 0", Names{"1", " 0"}), 1);  // as typed (quoted) comes first
    EXPECT_EQ(ll::classIndex(" 0", Names{"1", "2"}), 0);
    auto listed = ll::classIndices({"Bag", "1", "Bag"}, fashion);
    ASSERT_TRUE(listed) << listed.error().message;
    EXPECT_EQ(*listed, (std::vector<int>{8, 1, 8}));  // a list to cycle may repeat
}

TEST(ClassNames, RefusesWhatNamesNoClassListingTheClasses) {
    const Names wine{"1", "2", "3"};
    EXPECT_EQ(errorOf(ll::classIndex("4", wine)),
              "no class '4': the classes are 1, 2, 3 (or their numbers 0 to 2)");
    EXPECT_EQ(errorOf(ll::classIndex("bag", Names{"Bag", "BAG"})),
              "'bag' matches the classes Bag and BAG but for case: write it as the class is "
              "written");
    EXPECT_NE(errorOf(ll::classIndex("", wine)).find("a class is missing"), std::string::npos);
    EXPECT_NE(errorOf(ll::classIndex("-1", wine)).find("no class '-1'"), std::string::npos);
    EXPECT_NE(errorOf(ll::classIndex("99999999999", wine)).find("no class"), std::string::npos);
    EXPECT_NE(errorOf(ll::classIndex("1.0", wine)).find("no class"), std::string::npos);
    Names many;
    for (int k = 0; k < 500; ++k) many.push_back("class" + std::to_string(k));
    const std::string said = errorOf(ll::classIndex("x", many));
    EXPECT_LT(said.size(), 300u) << said;  // a long list is cut
    EXPECT_NE(said.find(", ... (or their numbers 0 to 499)"), std::string::npos) << said;
}

// What a command line written for class k reads back as, split on commas as the CLI splits
// a list: class k, or (where no token can name it) a refusal, never another class.
TEST(ClassNames, ATokenWrittenForAClassReadsBackAsThatClassOrIsRefused) {
    const std::vector<Names> cases{
        {"1", "2", "3"},      {"cat", "dog"},
        {"a,b", "1", "c:d"},  // a name a list cannot hold goes by number...
        {"1", "a,b"},         // ...unless the number names another class
        {"", " padded", "x"}, {"1", "2", " 0"}};
    for (const Names& names : cases)
        for (int k = 0; k < static_cast<int>(names.size()); ++k) {
            const std::string token = ll::classToken(k, names);
            std::vector<std::string> parts;
            std::string::size_type from = 0;
            for (auto at = token.find(','); at != std::string::npos; at = token.find(',', from))
                parts.push_back(token.substr(from, at - from)), from = at + 1;
            parts.push_back(token.substr(from));
            auto back = ll::classIndices(parts, names);
            if (names[static_cast<std::size_t>(k)] == "a,b" && names[0] == "1") {
                EXPECT_FALSE(back) << "no token names it";
                continue;
            }
            ASSERT_TRUE(back) << token << ": " << back.error().message;
            EXPECT_EQ(*back, (std::vector<int>{k})) << "token '" << token << "'";
        }
}

}  // namespace
