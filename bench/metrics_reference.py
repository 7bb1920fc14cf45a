#!/usr/bin/python3
"""Python reference for bench_metrics: FID, KID and precision/recall of two feature arrays with
the numpy/scipy functions of tests/eval/reference/metrics_reference.py (imported, not copied).

Run it with Debian's interpreter (/usr/bin/python3 has numpy and scipy; the `python3` first on
some PATHs has neither). It loads two .npy feature arrays (samples x features), converts them to
float64 once, untimed, as that script's main() does, then times each stage `--repeats` times
and prints one JSON line with the median ms of each stage and the values:

- fid: fid(real, fake), scipy.linalg.sqrtm of S_r S_f.
- kid: kid_subsets(...) (the SplitMix64 draw the C++ side shares, in pure Python) and
  kid(real, fake, subsets), the unbiased MMD^2 of each subset with numpy.
- precision_recall: precision_recall(real, fake, k), full scipy cdist matrices (three of
  N x M float64, 800 MB each at 10,000 x 10,000) and a full sort of each row for the radii.

    /usr/bin/python3 bench/metrics_reference.py --real real.npy --fake fake.npy --repeats 3
"""

import argparse
import json
import pathlib
import statistics
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
REFERENCE_DIR = HERE.parent / "tests" / "eval" / "reference"


def blas_threads():
    """OpenBLAS's thread count as threadpoolctl sees it; None where it cannot tell."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [i["num_threads"] for i in threadpool_info() if i.get("internal_api") == "openblas"]
    return counts[0] if counts else None


def timed(fn, repeats):
    """Median ms of `repeats` calls of fn and the value of the last call."""
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times), times, value


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", required=True, help="real features, .npy (samples x features)")
    ap.add_argument("--fake", required=True, help="generated features, .npy")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--kid-subsets", type=int, default=100)
    ap.add_argument("--kid-size", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0, help="KID subsets' SplitMix64 seed")
    ap.add_argument("-k", type=int, default=3, help="precision/recall neighbours")
    ap.add_argument("--reference-dir", default=str(REFERENCE_DIR),
                    help="folder of metrics_reference.py (tests/eval/reference)")
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")

    sys.path.insert(0, args.reference_dir)
    import metrics_reference as ref  # noqa: E402 (the path is only known here)

    real = np.load(args.real, allow_pickle=False).astype(np.float64)
    fake = np.load(args.fake, allow_pickle=False).astype(np.float64)
    # As ll::kernelInceptionDistance: the subset size is capped at the smaller set.
    size = min(args.kid_size, len(real), len(fake))

    def kid_stage():
        subsets = ref.kid_subsets(len(real), len(fake), args.kid_subsets, size, args.seed)
        return ref.kid(real, fake, subsets)

    fid_ms, fid_runs, fid = timed(lambda: ref.fid(real, fake), args.repeats)
    kid_ms, kid_runs, (kid_mean, kid_std) = timed(kid_stage, args.repeats)
    pr_ms, pr_runs, (precision, recall) = timed(
        lambda: ref.precision_recall(real, fake, args.k), args.repeats)

    result = {
        "impl": "python",
        "numpy": np.__version__,
        "blas_threads": blas_threads(),
        "real_count": len(real),
        "fake_count": len(fake),
        "features": real.shape[1],
        "repeats": args.repeats,
        "kid_subsets": args.kid_subsets,
        "kid_subset_size": size,
        "k": args.k,
        "ms": {"fid": round(fid_ms, 3), "kid": round(kid_ms, 3),
               "precision_recall": round(pr_ms, 3)},
        "runs_ms": {"fid": [round(t, 3) for t in fid_runs],
                    "kid": [round(t, 3) for t in kid_runs],
                    "precision_recall": [round(t, 3) for t in pr_runs]},
        "fid": fid,
        "kid": kid_mean,
        "kid_std": kid_std,
        "precision": precision,
        "recall": recall,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
