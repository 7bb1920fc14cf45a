#include "models/encodingcache.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include <torch/torch.h>

namespace ll {

namespace {

std::uint64_t splitmix64(std::uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

}  // namespace

EncodingCache::EncodingCache(std::int64_t maxBytes) : m_maxBytes(maxBytes) {}

void EncodingCache::clear() {
    m_store = torch::Tensor();
    m_rowOf.clear();
}

torch::Tensor EncodingCache::keys(const torch::Tensor& x, const torch::Tensor& y) {
    const std::int64_t n = x.size(0);
    const auto rows = x.dim() >= 2 ? x.flatten(1) : x.reshape({n, 1});  // an empty batch too
    const auto values = rows.to(torch::kCPU, torch::kFloat).contiguous();
    const auto labels = y.to(torch::kCPU, torch::kInt64).contiguous();
    if (labels.numel() != n)
        throw std::invalid_argument("EncodingCache: " + std::to_string(labels.numel()) +
                                    " labels for " + std::to_string(n) + " rows");
    const std::int64_t d = values.size(1);
    if (m_weights.numel() != d) {
        m_weights = torch::empty({d}, torch::kInt64);
        auto* w = m_weights.data_ptr<std::int64_t>();
        for (std::int64_t i = 0; i < d; ++i)
            w[i] = static_cast<std::int64_t>(splitmix64(static_cast<std::uint64_t>(i)) | 1u);
    }
    const auto* w = reinterpret_cast<const std::uint64_t*>(m_weights.data_ptr<std::int64_t>());
    const auto* bits = reinterpret_cast<const std::uint32_t*>(values.data_ptr<float>());
    const auto* label = labels.data_ptr<std::int64_t>();
    auto out = torch::empty({n}, torch::kInt64);
    auto* key = out.data_ptr<std::int64_t>();
    for (std::int64_t r = 0; r < n; ++r) {
        // Unsigned, so the products wrap by definition: a linear hash modulo 2^64.
        std::uint64_t h = (static_cast<std::uint64_t>(label[r]) + 1) * 0xD6E8FEB86659FD93ull;
        const std::uint32_t* row = bits + r * d;
        for (std::int64_t i = 0; i < d; ++i) h += w[i] * row[i];
        key[r] = static_cast<std::int64_t>(splitmix64(h));
    }
    return out;
}

void EncodingCache::keep(const torch::Tensor& rows, const std::vector<std::int64_t>& keys) {
    const std::int64_t kept = size();
    const std::int64_t width = rows.size(1);
    const std::int64_t rowBytes = std::max<std::int64_t>(1, width * rows.element_size());
    const std::int64_t limit = m_maxBytes / rowBytes;
    const std::int64_t wanted = std::min(limit, kept + rows.size(0));
    if (wanted <= kept) return;
    if (!m_store.defined() || m_store.size(0) < wanted) {
        const std::int64_t capacity = std::min(
            limit, std::max<std::int64_t>(wanted, m_store.defined() ? 2 * m_store.size(0) : 1024));
        auto grown = torch::empty({capacity, width}, rows.options());
        if (kept > 0) grown.slice(0, 0, kept).copy_(m_store.slice(0, 0, kept));
        m_store = grown;
    }
    // A new key's row is the next free one: the count of keys before it goes in.
    std::vector<std::int64_t> take;
    for (std::size_t i = 0; i < keys.size() && size() < wanted; ++i)
        if (m_rowOf.emplace(keys[i], size()).second) take.push_back(static_cast<std::int64_t>(i));
    if (take.empty()) return;
    const auto index = torch::tensor(take, torch::kInt64).to(rows.device());
    m_store.slice(0, kept, size()).copy_(rows.index_select(0, index));
}

torch::Tensor EncodingCache::lookup(const torch::Tensor& x, const torch::Tensor& y,
                                    const Encoder& encode) {
    const std::int64_t n = x.size(0);
    const auto keyTensor = keys(x, y);
    const auto* key = keyTensor.data_ptr<std::int64_t>();
    std::vector<std::int64_t> hitAt, hitRow, missAt, missKeys;
    for (std::int64_t i = 0; i < n; ++i) {
        if (const auto it = m_rowOf.find(key[i]); it != m_rowOf.end()) {
            hitAt.push_back(i);
            hitRow.push_back(it->second);
        } else {
            missAt.push_back(i);
            missKeys.push_back(key[i]);
        }
    }
    if (missAt.empty()) {
        // Every row seen before (or none at all: an empty batch before anything was kept).
        if (!m_store.defined()) return encode(x, y);
        return m_store.index_select(0, torch::tensor(hitRow).to(m_store.device()));
    }

    torch::Tensor encoded;
    if (hitAt.empty()) {
        encoded = encode(x, y);
    } else {
        const auto misses = torch::tensor(missAt);
        encoded = encode(x.index_select(0, misses.to(x.device())),
                         y.index_select(0, misses.to(y.device())));
    }
    if (encoded.dim() != 2 || encoded.size(0) != std::ssize(missAt))
        throw std::logic_error("EncodingCache: the encoder returned " +
                               std::to_string(encoded.dim()) + " dimensions for " +
                               std::to_string(missAt.size()) + " rows");
    if (m_store.defined() &&
        (m_store.size(1) != encoded.size(1) || m_store.device() != encoded.device() ||
         m_store.scalar_type() != encoded.scalar_type())) {
        // Another encoder's outputs: what was kept no longer matches; start again.
        clear();
        if (!hitAt.empty()) return lookup(x, y, encode);
    }
    torch::Tensor out;
    if (!hitAt.empty()) {
        out = torch::empty({n, encoded.size(1)}, encoded.options());
        out.index_copy_(0, torch::tensor(hitAt).to(out.device()),
                        m_store.index_select(0, torch::tensor(hitRow).to(out.device())));
        out.index_copy_(0, torch::tensor(missAt).to(out.device()), encoded);
    } else {
        out = encoded;
    }
    keep(encoded, missKeys);
    return out;
}

}  // namespace ll
