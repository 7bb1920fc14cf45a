#pragma once

// The classic classifiers of Ng and Jordan's "On Discriminative vs. Generative Classifiers"
// (2001): Gaussian naive Bayes, Gaussian discriminant analysis with a shared (LDA) or a
// per-class (QDA) covariance, both shrunk, and multinomial logistic regression with an L2
// penalty. Each fits in closed form (NB, GDA) or with L-BFGS (logistic) in double precision,
// and each setting means what scikit-learn's does, so that the two agree on the same features
// (tests/study/reference/sklearn_reference.py):
//   nb        GaussianNB(var_smoothing=varSmoothing)
//   gda       LinearDiscriminantAnalysis(solver='lsqr', shrinkage=shrinkage)
//   qda       QuadraticDiscriminantAnalysis(reg_param=shrinkage); ours keeps every direction
//             of the covariance, which is sklearn's when each class has more rows than
//             features (sklearn drops the directions a small class does not span)
//   logistic  LogisticRegression(C=c, penalty='l2', solver='lbfgs'): multinomial for three
//             or more classes, one weight vector for two; the intercept is not penalised
// Priors are the training classes' frequencies. Torch-free: the window holds these types.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace ll {

/// Rows of features, row-major float32: a plain value the window and tests can build.
struct FeatureMatrix {
    std::int64_t rows = 0, cols = 0;
    std::vector<float> values;  // rows * cols

    float at(std::int64_t row, std::int64_t col) const { return values[row * cols + col]; }
};

enum class ClassicMethod { NaiveBayes, Gda, Qda, Logistic };

/// "nb", "gda", "qda", "logistic"; parseClassicMethod refuses anything else, naming them.
std::string classicMethodName(ClassicMethod method);
Result<ClassicMethod> parseClassicMethod(const std::string& name);
/// Whether the method models p(x | y) (nb, gda, qda) rather than p(y | x) (logistic).
bool isGenerative(ClassicMethod method);

struct ClassicSettings {
    /// nb: a variance floor of varSmoothing x the largest feature variance (sklearn's).
    double varSmoothing = 1e-9;
    /// gda: each class's covariance S_k is pulled towards its mean variance, (1 - shrinkage)
    /// S_k + shrinkage (tr S_k / p) I, before the classes are pooled by their priors
    /// (sklearn's LDA shrinkage); qda: each class's covariance is (1 - shrinkage) S_k +
    /// shrinkage I (sklearn's reg_param).
    double shrinkage = 0.1;
    /// logistic: the inverse L2 strength, sklearn's C: minimises C x the summed log loss plus
    /// half the squared weights.
    double c = 1.0;
    int maxIterations = 500;  // logistic: L-BFGS iterations
    double tolerance = 1e-7;  // logistic: stop when the largest gradient entry is below
};

/// A fitted classifier. Copies share the fitted parameters (immutable).
class ClassicClassifier {
public:
    /// Fits `method` on x (N x F) with labels y in [0, numClasses). Every class needs at
    /// least two rows; a bad shape, a label out of range or a non-finite feature is an error.
    static Result<ClassicClassifier> fit(ClassicMethod method, const FeatureMatrix& x,
                                         const std::vector<int>& y, int numClasses,
                                         const ClassicSettings& settings = {});

    ClassicMethod method() const;
    int numClasses() const;
    std::int64_t numFeatures() const;

    /// Per row and class, the score the decision takes the largest of: the joint
    /// log-likelihood log p(x, y) for nb and qda (for gda without the quadratic term that
    /// every class shares), the logit for logistic. N x K.
    Result<FeatureMatrix> scores(const FeatureMatrix& x) const;
    /// The class of each row (the first of equal scores).
    Result<std::vector<int>> predict(const FeatureMatrix& x) const;
    /// The fraction of rows whose predicted class is y's.
    Result<double> accuracy(const FeatureMatrix& x, const std::vector<int>& y) const;

    struct State;  // torch tensors, in the .cpp

private:
    explicit ClassicClassifier(std::shared_ptr<const State> state);
    std::shared_ptr<const State> m_state;
};

}  // namespace ll
