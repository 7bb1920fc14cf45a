// The Data panel's previews: another choice of classes or long tail of the data just read
// shows from memory, and Load reads the source afresh. Classes kept by name.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/atomicfile.h"
#include "data/loader.h"
#include "data/preview.h"

namespace fs = std::filesystem;

namespace {

fs::path tableFile(const std::string& name) {
    const fs::path dir =
        fs::temp_directory_path() / ("latentlab-test-preview-" + std::to_string(getpid()));
    fs::create_directories(dir);
    return dir / name;
}

// `perClass` rows of each of the classes a, b and c.
std::string table(int perClass) {
    std::string text = "x,y,kind\n";
    for (int i = 0; i < 3 * perClass; ++i)
        text += std::to_string(i) + "," + std::to_string(i % 5) + "," + "abc"[i % 3] + "\n";
    return text;
}

TEST(Previewer, ReshapesTheDataItReadWithoutReadingAgain) {
    const fs::path file = tableFile("kinds.csv");
    ASSERT_TRUE(ll::writeFileAtomic(file, table(10)));
    ll::DatasetPreviewer previewer;
    const ll::DatasetSpec whole{.source = file.string()};
    auto first = previewer.load(whole);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->summary.count, 30);
    EXPECT_EQ(first->table.rows, 30);

    // The file changes on disk; a new choice of classes still shows the data read.
    ASSERT_TRUE(ll::writeFileAtomic(file, table(2)));
    ll::DatasetSpec narrowed = whole;
    narrowed.keepClassNames = {"c", "a"};
    ASSERT_TRUE(previewer.holds(narrowed));
    auto two = previewer.reshape(narrowed);
    ASSERT_TRUE(two) << two.error().message;
    EXPECT_EQ(two->summary.count, 20);
    EXPECT_EQ(two->summary.classNames, (std::vector<std::string>{"c", "a"}));
    narrowed.longTailRatio = 5;
    auto tail = previewer.reshape(narrowed);
    ASSERT_TRUE(tail) << tail.error().message;
    EXPECT_EQ(tail->summary.classCounts, (std::vector<std::int64_t>{10, 2}));
    narrowed.longTailRatio = 0.5;  // the transforms' checks still hold
    EXPECT_FALSE(previewer.reshape(narrowed));
    ll::DatasetSpec missing = whole;
    missing.keepClassNames = {"d"};
    auto none = previewer.reshape(missing);
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message.find("no class 'd': the classes are a, b, c"), std::string::npos)
        << none.error().message;

    // Load reads afresh: the file's new rows.
    auto again = previewer.load(whole);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->summary.count, 6);
    // Reading otherwise (another label column) is another read, not a reshape.
    ll::DatasetSpec byY = whole;
    byY.labelColumn = "y";
    EXPECT_FALSE(previewer.holds(byY));
    auto other = previewer.reshape(byY);
    ASSERT_TRUE(other) << other.error().message;
    EXPECT_EQ(other->summary.classNames.size(), 5u);
    EXPECT_TRUE(previewer.holds(byY));
    EXPECT_FALSE(previewer.holds(whole));
    // A failed read keeps nothing.
    fs::remove(file);
    EXPECT_FALSE(previewer.load(whole));
    EXPECT_FALSE(previewer.holds(byY));
    fs::remove_all(file.parent_path());
}

TEST(Loader, KeepsClassesByNameOrNumberButNotBoth) {
    const fs::path file = tableFile("named.csv");
    ASSERT_TRUE(ll::writeFileAtomic(file, table(4)));
    ll::DatasetSpec spec{.source = file.string()};
    spec.keepClassNames = {"b", "0"};  // a name, then a number
    auto d = ll::loadDataset(spec);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"b", "a"}));
    EXPECT_EQ(d->size(), 8);
    spec.keepClasses = {1};
    auto both = ll::loadDataset(spec);
    ASSERT_FALSE(both);
    EXPECT_NE(both.error().message.find("by number or by name, not both"), std::string::npos);
    spec.keepClasses.clear();
    spec.keepClassNames = {"b", "1"};  // the same class twice
    auto twice = ll::loadDataset(spec);
    ASSERT_FALSE(twice);
    EXPECT_NE(twice.error().message.find("class 'b' is listed twice"), std::string::npos)
        << twice.error().message;
    fs::remove_all(file.parent_path());
}

}  // namespace
