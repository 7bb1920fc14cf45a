#!/usr/bin/python3
"""Writes the fixtures that check the imbalance lab's resampling (core/study/resample.h) and
metrics (core/study/imbalancemetrics.h) against imbalanced-learn and scikit-learn.

Run with Debian's python3 (numpy, scikit-learn 1.2, imbalanced-learn 0.10):
    /usr/bin/python3 tests/study/reference/imblearn_reference.py
It writes, in tests/study/fixtures/:
  imblearn_sampling.json  labels with the class counts RandomUnderSampler, RandomOverSampler and
                          SMOTE leave (sampling_strategy "auto" and a dict), and, per SMOTE set,
                          features (rounded to 4 decimals) with each row's distance to its k-th
                          nearest same-class row (sklearn NearestNeighbors, the row itself
                          excluded): the test checks that every parent pair is that close.
  imblearn_metrics.json   fixed labels, predictions and probabilities with sklearn's recall,
                          precision, F1 (per class, labels=range(K), zero_division=0),
                          balanced_accuracy_score, f1_score(average="macro", zero_division=0),
                          imblearn's geometric_mean_score(average="multiclass") and
                          roc_auc_score of the minority classes against the rest.
The C++ side's target vector lists every class; imblearn's dict names only the classes it
changes, so each dict case carries both.
"""
import json
import os
import warnings

import imblearn
import numpy as np
import sklearn
from imblearn.metrics import geometric_mean_score
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler
from sklearn import metrics
from sklearn.datasets import load_wine, make_classification
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
SEED = 11


def counts(y, k):
    return [int(v) for v in np.bincount(y, minlength=k)]


def full_target(y, k, changes):
    """imblearn's dict (the classes it changes) as the C++ side's target for every class."""
    target = counts(y, k)
    for c, n in changes.items():
        target[c] = n
    return target


def random_case(name, y, k, under_dict, over_dict):
    x = np.zeros((len(y), 1))
    case = {"name": name, "classes": k, "labels": [int(v) for v in y], "counts": counts(y, k)}
    _, yu = RandomUnderSampler(random_state=SEED).fit_resample(x, y)
    case["under_auto"] = counts(yu, k)
    _, yu = RandomUnderSampler(sampling_strategy=under_dict, random_state=SEED).fit_resample(x, y)
    case["under_dict"] = {"target": full_target(y, k, under_dict), "counts": counts(yu, k)}
    _, yo = RandomOverSampler(random_state=SEED).fit_resample(x, y)
    case["over_auto"] = counts(yo, k)
    _, yo = RandomOverSampler(sampling_strategy=over_dict, random_state=SEED).fit_resample(x, y)
    case["over_dict"] = {"target": full_target(y, k, over_dict), "counts": counts(yo, k)}
    return case


def kth_distances(x, y, k):
    """Per row, the distance to its k-th nearest row of the same class (itself excluded)."""
    out = np.zeros(len(y))
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        nn = NearestNeighbors(n_neighbors=k + 1).fit(x[rows])
        dist, _ = nn.kneighbors(x[rows])
        out[rows] = dist[:, k]  # column 0 is the row itself
    return out


def smote_case(name, description, x, y, k, neighbours, smote_dict):
    x = np.round(x, 4)
    case = {"name": name, "description": description, "classes": k, "k": neighbours,
            "x": x.tolist(), "labels": [int(v) for v in y], "counts": counts(y, k),
            "kth_distance": kth_distances(x, y, neighbours).tolist()}
    _, ys = SMOTE(k_neighbors=neighbours, random_state=SEED).fit_resample(x, y)
    case["smote_auto_new"] = [a - b for a, b in zip(counts(ys, k), counts(y, k))]
    _, ys = SMOTE(sampling_strategy=smote_dict, k_neighbors=neighbours,
                  random_state=SEED).fit_resample(x, y)
    case["smote_dict"] = {"target": full_target(y, k, smote_dict),
                          "new": [a - b for a, b in zip(counts(ys, k), counts(y, k))]}
    print(f"{name:10s} counts {case['counts']} smote auto +{case['smote_auto_new']}")
    return case


def sampling():
    rng = np.random.default_rng(SEED)
    cases = []
    y = np.repeat(np.arange(4), [50, 20, 7, 33])
    cases.append(random_case("four", rng.permutation(y), 4, {0: 10, 3: 15}, {1: 40, 2: 30}))
    y = np.repeat(np.arange(10), [600, 360, 216, 129, 77, 46, 28, 17, 10, 6])
    cases.append(random_case("long_tail", rng.permutation(y), 10, {0: 100, 1: 50},
                             {8: 300, 9: 600}))

    smotes = []
    x, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_redundant=1,
                               n_classes=3, weights=[0.6, 0.3, 0.1], random_state=SEED)
    smotes.append(smote_case("blobs", "make_classification, 300 rows, 6 features, 3 classes "
                             "(60/30/10 %)", x, y, 3, 5, {1: 150, 2: 120}))
    wine = load_wine()
    keep = np.concatenate([np.flatnonzero(wine.target == 0),
                           np.flatnonzero(wine.target == 1),
                           np.flatnonzero(wine.target == 2)[:12]])
    xw = StandardScaler().fit_transform(wine.data[keep])
    smotes.append(smote_case("wine", "load_wine standardised, class 2 cut to 12 rows", xw,
                             wine.target[keep], 3, 3, {2: 40}))
    doc = {"sklearn": sklearn.__version__, "imblearn": imblearn.__version__,
           "random": cases, "smote": smotes}
    with open(os.path.join(OUT, "imblearn_sampling.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def metric_case(name, y, p, k, minority, probabilities=None):
    y, p = np.asarray(y), np.asarray(p)
    labels = list(range(k))
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y, p, labels=labels, zero_division=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true" and the like
        balanced = metrics.balanced_accuracy_score(y, p)
        gmean = geometric_mean_score(y, p, average="multiclass")
    present = [c for c in minority if support[c] > 0]
    minority_recall = float(np.mean(recall[present])) if present else None
    auroc = None
    if probabilities is not None and minority:
        positive = np.isin(y, minority)
        if positive.any() and not positive.all():
            auroc = float(metrics.roc_auc_score(positive,
                                                probabilities[:, sorted(minority)].sum(axis=1)))
    case = {"name": name, "classes": k, "labels": [int(v) for v in y],
            "predictions": [int(v) for v in p], "minority": minority,
            "probabilities": probabilities.tolist() if probabilities is not None else [],
            "recall": recall.tolist(), "precision": precision.tolist(), "f1": f1.tolist(),
            "support": [int(v) for v in support],
            "accuracy": float(metrics.accuracy_score(y, p)),
            "balanced_accuracy": float(balanced),
            "macro_f1": float(metrics.f1_score(y, p, average="macro", zero_division=0)),
            "gmean": float(gmean), "minority_recall": minority_recall, "minority_auroc": auroc}
    print(f"{name:22s} bacc {balanced:.4f} f1 {case['macro_f1']:.4f} gmean {gmean:.4f} "
          f"minority recall {minority_recall} auroc {auroc}")
    return case


def noisy(rng, y, k, right):
    """Predictions that are y with probability `right`, else a uniform class."""
    wrong = rng.integers(0, k, len(y))
    return np.where(rng.random(len(y)) < right, y, wrong)


def probabilities_for(rng, y, k, sharpness):
    z = rng.normal(size=(len(y), k))
    z[np.arange(len(y)), y] += sharpness
    return np.round(softmax(z), 6)


def metric_cases():
    rng = np.random.default_rng(SEED)
    cases = []
    y = (rng.random(200) < 0.1).astype(int)
    prob = probabilities_for(rng, y, 2, 1.5)
    cases.append(metric_case("binary", y, prob.argmax(axis=1), 2, [1], prob))

    y = rng.integers(0, 10, 500)
    prob = probabilities_for(rng, y, 10, 2.0)
    cases.append(metric_case("ten_classes", y, noisy(rng, y, 10, 0.6), 10, [3, 5], prob))

    # Class 7 is never predicted (its recall is 0, so the G-mean is 0 without a correction).
    y = rng.integers(0, 10, 400)
    p = noisy(rng, y, 10, 0.7)
    p[p == 7] = 6
    cases.append(metric_case("never_predicted", y, p, 10, [7, 9],
                             probabilities_for(rng, y, 10, 1.0)))

    # Class 4 is predicted but has no true rows: balanced accuracy leaves it out, macro F1
    # counts it as 0, imblearn's G-mean takes its recall as 0.
    y = rng.integers(0, 4, 120)
    p = noisy(rng, y, 5, 0.6)
    cases.append(metric_case("predicted_not_true", y, p, 5, [2],
                             probabilities_for(rng, y, 5, 1.0)))

    # Class 5 is neither true nor predicted: every average leaves it out.
    y = rng.integers(0, 5, 150)
    p = noisy(rng, y, 5, 0.8)
    cases.append(metric_case("absent_class", y, p, 6, [1, 4]))

    # Every minority class lacks true rows: no minority recall, no AUROC.
    y = rng.integers(0, 3, 60)
    p = noisy(rng, y, 3, 0.5)
    cases.append(metric_case("minority_absent", y, p, 4, [3], probabilities_for(rng, y, 4, 1.0)))

    y = rng.integers(0, 3, 30)
    cases.append(metric_case("perfect", y, y.copy(), 3, [0], probabilities_for(rng, y, 3, 3.0)))

    # Tied probabilities: the AUROC's ties count one half.
    y = rng.integers(0, 3, 80)
    prob = np.round(probabilities_for(rng, y, 3, 1.0), 1)
    cases.append(metric_case("tied_scores", y, noisy(rng, y, 3, 0.5), 3, [2], prob))

    doc = {"sklearn": sklearn.__version__, "imblearn": imblearn.__version__, "cases": cases}
    with open(os.path.join(OUT, "imblearn_metrics.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    sampling()
    metric_cases()


if __name__ == "__main__":
    main()
