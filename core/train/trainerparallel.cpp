// Data-parallel training: how the processes of a run start together (rank 0 prepares the run
// and hands the others its config and state), agree after every step, and report their speed.
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/atomicfile.h"
#include "common/jsonnumber.h"
#include "run/runfolder.h"
#include "train/trainerimpl.h"

namespace ll {

Result<void> Trainer::Impl::joinParallel() {
    if (config.master.empty()) return fail("a data-parallel run needs its master's HOST:PORT");
    auto master = parseParallelAddress(config.master);
    if (!master) return tl::unexpected(master.error());
    auto joined = DataParallel::join(config.worldSize, config.rank, *master,
                                     std::chrono::seconds(config.parallelTimeoutSeconds));
    if (!joined) return tl::unexpected(joined.error());
    parallel = std::move(*joined);
    return {};
}

Result<void> Trainer::Impl::prepareFollower(bool& rankZeroFailed) {
    auto start = parallel->read("start");
    rankZeroFailed = true;
    if (!start) return tl::unexpected(start.error());
    const auto j = parseJson(*start);
    if (!j.is_object()) return fail("rank 0 sent a start message that is not JSON");
    if (j.contains("error"))
        return fail("rank 0 could not start the run: " + j.value("error", std::string()));
    auto theirs = parseRunConfig(j.value("config", std::string()), "rank 0's config");
    if (!theirs) return tl::unexpected(theirs.error());
    rankZeroFailed = false;
    // Rank 0's run, this process's place in it.
    const TrainConfig mine = config;
    config = *theirs;
    config.worldSize = mine.worldSize;
    config.rank = mine.rank;
    config.master = mine.master;
    config.parallelTimeoutSeconds = mine.parallelTimeoutSeconds;
    config.runDir = j.value("run", std::string());
    if (config.worldSize != j.value("world_size", 0))
        return fail("rank 0 trains with " + std::to_string(j.value("world_size", 0)) +
                    " processes, this one was told " + std::to_string(config.worldSize));
    step = j.value("step", std::int64_t{0});
    run = config.runDir;
    return loadDataAndBuildModel();
}

Result<void> Trainer::Impl::startTogether(Result<void> own, bool rankZeroFailed) {
    const int me = rank();
    const int world = worldSize();
    if (me == 0) {
        nlohmann::json start;
        if (own) {
            start = {{"config", runConfigText(config, "running", data.name, step)},
                     {"step", step},
                     {"world_size", world},
                     {"run", run.string()}};
        } else {
            start = {{"error", own.error().message}};
        }
        parallel->publish("start", start.dump());
        if (!own) return own;
    } else if (rankZeroFailed) {
        return own;
    }
    // Every rank says whether it is ready; one that is not leaves its reason in the store.
    if (!own) parallel->publish("error/" + std::to_string(me), own.error().message);
    std::vector<torch::Tensor> failed{torch::zeros({world})};
    failed[0][me] = own ? 0.0 : 1.0;
    parallel->allReduceSum(failed);
    for (int r = 0; r < world; ++r)
        if (failed[0][r].item<double>() > 0) {
            if (r == me) return own;
            auto why = parallel->read("error/" + std::to_string(r));
            return fail("rank " + std::to_string(r) +
                        " could not start: " + (why ? *why : why.error().message));
        }

    // Rank 0's checkpoint (of a fresh run, its first) makes every rank's model the same:
    // weights, buffers and optimiser state.
    std::string bytes;
    if (me == 0) {
        auto read = readFile(runfiles::checkpoint(run, savedStep));
        if (!read) return tl::unexpected(read.error());
        bytes = std::move(*read);
    }
    parallel->broadcast(bytes);
    if (me != 0) {
        if (auto loaded = model->loadBytes(std::move(bytes), "rank 0's checkpoint"); !loaded)
            return loaded;
        // As rank 0 did after its load (the same data gives the same values).
        model->fitToData(data);
        model->setLearningRate(config.learningRate);
        savedStep = step;
        // Noise of its own: the same as rank 0's would make the ranks' batches alike.
        torch::manual_seed(config.seed * 7919u + static_cast<std::uint64_t>(step) +
                           1000003u * static_cast<std::uint64_t>(me));
    }
    return model->setCollectives(parallel.get());
}

Trainer::Impl::Agreement Trainer::Impl::agreeOnStep(bool stopAsked, const LossMap& losses) {
    // One all-reduce: [stop, loss...] in the map's order, the same keys on every rank.
    std::vector<double> values{stopAsked ? 1.0 : 0.0};
    for (const auto& [name, value] : losses) values.push_back(value);
    std::vector<torch::Tensor> sums{torch::tensor(values, torch::kFloat64)};
    parallel->allReduceSum(sums);
    const auto* sum = sums[0].contiguous().data_ptr<double>();
    Agreement agreed{.stop = sum[0] > 0};
    std::size_t i = 1;
    for (const auto& [name, value] : losses) agreed.losses[name] = sum[i++] / worldSize();
    return agreed;
}

nlohmann::json Trainer::Impl::rankRates(double stepsPerSecond, std::int64_t steps) {
    const int world = worldSize();
    const double perStep = 1.0 / static_cast<double>(std::max<std::int64_t>(1, steps));
    const double allReduceMs = parallel->takeCollectiveSeconds() * 1000 * perStep;
    const double allReduceMb = parallel->takeCollectiveBytes() / 1e6 * perStep;
    std::vector<torch::Tensor> rates{torch::zeros({world, 3}, torch::kFloat64)};
    rates[0][rank()][0] = stepsPerSecond;
    rates[0][rank()][1] = allReduceMs;
    rates[0][rank()][2] = allReduceMb;
    parallel->allReduceSum(rates);
    nlohmann::json all = nlohmann::json::array();
    for (int r = 0; r < world; ++r)
        all.push_back({{"rank", r},
                       {"steps_per_s", rates[0][r][0].item<double>()},
                       {"allreduce_ms", rates[0][r][1].item<double>()},
                       {"allreduce_mb", rates[0][r][2].item<double>()}});
    return all;
}

Result<void> Trainer::Impl::checkRanksInStep() {
    if (!parallel) return {};
    const int world = worldSize();
    // Sums in double of every value and of its square, over the model's whole state: equal
    // state gives equal bits, and a drift of one weight changes them.
    double sum = 0, squares = 0;
    {
        torch::NoGradGuard noGrad;
        for (const auto& [name, t] : model->namedState()) {
            const auto d = t.detach().to(torch::kCPU, torch::kFloat64);
            sum += d.sum().item<double>();
            squares += d.square().sum().item<double>();
        }
    }
    std::vector<torch::Tensor> prints{torch::zeros({world, 2}, torch::kFloat64)};
    prints[0][rank()][0] = sum;
    prints[0][rank()][1] = squares;
    parallel->allReduceSum(prints);
    const auto all = prints[0].contiguous();
    const double* p = all.data_ptr<double>();
    for (int r = 1; r < world; ++r)
        if (p[2 * r] != p[0] || p[2 * r + 1] != p[1])
            return fail("rank " + std::to_string(r) + "'s model drifted from rank 0's by step " +
                        std::to_string(step) +
                        " (their weights should stay equal): the run stops at its last "
                        "checkpoint");
    return {};
}

}  // namespace ll
