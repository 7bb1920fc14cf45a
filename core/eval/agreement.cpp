#include "eval/agreement.h"

#include <cstdio>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"

#include "data/dataset.h"
#include "run/runfolder.h"

namespace ll {

namespace {

constexpr std::int64_t kBatch = 250;

// The judge of samples must be a clean classifier; any classifier (a noisy one classifies
// clean inputs too) may have its accuracy measured.
Result<void> checkClassifier(GenerativeModel& classifier, const ModelShape& data,
                             bool noisyAllowed) {
    if (classifier.generates())
        return fail("'" + classifier.name() + "' is a generator, not a classifier run");
    if (classifier.classifiesNoisy() && !noisyAllowed)
        return fail("'" + classifier.name() + "' is not a clean classifier run");
    const ModelShape& c = classifier.shape();
    if (c.tabular() != data.tabular() || c.features != data.features ||
        (!c.tabular() &&
         (c.channels != data.channels || c.height != data.height || c.width != data.width)))
        return fail("the classifier was trained on other data (its input shape differs)");
    if (c.numClasses != data.numClasses)
        return fail("the classifier knows " + std::to_string(c.numClasses) +
                    " classes, the data has " + std::to_string(data.numClasses));
    return {};
}

}  // namespace

Result<Agreement> classifierAgreement(GenerativeModel& generator, GenerativeModel& classifier,
                                      SampleRequest request, std::int64_t count,
                                      const ProgressFn& progress) {
    if (!generator.generates()) return fail("'" + generator.name() + "' does not generate");
    if (count < 1) return fail("agreement needs at least 1 sample");
    const ModelShape& shape = generator.shape();
    if (auto ok = checkClassifier(classifier, shape, false); !ok) return tl::unexpected(ok.error());
    const int k = shape.numClasses;
    std::vector<std::int64_t> wanted;
    for (std::int64_t i = 0; i < count; ++i)
        wanted.push_back(request.labels.empty()
                             ? i % k
                             : request.labels[static_cast<std::size_t>(i) % request.labels.size()]);
    for (auto w : wanted)
        if (w < 0 || w >= k) return fail("no class " + std::to_string(w));

    Agreement out;
    out.predicted.assign(static_cast<std::size_t>(k), 0);
    std::vector<std::int64_t> hits(static_cast<std::size_t>(k), 0), asked(hits);
    const std::uint64_t seed = request.seed;
    for (std::int64_t start = 0, batch = 0; start < count; start += kBatch, ++batch) {
        const auto n = std::min(kBatch, count - start);
        request.count = n;
        request.seed = seed + static_cast<std::uint64_t>(batch);
        request.labels.assign(wanted.begin() + start, wanted.begin() + start + n);
        auto samples = generator.sample(request);
        auto predicted = classifier.classify(samples).argmax(1).contiguous();
        const auto* p = predicted.data_ptr<std::int64_t>();
        for (std::int64_t i = 0; i < n; ++i) {
            const auto want = static_cast<std::size_t>(request.labels[static_cast<std::size_t>(i)]);
            ++asked[want];
            ++out.predicted[static_cast<std::size_t>(p[i])];
            if (static_cast<std::size_t>(p[i]) == want) ++hits[want];
        }
        if (progress && !progress(double(start + n) / double(count))) return fail("cancelled");
    }
    std::int64_t total = 0;
    for (int c = 0; c < k; ++c) {
        const auto i = static_cast<std::size_t>(c);
        total += hits[i];
        out.perClass.push_back(asked[i] ? double(hits[i]) / double(asked[i]) : 0.0);
    }
    out.count = count;
    out.agreement = double(total) / double(count);
    return out;
}

Result<Accuracy> classifierAccuracy(GenerativeModel& classifier, const Dataset& data) {
    if (data.size() == 0) return fail("the dataset is empty");
    ModelShape shape{.numClasses = data.numClasses()};
    if (data.x.dim() == 2) {
        shape.features = static_cast<int>(data.x.size(1));
    } else {
        shape.channels = static_cast<int>(data.x.size(1));
        shape.height = static_cast<int>(data.x.size(2));
        shape.width = static_cast<int>(data.x.size(3));
    }
    if (auto ok = checkClassifier(classifier, shape, true); !ok) return tl::unexpected(ok.error());
    const int k = shape.numClasses;
    std::vector<std::int64_t> hits(static_cast<std::size_t>(k), 0), asked(hits);
    std::int64_t total = 0;
    for (std::int64_t start = 0; start < data.size(); start += kBatch) {
        const auto end = std::min(data.size(), start + kBatch);
        auto predicted = classifier.classify(data.x.slice(0, start, end)).argmax(1).contiguous();
        auto truth = data.y.slice(0, start, end).contiguous();
        const auto* p = predicted.data_ptr<std::int64_t>();
        const auto* t = truth.data_ptr<std::int64_t>();
        for (std::int64_t i = 0; i < end - start; ++i) {
            ++asked[static_cast<std::size_t>(t[i])];
            if (p[i] == t[i]) {
                ++hits[static_cast<std::size_t>(t[i])];
                ++total;
            }
        }
    }
    Accuracy out{.accuracy = double(total) / double(data.size()), .count = data.size()};
    for (int c = 0; c < k; ++c) {
        const auto i = static_cast<std::size_t>(c);
        out.perClass.push_back(asked[i] ? double(hits[i]) / double(asked[i]) : 0.0);
    }
    return out;
}

Result<std::filesystem::path> saveAgreement(const std::filesystem::path& run,
                                            const Agreement& result,
                                            const AgreementProtocol& protocol) {
    const auto& r = protocol.request;
    char name[96];
    std::snprintf(name, sizeof name, "agreement-step-%06lld-g%g.json",
                  static_cast<long long>(protocol.step), r.guidance);
    nlohmann::json j{{"metric", "classifier_agreement"},
                     {"agreement", result.agreement},
                     {"count", result.count},
                     {"per_class", result.perClass},
                     {"predicted", result.predicted},
                     {"protocol",
                      {{"step", protocol.step},
                       {"classifier_run", protocol.classifierRun},
                       {"classifier_step", protocol.classifierStep},
                       {"seed", r.seed},
                       {"temperature", r.temperature},
                       {"truncation", r.truncation},
                       {"guidance", r.guidance},
                       {"steps", r.steps},
                       {"sampler", r.sampler == Sampler::Ddim ? "ddim" : "ddpm"}}}};
    const auto path = runfiles::evalDir(run) / name;
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (auto ok = writeFileAtomic(path, j.dump(2) + "\n"); !ok) return tl::unexpected(ok.error());
    return path;
}

}  // namespace ll
