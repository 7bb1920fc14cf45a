#include "train/dataparallel.h"

// ProcessGroupGloo's declarations are behind this switch; LibTorch's own build had it on.
// Without Gloo's headers (LATENTLAB_WITH_GLOO=OFF, core/CMakeLists.txt) join() refuses.
#ifdef LATENTLAB_HAVE_GLOO
#define USE_C10D_GLOO 1
#endif

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <torch/torch.h>
#ifdef LATENTLAB_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace ll {

namespace {

std::optional<Error> checkWorld(int worldSize, int rank) {
    if (worldSize < 1 || worldSize > 1024)
        return Error{"the world size must lie in 1..1024, got " + std::to_string(worldSize)};
    if (rank < 0 || rank >= worldSize)
        return Error{"the rank must lie in 0.." + std::to_string(worldSize - 1) + ", got " +
                     std::to_string(rank)};
    return std::nullopt;
}

#ifdef LATENTLAB_HAVE_GLOO

using Clock = std::chrono::steady_clock;

// What Gloo and the store say, without their source locations ("[./gloo/...cc:598] ").
std::string plain(const std::exception& e) {
    std::string what = firstLine(e);
    if (what.starts_with("[")) {
        if (const auto end = what.find("] "); end != std::string::npos) what.erase(0, end + 2);
    }
    return what;
}

bool isLoopback(const std::string& host) {
    return host == "localhost" || host.starts_with("127.") || host == "::1";
}

// The address this machine reaches `master` from (what its peers will connect to): the source
// address the kernel picks for a datagram socket connected there. Nothing is sent.
Result<std::string> localAddressTowards(const ParallelAddress& master) {
    if (isLoopback(master.host)) return std::string("127.0.0.1");
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    if (const int rc =
            ::getaddrinfo(master.host.c_str(), std::to_string(master.port).c_str(), &hints, &found);
        rc != 0)
        return fail("cannot resolve " + master.host + " (" + ::gai_strerror(rc) + ")");
    std::string address;
    for (addrinfo* a = found; a && address.empty(); a = a->ai_next) {
        const int s = ::socket(a->ai_family, SOCK_DGRAM, 0);
        if (s < 0) continue;
        sockaddr_storage local{};
        socklen_t length = sizeof local;
        char text[INET6_ADDRSTRLEN] = {};
        if (::connect(s, a->ai_addr, a->ai_addrlen) == 0 &&
            ::getsockname(s, reinterpret_cast<sockaddr*>(&local), &length) == 0) {
            const void* raw =
                local.ss_family == AF_INET
                    ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&local)->sin_addr)
                    : &reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr;
            if (::inet_ntop(local.ss_family, raw, text, sizeof text)) address = text;
        }
        ::close(s);
    }
    ::freeaddrinfo(found);
    if (address.empty()) return fail("no route from this machine to " + master.host);
    return address;
}

constexpr std::int64_t kBucketBytes = 16 << 20;

#endif  // LATENTLAB_HAVE_GLOO

}  // namespace

Result<ParallelAddress> parseParallelAddress(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
        return fail("the master address must be HOST:PORT, got '" + text + "'");
    std::string host = text.substr(0, colon);
    if (host.starts_with("[") && host.ends_with("]")) host = host.substr(1, host.size() - 2);
    int port = 0;
    for (char c : text.substr(colon + 1)) {
        if (c < '0' || c > '9' || port > 65535) {
            port = -1;
            break;
        }
        port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535)
        return fail("the master port must lie in 1..65535, got '" + text.substr(colon + 1) + "'");
    return ParallelAddress{std::move(host), port};
}

#ifdef LATENTLAB_HAVE_GLOO

struct DataParallel::Impl {
    int rank = 0;
    int world = 1;
    std::chrono::seconds timeout{60};
    c10::intrusive_ptr<c10d::TCPStore> store;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
    double collectiveSeconds = 0;
    double collectiveBytes = 0;

    // A collective that failed: which rank lost whom, in words.
    [[noreturn]] void lost(const std::exception& e) const {
        throw std::runtime_error("rank " + std::to_string(rank) + " of " + std::to_string(world) +
                                 " lost its peers (" + plain(e) +
                                 "): another process of the run stopped or cannot be reached");
    }
    void run(const c10::intrusive_ptr<c10d::Work>& work) const {
        try {
            work->wait(timeout);
        } catch (const std::exception& e) {
            lost(e);
        }
    }
};

DataParallel::DataParallel(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
DataParallel::~DataParallel() = default;

Result<std::unique_ptr<DataParallel>> DataParallel::join(int worldSize, int rank,
                                                         const ParallelAddress& master,
                                                         std::chrono::seconds timeout) {
    if (auto bad = checkWorld(worldSize, rank)) return tl::unexpected(*bad);
    auto impl = std::make_unique<Impl>();
    impl->rank = rank;
    impl->world = worldSize;
    impl->timeout = timeout;
    const std::string where = master.host + ":" + std::to_string(master.port);
    const std::string seconds = std::to_string(timeout.count()) + " s";
    try {
        c10d::TCPStoreOptions options;
        options.port = static_cast<std::uint16_t>(master.port);
        options.isServer = rank == 0;
        options.numWorkers = static_cast<std::size_t>(worldSize);
        options.waitWorkers = true;
        options.timeout = timeout;
        impl->store = c10::make_intrusive<c10d::TCPStore>(master.host, options);
    } catch (const std::exception& e) {
        if (rank == 0)
            return fail("rank 0 could not gather the run at " + where + " (" + plain(e) +
                        "): the other " + std::to_string(worldSize - 1) +
                        " process(es) did not all join within " + seconds);
        return fail("rank " + std::to_string(rank) + " found no rank 0 at " + where + " within " +
                    seconds + " (" + plain(e) + "): start rank 0 there, or check the address");
    }
    auto local = localAddressTowards(master);
    if (!local) return tl::unexpected(local.error());
    try {
        auto options = c10d::ProcessGroupGloo::Options::create(timeout);
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(*local));
        options->threads = 2;
        impl->group =
            c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, rank, worldSize, options);
    } catch (const std::exception& e) {
        if (rank == 0)
            return fail("rank 0 could not gather the run at " + where + " (" + plain(e) +
                        "): the other " + std::to_string(worldSize - 1) +
                        " process(es) did not all join within " + seconds);
        return fail("rank " + std::to_string(rank) + " could not connect to its peers from " +
                    *local + " within " + seconds + " (" + plain(e) + ")");
    }
    return std::unique_ptr<DataParallel>(new DataParallel(std::move(impl)));
}

int DataParallel::rank() const {
    return m_impl->rank;
}

int DataParallel::worldSize() const {
    return m_impl->world;
}

std::chrono::seconds DataParallel::timeout() const {
    return m_impl->timeout;
}

void DataParallel::allReduceSum(std::vector<torch::Tensor>& tensors) {
    const auto start = Clock::now();
    torch::NoGradGuard noGrad;
    // Consecutive tensors of one type share a flat bucket; every bucket is in flight before
    // the first is waited for.
    struct Bucket {
        std::size_t first, last;  // tensors [first, last)
        std::vector<torch::Tensor> flat;
        c10::intrusive_ptr<c10d::Work> work;
    };
    std::vector<Bucket> buckets;
    for (std::size_t i = 0; i < tensors.size();) {
        std::size_t j = i;
        std::int64_t bytes = 0;
        std::vector<torch::Tensor> pieces;
        while (j < tensors.size() && tensors[j].scalar_type() == tensors[i].scalar_type() &&
               (j == i || bytes + tensors[j].nbytes() <= kBucketBytes)) {
            bytes += static_cast<std::int64_t>(tensors[j].nbytes());
            m_impl->collectiveBytes += static_cast<double>(tensors[j].nbytes());
            pieces.push_back(tensors[j].reshape(-1));
            ++j;
        }
        Bucket b{
            i, j, {pieces.size() == 1 ? pieces[0].contiguous().clone() : torch::cat(pieces)}, {}};
        try {
            b.work = m_impl->group->allreduce(b.flat);
        } catch (const std::exception& e) {
            m_impl->lost(e);
        }
        buckets.push_back(std::move(b));
        i = j;
    }
    for (auto& b : buckets) {
        m_impl->run(b.work);
        std::int64_t offset = 0;
        for (std::size_t k = b.first; k < b.last; ++k) {
            const auto n = tensors[k].numel();
            tensors[k] = b.flat[0].slice(0, offset, offset + n).view(tensors[k].sizes());
            offset += n;
        }
    }
    m_impl->collectiveSeconds += std::chrono::duration<double>(Clock::now() - start).count();
}

void DataParallel::broadcast(std::string& bytes) {
    std::vector<torch::Tensor> size{torch::tensor({static_cast<std::int64_t>(bytes.size())})};
    m_impl->run(m_impl->group->broadcast(size));
    const auto n = size[0].item<std::int64_t>();
    std::vector<torch::Tensor> data{torch::empty({n}, torch::kUInt8)};
    if (m_impl->rank == 0) std::memcpy(data[0].data_ptr(), bytes.data(), bytes.size());
    if (n > 0) m_impl->run(m_impl->group->broadcast(data));
    bytes.assign(static_cast<const char*>(data[0].data_ptr()), static_cast<std::size_t>(n));
}

void DataParallel::publish(const std::string& key, const std::string& value) {
    try {
        m_impl->store->set("latentlab/" + key,
                           std::vector<std::uint8_t>(value.begin(), value.end()));
    } catch (const std::exception& e) {
        m_impl->lost(e);
    }
}

Result<std::string> DataParallel::read(const std::string& key) {
    try {
        const auto value = m_impl->store->get("latentlab/" + key);
        return std::string(value.begin(), value.end());
    } catch (const std::exception& e) {
        return fail("rank " + std::to_string(m_impl->rank) + " waited " +
                    std::to_string(m_impl->timeout.count()) + " s for the run's " + key +
                    " from rank 0 (" + plain(e) + ")");
    }
}

double DataParallel::takeCollectiveBytes() {
    return std::exchange(m_impl->collectiveBytes, 0.0);
}

double DataParallel::takeCollectiveSeconds() {
    return std::exchange(m_impl->collectiveSeconds, 0.0);
}

#else  // no Gloo in this build: join() refuses, so no DataParallel is ever made

struct DataParallel::Impl {};

DataParallel::DataParallel(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
DataParallel::~DataParallel() = default;

Result<std::unique_ptr<DataParallel>> DataParallel::join(int worldSize, int rank,
                                                         const ParallelAddress&,
                                                         std::chrono::seconds) {
    if (auto bad = checkWorld(worldSize, rank)) return tl::unexpected(*bad);
    return fail(
        "this LatentLab was built without Gloo (LATENTLAB_WITH_GLOO=OFF: its LibTorch came "
        "without Gloo's headers), so it cannot train data-parallel; build it with libgloo-dev "
        "installed");
}

[[noreturn]] static void unreachable() {
    throw std::logic_error("DataParallel: no instance exists without Gloo");
}
int DataParallel::rank() const {
    unreachable();
}
int DataParallel::worldSize() const {
    unreachable();
}
std::chrono::seconds DataParallel::timeout() const {
    unreachable();
}
void DataParallel::allReduceSum(std::vector<torch::Tensor>&) {
    unreachable();
}
void DataParallel::broadcast(std::string&) {
    unreachable();
}
void DataParallel::publish(const std::string&, const std::string&) {
    unreachable();
}
Result<std::string> DataParallel::read(const std::string&) {
    unreachable();
}
double DataParallel::takeCollectiveBytes() {
    unreachable();
}
double DataParallel::takeCollectiveSeconds() {
    unreachable();
}

#endif  // LATENTLAB_HAVE_GLOO

}  // namespace ll
