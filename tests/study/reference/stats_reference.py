#!/usr/bin/python3
"""Reference values for tests/study/test_stats.cpp and the breast-cancer fixture.

Run with Debian's python3 (numpy, scipy, scikit-learn):
    /usr/bin/python3 tests/study/reference/stats_reference.py
It writes tests/study/fixtures/stats_reference.json (ROC/PR curves, AUROC, average precision,
pooled t-tests, the regularised incomplete beta function, percentiles) and
tests/study/fixtures/breast_cancer.csv (sklearn's load_breast_cancer with a `diagnosis`
column of benign/malignant).
"""
import json
import os

import numpy as np
import scipy
import scipy.special
import scipy.stats
import sklearn
from sklearn import datasets, metrics

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")


def curve_case(name, scores, labels):
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=bool)
    fpr, tpr, _ = metrics.roc_curve(labels, scores, drop_intermediate=False)
    precision, recall, _ = metrics.precision_recall_curve(labels, scores)
    # sklearn gives the PR curve by rising threshold; the C++ side by falling threshold.
    return {
        "name": name,
        "scores": scores.tolist(),
        "positive": labels.astype(int).tolist(),
        "auroc": float(metrics.roc_auc_score(labels, scores)),
        "average_precision": float(metrics.average_precision_score(labels, scores)),
        "fpr": fpr.tolist(),
        "tpr": tpr.tolist(),
        "precision": precision[::-1].tolist(),
        "recall": recall[::-1].tolist(),
    }


def ttest_case(name, a, b):
    t, p = scipy.stats.ttest_ind(a, b, equal_var=True)
    return {"name": name, "a": list(a), "b": list(b), "t": float(t),
            "df": len(a) + len(b) - 2, "p": float(p)}


def main():
    rng = np.random.default_rng(13)
    curves = [
        curve_case("small with ties", [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.2, 0.4],
                   [0, 0, 1, 1, 1, 1, 0, 0]),
        curve_case("separated", [1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 1]),
        curve_case("reversed", [6, 5, 4, 3, 2, 1], [0, 0, 0, 1, 1, 1]),
    ]
    n = 200
    labels = rng.random(n) < 0.3
    scores = np.round(rng.normal(size=n) + 1.2 * labels, 2)  # rounding makes ties
    curves.append(curve_case("noisy 200 rounded", scores, labels))

    # Ten seeds each, as the paper's comparison of two detectors (18 degrees of freedom).
    a = np.round(rng.normal(0.83, 0.02, 10), 4)
    b = np.round(rng.normal(0.80, 0.03, 10), 4)
    ttests = [
        ttest_case("ten and ten", a.tolist(), b.tolist()),
        ttest_case("unequal sizes", [1.0, 2.0, 4.0, 3.5], [2.5, 3.0, 6.0, 5.0, 4.5, 7.0, 5.5]),
        ttest_case("far apart", [10.0, 10.1, 9.9, 10.05], [1.0, 1.1, 0.9, 1.02]),
    ]
    betas = []
    for aa, bb, x in [(9.0, 0.5, 0.3), (9.0, 0.5, 0.97), (0.5, 0.5, 0.2), (2.0, 3.0, 0.4),
                      (50.0, 20.0, 0.7), (1.0, 1.0, 0.25), (0.1, 10.0, 0.01)]:
        betas.append({"a": aa, "b": bb, "x": x, "value": float(scipy.special.betainc(aa, bb, x))})
    tcdf = [{"t": t, "df": df, "value": float(scipy.stats.t.cdf(t, df))}
            for t, df in [(-2.5, 18), (0.0, 18), (1.3, 5), (3.7, 18), (0.2, 1.5)]]
    values = rng.normal(size=37).round(3)
    percentiles = [{"q": q, "value": float(np.percentile(values, q))}
                   for q in [0, 5, 50, 90, 95, 99, 100]]
    out = {
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__,
                     "sklearn": sklearn.__version__},
        "curves": curves,
        "ttests": ttests,
        "betainc": betas,
        "t_cdf": tcdf,
        "percentile_values": values.tolist(),
        "percentiles": percentiles,
        "sd": {"values": a.tolist(), "mean": float(np.mean(a)), "sd": float(np.std(a, ddof=1))},
    }
    os.makedirs(FIXTURES, exist_ok=True)
    with open(os.path.join(FIXTURES, "stats_reference.json"), "w") as f:
        json.dump(out, f, indent=1)

    data = datasets.load_breast_cancer()
    # target 0 is malignant, 1 benign (sklearn's target_names).
    names = [n.replace(" ", "_") for n in data.feature_names]
    with open(os.path.join(FIXTURES, "breast_cancer.csv"), "w") as f:
        f.write(",".join(names + ["diagnosis"]) + "\n")
        for row, t in zip(data.data, data.target):
            f.write(",".join(repr(float(v)) for v in row) + "," + data.target_names[t] + "\n")


if __name__ == "__main__":
    main()
