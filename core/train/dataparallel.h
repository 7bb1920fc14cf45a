#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/error.h"
#include "models/collectives.h"

namespace ll {

/// Where a data-parallel run meets: rank 0 serves the rendezvous at host:port.
struct ParallelAddress {
    std::string host;
    int port = 0;
};
/// Reads "HOST:PORT" (a name, an IPv4 address, or [IPv6]:PORT).
Result<ParallelAddress> parseParallelAddress(const std::string& text);

/// One process of a data-parallel run, on PyTorch's own distributed engine: c10d's TCPStore
/// for the rendezvous and ProcessGroupGloo for the collectives (LibTorch has no C++
/// DistributedDataParallel, so the gradient all-reduce is ours: see FusedAdam). Every rank
/// calls the collectives in the same order. A peer that stops or cannot be reached makes the
/// next collective throw std::runtime_error naming the peer; one that never comes makes join()
/// fail after the timeout.
class DataParallel final : public Collectives {
public:
    /// Joins the run of `worldSize` processes as `rank`. Rank 0 serves the rendezvous and waits
    /// for the others; they connect to it. `timeout` bounds the rendezvous and every collective.
    static Result<std::unique_ptr<DataParallel>> join(int worldSize, int rank,
                                                      const ParallelAddress& master,
                                                      std::chrono::seconds timeout);
    ~DataParallel() override;
    DataParallel(const DataParallel&) = delete;
    DataParallel& operator=(const DataParallel&) = delete;

    int rank() const override;
    int worldSize() const override;
    std::chrono::seconds timeout() const;
    /// Sums in buckets of at most 16 MiB (one all-reduce each, all in flight at once).
    void allReduceSum(std::vector<torch::Tensor>& tensors) override;
    /// Rank 0's bytes, on every rank.
    void broadcast(std::string& bytes);

    /// The rendezvous store: a value for every rank to read (read() waits for it up to the
    /// timeout, then fails saying which key never came).
    void publish(const std::string& key, const std::string& value);
    Result<std::string> read(const std::string& key);

    /// Seconds this rank spent in all-reduces since the last call (waiting included), and
    /// the bytes it summed in them.
    double takeCollectiveSeconds();
    double takeCollectiveBytes();

private:
    struct Impl;
    explicit DataParallel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace ll
