#include "sample/latentmap.h"

#include <sstream>

#include <torch/torch.h>

#include "common/atomicfile.h"
#include "data/dataset.h"
#include "data/transforms.h"
#include "models/catalog.h"
#include "models/model.h"

namespace ll {

namespace {

std::vector<float> toFloats(const torch::Tensor& t) {
    const auto c = t.to(torch::kFloat32).contiguous();
    return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

}  // namespace

Result<LatentMap> buildLatentMap(GenerativeModel& model, const Dataset* data, std::int64_t count,
                                 std::uint64_t seed, int directions) {
    if (!model.hasLatents()) return fail("'" + model.name() + "' has no latent space to map");
    if (count < 2 || count > 200000) return fail("a latent map needs 2 to 200,000 points");
    if (directions < 2) return fail("a latent map needs at least 2 principal directions");
    try {
        // Draws of a conditional model have their classes in turn; an unconditional one's none.
        const ModelInfo* info = findModel(model.name());
        const int k = info && info->conditional ? model.shape().numClasses : 0;
        std::vector<torch::Tensor> latents;
        std::vector<std::int64_t> labels, index;
        std::vector<std::uint8_t> real;
        // The model's own draws, in batches as the scores draw them.
        for (std::int64_t start = 0, batch = 0; start < count; start += 500, ++batch) {
            const auto n = std::min<std::int64_t>(500, count - start);
            SampleRequest r{.count = n, .seed = seed + std::uint64_t(batch)};
            latents.push_back(model.latents(r).to(torch::kCPU, torch::kFloat32).flatten(1));
            for (std::int64_t i = start; i < start + n; ++i) {
                labels.push_back(k > 0 ? i % k : -1);
                index.push_back(i);
                real.push_back(0);
            }
        }
        if (data && model.encodes()) {
            const auto rows = torch::randperm(data->size(), at::detail::createCPUGenerator(seed))
                                  .slice(0, 0, std::min(count, data->size()));
            for (std::int64_t start = 0; start < rows.size(0); start += 500) {
                const auto part = rows.slice(0, start, start + 500);
                latents.push_back(
                    model
                        .encodeLatents(data->x.index_select(0, part), data->y.index_select(0, part))
                        .to(torch::kCPU, torch::kFloat32)
                        .flatten(1));
            }
            const auto y = data->y.index_select(0, rows).contiguous();
            for (std::int64_t i = 0; i < rows.size(0); ++i) {
                labels.push_back(y[i].item<std::int64_t>());
                index.push_back(rows[i].item<std::int64_t>());
                real.push_back(1);
            }
        }
        const auto z = torch::cat(latents).to(torch::kFloat64);
        LatentMap map{.dims = int(z.size(1))};
        const auto mean = z.mean(0);
        const auto centred = z - mean;
        const auto covariance =
            centred.t().mm(centred) / double(std::max<std::int64_t>(1, z.size(0) - 1));
        const auto [values, vectors] = torch::linalg_eigh(covariance, "L");
        const int d = std::min<int>(directions, map.dims);
        const auto leading = vectors.flip({1}).slice(1, 0, d);  // eigh sorts ascending
        const auto coords = centred.mm(leading.slice(1, 0, std::min(2, d)));
        map.x = toFloats(coords.select(1, 0));
        map.y = d > 1 ? toFloats(coords.select(1, 1)) : std::vector<float>(map.x.size(), 0.f);
        map.mean = toFloats(mean);
        const auto variances = values.flip({0}).slice(0, 0, d).clamp_min(0);
        map.spread = toFloats(variances.sqrt());
        for (int i = 0; i < d; ++i) map.directions.push_back(toFloats(leading.select(1, i)));
        map.latents = toFloats(z);
        map.label.assign(labels.begin(), labels.end());
        map.real = std::move(real);
        map.index = std::move(index);
        return map;
    } catch (const std::exception& e) {
        const std::string what = firstLine(e);
        return fail(what);
    }
}

std::pair<float, float> projectLatent(const LatentMap& map, const std::vector<float>& latent) {
    float c[2] = {0, 0};
    for (std::size_t k = 0; k < 2 && k < map.directions.size(); ++k)
        for (std::size_t i = 0; i < latent.size() && i < map.mean.size(); ++i)
            c[k] += (latent[i] - map.mean[i]) * map.directions[k][i];
    return {c[0], c[1]};
}

Result<void> writeLatentMapCsv(const LatentMap& map, const std::vector<std::string>& classNames,
                               const std::string& path) {
    std::ostringstream out;
    out << "kind,index,class,class_name,pc1,pc2\n";
    for (std::size_t i = 0; i < map.x.size(); ++i) {
        const int k = map.label[i];
        std::string name =
            k >= 0 && std::size_t(k) < classNames.size() ? classNames[std::size_t(k)] : "";
        if (name.find_first_of(",\"\n") != std::string::npos) {  // CSV quoting
            std::string quoted = "\"";
            for (char ch : name) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
            name = quoted + "\"";
        }
        out << (map.real[i] ? "real" : "drawn") << ',' << map.index[i] << ',' << k << ',' << name
            << ',' << map.x[i] << ',' << map.y[i] << '\n';
    }
    return writeFileAtomic(path, out.str());
}

}  // namespace ll
