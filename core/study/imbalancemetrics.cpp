#include "study/imbalancemetrics.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "study/stats.h"

namespace ll {

namespace {

Result<void> checkRange(const std::vector<int>& values, int numClasses, const char* what) {
    for (std::size_t i = 0; i < values.size(); ++i)
        if (values[i] < 0 || values[i] >= numClasses)
            return fail(std::string(what) + " " + std::to_string(i) + " is " +
                        std::to_string(values[i]) + ", outside 0.." +
                        std::to_string(numClasses - 1));
    return {};
}

Result<void> checkProbabilities(const std::vector<std::vector<double>>& probabilities,
                                std::size_t samples, int numClasses) {
    if (probabilities.empty()) return {};
    if (probabilities.size() != samples)
        return fail(std::to_string(probabilities.size()) + " rows of probabilities for " +
                    std::to_string(samples) + " samples");
    for (std::size_t i = 0; i < samples; ++i) {
        if (probabilities[i].size() != static_cast<std::size_t>(numClasses))
            return fail("probability row " + std::to_string(i) + " has " +
                        std::to_string(probabilities[i].size()) + " values for " +
                        std::to_string(numClasses) + " classes");
        for (double p : probabilities[i])
            if (!std::isfinite(p))
                return fail("probability row " + std::to_string(i) +
                            " has a value that is not a finite number");
    }
    return {};
}

double ratio(std::int64_t num, std::int64_t den) {
    return den == 0 ? 0.0 : double(num) / double(den);
}

}  // namespace

Result<ImbalanceScores> imbalanceScores(const std::vector<int>& labels,
                                        const std::vector<int>& predictions, int numClasses,
                                        const std::vector<int>& minority,
                                        const std::vector<std::vector<double>>& probabilities) {
    if (numClasses < 1)
        return fail("scores need at least one class (got " + std::to_string(numClasses) + ")");
    if (labels.size() != predictions.size())
        return fail(std::to_string(labels.size()) + " labels but " +
                    std::to_string(predictions.size()) + " predictions");
    if (labels.empty()) return fail("no samples to score");
    if (auto ok = checkRange(labels, numClasses, "label"); !ok) return tl::unexpected(ok.error());
    if (auto ok = checkRange(predictions, numClasses, "prediction"); !ok)
        return tl::unexpected(ok.error());
    if (auto ok = checkRange(minority, numClasses, "minority class"); !ok)
        return tl::unexpected(ok.error());
    if (auto ok = checkProbabilities(probabilities, labels.size(), numClasses); !ok)
        return tl::unexpected(ok.error());

    const auto K = static_cast<std::size_t>(numClasses);
    std::vector<std::int64_t> tp(K, 0), predicted(K, 0);
    ImbalanceScores s;
    s.support.assign(K, 0);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const auto y = static_cast<std::size_t>(labels[i]),
                   p = static_cast<std::size_t>(predictions[i]);
        s.support[y] += 1;
        predicted[p] += 1;
        if (y == p) tp[y] += 1;
    }
    std::int64_t correct = 0;
    double recallSum = 0, f1Sum = 0, logRecallSum = 0;
    int withRows = 0, present = 0;
    for (std::size_t c = 0; c < K; ++c) {
        const double r = ratio(tp[c], s.support[c]), p = ratio(tp[c], predicted[c]);
        s.recall.push_back(r);
        s.precision.push_back(p);
        s.f1.push_back(p + r == 0 ? 0.0 : 2 * p * r / (p + r));
        correct += tp[c];
        if (s.support[c] > 0) {
            recallSum += r;
            ++withRows;
        }
        if (s.support[c] > 0 || predicted[c] > 0) {
            f1Sum += s.f1.back();
            logRecallSum += std::log(r);  // -inf for a recall of 0: the G-mean is 0
            ++present;
        }
    }
    s.accuracy = double(correct) / double(labels.size());
    s.balancedAccuracy = recallSum / withRows;  // some class has true rows: labels is not empty
    s.macroF1 = f1Sum / present;
    s.gMean = std::exp(logRecallSum / present);  // scipy.stats.gmean's exp(mean(log))

    std::vector<int> minor = minority;
    std::sort(minor.begin(), minor.end());
    minor.erase(std::unique(minor.begin(), minor.end()), minor.end());
    double minorRecall = 0;
    int minorWithRows = 0;
    for (int c : minor)
        if (s.support[static_cast<std::size_t>(c)] > 0) {
            minorRecall += s.recall[static_cast<std::size_t>(c)];
            ++minorWithRows;
        }
    if (minorWithRows > 0) s.minorityRecall = minorRecall / minorWithRows;

    if (!minor.empty() && !probabilities.empty()) {
        std::vector<bool> isMinor(K, false);
        for (int c : minor) isMinor[static_cast<std::size_t>(c)] = true;
        std::vector<double> scores;
        std::vector<bool> positive;
        std::size_t positives = 0;
        for (std::size_t i = 0; i < labels.size(); ++i) {
            double sum = 0;  // ascending classes, as numpy sums the columns
            for (int c : minor) sum += probabilities[i][static_cast<std::size_t>(c)];
            scores.push_back(sum);
            positive.push_back(isMinor[static_cast<std::size_t>(labels[i])]);
            positives += positive.back() ? 1 : 0;
        }
        if (positives > 0 && positives < labels.size()) {
            auto auc = stats::auroc(scores, positive);
            if (!auc) return tl::unexpected(auc.error());
            s.minorityAuroc = *auc;
        }
    }
    return s;
}

}  // namespace ll
