#include "study/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace ll::stats {

namespace {

// Scores and labels checked, and the rows in order of falling score: what both curves walk.
struct Ranked {
    std::vector<std::size_t> order;
    std::size_t positives = 0, negatives = 0;
};

Result<Ranked> rank(const std::vector<double>& scores, const std::vector<bool>& positive) {
    if (scores.size() != positive.size())
        return fail(std::to_string(scores.size()) + " scores but " +
                    std::to_string(positive.size()) + " labels");
    Ranked r;
    for (std::size_t i = 0; i < scores.size(); ++i) {
        if (!std::isfinite(scores[i]))
            return fail("score " + std::to_string(i) + " is not a finite number");
        (positive[i] ? r.positives : r.negatives) += 1;
    }
    if (r.positives == 0 || r.negatives == 0)
        return fail("a curve needs positive and negative rows (got " + std::to_string(r.positives) +
                    " positive, " + std::to_string(r.negatives) + " negative)");
    r.order.resize(scores.size());
    std::iota(r.order.begin(), r.order.end(), std::size_t{0});
    std::stable_sort(r.order.begin(), r.order.end(),
                     [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
    return r;
}

// Walks the distinct scores from the highest down, calling step(threshold, tp, fp) after each
// group of tied rows: every row scoring >= threshold counts as positive.
template <class Step>
void walk(const std::vector<double>& scores, const std::vector<bool>& positive, const Ranked& r,
          Step step) {
    std::size_t tp = 0, fp = 0;
    for (std::size_t k = 0; k < r.order.size(); ++k) {
        const auto i = r.order[k];
        (positive[i] ? tp : fp) += 1;
        if (k + 1 == r.order.size() || scores[r.order[k + 1]] != scores[i]) step(scores[i], tp, fp);
    }
}

// The continued fraction of the incomplete beta function (Numerical Recipes' betacf, modified
// Lentz), convergent for x < (a + 1) / (a + b + 2).
double betaFraction(double a, double b, double x) {
    constexpr double kTiny = 1e-300, kEps = 1e-16;
    const double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (std::abs(d) < kTiny) d = kTiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 10000; ++m) {
        const double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (std::abs(d) < kTiny) d = kTiny;
        c = 1 + aa / c;
        if (std::abs(c) < kTiny) c = kTiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (std::abs(d) < kTiny) d = kTiny;
        c = 1 + aa / c;
        if (std::abs(c) < kTiny) c = kTiny;
        d = 1 / d;
        const double del = d * c;
        h *= del;
        if (std::abs(del - 1) < kEps) break;
    }
    return h;
}

}  // namespace

Result<RocCurve> rocCurve(const std::vector<double>& scores, const std::vector<bool>& positive) {
    auto r = rank(scores, positive);
    if (!r) return tl::unexpected(r.error());
    RocCurve c;
    c.fpr.push_back(0);
    c.tpr.push_back(0);
    c.thresholds.push_back(std::numeric_limits<double>::infinity());
    const double p = double(r->positives), n = double(r->negatives);
    walk(scores, positive, *r, [&](double threshold, std::size_t tp, std::size_t fp) {
        c.fpr.push_back(double(fp) / n);
        c.tpr.push_back(double(tp) / p);
        c.thresholds.push_back(threshold);
    });
    // Trapezoids: a group of tied scores is a diagonal step, which counts ties as one half.
    for (std::size_t i = 1; i < c.fpr.size(); ++i)
        c.auc += (c.fpr[i] - c.fpr[i - 1]) * (c.tpr[i] + c.tpr[i - 1]) / 2;
    return c;
}

Result<PrCurve> prCurve(const std::vector<double>& scores, const std::vector<bool>& positive) {
    auto r = rank(scores, positive);
    if (!r) return tl::unexpected(r.error());
    PrCurve c;
    c.precision.push_back(1);
    c.recall.push_back(0);
    c.thresholds.push_back(std::numeric_limits<double>::infinity());
    const double p = double(r->positives);
    walk(scores, positive, *r, [&](double threshold, std::size_t tp, std::size_t fp) {
        const double recall = double(tp) / p, precision = double(tp) / double(tp + fp);
        c.averagePrecision += (recall - c.recall.back()) * precision;
        c.precision.push_back(precision);
        c.recall.push_back(recall);
        c.thresholds.push_back(threshold);
    });
    return c;
}

Result<double> auroc(const std::vector<double>& scores, const std::vector<bool>& positive) {
    auto c = rocCurve(scores, positive);
    if (!c) return tl::unexpected(c.error());
    return c->auc;
}

double mean(const std::vector<double>& values) {
    if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
    return std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
}

double sd(const std::vector<double>& values) {
    if (values.size() < 2) return values.empty() ? std::numeric_limits<double>::quiet_NaN() : 0;
    const double m = mean(values);
    double ss = 0;
    for (double v : values) ss += (v - m) * (v - m);
    return std::sqrt(ss / double(values.size() - 1));
}

double incompleteBeta(double a, double b, double x) {
    if (!(a > 0 && b > 0) || !(x >= 0 && x <= 1)) return std::numeric_limits<double>::quiet_NaN();
    if (x == 0 || x == 1) return x;
    const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                  a * std::log(x) + b * std::log1p(-x));
    if (x < (a + 1) / (a + b + 2)) return front * betaFraction(a, b, x) / a;
    return 1 - front * betaFraction(b, a, 1 - x) / b;
}

double studentTCdf(double t, double df) {
    if (std::isinf(t)) return t > 0 ? 1 : 0;
    // The tail beyond |t| is I_{df / (df + t^2)}(df / 2, 1 / 2) / 2.
    const double tail = 0.5 * incompleteBeta(df / 2, 0.5, df / (df + t * t));
    return t > 0 ? 1 - tail : tail;
}

Result<TTest> studentTTest(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() < 2 || b.size() < 2)
        return fail("a t-test needs two values in each sample at least (got " +
                    std::to_string(a.size()) + " and " + std::to_string(b.size()) + ")");
    for (const auto* v : {&a, &b})
        for (double x : *v)
            if (!std::isfinite(x)) return fail("a t-test of values that are not finite");
    const double na = double(a.size()), nb = double(b.size());
    const double va = sd(a) * sd(a), vb = sd(b) * sd(b);
    TTest t;
    t.df = na + nb - 2;
    const double pooled = ((na - 1) * va + (nb - 1) * vb) / t.df;
    const double diff = mean(a) - mean(b);
    const double se = std::sqrt(pooled * (1 / na + 1 / nb));
    if (se == 0) {
        t.t = diff == 0 ? 0 : std::copysign(std::numeric_limits<double>::infinity(), diff);
        t.p = diff == 0 ? 1 : 0;
        return t;
    }
    t.t = diff / se;
    t.p = incompleteBeta(t.df / 2, 0.5, t.df / (t.df + t.t * t.t));
    return t;
}

double percentile(std::vector<double> values, double q) {
    if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
    std::sort(values.begin(), values.end());
    const double pos = std::clamp(q, 0.0, 100.0) / 100 * double(values.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const auto hi = std::min(lo + 1, values.size() - 1);
    return values[lo] + (pos - double(lo)) * (values[hi] - values[lo]);
}

}  // namespace ll::stats
