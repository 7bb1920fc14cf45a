#!/usr/bin/python3
"""Python reference for bench_sample: one sampling workload of LatentLab's zoo, the same model and
sampler as its C++ (bench/reference/*.py), timed in PyTorch.

Run it with Debian's interpreter (/usr/bin/python3). --spec is the JSON line a bench_sample
worker prints (`build/bench/bench_sample --trace --row NAME`): the row (preset, count, guidance,
steps, sampler, classifier), the model's registry name, learning rate, batch and effective
settings. The model is built untrained after torch.manual_seed(1), a guiding classifier after
torch.manual_seed(2); rows with train_steps first train that many steps on the trainer's first
batches of seed 1. One untimed draw, then draws of the row's count until
--min-seconds have passed; prints one JSON line with images_per_s and the first draw's checksum.

  --tuned      the fastest split of the cores between torch and OpenBLAS (threadpoolctl), probed
               with one draw each
  --threads    T,B: a given split instead (1,1 makes the checksum comparable with C++'s)
  --device     cuda: built on the CPU as the C++ builds, then moved; drawn on the GPU
  --cudnn-benchmark  let cuDNN time its algorithms (the tuned run on a GPU)
"""

import argparse
import json
import time

import torch

import train_reference as tr

common = tr.common


def build(spec, seed, device):
    torch.manual_seed(seed)
    family = __import__(tr.FAMILIES[spec["model"]])
    return tr.build_on(device, lambda: family.build(spec["model"], common.Shape(),
                                                    spec["settings"], spec["lr"]))


def draw(model, row, count, classifier, steps=None):
    if row["steps"] > 0:  # diffusion
        return model.sample(count, 7, guidance=row["guidance"], steps=steps or row["steps"],
                            sampler=row["sampler"], classifier=classifier,
                            classifier_scale=row["classifier_scale"])
    return model.sample(count, 7)


def timed(model, row, classifier, min_seconds):
    """Draws of the row's count until min_seconds have passed (at least one): images/s and the
    first draw."""
    # Warm-up: a draw of the row's count (diffusion with two steps), so that the allocator, the
    # thread pools and oneDNN's kernels for this batch size are ready before the clock starts.
    draw(model, row, row["count"], classifier, steps=min(row["steps"], 2) or None)
    start = time.perf_counter()
    draws, first = 0, None
    while draws == 0 or time.perf_counter() - start < min_seconds:
        images = draw(model, row, row["count"], classifier)
        if first is None:
            first = images.to(torch.float64)
        draws += 1
    seconds = time.perf_counter() - start
    return row["count"] * draws / seconds, draws, first


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", "--row-json", required=True, help="a bench_sample worker's JSON")
    ap.add_argument("--min-seconds", type=float, default=1.0)
    ap.add_argument("--tuned", action="store_true")
    ap.add_argument("--threads", help="T,B: torch and OpenBLAS threads")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--cudnn-benchmark", action="store_true",
                    help="let cuDNN time its algorithms (on a GPU)")
    args = ap.parse_args()
    tr.use_device(args.device, args.cudnn_benchmark)

    spec = json.loads(args.spec)
    row = spec["row"]
    model = build(spec["model"], 1, args.device)
    classifier = build(spec["classifier"], 2, args.device) if row.get("classifier") else None
    if row["train_steps"] > 0:
        x, y = tr.load_fashion(tr.FASHION)
        batches = tr.Batches(x, y, spec["model"]["batch"], 1, args.device)
        for _ in range(row["train_steps"]):
            model.train_step(*batches.next())

    ctl = tr.blas_controller()
    if args.threads:
        t, b = (int(v) for v in args.threads.split(","))
        tr.set_split(ctl, t, b)
    probes = []
    if args.tuned and args.device == "cpu":  # a GPU has no split of the cores to probe
        probes = tr.fastest_split(ctl, lambda: timed(model, row, classifier, 0)[0],
                                  "images_per_s", lower_is_better=False)

    rate, draws, first = timed(model, row, classifier, args.min_seconds)
    result = {
        "impl": "python",
        "row": row,
        "draws": draws,
        "images_per_s": rate,
        "checksum": first.sum().item(),
        "first": first.flatten()[:4].tolist(),
        **tr.process_facts(ctl),
    }
    if probes:
        result["probes"] = probes
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
