#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>

#include <torch/types.h>

namespace ll {

/// A frozen encoder's outputs, kept by the content of the image and its label. latent-ddpm's
/// denoiser trains on the posterior means of a VAE that no longer changes, so an image met in
/// the second epoch has the same mean as in the first: looking it up instead of encoding it
/// again saves the encoder's forward pass, about a quarter of latent-ddpm-cpu's step.
///
/// A row's key is a 64-bit hash of its float bits and its label (wrapping integer products
/// with fixed odd weights), so the cache needs no dataset indices: it works for any batch a
/// trainer hands in, augmented or not (an augmented image is simply another key). Two
/// different rows share a key with a probability of about 2^-64 per pair. Rows beyond
/// `maxBytes` of means are encoded every time rather than kept.
///
/// Whoever owns it must clear() it whenever the encoder's weights change (a checkpoint load).
class EncodingCache {
public:
    using Encoder = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& y)>;

    explicit EncodingCache(std::int64_t maxBytes = std::int64_t{256} << 20);

    /// The encoder's output (N x D) for the rows of x (N x ...) with labels y (N): rows met
    /// before from the cache; the others through one call of `encode` on just those rows, in
    /// batch order, which are then kept. The result is on the device `encode` returns.
    torch::Tensor lookup(const torch::Tensor& x, const torch::Tensor& y, const Encoder& encode);

    void clear();
    /// Rows kept.
    std::int64_t size() const { return std::ssize(m_rowOf); }

private:
    torch::Tensor keys(const torch::Tensor& x, const torch::Tensor& y);
    void keep(const torch::Tensor& rows, const std::vector<std::int64_t>& keys);

    std::int64_t m_maxBytes;
    torch::Tensor m_weights;  // int64, one odd weight per value of a row
    torch::Tensor m_store;    // capacity x D, the first size() rows in use
    std::unordered_map<std::int64_t, std::int64_t> m_rowOf;  // key -> its row of m_store
};

}  // namespace ll
