// CSV files as users bring them from spreadsheets: in Windows-1252 or UTF-16 rather than UTF-8,
// with quoted cells over several lines, Excel's "sep=;" line, a separator ending every line,
// old Mac line ends or '|' between cells. Each reads as the same table in UTF-8 would.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include "common/atomicfile.h"
#include "data/csv.h"
#include "data/loader.h"

namespace fs = std::filesystem;

namespace {

fs::path tableFile(const std::string& name, const std::string& bytes) {
    const fs::path dir =
        fs::temp_directory_path() / ("latentlab-test-csvencodings-" + std::to_string(getpid()));
    fs::create_directories(dir);
    EXPECT_TRUE(ll::writeFileAtomic(dir / name, bytes));
    return dir / name;
}

ll::Result<ll::Dataset> read(const std::string& name, const std::string& bytes,
                             const std::string& label = "") {
    return ll::readCsv(tableFile(name, bytes), label);
}

std::string errorOf(const ll::Result<ll::Dataset>& d) {
    return d ? std::string("(read)") : d.error().message;
}

std::vector<std::int64_t> labels(const ll::Dataset& d) {
    const auto y = d.y.contiguous();
    return {y.data_ptr<std::int64_t>(), y.data_ptr<std::int64_t>() + y.numel()};
}

// A table of two features and a label in UTF-8; its rows in the order written.
const std::string kTable =
    "temp\u00e9rature,b,label\n"
    "2.5,1,chat\n"
    "0.5,2,chi\u00e8n\n"
    "1.5,3,chat\n"
    "3.5,4,chi\u00e8n\n";

void expectTable(const ll::Result<ll::Dataset>& d) {
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"temp\u00e9rature", "b"}));
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"chat", "chi\u00e8n"}));
    EXPECT_EQ(labels(*d), (std::vector<std::int64_t>{0, 1, 0, 1}));
    EXPECT_EQ(d->size(), 4);
}

// UTF-8 text as UTF-16 bytes, little- or big-endian, with a byte-order mark or without.
std::string utf16(const std::u16string& text, bool bigEndian, bool bom) {
    std::string bytes;
    const auto unit = [&](char16_t u) {
        const char hi = static_cast<char>(u >> 8), lo = static_cast<char>(u & 0xFF);
        bytes += bigEndian ? hi : lo;
        bytes += bigEndian ? lo : hi;
    };
    if (bom) unit(0xFEFF);
    for (char16_t u : text) unit(u);
    return bytes;
}

const std::u16string kTable16 =
    u"temp\u00e9rature,b,label\r\n2.5,1,chat\r\n0.5,2,chi\u00e8n\r\n1.5,3,chat\r\n"
    u"3.5,4,chi\u00e8n\r\n";

}  // namespace

TEST(CsvEncodings, Utf8IsReadAsItIs) {
    auto d = read("utf8.csv", kTable);
    expectTable(d);
    EXPECT_TRUE(d->note.empty()) << d->note;
}

// Excel on Windows saves its "CSV" in the machine's code page: é is one byte, 0xE9.
TEST(CsvEncodings, Windows1252IsDecodedIntoUtf8AndSaid) {
    auto d =
        read("cp1252.csv",
             "temp\xe9rature,b,label\n2.5,1,chat\n0.5,2,chi\xe8n\n1.5,3,chat\n3.5,4,chi\xe8n\n");
    expectTable(d);
    EXPECT_EQ(d->note, "read as Windows-1252 (not UTF-8)");

    // Its own letters beyond Latin-1 (0x80 is the euro sign, 0x9C oe), in categories too.
    auto c = read("cp1252-categories.csv",
                  "a,colour,label\n1,ros\xe9,x\n2,\x80uro,y\n3,ros\xe9,x\n4,\x80uro,y\n"
                  "5,c\x9cur,x\n6,c\x9cur,y\n");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->featureNames, (std::vector<std::string>{"a", "colour=c\u0153ur",
                                                         "colour=ros\u00e9", "colour=\u20acuro"}));
    EXPECT_NE(c->note.find("read as Windows-1252 (not UTF-8)"), std::string::npos) << c->note;
}

// A byte-order mark says UTF-8: a broken byte is shown as U+FFFD, the letters around it kept.
TEST(CsvEncodings, BrokenBytesUnderAUtf8MarkAreReplaced) {
    auto d = read("bom-broken.csv",
                  "\xEF\xBB\xBF"
                  "a,label\n1,caf\u00e9\n2,x\xff\n3,caf\u00e9\n");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"caf\u00e9", "x\uFFFD"}));
    EXPECT_EQ(d->note, "read as UTF-8, 1 byte that is not UTF-8 as U+FFFD");
}

// Excel's "Unicode text": UTF-16 with a byte-order mark, either way round; and without one,
// told by the NUL beside each ASCII character.
TEST(CsvEncodings, Utf16IsTranscoded) {
    struct Case {
        const char* name;
        bool big, bom;
        const char* note;
    };
    for (const Case& c :
         {Case{"le.csv", false, true, "read as UTF-16LE"},
          Case{"be.csv", true, true, "read as UTF-16BE"},
          Case{"le-nobom.csv", false, false, "read as UTF-16LE (no byte-order mark)"},
          Case{"be-nobom.csv", true, false, "read as UTF-16BE (no byte-order mark)"}}) {
        SCOPED_TRACE(c.name);
        auto d = read(c.name, utf16(kTable16, c.big, c.bom));
        expectTable(d);
        EXPECT_EQ(d->note, c.note);
    }
    // A character beyond the BMP is a surrogate pair; an unpaired one reads as U+FFFD.
    auto pair = read("pair.csv", utf16(u"a,label\n1,\U0001F600\n2,\xD800x\n", false, true));
    ASSERT_TRUE(pair) << pair.error().message;
    EXPECT_EQ(pair->classNames, (std::vector<std::string>{"\uFFFDx", "\U0001F600"}));
}

// A table under another name (iris.data) is told from IDX by its bytes: UTF-16's byte-order
// mark says text, whatever its NULs.
TEST(CsvEncodings, Utf16UnderAnotherNameLoadsAsATable) {
    ll::DatasetSpec spec;
    spec.source = tableFile("table.data", utf16(kTable16, false, true)).string();
    expectTable(ll::loadDataset(spec));
}

// NULs in both bytes are no text in any encoding: still refused by line.
TEST(CsvEncodings, BinaryBytesAreStillRefused) {
    EXPECT_NE(errorOf(read("zeros.csv", std::string(64, '\0'))).find("line 1 holds binary data"),
              std::string::npos);
    EXPECT_NE(errorOf(read("nul.csv", std::string("a,b,label\n1,\0,0\n\xe9\n", 18)))
                  .find("line 2 holds binary data"),
              std::string::npos);
}

// RFC 4180: a quoted cell may hold line breaks; the rows after it keep their lines' numbers.
TEST(CsvEncodings, QuotedCellsRunOverLines) {
    auto d = read("quoted-lines.csv",
                  "a,b,label\n"
                  "0.5,1,\"line1\nline2, with comma \"\"q\"\"\"\n"
                  "1.5,2,plain\n"
                  "2.5,3,\"line1\r\nline2, with comma \"\"q\"\"\"\n"
                  "3.5,4,plain\n");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"line1\nline2, with comma \"q\"", "plain"}));
    EXPECT_EQ(labels(*d), (std::vector<std::int64_t>{0, 1, 0, 1}));

    // A fault after such a row names the line it is on in the file.
    EXPECT_NE(errorOf(read("quoted-fault.csv",
                           "a,b,label\n0.5,1,\"x\ny\"\n1.5,2,z\n2.5,abc,z\n"
                           "3.5,4,z\n"))
                  .find("line 5, column 'b': 'abc' is not a number"),
              std::string::npos);
    EXPECT_NE(errorOf(read("quoted-ragged.csv", "a,b,label\n0.5,\"1\n\",x\n1.5,y\n"))
                  .find("line 4 has 2 columns, expected 3"),
              std::string::npos);
    // A message quoting such a cell stays on one line.
    auto names =
        read("quoted-names.csv", "a,note,label\n1,\"x\ny\",a\n2,\"p\nq\",b\n3,\"r\ns\",a\n");
    ASSERT_TRUE(names) << names.error().message;
    EXPECT_NE(names->note.find("'x\\ny' on line 2"), std::string::npos) << names->note;
    // A quote that never closes runs to the end of the file: refused where it opens.
    EXPECT_NE(errorOf(read("quoted-open.csv", "a,b,label\n0.5,1,x\n1.5,\"2,y\n2.5,3,x\n"))
                  .find("line 3 has an unbalanced quote (the quoted cell it opens runs to the "
                        "end of the file)"),
              std::string::npos);
}

// Excel's first line "sep=;" names the separator (here beside decimal commas).
TEST(CsvEncodings, ExcelsSepLineNamesTheSeparator) {
    auto d = read("excel-sep.csv", "sep=;\r\na;b;label\r\n1,5;2;x\r\n2,5;3;y\r\n3,5;4;x\r\n");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"x", "y"}));
    EXPECT_NEAR(d->mean[0].item<float>(), 2.5f, 1e-6);
    // Its line is counted in a fault's line.
    EXPECT_NE(errorOf(read("excel-sep-fault.csv", "sep=|\na|b|label\n1|2|x\n1|q|y\n2|3|x\n"))
                  .find("line 4, column 'b'"),
              std::string::npos);
}

// "a,b,label," over "1,2,x,": the unnamed, empty last column goes and the label is found.
TEST(CsvEncodings, ASeparatorEndingEveryLineIsNoColumn) {
    auto d = read("trailing.csv", "a,b,label,\n1,2,x,\n3,4,y,\n5,7,x, \n");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(d->note, "left out the empty last column (every line ends in ',')");
    // A label column that is only sometimes empty is kept.
    auto kept = read("trailing-some.csv", "a,b,label,c\n1,2,x,\n3,4,y,5\n5,7,x,\n", "label");
    ASSERT_TRUE(kept) << kept.error().message;
    EXPECT_EQ(kept->note.find("empty last column"), std::string::npos) << kept->note;
}

// Old Mac files end their lines in '\r' alone.
TEST(CsvEncodings, CarriageReturnsAloneEndLines) {
    auto d = read("cr.csv", "a,b,label\r1,2,x\r3,4,y\r\r5,7,x\r");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(d->size(), 3);
    EXPECT_NE(errorOf(read("cr-fault.csv", "a,b,label\r1,2,x\r\r3,q,y\r5,7,x\r"))
                  .find("line 4, column 'b'"),
              std::string::npos);
}

TEST(CsvEncodings, PipesSeparateWhereEveryLineUsesThem) {
    auto d = read("pipe.csv", "a|b|label\n1|2|x\n3|4|y\n5|7|x\n");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"x", "y"}));
    // A '|' in a name of a comma file is the name's.
    auto names = read("pipe-name.csv", "a|b|c,d,label\n1,2,x\n3,4,y\n5,7,x\n");
    ASSERT_TRUE(names) << names.error().message;
    EXPECT_EQ(names->featureNames, (std::vector<std::string>{"a|b|c", "d"}));
    // One cell a line: the message says which separators were looked for.
    EXPECT_NE(errorOf(read("one-cell.csv", "a b label\n1 2 x\n3 4 y\n"))
                  .find("needs at least one feature column and a label column (no ',', ';', "
                        "tab or '|' separates the cells of line 1)"),
              std::string::npos);
}

// A cell a message quotes is cut at 40 bytes, but not inside a character: the message stays
// UTF-8 (it may go into a JSON record).
TEST(CsvEncodings, AQuotedCellIsCutBetweenCharacters) {
    const std::string word = std::string(39, 'a') + "\u00e9t\u00e9";
    const std::string message =
        errorOf(read("cut.csv", "a,b,label\n1,2,x\n2," + word + ",y\n3,4,x\n4,5,y\n"));
    EXPECT_NE(message.find("line 3, column 'b': '" + std::string(39, 'a') + "' is not a number"),
              std::string::npos)
        << message;
}

// A UTF-8 file with a byte or two that are not (a database export that cut a cell inside a
// character) is still UTF-8: its letters stay as written, the broken bytes become U+FFFD. Read
// as Windows-1252, 'é' would have become two letters and the run's names other names.
TEST(CsvEncodings, AFewBrokenBytesInUtf8AreNotAnotherEncoding) {
    const auto d = read("mostly-utf8.csv", kTable + "4.5,5,chat\n5.5,6,note\xff\n");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->featureNames, (std::vector<std::string>{"temp\u00e9rature", "b"}));
    EXPECT_NE(d->note.find("1 byte that is not UTF-8 as U+FFFD"), std::string::npos) << d->note;
    EXPECT_EQ(d->classNames, (std::vector<std::string>{"chat", "chi\u00e8n", "note\xef\xbf\xbd"}));
}

// A quote inside a cell that does not start with one is the cell's (inches, as in 32"): rows
// stay rows. Read as an opening quote, each such row swallowed the next.
TEST(CsvEncodings, AQuoteInsideAnUnquotedCellIsACharacter) {
    const auto d = read("inches.csv",
                        "size,screen,label\n1,32\",tv\n2,40\",tv\n3,32\",monitor\n4,40\",monitor\n"
                        "5,\"27\"\"\",tv\n6,\"27\"\"\",monitor\n");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->size(), 6);
    ASSERT_EQ(d->categorical.size(), 1u);
    EXPECT_EQ(d->categorical[0].values, (std::vector<std::string>{"27\"", "32\"", "40\""}));
    EXPECT_EQ(labels(*d), (std::vector<std::int64_t>{1, 1, 0, 0, 1, 0}));
}

// ---- Label columns a user may get wrong --------------------------------------------------------

TEST(CsvLabels, ALabelNameTwoColumnsShareIsRefusedNamingBoth) {
    // Spreadsheets allow two columns of one name; which is the label cannot be guessed.
    const std::string table = "id,score,score\n1,0.5,a\n2,0.7,b\n3,0.2,a\n4,0.9,b\n";
    const std::string message = errorOf(read("twice.csv", table, "score"));
    EXPECT_NE(message.find("twice.csv: columns 1 and 2 are both named 'score': name the label by "
                           "its number (--label-column 1)"),
              std::string::npos)
        << message;
    auto byNumber = read("twice.csv", table, "2");
    ASSERT_TRUE(byNumber) << byNumber.error().message;
    EXPECT_EQ(byNumber->classNames, (std::vector<std::string>{"a", "b"}));
}

TEST(CsvLabels, ALabelOfItsOwnForMostRowsIsQuestionedInTheNote) {
    // The last column is an id: 40 rows, 40 classes. The table reads, and the note asks.
    std::string ids = "x,y,id\n";
    for (int i = 0; i < 40; ++i)
        ids += std::to_string(i % 7) + "," + std::to_string(i % 3) + "," +
               std::to_string(1000 + i) + "\n";
    auto d = read("ids.csv", ids);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->numClasses(), 40);
    EXPECT_NE(d->note.find("the label column 'id' makes 40 classes of 40 rows, fewer than two rows "
                           "a class: if it is not the label, name the label with --label-column"),
              std::string::npos)
        << d->note;
    // Ten classes of four rows each are classes: no such note.
    std::string classes = "x,y,kind\n";
    for (int i = 0; i < 40; ++i)
        classes += std::to_string(i % 7) + "," + std::to_string(i % 3) + ",k" +
                   std::to_string(i % 10) + "\n";
    auto c = read("classes.csv", classes);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->numClasses(), 10);
    EXPECT_EQ(c->note.find("label column"), std::string::npos) << c->note;
}
