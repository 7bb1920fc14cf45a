#pragma once

// The statistics a detector's study reports: ROC and precision-recall curves with their areas,
// mean and spread, Student's two-sample t-test with its p-value, and percentile thresholds.
// Plain std maths, torch-free: the window's Classify mode draws these curves as they are.
// Each function matches its scikit-learn or SciPy namesake (tests/study/reference).

#include <vector>

#include "common/error.h"

namespace ll::stats {

/// A ROC curve as sklearn.metrics.roc_curve(drop_intermediate=False) gives it: one point per
/// distinct score, from (0, 0) (threshold +inf) to (1, 1), and the area under it.
struct RocCurve {
    std::vector<double> fpr, tpr;
    std::vector<double> thresholds;  // a row is positive when its score >= the threshold
    double auc = 0;
};

/// A precision-recall curve as sklearn.metrics.precision_recall_curve (1.2) gives it, one
/// point per distinct score, but in order of falling threshold: from (recall 0, precision 1)
/// to the lowest score's point at recall 1. And its average precision (the step-wise area of
/// sklearn.metrics.average_precision_score).
struct PrCurve {
    std::vector<double> precision, recall;
    std::vector<double> thresholds;
    double averagePrecision = 0;
};

/// Student's two-sample t-test with pooled variance (scipy.stats.ttest_ind, equal_var=True):
/// t of a against b, df = na + nb - 2, and the two-sided p-value.
struct TTest {
    double t = 0;
    double df = 0;
    double p = 1;
};

/// Higher scores mean "positive" (anomalous); `positive` marks the rows that are. Both kinds
/// must be present and the scores finite; the error says which is wrong. Ties share a point.
Result<RocCurve> rocCurve(const std::vector<double>& scores, const std::vector<bool>& positive);
Result<PrCurve> prCurve(const std::vector<double>& scores, const std::vector<bool>& positive);

/// The area under the ROC curve: the probability that a random positive scores above a random
/// negative, ties counting one half (sklearn.metrics.roc_auc_score).
Result<double> auroc(const std::vector<double>& scores, const std::vector<bool>& positive);

/// Arithmetic mean; NaN for no values.
double mean(const std::vector<double>& values);
/// Sample standard deviation (n - 1 in the denominator, numpy's ddof=1); 0 for one value.
double sd(const std::vector<double>& values);

/// Two-sided pooled t-test of a against b. Each needs two values at least; two samples that
/// are both constant and equal give t = 0, p = 1, unequal constants give t = +-inf, p = 0.
Result<TTest> studentTTest(const std::vector<double>& a, const std::vector<double>& b);

/// The regularised incomplete beta function I_x(a, b) (scipy.special.betainc), a, b > 0,
/// x in [0, 1]; by Lentz's continued fraction, to about 1e-14.
double incompleteBeta(double a, double b, double x);

/// Student's t cumulative distribution function with df degrees of freedom (df > 0).
double studentTCdf(double t, double df);

/// The q-th percentile (q in [0, 100]) with linear interpolation between order statistics,
/// as numpy.percentile's default; NaN for no values.
double percentile(std::vector<double> values, double q);

}  // namespace ll::stats
