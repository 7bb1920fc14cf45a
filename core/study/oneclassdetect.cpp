#include "study/oneclassdetect.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <stop_token>

#include <torch/torch.h>

#include "common/atomicfile.h"
#include "common/csvtext.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "eval/extractorchoice.h"
#include "eval/features.h"
#include "models/vae.h"
#include "run/runloader.h"
#include "train/trainer.h"

namespace ll::oneclass {
namespace fs = std::filesystem;

namespace {

// Fewest rows of each part that a threshold or a covariance can come from.
constexpr std::int64_t kMinTrain = 10, kMinValidation = 5, kMinTestNormal = 5;

torch::Tensor permutation(std::int64_t n, std::uint64_t seed) {
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(seed);
    return torch::randperm(n, gen, torch::kInt64);
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string classList(const std::vector<std::string>& classes) {
    std::string out;
    for (std::size_t i = 0; i < classes.size(); ++i)
        out += (i ? ", " : "") + std::to_string(i) + " " + classes[i];
    return out;
}

void appendBigEndian(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

// Runs `fn` over rows in batches and concatenates the results: the test split of a
// Fashion-MNIST study holds thousands of rows.
template <class Fn>
torch::Tensor batched(const torch::Tensor& x, Fn fn, std::int64_t batch = 512) {
    std::vector<torch::Tensor> parts;
    for (std::int64_t i = 0; i < x.size(0); i += batch)
        parts.push_back(fn(x.slice(0, i, std::min(x.size(0), i + batch))));
    return torch::cat(parts);
}

std::string joined(const std::vector<int>& values) {
    std::string out;
    for (int v : values) out += (out.empty() ? "" : ",") + std::to_string(v);
    return out;
}

}  // namespace

Result<int> findClass(const std::vector<std::string>& classes, const std::string& normal) {
    for (std::size_t i = 0; i < classes.size(); ++i)
        if (lower(classes[i]) == lower(normal)) return static_cast<int>(i);
    int number = -1;
    if (!normal.empty() && std::all_of(normal.begin(), normal.end(), ::isdigit) &&
        normal.size() < 6)
        number = std::stoi(normal);
    if (number >= 0 && number < static_cast<int>(classes.size())) return number;
    return fail("normal class '" + normal +
                "' is not a class of the data (classes: " + classList(classes) + ")");
}

Result<StudyData> prepareData(const OneClassRequest& request) {
    if (request.normal.empty()) return fail("name the normal class (--normal)");
    StudyData s;
    DatasetSpec spec = request.data;
    spec.seed = request.firstSeed;
    auto loaded = loadDataset(spec);
    if (!loaded) return tl::unexpected(loaded.error());
    s.data = std::move(*loaded);
    if (s.data.numClasses() < 2)
        return fail(spec.source +
                    ": one-class detection needs two classes at least (one "
                    "normal, the others anomalous)");
    auto normal = findClass(s.data.classNames, request.normal);
    if (!normal) return tl::unexpected(normal.error());
    s.normal = *normal;

    const auto isNormal = s.data.y == s.normal;
    auto normalRows = isNormal.nonzero().flatten();
    if (s.data.modality == Modality::Image) {
        if (auto heldOut = loadHeldOut(spec, s.data); heldOut) {
            s.test = randomSubset(*heldOut, request.testLimit, request.firstSeed);
            s.pool = normalRows;
            s.heldOutSplit = true;
        }
    }
    if (!s.heldOutSplit) {
        // No split that training never saw: hold back a seeded share of the normal rows and
        // test them with every anomalous row.
        auto shuffled =
            normalRows.index_select(0, permutation(normalRows.size(0), request.firstSeed ^ 0x5EED));
        const auto nTest =
            static_cast<std::int64_t>(std::round(double(shuffled.size(0)) * request.testFraction));
        s.pool = std::get<0>(shuffled.slice(0, nTest).sort());
        auto tested = torch::cat({shuffled.slice(0, 0, nTest), (~isNormal).nonzero().flatten()});
        s.test = randomSubset(s.data.subset(std::get<0>(tested.sort())), request.testLimit,
                              request.firstSeed);
    }
    s.anomalous = s.test.y != s.normal;
    const auto pool = s.pool.size(0);
    const auto nValidation =
        static_cast<std::int64_t>(std::round(double(pool) * request.validationFraction));
    const auto testNormal = (~s.anomalous).sum().item<std::int64_t>();
    const auto testAnomalous = s.anomalous.sum().item<std::int64_t>();
    if (pool - nValidation < kMinTrain || nValidation < kMinValidation ||
        testNormal < kMinTestNormal || testAnomalous < 1)
        return fail("too few rows for the split: class '" + s.data.classNames[s.normal] + "' has " +
                    std::to_string(pool) + " rows for training and validation (" +
                    std::to_string(pool - nValidation) + " + " + std::to_string(nValidation) +
                    ", at least " + std::to_string(kMinTrain) + " + " +
                    std::to_string(kMinValidation) + " needed) and the test holds " +
                    std::to_string(testNormal) + " normal rows (at least " +
                    std::to_string(kMinTestNormal) + ") and " + std::to_string(testAnomalous) +
                    " anomalous ones; use more data (--limit) or other fractions");
    return s;
}

std::pair<torch::Tensor, torch::Tensor> splitPool(const torch::Tensor& pool, double validation,
                                                  std::uint64_t seed) {
    auto shuffled = pool.index_select(0, permutation(pool.size(0), seed));
    const auto n = static_cast<std::int64_t>(std::round(double(pool.size(0)) * validation));
    return {std::get<0>(shuffled.slice(0, n).sort()), std::get<0>(shuffled.slice(0, 0, n).sort())};
}

Result<DatasetSpec> writeTrainingData(const Dataset& rows, const fs::path& dir) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
    if (ec) return fail(dir.string() + ": cannot create the folder (" + ec.message() + ")");
    DatasetSpec spec;
    if (rows.modality == Modality::Tabular) {
        // In the data's own units: the Trainer standardises what it reads.
        auto x = (rows.x.to(torch::kFloat64) * rows.std.to(torch::kFloat64) +
                  rows.mean.to(torch::kFloat64))
                     .contiguous();
        std::string text;
        for (const auto& name : rows.featureNames) text += csvCell(name) + ",";
        text += "class\n";
        const auto* v = x.data_ptr<double>();
        char cell[32];
        for (std::int64_t i = 0; i < x.size(0); ++i) {
            for (std::int64_t j = 0; j < x.size(1); ++j) {
                std::snprintf(cell, sizeof cell, "%.17g,", v[i * x.size(1) + j]);
                text += cell;
            }
            text += "normal\n";
        }
        if (auto ok = writeFileAtomic(dir / "train.csv", text); !ok)
            return tl::unexpected(ok.error());
        spec.source = (dir / "train.csv").string();
        return spec;
    }
    // Images as IDX bytes (N x H x W, or N x H x W x C for colour), labels all 0.
    auto bytes = (rows.x * 255).round().clamp(0, 255).to(torch::kUInt8);
    const bool colour = bytes.size(1) > 1;
    bytes = (colour ? bytes.permute({0, 2, 3, 1}) : bytes.squeeze(1)).contiguous();
    std::string images;
    appendBigEndian(images, colour ? 0x0804u : 0x0803u);
    for (auto d : bytes.sizes()) appendBigEndian(images, static_cast<std::uint32_t>(d));
    images.append(reinterpret_cast<const char*>(bytes.data_ptr<std::uint8_t>()),
                  static_cast<std::size_t>(bytes.numel()));
    std::string labels;
    appendBigEndian(labels, 0x0801u);
    appendBigEndian(labels, static_cast<std::uint32_t>(bytes.size(0)));
    labels.append(static_cast<std::size_t>(bytes.size(0)), '\0');
    if (auto ok = writeFileAtomic(dir / "train-images-idx3-ubyte", images); !ok)
        return tl::unexpected(ok.error());
    if (auto ok = writeFileAtomic(dir / "train-labels-idx1-ubyte", labels); !ok)
        return tl::unexpected(ok.error());
    spec.source = dir.string();
    return spec;
}

Gaussian fitGaussian(const torch::Tensor& rows) {
    auto x = rows.to(torch::kFloat64);
    const auto d = x.size(1);
    auto mean = x.mean(0);
    auto centred = x - mean;
    auto cov = centred.t().mm(centred) / std::max<std::int64_t>(1, x.size(0) - 1);
    const double average = std::max(1e-12, cov.trace().item<double>() / double(d));
    cov = 0.9 * cov + torch::eye(d, torch::kFloat64) * (0.1 * average);
    return {mean, torch::linalg_inv(cov)};
}

torch::Tensor mahalanobis(const Gaussian& g, const torch::Tensor& rows) {
    auto centred = rows.to(torch::kFloat64) - g.mean;
    return (centred.mm(g.precision) * centred).sum(1);
}

Result<ScoreSet> scoreVae(const OneClassRequest& request, OneClassModel model,
                          const StudyData& data, const torch::Tensor& train,
                          const torch::Tensor& validation, std::uint64_t seed,
                          const fs::path& runDir, const std::function<bool(double)>& progress) {
    std::error_code ec;
    fs::remove_all(runDir, ec);
    auto spec = writeTrainingData(data.data.subset(train), runDir / "data");
    if (!spec) return tl::unexpected(spec.error());
    const bool images = data.data.modality == Modality::Image;
    const auto hidden = request.hidden.empty()
                            ? (images ? std::vector{512, 256} : std::vector{64, 32})
                            : request.hidden;
    Settings settings{{"latent", std::to_string(request.latent)},
                      {"hidden", joined(hidden)},
                      {"beta", std::to_string(request.beta)}};
    if (model == OneClassModel::ChaoticVae) {
        settings["r"] = std::to_string(request.r);
        settings["start"] = request.chaoticStart ? std::to_string(*request.chaoticStart) : "random";
        settings["transform"] = chaoticTransformName(request.transform);
    }
    TrainConfig config{
        .dataset = *spec,
        .model = oneClassModelName(model),
        .settings = settings,
        .steps = request.steps,
        .learningRate = request.learningRate,
        .batchSize = static_cast<int>(request.batchSize),
        .seed = seed,
        .logEvery = 25,
        .sampleEvery = static_cast<int>(std::min<std::int64_t>(request.steps, 1 << 30)),
        .checkpointEvery = static_cast<int>(std::min<std::int64_t>(request.steps, 1 << 30)),
        .samplesPerClass = 1,
        .maxGridRows = 1,
        .runDir = runDir / "run"};
    std::stop_source stop;
    ScoreSet out;
    Trainer trainer(config, [&](const TrainEvent& event) {
        if (const auto* p = std::get_if<TrainProgress>(&event)) {
            if (auto it = p->losses.find("loss"); it != p->losses.end()) out.finalLoss = it->second;
            if (progress &&
                !progress(double(p->step) / double(std::max<std::int64_t>(1, p->totalSteps))))
                stop.request_stop();
        }
    });
    const auto finished = trainer.run(stop.get_token());
    if (finished.outcome == TrainFinished::Outcome::Cancelled) return fail("cancelled");
    if (finished.outcome == TrainFinished::Outcome::Failed)
        return fail(oneClassModelName(model) + " seed " + std::to_string(seed) + ": " +
                    finished.message);
    auto run = loadRun(runDir / "run");
    if (!run) return tl::unexpected(run.error());
    auto* vae = dynamic_cast<Vae*>(run->model.get());
    if (!vae) return fail(runDir.string() + ": the run is not a VAE");

    // The model's own input space: tables standardised with the training rows' statistics.
    auto input = [&](const torch::Tensor& x) {
        if (images) return x;
        auto original = x.to(torch::kFloat64) * data.data.std.to(torch::kFloat64) +
                        data.data.mean.to(torch::kFloat64);
        auto mean = torch::tensor(run->data.mean, torch::kFloat64);
        auto sd = torch::tensor(run->data.std, torch::kFloat64);
        return ((original - mean) / sd).to(torch::kFloat32);
    };
    auto latentMean = [&](const torch::Tensor& x) {
        return batched(input(x), [&](const torch::Tensor& b) {
            torch::NoGradGuard noGrad;
            return vae->encodeLatents(b, torch::zeros({b.size(0)}, torch::kInt64));
        });
    };
    const auto gaussian = fitGaussian(latentMean(data.data.x.index_select(0, train)));
    const auto draws = request.elboSamples;
    auto scoreRows = [&](const torch::Tensor& x) {
        auto in = input(x);
        std::vector<torch::Tensor> elbo, recon;
        for (std::int64_t i = 0; i < in.size(0); i += 512) {
            auto b = in.slice(0, i, std::min(in.size(0), i + 512));
            auto [e, r] = vae->anomalyScores(b, torch::zeros({b.size(0)}, torch::kInt64), draws,
                                             seed * 1000003 + static_cast<std::uint64_t>(i));
            elbo.push_back(e);
            recon.push_back(r);
        }
        return std::map<std::string, torch::Tensor>{
            {"reconstruction", torch::cat(recon).to(torch::kFloat64)},
            {"elbo", torch::cat(elbo).to(torch::kFloat64)},
            {"latent", mahalanobis(gaussian, latentMean(x))}};
    };
    auto val = scoreRows(data.data.x.index_select(0, validation));
    auto test = scoreRows(data.test.x);
    for (auto& [name, v] : val) out.scores[name] = {v, test.at(name)};
    // The run served its purpose; its checkpoints would only fill the disk.
    fs::remove_all(runDir, ec);
    return out;
}

Result<FeatureSpace> featureSpace(const OneClassRequest& request, const StudyData& data) {
    FeatureSpace f;
    const bool images = data.data.modality == Modality::Image;
    const fs::path workspace = request.workspace;
    auto choice = chooseExtractor(request.extractor, data.data.name, workspace);
    if (!choice && !request.extractor.empty()) return tl::unexpected(choice.error());
    if (choice) {
        auto opened = loadRun(choice->dir);
        if (!opened) return fail("extractor: " + opened.error().message);
        auto& extractor = *opened->model;
        const auto& shape = extractor.shape();
        const auto& x = data.data.x;
        const bool fits = images ? !shape.tabular() && shape.channels == x.size(1) &&
                                       shape.height == x.size(2) && shape.width == x.size(3)
                                 : shape.tabular() && shape.features == x.size(1);
        if (fits && !extractor.generates()) {
            auto a = extractFeatures(&extractor, data.data.x);
            if (!a) return tl::unexpected(a.error());
            auto b = extractFeatures(&extractor, data.test.x);
            if (!b) return tl::unexpected(b.error());
            f = {*a, *b, "extractor " + choice->dir.string()};
            return f;
        }
        if (!request.extractor.empty())
            return fail("extractor: " + choice->dir.string() + " does not take this data's " +
                        (images ? "images" : "rows"));
    }
    auto flat = [](const torch::Tensor& x) { return x.reshape({x.size(0), -1}); };
    f = {flat(data.data.x), flat(data.test.x), images ? "pixels" : "standardised columns"};
    return f;
}

ScoreSet scoreFeatures(const FeatureSpace& features, const torch::Tensor& train,
                       const torch::Tensor& validation) {
    const auto g = fitGaussian(features.data.index_select(0, train));
    ScoreSet out;
    out.scores["features"] = {mahalanobis(g, features.data.index_select(0, validation)),
                              mahalanobis(g, features.test)};
    return out;
}

}  // namespace ll::oneclass
