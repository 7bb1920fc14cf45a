#pragma once

// How a classifier trained on imbalanced data does on each class: the scores the imbalance
// lab reports, each meaning what its scikit-learn (1.2) or imbalanced-learn (0.10) namesake
// means, checked on fixtures (tests/study/reference/imblearn_reference.py). Where a class is
// missing from the test labels, the libraries differ, and so do we, as they do:
//   balanced accuracy  the mean recall over the classes with true rows (sklearn drops a
//                      predicted class without true rows, with a warning)
//   macro F1           the mean F1 over the classes that are true or predicted (sklearn's
//                      labels=None); one predicted but never true counts as F1 = 0
//   G-mean             the geometric mean of the recalls over the classes that are true or
//                      predicted (imblearn's average="multiclass", correction 0): one predicted
//                      but never true has recall 0, so the G-mean is 0, as is any class whose
//                      recall is 0
// A class neither true nor predicted counts in none of the averages. Torch-free: the window
// and the CLI hold these values.

#include <cstdint>
#include <limits>
#include <vector>

#include "common/error.h"

namespace ll {

/// Scores of predictions against true labels, per class and averaged.
struct ImbalanceScores {
    /// Per class, 0 where undefined (no true rows, no predicted rows), as sklearn's
    /// precision_recall_fscore_support(labels=range(K), zero_division=0).
    std::vector<double> recall, precision, f1;
    std::vector<std::int64_t> support;  ///< true rows per class
    double accuracy = 0;
    double balancedAccuracy = 0;  ///< sklearn balanced_accuracy_score: mean recall over classes
                                  ///< with true rows
    double macroF1 = 0;           ///< sklearn f1_score(average="macro", zero_division=0)
    double gMean = 0;  ///< imblearn geometric_mean_score(average="multiclass"), correction 0
    /// Mean recall over the `minority` classes that have true rows; NaN when none was given or
    /// none has true rows.
    double minorityRecall = std::numeric_limits<double>::quiet_NaN();
    /// roc_auc_score(y_true in minority, sum of the minority columns of probabilities); NaN
    /// without probabilities or minority classes, or when the labels are all minority or none.
    double minorityAuroc = std::numeric_limits<double>::quiet_NaN();
};

/// labels and predictions in [0, numClasses); minority: classes in [0, numClasses) (order and
/// repeats do not matter); probabilities: empty, or one row per sample of numClasses finite
/// values (any scores whose sum over the minority classes ranks minority-ness). Errors name the
/// fault: lengths that differ, a label, prediction or minority class out of range, no samples,
/// a probability row of another width or not finite.
Result<ImbalanceScores> imbalanceScores(const std::vector<int>& labels,
                                        const std::vector<int>& predictions, int numClasses,
                                        const std::vector<int>& minority = {},
                                        const std::vector<std::vector<double>>& probabilities = {});

}  // namespace ll
