#include "eval/features.h"

#include <mutex>
#include <string_view>

#include <torch/torch.h>

namespace ll {

namespace {

constexpr std::int64_t kBatch = 500;

Result<void> checkExtractor(GenerativeModel& extractor, const torch::Tensor& x) {
    if (extractor.generates())
        return fail("'" + extractor.name() + "' is a generator, not a classifier run");
    const ModelShape& s = extractor.shape();
    const bool tabular = x.dim() == 2;
    const bool fits = tabular ? s.tabular() && x.size(1) == s.features
                              : !s.tabular() && x.dim() == 4 && x.size(1) == s.channels &&
                                    x.size(2) == s.height && x.size(3) == s.width;
    if (!fits)
        return fail("the feature extractor was trained on other data (its input shape differs)");
    return {};
}

}  // namespace

Result<torch::Tensor> extractFeatures(GenerativeModel* extractor, const torch::Tensor& x,
                                      const ProgressFn& progress) {
    if (x.size(0) < 1) return fail("no samples to take features of");
    if (!extractor) return x.flatten(1).to(torch::kCPU, torch::kFloat32).contiguous();
    if (auto ok = checkExtractor(*extractor, x); !ok) return tl::unexpected(ok.error());
    std::vector<torch::Tensor> parts;
    const auto n = x.size(0);
    for (std::int64_t start = 0; start < n; start += kBatch) {
        try {
            parts.push_back(extractor->features(x.slice(0, start, std::min(n, start + kBatch))));
        } catch (const std::exception& e) {
            return fail(e.what());
        }
        if (progress && !progress(double(std::min(n, start + kBatch)) / double(n)))
            return fail("cancelled");
    }
    return torch::cat(parts).to(torch::kCPU, torch::kFloat32).contiguous();
}

Result<torch::Tensor> cachedFeatures(GenerativeModel* extractor, const std::string& extractorKey,
                                     const torch::Tensor& x, const ProgressFn& progress) {
    static std::mutex mutex;
    static std::string cachedKey;
    static torch::Tensor cached;
    const auto bytes = x.to(torch::kCPU).contiguous();
    const std::string_view data(static_cast<const char*>(bytes.data_ptr()), bytes.nbytes());
    std::string key = (extractor ? extractorKey : std::string("pixels")) + '|' +
                      std::to_string(std::hash<std::string_view>{}(data)) + '|' +
                      std::string(c10::toString(bytes.scalar_type()));
    for (auto n : bytes.sizes()) key += '|' + std::to_string(n);
    {
        std::lock_guard lock(mutex);
        if (key == cachedKey) {
            if (progress) progress(1.0);
            return cached;
        }
    }
    auto features = extractFeatures(extractor, x, progress);
    if (features && extractor && !extractorKey.empty()) {  // pixels cost nothing to take again
        std::lock_guard lock(mutex);
        cachedKey = std::move(key);
        cached = *features;
    }
    return features;
}

Result<void> drawSampleBatches(GenerativeModel& generator, SampleRequest request,
                               std::int64_t count, std::int64_t batchSize,
                               const SampleBatchFn& onBatch) {
    if (!generator.generates()) return fail("'" + generator.name() + "' does not generate");
    if (count < 1) return fail("nothing to draw (count is 0)");
    const int k = generator.shape().numClasses;
    const auto labels = request.labels;
    const std::uint64_t seed = request.seed;
    for (std::int64_t start = 0, batch = 0; start < count; start += batchSize, ++batch) {
        const auto n = std::min(batchSize, count - start);
        request.count = n;
        request.seed = seed + static_cast<std::uint64_t>(batch);
        request.labels.clear();
        for (std::int64_t i = start; i < start + n; ++i)
            request.labels.push_back(
                labels.empty() ? i % k : labels[static_cast<std::size_t>(i) % labels.size()]);
        for (auto l : request.labels)
            if (l < 0 || l >= k) return fail("no class " + std::to_string(l));
        torch::Tensor samples;
        try {
            samples = generator.sample(request).to(torch::kCPU, torch::kFloat32);
        } catch (const std::exception& e) {  // a steering setting the family cannot do
            return fail(e.what());
        }
        auto go = onBatch(samples, torch::tensor(request.labels, torch::kInt64),
                          double(start + n) / double(count));
        if (!go) return tl::unexpected(go.error());
        if (!*go) return fail("cancelled");
    }
    return {};
}

Result<torch::Tensor> sampleFeatures(GenerativeModel& generator, GenerativeModel* extractor,
                                     SampleRequest request, std::int64_t count,
                                     const ProgressFn& progress) {
    std::vector<torch::Tensor> parts;
    auto done = drawSampleBatches(
        generator, std::move(request), count, kBatch,
        [&](const torch::Tensor& samples, const torch::Tensor&, double f) -> Result<bool> {
            auto features = extractFeatures(extractor, samples);
            if (!features) return tl::unexpected(features.error());
            parts.push_back(*features);
            return !progress || progress(f);
        });
    if (!done) return tl::unexpected(done.error());
    return torch::cat(parts);
}

}  // namespace ll
