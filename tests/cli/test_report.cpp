// latentlab-cli report end to end: every section's figure is in the HTML, nothing in it
// points outside the file, the PDF's pages all hold something, a workspace's imbalance lab is
// a section of its own (--study, --studies-of), bad input fails cleanly.
#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "clirun.h"

namespace fs = std::filesystem;

namespace {

using ll::testing::cli;
using ll::testing::Outcome;
using ll::testing::shell;

fs::path scratch() {
    static const fs::path dir = ll::testing::scratchFolder("report");
    return dir;
}

std::string readAll(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

int count(const std::string& text, const std::string& what) {
    int n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

int lineCount(const std::string& s) {
    return count(s, "\n");
}

// Something other than white on a page: dark pixels of a grayscale PGM (P5) that pdftoppm
// wrote.
int darkPixels(const fs::path& pgm) {
    std::ifstream in(pgm, std::ios::binary);
    std::string magic;
    int width = 0, height = 0, maxValue = 0;
    in >> magic >> width >> height >> maxValue;
    in.get();
    if (magic != "P5" || width <= 0 || height <= 0 || maxValue != 255) return -1;
    std::vector<unsigned char> pixels(std::size_t(width) * std::size_t(height));
    in.read(reinterpret_cast<char*>(pixels.data()), std::streamsize(pixels.size()));
    if (!in) return -1;
    int dark = 0;
    for (unsigned char p : pixels) dark += p < 160;
    return dark;
}

// The page count the command printed: "wrote X.pdf (N pages)"; -1 when it printed none.
int printedPages(const std::string& output) {
    const auto end = output.rfind(" pages)");
    const auto start = output.rfind('(', end);
    if (end == std::string::npos || start == std::string::npos) return -1;
    return std::stoi(output.substr(start + 1, end - start - 1));
}

// The imbalance lab on breast_cancer.csv (malignant a 5% minority; logistic regression, none
// and SMOTE, two seeds: seconds), once, where the window puts it: a workspace's
// studies/rebalance-<time>/.
fs::path workspace() {
    return scratch() / "workspace";
}

std::string cancer() {
    return (fs::path(LATENTLAB_TEST_DATA) / "study/fixtures/breast_cancer.csv").string();
}

fs::path lab() {
    static const fs::path out = [] {
        const fs::path dir = workspace() / "studies" / "rebalance-20260101-000000";
        const auto r = cli("rebalance --dataset " + cancer() +
                           " --minority malignant:0.05 --classifier logistic --methods none,smote "
                           "--seeds 2 --out " +
                           dir.string());
        EXPECT_EQ(r.exitCode, 0) << r.output;
        return dir;
    }();
    return out;
}

// "0.912 ± 0.020", as the report writes a mean and sd of result.json's.
std::string meanSd(const nlohmann::json& method, const std::string& metric) {
    char cell[64];
    std::snprintf(cell, sizeof cell, "%.3f ± %.3f", method[metric + "_mean"].get<double>(),
                  method[metric + "_sd"].get<double>());
    return cell;
}

bool havePdftoppm() {
    return shell("pdftoppm -v").exitCode == 0;
}

// Every page of the PDF rendered at 40 dpi; the dark pixel count of each.
std::vector<int> pages(const fs::path& pdf) {
    const fs::path prefix = pdf.parent_path() / (pdf.stem().string() + "-page");
    const auto r = shell("pdftoppm -r 40 -gray " + pdf.string() + " " + prefix.string());
    EXPECT_EQ(r.exitCode, 0) << r.output;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(pdf.parent_path()))
        if (entry.path().filename().string().starts_with(prefix.filename().string()) &&
            entry.path().extension() == ".pgm")
            files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    std::vector<int> dark;
    for (const auto& f : files) dark.push_back(darkPixels(f));
    return dark;
}

// Two tiny runs, trained and evaluated once for every test: a CVAE evaluated at each of its
// checkpoints (metrics over steps) and fully at the last (memorisation), and a latent-space
// diffusion run evaluated at three guidance weights (the sweep) and studied as a classifier.
class Report : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        const auto cvae =
            cli("train --limit 1000 --model cvae --steps 120 --batch 32 --checkpoint-every 60 "
                "--sample-every 60 --out " +
                vae().string());
        ASSERT_EQ(cvae.exitCode, 0) << cvae.output;
        const auto steps = cli("evaluate --run " + vae().string() +
                               " --count 200 --all-checkpoints --metrics fid,precision,recall");
        ASSERT_EQ(steps.exitCode, 0) << steps.output;
        const auto full = cli("evaluate --run " + vae().string() + " --count 300");
        ASSERT_EQ(full.exitCode, 0) << full.output;
        const auto ddpm =
            cli("train --limit 1000 --model latent-ddpm --steps 200 --set vae_steps=100 "
                "--checkpoint-every 200 --sample-every 200 --out " +
                diffusion().string());
        ASSERT_EQ(ddpm.exitCode, 0) << ddpm.output;
        const auto classify =
            cli("classify --run " + diffusion().string() + " --limit 40 --timesteps 10");
        ASSERT_EQ(classify.exitCode, 0) << classify.output;
        const auto sweep =
            cli("evaluate --run " + diffusion().string() +
                " --count 200 --guidance-sweep 0,1,3 --metrics fid,precision,recall,agreement");
        ASSERT_EQ(sweep.exitCode, 0) << sweep.output;
    }
    static fs::path vae() { return scratch() / "cvae"; }
    static fs::path diffusion() { return scratch() / "diffusion"; }
};

void expectSelfContained(const std::string& html) {
    for (const char* external : {"http://", "https://", "src=\"file", "<script", "file://",
                                 "@import", "<link", "<iframe", "<object"})
        EXPECT_EQ(html.find(external), std::string::npos) << external;
    // References within the page only: an SVG gradient's url(#id), a fragment link.
    for (const std::string reference : {"url(", "href=\"", "src=\""})
        for (auto at = html.find(reference); at != std::string::npos;
             at = html.find(reference, at + 1)) {
            const std::string target = html.substr(at + reference.size(), 22);
            EXPECT_TRUE(target.starts_with("#") || target.starts_with("data:image/png;base64,"))
                << reference << target;
        }
    EXPECT_LT(html.size(), 3u * 1024 * 1024);
}

}  // namespace

TEST_F(Report, OneRunHoldsEverySectionsFigure) {
    const fs::path html = scratch() / "one.html", pdf = scratch() / "one.pdf";
    const auto r = cli("report --run " + vae().string() + " --out " + html.string() + " --pdf " +
                       pdf.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    const std::string page = readAll(html);
    expectSelfContained(page);
    for (const char* section : {"Settings", "Loss curves", "Samples", "Metrics",
                                "Metrics over steps", "Guidance sweep", "Memorisation"})
        EXPECT_NE(page.find(std::string("<h3>") + section + "</h3>"), std::string::npos) << section;
    // Charts: losses, classes, FID / precision / recall over steps, the data-copying map.
    EXPECT_EQ(count(page, "<svg"), 6);
    EXPECT_EQ(count(page, "</svg>"), 6);
    // Pictures: the sample grid, the closest pairs, the data-copying cells.
    EXPECT_EQ(count(page, "<img src=\"data:image/png;base64,"), 3);
    EXPECT_NE(page.find("Ankle boot"), std::string::npos) << "grid rows and classes labelled";
    EXPECT_NE(page.find("floor"), std::string::npos);
    EXPECT_NE(page.find("FID"), std::string::npos);
    EXPECT_NE(page.find("data-copying C_T"), std::string::npos);
    EXPECT_NE(page.find("takes no guidance weight"), std::string::npos) << "a one-line note";
    EXPECT_EQ(page.find("<script"), std::string::npos);

    if (!havePdftoppm()) GTEST_SKIP() << "pdftoppm (poppler-utils) is not installed";
    const auto dark = pages(pdf);
    EXPECT_GE(dark.size(), 3u);
    for (std::size_t i = 0; i < dark.size(); ++i) EXPECT_GT(dark[i], 300) << "page " << i + 1;
}

TEST_F(Report, SeveralRunsAreComparedAndTheSweepDrawn) {
    const fs::path html = scratch() / "two.html", pdf = scratch() / "two.pdf";
    const auto r = cli("report --run " + vae().string() + " --run " + diffusion().string() +
                       " --out " + html.string() + " --pdf " + pdf.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    EXPECT_NE(r.output.find("pages"), std::string::npos) << r.output;
    const std::string page = readAll(html);
    expectSelfContained(page);
    EXPECT_NE(page.find("Comparison of 2 runs"), std::string::npos);
    EXPECT_NE(page.find("latent-ddpm"), std::string::npos);
    // The first run's 6, the comparison's losses, the second run's losses and its sweep (2).
    EXPECT_GE(count(page, "<svg"), 6 + 1 + 1 + 2);
    EXPECT_NE(page.find("Scores against the guidance weight"), std::string::npos);
    EXPECT_NE(page.find("Fidelity against diversity"), std::string::npos);
    EXPECT_NE(page.find("<th>guidance</th>"), std::string::npos) << "the sweep's table";
    // The diffusion run's classifier study, the CVAE (never studied so) without one.
    EXPECT_EQ(count(page, "<h3>As a classifier</h3>"), 1);
    EXPECT_NE(page.find("<td>clean classifier"), std::string::npos);
    EXPECT_GE(count(page, "<img src=\"data:image/png;base64,"), 4);

    if (!havePdftoppm()) GTEST_SKIP() << "pdftoppm (poppler-utils) is not installed";
    const auto dark = pages(pdf);
    EXPECT_GE(dark.size(), 5u);
    for (std::size_t i = 0; i < dark.size(); ++i) EXPECT_GT(dark[i], 300) << "page " << i + 1;
}

TEST_F(Report, ARunNeverEvaluatedSaysSoInOneLine) {
    const fs::path fresh = scratch() / "fresh";
    ASSERT_EQ(cli("train --limit 500 --model cvae --steps 20 --batch 32 --out " + fresh.string())
                  .exitCode,
              0);
    const fs::path html = scratch() / "fresh.html";
    const auto r = cli("report --run " + fresh.string() + " --out " + html.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    EXPECT_FALSE(fs::exists(scratch() / "fresh.pdf"));
    const std::string page = readAll(html);
    EXPECT_NE(page.find("Not evaluated yet: latentlab-cli evaluate --run " + fresh.string()),
              std::string::npos);
    EXPECT_NE(page.find("Fewer than two evaluated steps"), std::string::npos);
    EXPECT_NE(page.find("No nearest-neighbour search"), std::string::npos);
    EXPECT_EQ(count(page, "<svg"), 1) << "the losses only";
}

TEST_F(Report, BadInputFailsInOneLineAndWritesNothing) {
    const fs::path out = scratch() / "bad";
    fs::create_directories(out);
    const fs::path html = out / "r.html", pdf = out / "r.pdf";
    auto expectFailure = [&](const std::string& args, const std::string& expected) {
        const auto r = cli("report " + args);
        EXPECT_NE(r.exitCode, 0) << args << ": " << r.output;
        EXPECT_NE(r.output.find(expected), std::string::npos) << args << ": " << r.output;
        EXPECT_EQ(lineCount(r.output), 1) << r.output;
        EXPECT_TRUE(fs::is_empty(out)) << args << ": nothing half-written";
    };
    expectFailure("--run /no/such/run --out " + html.string(), "/no/such/run");
    const fs::path notARun = scratch() / "not-a-run";
    fs::create_directories(notARun);
    expectFailure("--run " + notARun.string() + " --out " + html.string(), "not a run folder");
    // Writing under a file: the folder cannot be made.
    const fs::path file = scratch() / "plain-file";
    std::ofstream(file) << "not a folder";
    expectFailure("--run " + vae().string() + " --out " + (file / "r.html").string(),
                  (file / "r.html").string());
    // The PDF cannot be written: the HTML is not left behind either.
    expectFailure("--run " + vae().string() + " --out " + html.string() + " --pdf /proc/report.pdf",
                  "/proc/report.pdf");
    expectFailure("--out " + html.string(), "nothing to report on: no run and no study");
    // Studies: a folder that is not there, one without result.json, one of no known kind, a
    // workspace without a finished study.
    expectFailure("--study /no/such/study --out " + html.string(), "/no/such/study");
    const fs::path unfinished = scratch() / "bad-studies" / "studies" / "rebalance-20260102-000000";
    fs::create_directories(unfinished / "parts");
    expectFailure("--study " + unfinished.string() + " --out " + html.string(),
                  unfinished.string() + ": not a finished study (no result.json)");
    const fs::path mystery = scratch() / "mystery";
    fs::create_directories(mystery);
    std::ofstream(mystery / "result.json") << R"({"study": "tea-leaves"})";
    expectFailure("--study " + mystery.string() + " --out " + html.string(),
                  "(rebalance, learning-curve, oneclass)");
    expectFailure(
        "--studies-of " + (scratch() / "bad-studies").string() + " --out " + html.string(),
        "no finished study");
}

TEST_F(Report, TheImbalanceLabIsASectionOfItsOwn) {
    ASSERT_TRUE(fs::exists(lab() / "result.json"));
    const nlohmann::json result = nlohmann::json::parse(readAll(lab() / "result.json"));
    const fs::path html = scratch() / "lab.html", pdf = scratch() / "lab.pdf";
    const auto r = cli("report --run " + vae().string() + " --study " + lab().string() + " --out " +
                       html.string() + " --pdf " + pdf.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    const std::string page = readAll(html);
    expectSelfContained(page);
    EXPECT_NE(page.find("<h2>Imbalance lab rebalance-20260101-000000</h2>"), std::string::npos);
    for (const char* heading :
         {"Training rows per class", "Scores on the held-out part", "Per-class recall"})
        EXPECT_NE(page.find(std::string("<h3>") + heading + "</h3>"), std::string::npos) << heading;
    for (const char* cell :
         {"<td>none</td>", "<td>smote</td>", "<th>after smote</th>", "<th>balanced accuracy</th>",
          "<th>minority recall</th>", "<td>malignant (minority)</td>"})
        EXPECT_NE(page.find(cell), std::string::npos) << cell;
    // The numbers are result.json's.
    const auto& methods = result["methods"];
    for (const char* method : {"none", "smote"})
        for (const char* metric : {"balanced_accuracy", "minority_recall", "macro_f1"}) {
            const std::string cell = "<td>" + meanSd(methods[method], metric) + "</td>";
            EXPECT_NE(page.find(cell), std::string::npos) << method << " " << metric << cell;
        }
    EXPECT_NE(
        page.find("<td>" + std::to_string(result["counts"]["malignant"].get<int>()) + "</td>"),
        std::string::npos);
    // The run's 3 pictures, and the lab's metrics and per-class recall charts (a table: no
    // samples figure).
    EXPECT_EQ(count(page, "<img src=\"data:image/png;base64,"), 3 + 2);
    EXPECT_NE(page.find("the rows the methods added are not pictured"), std::string::npos);

    // The PDF has the lab's pages after the run's.
    const auto runOnly =
        cli("report --run " + vae().string() + " --out " + (scratch() / "run-only.html").string() +
            " --pdf " + (scratch() / "run-only.pdf").string());
    ASSERT_EQ(runOnly.exitCode, 0) << runOnly.output;
    EXPECT_GT(printedPages(r.output), printedPages(runOnly.output)) << r.output;
    EXPECT_GT(printedPages(runOnly.output), 0) << runOnly.output;
}

TEST_F(Report, StudiesOfAWorkspaceAreItsLatestFinishedOnes) {
    ASSERT_TRUE(fs::exists(lab() / "result.json"));
    // A learning curve and a one-class study beside the lab, small enough for seconds.
    const fs::path curve = workspace() / "studies" / "learning-curve-20260101-000000";
    const auto c = cli("learning-curve --dataset " + cancer() +
                       " --methods nb,logistic --sizes 10,30 --seeds 2 --out " + curve.string());
    ASSERT_EQ(c.exitCode, 0) << c.output;
    const fs::path oneclass = workspace() / "studies" / "oneclass-20260101-000000";
    const auto o = cli("oneclass --dataset " + cancer() +
                       " --label-column diagnosis --normal benign --models vae,mahalanobis "
                       "--seeds 2 --steps 40 --out " +
                       oneclass.string());
    ASSERT_EQ(o.exitCode, 0) << o.output;
    // A newer lab that never finished, and an older one: neither is the latest finished one.
    fs::create_directories(workspace() / "studies" / "rebalance-20990101-000000" / "parts");
    fs::create_directories(workspace() / "studies" / "rebalance-20200101-000000");
    std::ofstream(workspace() / "studies" / "rebalance-20200101-000000" / "result.json") << "{}";
    const fs::path html = scratch() / "studies.html", pdf = scratch() / "studies.pdf";
    // A report of studies alone needs no run.
    const auto r = cli("report --studies-of " + workspace().string() + " --out " + html.string() +
                       " --pdf " + pdf.string());
    ASSERT_EQ(r.exitCode, 0) << r.output;
    const std::string page = readAll(html);
    expectSelfContained(page);
    EXPECT_EQ(page.find("<h2>Run "), std::string::npos);
    EXPECT_NE(page.find("3 studies: rebalance-20260101-000000, learning-curve-20260101-000000, "
                        "oneclass-20260101-000000"),
              std::string::npos);
    // In the kinds' order, each once.
    const auto labAt = page.find("<h2>Imbalance lab rebalance-20260101-000000</h2>");
    const auto curveAt = page.find("<h2>Learning curve learning-curve-20260101-000000</h2>");
    const auto oneclassAt = page.find("<h2>One-class detection oneclass-20260101-000000</h2>");
    ASSERT_NE(labAt, std::string::npos);
    ASSERT_NE(curveAt, std::string::npos);
    ASSERT_NE(oneclassAt, std::string::npos);
    EXPECT_LT(labAt, curveAt);
    EXPECT_LT(curveAt, oneclassAt);
    EXPECT_EQ(count(page, "<h2>"), 3);
    // Their numbers: the curve's sizes and methods, the detectors' AUROC.
    for (const char* cell :
         {"<th>rows per class</th>", "<th>nb</th>", "<th>logistic</th>", "<td>10</td>",
          "<td>30</td>", "<td>vae</td>", "<td>mahalanobis</td>", "<th>AUROC</th>"})
        EXPECT_NE(page.find(cell), std::string::npos) << cell;
    // The lab's two charts, the learning curve, ROC, PR and AUROC per seed (a table: no
    // anomalies picture).
    EXPECT_EQ(count(page, "<img src=\"data:image/png;base64,"), 2 + 1 + 3);
    EXPECT_GE(printedPages(r.output), 3) << r.output;
    // Given twice (--study and --studies-of), a study is shown once.
    const auto twice = cli("report --study " + lab().string() + " --studies-of " +
                           workspace().string() + " --out " + html.string());
    ASSERT_EQ(twice.exitCode, 0) << twice.output;
    EXPECT_EQ(count(readAll(html), "<h2>Imbalance lab"), 1);
}
