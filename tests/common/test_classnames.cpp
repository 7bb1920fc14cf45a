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
    auto listed = ll::classIndices({"Bag", "1", "Bag"}, fashion);
    ASSERT_TRUE(listed) << listed.error().message;
    EXPECT_EQ(*listed, (std::vector<int>{8, 1, 8}));  // a list to cycle may repeat
}

TEST(ClassNames, RefusesWhatNamesNoClassListingTheClasses) {
    const Names wine{"1", "2", "3"};
    EXPECT_EQ(errorOf(ll::classIndex("4", wine)),
              "no class '4': the classes are 1, 2, 3 (or their numbers 0 to 2)");
    EXPECT_EQ(errorOf(ll::classIndex("bag", Names{"Bag", "BAG"})),
              "no class 'bag': the classes are Bag, BAG (or their numbers 0 to 1)");
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

TEST(ClassNames, ATokenWrittenForAClassReadsBackAsThatClass) {
    const std::vector<Names> cases{
        {"1", "2", "3"},
        {"cat", "dog"},
        {"a,b", "1", "c:d"},  // a name a list cannot hold goes by number...
        {"1", "a,b"},         // ...unless the number names another class
        {"", " padded", "x"}};
    for (const Names& names : cases)
        for (int k = 0; k < static_cast<int>(names.size()); ++k) {
            const std::string token = ll::classToken(k, names);
            if (names[static_cast<std::size_t>(k)] == "a,b" && names[0] == "1") {
                EXPECT_EQ(token, "a,b");  // no token can name it: the name, for a reader
                continue;
            }
            EXPECT_EQ(token.find_first_of(",:"), std::string::npos) << token;
            auto back = ll::classIndex(token, names);
            ASSERT_TRUE(back) << token << ": " << back.error().message;
            EXPECT_EQ(*back, k) << "token '" << token << "'";
        }
}

}  // namespace
