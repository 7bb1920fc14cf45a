#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "models/model.h"

namespace ll {

struct Dataset;

/// How often a classifier puts class-conditional samples in the class they were asked for.
struct Agreement {
    double agreement = 0;  // share of all samples in their conditioned class
    std::int64_t count = 0;
    std::vector<double> perClass;         // agreement for each conditioned class
    std::vector<std::int64_t> predicted;  // how many samples the classifier put in each class
};

/// Called with the fraction done; returning false cancels.
using ProgressFn = std::function<bool(double)>;

/// Samples `count` samples (classes cycled unless `request.labels` says otherwise; the
/// request's guidance and other settings apply) in batches with seeds request.seed,
/// request.seed + 1, ..., and classifies them.
Result<Agreement> classifierAgreement(GenerativeModel& generator, GenerativeModel& classifier,
                                      SampleRequest request, std::int64_t count,
                                      const ProgressFn& progress = {});

/// A classifier's accuracy on a dataset.
struct Accuracy {
    double accuracy = 0;
    std::int64_t count = 0;
    std::vector<double> perClass;
};
Result<Accuracy> classifierAccuracy(GenerativeModel& classifier, const Dataset& data);

/// How a score was measured, saved beside it.
struct AgreementProtocol {
    std::string classifierRun;
    std::int64_t classifierStep = 0;
    std::int64_t step = 0;  // the generator's checkpoint
    SampleRequest request;
};

/// Writes <run>/eval/agreement-step-NNNNNN[-gW].json (atomically) and returns its path.
Result<std::filesystem::path> saveAgreement(const std::filesystem::path& run,
                                            const Agreement& result,
                                            const AgreementProtocol& protocol);

}  // namespace ll
