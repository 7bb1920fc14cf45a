#!/usr/bin/python3
"""Writes the feature-metric fixtures under tests/eval/fixtures/ and the values that
test_metrics.cpp and the CLI test compare against, computed here from the papers with numpy
and scipy alone (no code shared with core/eval/metrics.cpp).

Run with Debian's Python (it has numpy and scipy):
    /usr/bin/python3 tests/eval/reference/metrics_reference.py
The output is deterministic: running it twice gives the same bytes.

Conventions the C++ side shares (see core/eval/metrics.h):
- FID: unbiased covariances; tr sqrt(S_r S_f) here through scipy.linalg.sqrtm (pytorch-fid).
- KID: unbiased MMD^2, kernel (x.y/d + 1)^3, mean and population std (ddof 0, as
  torch-fidelity) over subsets drawn by SplitMix64 + partial Fisher-Yates (below).
- k-NN balls are closed: a point at exactly the radius is inside.
- C_T (Meehan et al. 2020 and their code): k-means cells from the rows floor(i n / cells) of
  the training set, Lloyd until the assignment stops changing; 1-NN distances to the training
  points of the same cell; U of generated vs test with mid-ranks, Z from the normal
  approximation with the tie-corrected variance and no continuity correction; cells with
  fewer than `min_generated` generated samples are left out; weights are test shares.
"""

import json
import pathlib

import numpy as np
from scipy import linalg, special, stats
from scipy.spatial.distance import cdist

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE.parent / "fixtures"
MASK = (1 << 64) - 1


# ---- FID (Heusel et al. 2017) ----
def fid(real, fake):
    mu_r, mu_f = real.mean(0), fake.mean(0)
    s_r, s_f = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    covmean, _ = linalg.sqrtm(s_r @ s_f, disp=False)
    return float(((mu_r - mu_f) ** 2).sum() + np.trace(s_r) + np.trace(s_f)
                 - 2 * np.trace(covmean.real))


# ---- KID (Binkowski et al. 2018) ----
class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def draw(n, size, rng):
    """`size` distinct indices of 0..n-1: partial Fisher-Yates, j = i + next() % (n - i)."""
    idx = list(range(n))
    for i in range(size):
        j = i + rng.next() % (n - i)
        idx[i], idx[j] = idx[j], idx[i]
    return idx[:size]


def kid_subsets(n_real, n_fake, subsets, size, seed):
    """Each subset draws its real rows, then its fake rows, from one stream."""
    rng = SplitMix64(seed)
    return [(draw(n_real, size, rng), draw(n_fake, size, rng)) for _ in range(subsets)]


def unbiased_mmd2(x, y):
    d = x.shape[1]
    kernel = lambda a, b: (a @ b.T / d + 1) ** 3
    m, n = len(x), len(y)
    k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
    return ((k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
            + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1)) - 2 * k_xy.mean())


def kid(real, fake, subsets):
    mmds = [unbiased_mmd2(real[r], fake[f]) for r, f in subsets]
    return float(np.mean(mmds)), float(np.std(mmds))


# ---- precision/recall (Kynkaanniemi et al. 2019), density/coverage (Naeem et al. 2020) ----
def knn_radii(x, k):
    d = cdist(x, x)
    np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, k - 1]


def precision_recall(real, fake, k):
    d = cdist(real, fake)
    precision = (d <= knn_radii(real, k)[:, None]).any(axis=0).mean()
    recall = (d <= knn_radii(fake, k)[None, :]).any(axis=1).mean()
    return float(precision), float(recall)


def density_coverage(real, fake, k):
    inside = cdist(real, fake) <= knn_radii(real, k)[:, None]
    return float(inside.sum() / (k * len(fake))), float(inside.any(axis=1).mean())


# ---- data-copying test C_T (Meehan, Chaudhuri, Dasgupta 2020) ----
def kmeans(x, cells, max_iterations):
    centroids = x[(np.arange(cells) * len(x)) // cells].copy()
    assignment = None
    for _ in range(max_iterations):
        new = cdist(x, centroids, "sqeuclidean").argmin(axis=1)
        if assignment is not None and (new == assignment).all():
            break
        assignment = new
        for c in range(cells):
            if (assignment == c).any():
                centroids[c] = x[assignment == c].mean(axis=0)
    return centroids


def z_u(generated, test):
    """Z of the Mann-Whitney U of generated vs test distances; checked against scipy's p."""
    m, n = len(generated), len(test)
    u = stats.mannwhitneyu(generated, test, alternative="less", method="asymptotic",
                           use_continuity=False)
    ties = stats.tiecorrect(stats.rankdata(np.concatenate([generated, test])))
    sigma = np.sqrt(m * n * (m + n + 1) / 12 * ties)
    z = (u.statistic - m * n / 2) / sigma
    assert np.isclose(stats.norm.cdf(z), u.pvalue, rtol=1e-9, atol=1e-300), (z, u.pvalue)
    return float(z)


def data_copying(train, test, generated, cells, min_generated, max_iterations):
    centroids = kmeans(train, cells, max_iterations)
    cell_of = lambda x: cdist(x, centroids, "sqeuclidean").argmin(axis=1)
    t_cell, p_cell, q_cell = cell_of(train), cell_of(test), cell_of(generated)
    rows, num, den = [], 0.0, 0.0
    for c in range(cells):
        t, p, q = train[t_cell == c], test[p_cell == c], generated[q_cell == c]
        z = 0.0
        if len(t) and len(p) and len(q):
            z = z_u(cdist(q, t).min(axis=1), cdist(p, t).min(axis=1))
        kept = bool(len(q) >= min_generated and len(p) and len(t))
        if kept:
            weight = len(p) / len(test)
            num, den = num + weight * z, den + weight
        rows.append({"cell": c, "train": len(t), "test": len(p), "generated": len(q),
                     "z": z, "kept": kept})
    return {"ct": num / den, "cells": rows}


# ---- Inception score (Salimans et al. 2016), one split ----
def inception_score(logits):
    p = np.exp(special.log_softmax(logits, axis=1))
    kl = stats.entropy(p, p.mean(axis=0)[None, :], axis=1)
    return float(np.exp(kl.mean()))


# ---- fixtures ----
def mixture(rng, centres, mixing, n, shift=0.0, scale=1.0):
    """Samples of a Gaussian mixture with shared correlated noise, as float32 features."""
    labels = rng.integers(0, len(centres), n)
    noise = rng.normal(size=(n, centres.shape[1])) @ mixing
    return (centres[labels] + shift + scale * noise).astype(np.float32)


def save(name, array):
    np.save(OUT / name, array, allow_pickle=False)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "npy").mkdir(exist_ok=True)
    rng = np.random.default_rng(20240614)
    d = 16
    centres = rng.normal(0, 3, size=(4, d))
    mixing = np.eye(d) + 0.3 * rng.normal(size=(d, d))
    direction = rng.normal(size=d)
    sets = {
        "train": mixture(rng, centres, mixing, 600),
        "test": mixture(rng, centres, mixing, 300),
        "real": mixture(rng, centres, mixing, 500),
        "fake": mixture(rng, centres, mixing, 400, shift=0.4 * direction, scale=1.2),
        "fresh": mixture(rng, centres, mixing, 300),
    }
    # A generator that memorised: 180 exact training rows and 120 new samples.
    copied = sets["train"][rng.choice(600, 180, replace=False)]
    sets["copies"] = np.concatenate([copied, mixture(rng, centres, mixing, 120)])
    sets["narrow"] = mixture(rng, centres[:, :8], mixing[:8, :8], 40)
    logits = (rng.normal(0, 1.5, size=(300, 10))
              + 4 * np.eye(10)[rng.integers(0, 10, 300)]).astype(np.float32)
    for name, array in sets.items():
        save(name + ".npy", array)
    save("logits.npy", logits)

    # Files numpy wrote that the reader must take, or refuse with a clear message.
    save("npy/f8.npy", sets["real"][:5].astype("<f8"))
    save("npy/vector.npy", sets["real"][0])
    with open(OUT / "npy/v2.npy", "wb") as f:
        np.lib.format.write_array(f, sets["real"][:3], version=(2, 0))
    save("npy/int64.npy", np.arange(6, dtype="<i8").reshape(2, 3))
    save("npy/bigendian.npy", sets["real"][:3].astype(">f4"))
    save("npy/fortran.npy", np.asfortranarray(sets["real"][:3]))

    f64 = {k: v.astype(np.float64) for k, v in sets.items()}
    real, fake = f64["real"], f64["fake"]
    protocol = {"seed": 7, "kid_subsets": 100, "kid_subset_size": 400, "k_precision_recall": 3,
                "k_density_coverage": 5, "cells": 8, "min_generated": 20,
                "kmeans_iterations": 100}
    subsets = kid_subsets(len(real), len(fake), protocol["kid_subsets"],
                          protocol["kid_subset_size"], protocol["seed"])
    kid_mean, kid_std = kid(real, fake, subsets)
    precision, recall = precision_recall(real, fake, protocol["k_precision_recall"])
    density, coverage = density_coverage(real, fake, protocol["k_density_coverage"])
    copying = {name: data_copying(f64["train"], f64["test"], f64[name], protocol["cells"],
                                  protocol["min_generated"], protocol["kmeans_iterations"])
               for name in ("copies", "fresh", "fake")}
    assert copying["copies"]["ct"] < -3, copying["copies"]["ct"]
    expected = {
        "protocol": protocol,
        "fid": fid(real, fake),
        "kid": kid_mean,
        "kid_std": kid_std,
        "kid_first_subset": {"real": subsets[0][0][:16], "fake": subsets[0][1][:16]},
        "precision": precision,
        "recall": recall,
        "density": density,
        "coverage": coverage,
        "ct": copying,
        "inception_score": inception_score(logits.astype(np.float64)),
    }
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    print(json.dumps({k: v for k, v in expected.items() if k not in ("ct", "kid_first_subset")}))
    for name, result in copying.items():
        print(name, result["ct"], [(r["generated"], round(r["z"], 2), r["kept"])
                                   for r in result["cells"]])


if __name__ == "__main__":
    main()
