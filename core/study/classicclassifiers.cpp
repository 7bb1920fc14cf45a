#include "study/classicclassifiers.h"

#include <cmath>
#include <limits>
#include <numbers>

#include <torch/torch.h>

namespace ll {

using torch::Tensor;

namespace {

constexpr const char* kMethodNames[] = {"nb", "gda", "qda", "logistic"};

Tensor toTensor(const FeatureMatrix& x) {
    // from_blob only reads here: the copy to double owns its memory.
    return torch::from_blob(const_cast<float*>(x.values.data()), {x.rows, x.cols}, torch::kFloat)
        .to(torch::kFloat64);
}

FeatureMatrix toMatrix(const Tensor& t) {
    const Tensor f = t.to(torch::kFloat).contiguous();
    FeatureMatrix m{.rows = f.size(0), .cols = f.size(1)};
    m.values.assign(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
    return m;
}

Result<void> checkMatrix(const FeatureMatrix& x, const std::string& what) {
    if (x.rows < 0 || x.cols < 1 || static_cast<std::int64_t>(x.values.size()) != x.rows * x.cols)
        return fail(what + ": the feature matrix holds " + std::to_string(x.values.size()) +
                    " values, not " + std::to_string(x.rows) + " x " + std::to_string(x.cols));
    for (float v : x.values)
        if (!std::isfinite(v)) return fail(what + ": a feature is not a finite number");
    return {};
}

// Unbiased (n - 1) or biased (n) covariance of the rows of x, centred on their mean.
Tensor covariance(const Tensor& x, bool unbiased) {
    const Tensor c = x - x.mean(0, true);
    const double n = static_cast<double>(x.size(0)) - (unbiased ? 1.0 : 0.0);
    return c.t().mm(c) / n;
}

}  // namespace

struct ClassicClassifier::State {
    ClassicMethod method = ClassicMethod::NaiveBayes;
    int numClasses = 0;
    std::int64_t numFeatures = 0;
    Tensor logPrior;  // K
    // nb
    Tensor theta, var;  // K x F
    // gda and logistic: scores = x W^T + b (logistic with two classes: one row, class 1's)
    Tensor weight, bias;
    // qda: per class, the mean, the Cholesky factor of its covariance and half its log det
    std::vector<Tensor> means, chol;
    std::vector<double> halfLogDet;
};

std::string classicMethodName(ClassicMethod method) {
    return kMethodNames[static_cast<int>(method)];
}

Result<ClassicMethod> parseClassicMethod(const std::string& name) {
    for (int i = 0; i < 4; ++i)
        if (name == kMethodNames[i]) return static_cast<ClassicMethod>(i);
    return fail("unknown classifier \"" + name + "\" (choose nb, gda, qda or logistic)");
}

bool isGenerative(ClassicMethod method) {
    return method != ClassicMethod::Logistic;
}

namespace {

using State = ClassicClassifier::State;

void fitNaiveBayes(State& s, const Tensor& x, const std::vector<Tensor>& rows,
                   const ClassicSettings& settings) {
    // sklearn's GaussianNB: biased per-class variances plus a floor relative to the largest
    // variance of the whole training set.
    const double epsilon =
        settings.varSmoothing * x.var(0, /*unbiased=*/false).max().item<double>();
    std::vector<Tensor> theta, var;
    for (const Tensor& r : rows) {
        theta.push_back(r.mean(0));
        var.push_back(r.var(0, /*unbiased=*/false) + epsilon);
    }
    s.theta = torch::stack(theta);
    s.var = torch::stack(var);
}

Result<void> fitGda(State& s, const std::vector<Tensor>& rows, const ClassicSettings& settings) {
    // sklearn's LDA (solver='lsqr', shrinkage=a): each class's biased covariance is shrunk
    // towards its mean variance, (1 - a) S + a (tr S / p) I, and the classes are pooled by
    // their priors.
    const std::int64_t p = rows.front().size(1);
    const double a = settings.shrinkage;
    Tensor pooled = torch::zeros({p, p}, torch::kFloat64);
    std::vector<Tensor> means;
    for (std::size_t k = 0; k < rows.size(); ++k) {
        const Tensor s2 = covariance(rows[k], false);
        const double mu = s2.trace().item<double>() / static_cast<double>(p);
        const Tensor shrunk = (1 - a) * s2 + a * mu * torch::eye(p, torch::kFloat64);
        pooled += s.logPrior[static_cast<std::int64_t>(k)].exp() * shrunk;
        means.push_back(rows[k].mean(0));
    }
    const Tensor m = torch::stack(means);  // K x F
    // Least squares as sklearn's: the minimum-norm answer when the covariance is singular.
    const Tensor coef = std::get<0>(torch::linalg_lstsq(pooled, m.t(), c10::nullopt, "gelsd")).t();
    if (!torch::isfinite(coef).all().item<bool>())
        return fail("gda: the pooled covariance is singular (use shrinkage > 0)");
    s.weight = coef;
    s.bias = -0.5 * (m * coef).sum(1) + s.logPrior;
    return {};
}

Result<void> fitQda(State& s, const std::vector<Tensor>& rows, const ClassicSettings& settings) {
    // sklearn's QDA with reg_param r: (1 - r) S_k + r I on the unbiased covariance.
    const double r = settings.shrinkage;
    const std::int64_t p = rows.front().size(1);
    for (std::size_t k = 0; k < rows.size(); ++k) {
        const Tensor sigma =
            (1 - r) * covariance(rows[k], true) + r * torch::eye(p, torch::kFloat64);
        auto [l, info] = torch::linalg_cholesky_ex(sigma);
        if (info.item<int>() != 0)
            return fail("qda: class " + std::to_string(k) +
                        "'s covariance is singular (use shrinkage > 0)");
        s.means.push_back(rows[k].mean(0));
        s.halfLogDet.push_back(l.diagonal().log().sum().item<double>());
        s.chol.push_back(l);
    }
    return {};
}

Result<void> fitLogistic(State& s, const Tensor& x, const Tensor& y,
                         const ClassicSettings& settings) {
    // sklearn's objective C sum(log loss) + |W|^2 / 2, divided by C n so that its scale does
    // not depend on the data's size; the intercept is not penalised. Two classes take one
    // weight vector (sklearn's binary model), more take one per class (multinomial).
    const std::int64_t n = x.size(0), p = x.size(1);
    const std::int64_t outputs = s.numClasses == 2 ? 1 : s.numClasses;
    Tensor w = torch::zeros({outputs, p}, torch::kFloat64).requires_grad_(true);
    Tensor b = torch::zeros({outputs}, torch::kFloat64).requires_grad_(true);
    const double penalty = 1.0 / (2.0 * settings.c * static_cast<double>(n));
    const Tensor target = outputs == 1 ? y.to(torch::kFloat64) : y;
    torch::optim::LBFGS optimiser({w, b}, torch::optim::LBFGSOptions(1.0)
                                              .max_iter(settings.maxIterations)
                                              .max_eval(settings.maxIterations * 5 / 4)
                                              .tolerance_grad(settings.tolerance)
                                              .tolerance_change(1e-12)
                                              .history_size(20)
                                              .line_search_fn("strong_wolfe"));
    auto closure = [&] {
        optimiser.zero_grad();
        const Tensor logits = torch::addmm(b, x, w.t());
        const Tensor loss =
            (outputs == 1 ? torch::binary_cross_entropy_with_logits(logits.squeeze(1), target)
                          : torch::cross_entropy_loss(logits, target)) +
            penalty * w.square().sum();
        loss.backward();
        return loss;
    };
    optimiser.step(closure);
    s.weight = w.detach();
    s.bias = b.detach();
    if (!torch::isfinite(s.weight).all().item<bool>())
        return fail("logistic: the fit diverged (standardise the features or lower C)");
    return {};
}

Tensor scoresOf(const State& s, const Tensor& x) {
    const double halfLog2Pi = 0.5 * std::log(2 * std::numbers::pi);
    const auto p = static_cast<double>(s.numFeatures);
    switch (s.method) {
        case ClassicMethod::NaiveBayes: {
            // K x F broadcast against N x 1 x F.
            const Tensor d = x.unsqueeze(1) - s.theta.unsqueeze(0);
            return s.logPrior - (0.5 * s.var.log() + halfLog2Pi).sum(1) -
                   0.5 * (d.square() / s.var).sum(2);
        }
        case ClassicMethod::Gda:
            return torch::addmm(s.bias, x, s.weight.t());
        case ClassicMethod::Qda: {
            std::vector<Tensor> columns;
            for (std::size_t k = 0; k < s.means.size(); ++k) {
                const Tensor z = torch::linalg_solve_triangular(s.chol[k], (x - s.means[k]).t(),
                                                                /*upper=*/false);
                columns.push_back(s.logPrior[static_cast<std::int64_t>(k)] - s.halfLogDet[k] -
                                  p * halfLog2Pi - 0.5 * z.square().sum(0));
            }
            return torch::stack(columns, 1);
        }
        case ClassicMethod::Logistic: {
            const Tensor logits = torch::addmm(s.bias, x, s.weight.t());
            // Two classes: class 0's logit is 0 against class 1's.
            return s.numClasses == 2 ? torch::cat({torch::zeros_like(logits), logits}, 1) : logits;
        }
    }
    return {};
}

}  // namespace

ClassicClassifier::ClassicClassifier(std::shared_ptr<const State> state)
    : m_state(std::move(state)) {}

Result<ClassicClassifier> ClassicClassifier::fit(ClassicMethod method, const FeatureMatrix& x,
                                                 const std::vector<int>& y, int numClasses,
                                                 const ClassicSettings& settings) {
    const std::string name = classicMethodName(method);
    if (auto ok = checkMatrix(x, name); !ok) return tl::unexpected(ok.error());
    if (static_cast<std::int64_t>(y.size()) != x.rows)
        return fail(name + ": " + std::to_string(y.size()) + " labels for " +
                    std::to_string(x.rows) + " rows");
    if (numClasses < 2) return fail(name + ": a classifier needs at least two classes");
    if (!(settings.shrinkage >= 0 && settings.shrinkage <= 1))
        return fail(name + ": shrinkage must lie in [0, 1]");
    if (!(settings.varSmoothing >= 0)) return fail(name + ": var smoothing must be at least 0");
    if (!(settings.c > 0)) return fail(name + ": C must be above 0");
    if (settings.maxIterations < 1) return fail(name + ": iterations must be at least 1");
    std::vector<std::int64_t> counts(numClasses, 0);
    for (int label : y) {
        if (label < 0 || label >= numClasses)
            return fail(name + ": label " + std::to_string(label) + " is outside 0.." +
                        std::to_string(numClasses - 1));
        ++counts[label];
    }
    for (int k = 0; k < numClasses; ++k)
        if (counts[k] < 2)
            return fail(name + ": class " + std::to_string(k) + " has " +
                        std::to_string(counts[k]) + " training rows (at least 2 needed)");

    torch::NoGradGuard noGrad;
    auto state = std::make_shared<State>();
    state->method = method;
    state->numClasses = numClasses;
    state->numFeatures = x.cols;
    const Tensor features = toTensor(x);
    const Tensor labels = torch::tensor(std::vector<std::int64_t>(y.begin(), y.end()));
    state->logPrior = (torch::tensor(counts, torch::kFloat64) / static_cast<double>(x.rows)).log();
    std::vector<Tensor> rows;
    for (int k = 0; k < numClasses; ++k)
        rows.push_back(features.index_select(0, torch::nonzero(labels == k).squeeze(1)));

    Result<void> ok;
    try {
        switch (method) {
            case ClassicMethod::NaiveBayes:
                fitNaiveBayes(*state, features, rows, settings);
                break;
            case ClassicMethod::Gda:
                ok = fitGda(*state, rows, settings);
                break;
            case ClassicMethod::Qda:
                ok = fitQda(*state, rows, settings);
                break;
            case ClassicMethod::Logistic: {
                torch::AutoGradMode grad(true);
                ok = fitLogistic(*state, features, labels, settings);
                break;
            }
        }
    } catch (const std::exception& e) {
        return fail(name + ": " + firstLine(e));
    }
    if (!ok) return tl::unexpected(ok.error());
    return ClassicClassifier(std::move(state));
}

ClassicMethod ClassicClassifier::method() const {
    return m_state->method;
}
int ClassicClassifier::numClasses() const {
    return m_state->numClasses;
}
std::int64_t ClassicClassifier::numFeatures() const {
    return m_state->numFeatures;
}

namespace {

// The scores in double: predict() compares them before they are rounded to float.
Result<Tensor> scoreTensor(const State& s, const FeatureMatrix& x) {
    const std::string name = classicMethodName(s.method);
    if (auto ok = checkMatrix(x, name); !ok) return tl::unexpected(ok.error());
    if (x.cols != s.numFeatures)
        return fail(name + ": rows of " + std::to_string(x.cols) +
                    " features for a classifier of " + std::to_string(s.numFeatures));
    torch::NoGradGuard noGrad;
    // In blocks: naive Bayes's broadcast holds N x K x F numbers.
    constexpr std::int64_t kBlock = 2048;
    const Tensor all = toTensor(x);
    std::vector<Tensor> parts;
    for (std::int64_t i = 0; i < x.rows; i += kBlock)
        parts.push_back(scoresOf(s, all.slice(0, i, std::min(x.rows, i + kBlock))));
    if (parts.empty()) return torch::zeros({0, s.numClasses}, torch::kFloat64);
    return torch::cat(parts);
}

}  // namespace

Result<FeatureMatrix> ClassicClassifier::scores(const FeatureMatrix& x) const {
    auto s = scoreTensor(*m_state, x);
    if (!s) return tl::unexpected(s.error());
    return toMatrix(*s);
}

Result<std::vector<int>> ClassicClassifier::predict(const FeatureMatrix& x) const {
    auto s = scoreTensor(*m_state, x);
    if (!s) return tl::unexpected(s.error());
    const Tensor best = s->argmax(1).contiguous();
    return std::vector<int>(best.data_ptr<std::int64_t>(),
                            best.data_ptr<std::int64_t>() + best.numel());
}

Result<double> ClassicClassifier::accuracy(const FeatureMatrix& x,
                                           const std::vector<int>& y) const {
    if (static_cast<std::int64_t>(y.size()) != x.rows)
        return fail("accuracy: " + std::to_string(y.size()) + " labels for " +
                    std::to_string(x.rows) + " rows");
    if (x.rows == 0) return fail("accuracy: no rows to score");
    auto predicted = predict(x);
    if (!predicted) return tl::unexpected(predicted.error());
    std::int64_t right = 0;
    for (std::size_t i = 0; i < y.size(); ++i) right += (*predicted)[i] == y[i];
    return static_cast<double>(right) / static_cast<double>(y.size());
}

}  // namespace ll
