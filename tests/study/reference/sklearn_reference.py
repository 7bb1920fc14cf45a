#!/usr/bin/python3
"""Writes the fixtures that check LatentLab's classic classifiers (core/study/
classicclassifiers.h) against scikit-learn's on the same features.

Run with Debian's python3 (numpy, scikit-learn): /usr/bin/python3 sklearn_reference.py
It writes tests/study/fixtures/sklearn_<name>.json, each with a train and a test part
(features rounded to 4 decimals, then fitted exactly as written) and, per classifier and
setting, sklearn's test accuracy and predictions:
  nb        GaussianNB(var_smoothing)
  gda       LinearDiscriminantAnalysis(solver='lsqr', shrinkage)
  qda       QuadraticDiscriminantAnalysis(reg_param)  (only where every class has more
            training rows than features: there sklearn's QDA keeps every direction, as ours)
  logistic  LogisticRegression(C, lbfgs, run to convergence)
"""
import json
import os

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import (LinearDiscriminantAnalysis,
                                           QuadraticDiscriminantAnalysis)
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.preprocessing import StandardScaler

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
SEED = 7


def split(x, y, test_size, standardise):
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_size, random_state=SEED,
                                          stratify=y)
    if standardise:
        scaler = StandardScaler().fit(xtr)
        xtr, xte = scaler.transform(xtr), scaler.transform(xte)
    # The C++ test reads exactly these numbers.
    return np.round(xtr, 4), np.round(xte, 4), ytr, yte


def models(n_features, min_class_rows):
    yield "nb", {"var_smoothing": 1e-9}, GaussianNB(var_smoothing=1e-9)
    for s in (0.1, 0.5):
        yield "gda", {"shrinkage": s}, LinearDiscriminantAnalysis(solver="lsqr", shrinkage=s)
    if min_class_rows > n_features:
        for r in (0.1, 0.5):
            yield "qda", {"shrinkage": r}, QuadraticDiscriminantAnalysis(reg_param=r)
    for c in (1.0, 0.05):
        yield "logistic", {"c": c}, LogisticRegression(C=c, max_iter=20000, tol=1e-10)


def write(name, description, xtr, xte, ytr, yte):
    results = []
    min_rows = int(np.bincount(ytr).min())
    for method, settings, model in models(xtr.shape[1], min_rows):
        model.fit(xtr, ytr)
        predicted = model.predict(xte)
        results.append({"method": method, "settings": settings,
                        "accuracy": float((predicted == yte).mean()),
                        "predictions": [int(v) for v in predicted]})
        print(f"{name:14s} {method:9s} {settings} {results[-1]['accuracy']:.4f}")

    def rows(x):  # whole numbers without ".0": the pixel fixture stays small
        return [[int(v) if float(v).is_integer() else float(v) for v in r] for r in x]

    doc = {"name": name, "description": description, "sklearn": sklearn.__version__,
           "classes": int(max(ytr.max(), yte.max()) + 1),
           "train": {"x": rows(xtr), "y": [int(v) for v in ytr]},
           "test": {"x": rows(xte), "y": [int(v) for v in yte]},
           "results": results}
    with open(os.path.join(OUT, f"sklearn_{name}.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    wine = load_wine()
    write("wine", "load_wine, standardised on the training part",
          *split(wine.data, wine.target, 0.4, True))
    rng = np.random.default_rng(SEED)
    cancer = load_breast_cancer()
    pick = rng.choice(len(cancer.target), 360, replace=False)
    write("breast_cancer",
          "load_breast_cancer, 360 rows, its first 10 columns, standardised (binary)",
          *split(cancer.data[pick, :10], cancer.target[pick], 0.35, True))
    digits = load_digits()
    # Raw 8x8 pixels (0..16; some pixels constant): constant features and a singular
    # covariance that only the shrinkage makes invertible.
    pick = rng.choice(len(digits.target), 320, replace=False)
    write("digits_pixels", "load_digits, 320 rows, raw pixels (QDA skipped: classes < 64 rows)",
          *split(digits.data[pick], digits.target[pick], 0.3, False))
    # 12 principal components of all digits: ten classes with more rows than features.
    pcs = PCA(n_components=12, random_state=SEED).fit_transform(digits.data)
    pick = rng.choice(len(digits.target), 520, replace=False)
    write("digits_pca", "load_digits, 520 rows, 12 principal components, standardised",
          *split(pcs[pick], digits.target[pick], 0.4, True))


if __name__ == "__main__":
    main()
