// bench_metrics: feature extraction plus FID, KID and precision/recall for 10,000 generated
// against 10,000 real Fashion-MNIST images, in LibTorch C++ against the numpy/scipy reference
// of tests/eval/reference/metrics_reference.py on the same features (bench/metrics_reference.py,
// run by Debian's /usr/bin/python3). Target: under 60 s in all, and faster than the Python
// reference. A plain timed loop: every stage runs --repeats times and reports its median.

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/cpu.h"
#include "common/npy.h"
#include "data/loader.h"
#include "eval/extractor.h"
#include "eval/features.h"
#include "eval/metrics.h"
#include "models/model.h"
#include "pythonrun.h"
#include "run/runloader.h"

#ifndef LATENTLAB_BENCH_DIR
#define LATENTLAB_BENCH_DIR "bench"
#endif
#ifndef LATENTLAB_METRICS_REFERENCE_DIR
#define LATENTLAB_METRICS_REFERENCE_DIR "tests/eval/reference"
#endif

namespace fs = std::filesystem;

namespace {

// The protocol of the issue: evaluate()'s defaults (core/eval/evaluate.h).
constexpr int kKidSubsets = 100;
constexpr std::int64_t kKidSize = 1000;
constexpr std::uint64_t kKidSeed = 0;
constexpr int kNeighbours = 3;
// Samples are drawn as ll::sampleFeatures draws them: batches of 500, seeds 0, 1, 2, ...
constexpr std::int64_t kSampleBatch = 500;
constexpr double kTargetSeconds = 60;

struct Options {
    std::int64_t count = 10000;
    std::string run;  // empty: the Fashion-MNIST test images stand in for generated ones
    int repeats = 3;
    bool python = true;
    std::string interpreter = "/usr/bin/python3";
    // Who gets the cores during the metrics: the extractor's workload, as ll::evaluateRun keeps
    // it for images, unless told otherwise.
    std::optional<ll::Workload> metricsWorkload;
    bool keep = false;  // keep the .npy features for a run of metrics_reference.py alone
};

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
    if (v.empty()) return std::nan("");
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

const char* workloadName(ll::Workload w) {
    return w == ll::Workload::Conv ? "conv" : "mlp";
}

std::string threadSplit() {
    return std::to_string(torch::get_num_threads()) + " torch thread(s), " + ll::cpuSummary();
}

// The generated images: the test split as a stand-in, or `count` samples of a trained run drawn
// in batches of 500 with seeds 0, 1, ... and the classes cycled (untimed).
ll::Result<torch::Tensor> generatedImages(const Options& opt) {
    if (opt.run.empty()) {
        auto test = ll::loadDataset(
            {.source = "fashion-mnist", .split = "test", .limit = opt.count, .seed = 1});
        if (!test) return tl::unexpected(test.error());
        if (test->size() < opt.count)
            return ll::fail("the Fashion-MNIST test split holds " + std::to_string(test->size()) +
                            " images, fewer than --count " + std::to_string(opt.count) +
                            ": lower --count or give --run RUN");
        std::printf("generated: %lld Fashion-MNIST test images (a stand-in; no sampling)\n",
                    static_cast<long long>(test->size()));
        return test->x;
    }
    auto run = ll::loadRun(opt.run);
    if (!run) return tl::unexpected(run.error());
    ll::GenerativeModel& model = *run->model;
    if (!model.generates())
        return ll::fail(opt.run + " is a " + model.name() + " run; it does not generate");
    if (run->data.datasetName != "fashion-mnist")
        std::printf("note: %s was trained on %s, the real images are Fashion-MNIST\n",
                    opt.run.c_str(), run->data.datasetName.c_str());
    ll::applyThreadSettings(model.workload());
    const int classes = std::max(1, model.shape().numClasses);
    const auto start = Clock::now();
    std::vector<torch::Tensor> parts;
    for (std::int64_t first = 0, batch = 0; first < opt.count; first += kSampleBatch, ++batch) {
        ll::SampleRequest request;
        request.count = std::min(kSampleBatch, opt.count - first);
        request.seed = static_cast<std::uint64_t>(batch);
        for (std::int64_t i = first; i < first + request.count; ++i)
            request.labels.push_back(i % classes);
        try {
            parts.push_back(model.sample(request));
        } catch (const std::exception& e) {
            return ll::fail(e.what());
        }
    }
    std::printf("generated: %lld samples of %s (%s, step %lld), drawn in %.1f s (untimed)\n",
                static_cast<long long>(opt.count), opt.run.c_str(), model.name().c_str(),
                static_cast<long long>(run->step), msSince(start) / 1000);
    return torch::cat(parts);
}

// Runs the Python reference on the two feature files and reads its JSON line; nullopt (with a
// message) if it fails.
std::optional<nlohmann::json> runPython(const Options& opt, const fs::path& real,
                                        const fs::path& fake) {
    const std::string cmd = "'" + opt.interpreter +
                            "' '" LATENTLAB_BENCH_DIR
                            "/metrics_reference.py' --reference-dir "
                            "'" LATENTLAB_METRICS_REFERENCE_DIR "' --real '" +
                            real.string() + "' --fake '" + fake.string() + "' --repeats " +
                            std::to_string(opt.repeats) + " --kid-subsets " +
                            std::to_string(kKidSubsets) + " --kid-size " +
                            std::to_string(kKidSize) + " --seed " + std::to_string(kKidSeed) +
                            " -k " + std::to_string(kNeighbours);
    return bench::runPythonJson(cmd, "bench_metrics", "ms");
}

/// The medians of the C++ stages and the values of the last repeat.
struct CppMetrics {
    double fidMs = 0, kidMs = 0, prMs = 0;
    double fid = 0;
    ll::Kid kid;
    ll::PrecisionRecall pr;
};

ll::Result<CppMetrics> timeMetrics(const torch::Tensor& real, const torch::Tensor& fake,
                                   int repeats) {
    CppMetrics m;
    std::vector<double> fidMs, kidMs, prMs;
    for (int r = 0; r < repeats; ++r) {
        auto start = Clock::now();
        auto fid = ll::frechetDistance(real, fake);
        if (!fid) return tl::unexpected(fid.error());
        fidMs.push_back(msSince(start));
        m.fid = *fid;

        start = Clock::now();
        auto kid = ll::kernelInceptionDistance(
            real, fake,
            ll::KidConfig{.subsets = kKidSubsets, .subsetSize = kKidSize, .seed = kKidSeed});
        if (!kid) return tl::unexpected(kid.error());
        kidMs.push_back(msSince(start));
        m.kid = *kid;

        start = Clock::now();
        auto pr = ll::precisionRecall(real, fake, kNeighbours);
        if (!pr) return tl::unexpected(pr.error());
        prMs.push_back(msSince(start));
        m.pr = *pr;
    }
    m.fidMs = median(fidMs);
    m.kidMs = median(kidMs);
    m.prMs = median(prMs);
    return m;
}

void printRow(const char* stage, double cppMs, double pyMs) {
    if (std::isnan(pyMs)) {
        std::printf("  %-30s %11.1f %11s %10s\n", stage, cppMs, "-", "-");
        return;
    }
    std::printf("  %-30s %11.1f %11.1f %9.2fx\n", stage, cppMs, pyMs, pyMs / cppMs);
}

double relativeDifference(double a, double b) {
    const double scale = std::max(std::abs(a), std::abs(b));
    return scale > 0 ? std::abs(a - b) / scale : 0.0;
}

void printValue(const char* what, double cpp, std::optional<double> py, std::int64_t samples) {
    if (!py) {
        std::printf("  %-10s %20.12g\n", what, cpp);
        return;
    }
    std::printf("  %-10s %20.12g %20.12g %12.2e", what, cpp, *py, relativeDifference(cpp, *py));
    // A share of samples: how many samples the two sides put on different sides of a ball.
    if (samples > 0)
        std::printf("  (%lld sample(s))",
                    static_cast<long long>(std::llround(std::abs(cpp - *py) * double(samples))));
    std::printf("\n");
}

int usage(const char* argv0) {
    std::fprintf(
        stderr,
        "usage: %s [--count N] [--run RUN] [--repeats R] [--no-python] [--python PATH]\n"
        "          [--metrics-workload conv|mlp] [--keep]\n"
        "Feature extraction plus FID, KID and precision/recall of N generated against N real\n"
        "Fashion-MNIST images, against %s/metrics_reference.py on the same features.\n",
        argv0, LATENTLAB_BENCH_DIR);
    return 2;
}

// Returns false on an unknown argument or a missing or bad value.
bool parseArgs(int argc, char** argv, Options& opt) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--no-python") {
            opt.python = false;
            continue;
        }
        if (a == "--keep") {
            opt.keep = true;
            continue;
        }
        if (i + 1 >= argc) return false;
        const std::string v = argv[++i];
        if (a == "--count")
            opt.count = std::atoll(v.c_str());
        else if (a == "--run")
            opt.run = v;
        else if (a == "--repeats")
            opt.repeats = std::atoi(v.c_str());
        else if (a == "--python")
            opt.interpreter = v;
        else if (a == "--metrics-workload" && (v == "conv" || v == "mlp"))
            opt.metricsWorkload = v == "conv" ? ll::Workload::Conv : ll::Workload::Mlp;
        else
            return false;
    }
    // KID needs 2 rows per set, FID more rows than the extractor's 128 features.
    return opt.count >= 200 && opt.repeats >= 1;
}

int fail(const std::string& message) {
    std::fprintf(stderr, "bench_metrics: %s\n", message.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    // What the app does first, before any tensor exists.
    ll::applyCpuSettings();

    Options opt;
    if (!parseArgs(argc, argv, opt)) return usage(argv[0]);

    // The shipped extractor, its weights checked against extractor.json's SHA-256.
    const fs::path extractorDir = ll::shippedExtractorsDir() / "fashion-mnist";
    auto info = ll::readExtractor(extractorDir);
    if (!info) return fail("extractor: " + info.error().message);
    auto extractor = ll::loadRun(extractorDir);
    if (!extractor) return fail("extractor: " + extractor.error().message);
    ll::GenerativeModel* model = extractor->model.get();

    auto real = ll::loadDataset(
        {.source = "fashion-mnist", .split = "train", .limit = opt.count, .seed = 1});
    if (!real) return fail(real.error().message);
    std::printf("real: %lld Fashion-MNIST training images (seeded subset, seed 1)\n",
                static_cast<long long>(real->size()));
    auto fakeImages = generatedImages(opt);
    if (!fakeImages) return fail(fakeImages.error().message);

    const ll::Workload extractWorkload = model->workload();
    const ll::Workload metricsWorkload = opt.metricsWorkload.value_or(extractWorkload);
    ll::applyThreadSettings(extractWorkload);
    std::printf("extractor: %s (sha256 %.12s..., %s, test accuracy %.4f)\n",
                extractorDir.string().c_str(), info->sha256.c_str(), model->name().c_str(),
                info->accuracy);
    std::printf("extraction: workload %s, %s\n", workloadName(extractWorkload),
                threadSplit().c_str());

    // Extraction of both sets, --repeats times.
    std::vector<double> extractMs;
    torch::Tensor realFeatures, fakeFeatures;
    for (int r = 0; r < opt.repeats; ++r) {
        const auto start = Clock::now();
        auto rf = ll::extractFeatures(model, real->x);
        if (!rf) return fail("features: " + rf.error().message);
        auto ff = ll::extractFeatures(model, *fakeImages);
        if (!ff) return fail("features: " + ff.error().message);
        extractMs.push_back(msSince(start));
        realFeatures = *rf;
        fakeFeatures = *ff;
    }
    const double extractionMs = median(extractMs);
    std::printf("features: %lld real and %lld generated x %lld\n",
                static_cast<long long>(realFeatures.size(0)),
                static_cast<long long>(fakeFeatures.size(0)),
                static_cast<long long>(realFeatures.size(1)));

    // The same features for the Python reference, run before the C++ metrics: the two must not
    // share the cores.
    std::optional<nlohmann::json> py;
    std::optional<fs::path> tmp;
    if (opt.python || opt.keep) {
        std::string pattern = (fs::temp_directory_path() / "bench_metrics-XXXXXX").string();
        if (!mkdtemp(pattern.data())) return fail("cannot create a temporary folder");
        tmp = pattern;
        const auto realNpy = *tmp / "real.npy", fakeNpy = *tmp / "fake.npy";
        if (auto ok = ll::writeNpy(realNpy, realFeatures); !ok) return fail(ok.error().message);
        if (auto ok = ll::writeNpy(fakeNpy, fakeFeatures); !ok) return fail(ok.error().message);
        if (opt.python) {
            std::printf("Python reference on the same features (%d repeats)...\n", opt.repeats);
            py = runPython(opt, realNpy, fakeNpy);
        }
    }

    ll::applyThreadSettings(metricsWorkload);
    std::printf("metrics: workload %s, %s\n", workloadName(metricsWorkload), threadSplit().c_str());
    std::fflush(stdout);
    auto cpp = timeMetrics(realFeatures, fakeFeatures, opt.repeats);
    if (!cpp) return fail("metrics: " + cpp.error().message);

    const auto pyMs = [&](const char* stage) {
        return py ? py->at("ms").at(stage).get<double>() : std::nan("");
    };
    const double cppMetricsMs = cpp->fidMs + cpp->kidMs + cpp->prMs;
    const double pyMetricsMs = pyMs("fid") + pyMs("kid") + pyMs("precision_recall");
    const double totalMs = extractionMs + cppMetricsMs;
    const std::string extractionLabel =
        "extraction (" + std::to_string(realFeatures.size(0) + fakeFeatures.size(0)) + " images)";
    const std::string kidLabel = "KID (" + std::to_string(cpp->kid.subsets) + " x " +
                                 std::to_string(cpp->kid.subsetSize) + ")";
    const std::string prLabel = "precision/recall (k = " + std::to_string(kNeighbours) + ")";

    std::printf("\n  %-30s %11s %11s %10s\n", "stage", "C++ ms", "Python ms", "Py/C++");
    printRow(extractionLabel.c_str(), extractionMs, std::nan(""));
    printRow("FID", cpp->fidMs, pyMs("fid"));
    printRow(kidLabel.c_str(), cpp->kidMs, pyMs("kid"));
    printRow(prLabel.c_str(), cpp->prMs, pyMs("precision_recall"));
    printRow("metrics", cppMetricsMs, pyMetricsMs);
    printRow("total (extraction + metrics)", totalMs, std::nan(""));
    if (py)
        std::printf("  (medians of %d repeats; Python: numpy %s, %s BLAS thread(s))\n", opt.repeats,
                    py->value("numpy", std::string("?")).c_str(),
                    py->at("blas_threads").is_number()
                        ? std::to_string(py->at("blas_threads").get<int>()).c_str()
                        : "?");
    else
        std::printf("  (medians of %d repeats)\n", opt.repeats);

    const auto pyValue = [&](const char* key) -> std::optional<double> {
        if (!py) return std::nullopt;
        return py->at(key).get<double>();
    };
    std::printf("\n  %-10s %20s %20s %12s\n", "value", "C++", "Python", "rel. diff");
    printValue("FID", cpp->fid, pyValue("fid"), 0);
    printValue("KID", cpp->kid.mean, pyValue("kid"), 0);
    printValue("KID std", cpp->kid.std, pyValue("kid_std"), 0);
    printValue("precision", cpp->pr.precision, pyValue("precision"), fakeFeatures.size(0));
    printValue("recall", cpp->pr.recall, pyValue("recall"), realFeatures.size(0));

    std::printf("\n  total %.1f s, target < %.0f s: %s\n", totalMs / 1000, kTargetSeconds,
                totalMs < kTargetSeconds * 1000 ? "met" : "MISSED");
    if (py)
        std::printf("  metrics %.2fx faster than the Python reference, target > 1x: %s\n",
                    pyMetricsMs / cppMetricsMs, pyMetricsMs > cppMetricsMs ? "met" : "MISSED");

    if (tmp) {
        if (opt.keep) {
            std::printf("  features kept in %s\n", tmp->string().c_str());
        } else {
            std::error_code ec;
            fs::remove_all(*tmp, ec);
        }
    }
    return 0;
}
