#!/usr/bin/python3
"""Python reference for bench_train: one model of LatentLab's zoo, the same networks and training
step as its C++ model (bench/reference/*.py), timed on Fashion-MNIST in PyTorch.

Run it with Debian's interpreter (/usr/bin/python3, python3-torch 1.13, the same library as
LibTorch). It builds the model after torch.manual_seed(--seed), times --steps training steps
after --warmup untimed ones with the trainer's data order, and prints one JSON line with
ms_per_step, the last step's loss and the parameter count.

  --settings   the C++ model's effective settings as JSON (bench_train passes them)
  --tuned      try each split of the cores between torch's OpenMP pool (torch.set_num_threads)
               and OpenBLAS (threadpoolctl) and time a fresh model at the fastest
  --threads    T,B: a given split instead (1,1 makes the losses comparable with C++'s)
  --trace      print every step's losses (untimed use: checking a mirror against C++)
  --device     cuda: the model, its batches and every tensor it makes on the GPU (the mirrors
               build on torch's default device); the data order and seeded draws stay on the CPU
  --cudnn-benchmark  let cuDNN time its algorithms (the tuned run on a GPU)
  --exact      cuDNN's deterministic algorithms and no timing, over --cudnn-benchmark (the
               same-model check on a GPU, run with NVIDIA_TF32_OVERRIDE=0 on both sides)

Without --tuned or --threads it runs with the library defaults, as a user's plain script. The
allocator half of design.md's CPU settings cannot be set from inside the interpreter: start it
with MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_MMAP_MAX_=0.
"""

import argparse
import gzip
import json
import os
import resource
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
import common  # noqa: E402
import flops  # noqa: E402

FASHION = os.environ.get("LATENTLAB_FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist"
MALLOC_ENV = {
    "MALLOC_MMAP_THRESHOLD_": "33554432",
    "MALLOC_TRIM_THRESHOLD_": "1073741824",
    "MALLOC_MMAP_MAX_": "0",
}
# Registry name -> the module under reference/ that mirrors it.
FAMILIES = {
    "vae": "vae", "cvae": "vae", "chaotic-vae": "vae",
    "classifier": "classifier",
    "dcgan": "gan", "cgan": "gan", "acgan": "gan", "wgan-gp": "gan",
    "ddpm": "diffusion", "latent-ddpm": "diffusion", "noisy-classifier": "diffusion",
}


def load_fashion(folder, split="t10k"):
    """Images of a split ("train" or the 10,000 test images "t10k", which the benchmarks load
    in a sixth of the time) as float32 N x 1 x 28 x 28 in [0, 1] and int64 labels, as
    ll::loadDataset."""
    with gzip.open(os.path.join(folder, f"{split}-images-idx3-ubyte.gz"), "rb") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(folder, f"{split}-labels-idx1-ubyte.gz"), "rb") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    x = torch.from_numpy(images.astype(np.float32) / 255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


class Batches:
    """ll::Trainer's data order: per epoch a permutation from a generator seeded
    seed * 1000003 + epoch, consecutive slices of it."""

    def __init__(self, x, y, batch, seed, device="cpu"):
        self.x, self.y, self.batch = x, y, batch
        self.device = device
        self.seed = seed
        self.per_epoch = x.size(0) // batch
        self.step = 0
        self.order = None

    def next(self):
        k = self.step % self.per_epoch
        if k == 0:
            gen = torch.Generator(device="cpu").manual_seed(
                self.seed * 1000003 + self.step // self.per_epoch)
            self.order = torch.randperm(self.x.size(0), generator=gen, device="cpu")
        idx = self.order[k * self.batch:(k + 1) * self.batch]
        self.step += 1
        # As ll::Trainer: batches gathered on the CPU, the model moves them to its device.
        return (self.x.index_select(0, idx).to(self.device),
                self.y.index_select(0, idx).to(self.device))


def blas_controller():
    """threadpoolctl's handle on OpenBLAS, or None where it is missing or sees no OpenBLAS."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    ctl = ThreadpoolController().select(internal_api="openblas")
    return ctl if ctl.lib_controllers else None


def blas_threads(ctl):
    if ctl is not None:
        return ctl.lib_controllers[0].num_threads
    env = os.environ.get("OPENBLAS_NUM_THREADS")
    return int(env) if env else os.cpu_count()


def set_split(ctl, torch_threads, blas):
    torch.set_num_threads(torch_threads)
    if ctl is not None:
        ctl.limit(limits=blas)


def fastest_split(ctl, measure, key, lower_is_better):
    """Tries each split of the cores between torch's OpenMP pool and OpenBLAS, `measure()`
    giving the figure `key` of each; leaves the best one set and returns the probes."""
    cores = os.cpu_count() or 1
    splits = sorted({(t, b) for t in (1, cores) for b in (1, cores)})
    if ctl is None:
        # Without threadpoolctl OpenBLAS keeps the thread count it started with.
        splits = sorted({(t, blas_threads(None)) for t, _ in splits})
    probes = []
    for t, b in splits:
        set_split(ctl, t, b)
        probes.append({"torch_threads": t, "blas_threads": b, key: round(measure(), 3)})
    pick = min if lower_is_better else max
    best = pick(probes, key=lambda p: p[key])
    set_split(ctl, best["torch_threads"], best["blas_threads"])
    return probes


def process_facts(ctl):
    """What every result line says of the process: its thread split, whether it runs with the
    allocator settings, and its peak resident memory."""
    return {
        "torch_threads": torch.get_num_threads(),
        "blas_threads": blas_threads(ctl),
        "malloc_env": all(os.environ.get(k) == v for k, v in MALLOC_ENV.items()),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
    }


def use_device(device, cudnn_benchmark=False):
    """Makes `device` torch's default, so that the mirrors build and draw there."""
    if device != "cpu":
        torch.set_default_device(device)
        torch.backends.cudnn.benchmark = cudnn_benchmark


def synchronize(device):
    if device != "cpu":
        torch.cuda.synchronize()


def build_on(device, make):
    """`make()`'s model built as the C++ builds it: on the CPU (the same initial weights from
    the same seed), then every module moved to `device`."""
    if device == "cpu":
        return make()
    with torch.device("cpu"):
        model = make()
    for module in model.modules():
        if not getattr(module, "stays_on_cpu", False):
            module.to(device)
    return model


def build(args, shape, settings):
    torch.manual_seed(args.seed)
    family = __import__(FAMILIES[args.model])
    return build_on(args.device, lambda: family.build(args.model, shape, settings, args.lr))


def warm_epoch(model, batches, trace=False):
    """bench_train's --warmup-epoch: one epoch of untimed steps."""
    for _ in range(batches.per_epoch):
        losses = model.train_step(*batches.next())
        if trace:
            print("warmup", json.dumps(losses), flush=True)


def time_steps(model, batches, warmup, steps, max_seconds, trace=False):
    """Mean ms of a timed step, the steps timed and the last losses. A split that makes the
    thread pools fight can run 20x slower: warm-up stops after max_seconds / 4, the timed loop
    after max_seconds."""
    start = time.perf_counter()
    for _ in range(warmup):
        if time.perf_counter() - start >= max_seconds / 4:
            break
        losses = model.train_step(*batches.next())
        if trace:
            print("warmup", json.dumps(losses), flush=True)
    start = time.perf_counter()
    done = 0
    while done < steps and (done == 0 or time.perf_counter() - start < max_seconds):
        losses = model.train_step(*batches.next())
        done += 1
        if trace:
            print("step", done, json.dumps(losses), flush=True)
    elapsed = time.perf_counter() - start
    return elapsed * 1000.0 / done, done, losses


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=sorted(FAMILIES))
    ap.add_argument("--settings", default="{}", help="the C++ model's effective settings, JSON")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--max-seconds", type=float, default=10.0,
                    help="stop a timed loop after this long (warm-up after a quarter of it)")
    ap.add_argument("--tuned", action="store_true",
                    help="pick the fastest split of the cores between torch and OpenBLAS threads")
    ap.add_argument("--threads", help="T,B: torch and OpenBLAS threads")
    ap.add_argument("--probe-steps", type=int, default=10,
                    help="--tuned: timed steps per split when choosing the split")
    ap.add_argument("--trace", action="store_true", help="print every step's losses")
    ap.add_argument("--warmup-epoch", action="store_true",
                    help="one whole epoch of untimed steps first (latent-ddpm: its encoder's "
                         "means are looked up from the second epoch on)")
    ap.add_argument("--count-flops", action="store_true",
                    help="count the matrix-product and convolution FLOPs of one more step")
    ap.add_argument("--data", default=FASHION, help="folder with the Fashion-MNIST IDX .gz files")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--cudnn-benchmark", action="store_true",
                    help="let cuDNN time its algorithms (on a GPU)")
    ap.add_argument("--exact", action="store_true",
                    help="cuDNN's deterministic algorithms, none timed (the check on a GPU)")
    args = ap.parse_args()
    use_device(args.device, args.cudnn_benchmark and not args.exact)
    if args.exact:
        torch.backends.cudnn.deterministic = True

    settings = json.loads(args.settings)
    shape = common.Shape()
    x, y = load_fashion(args.data)
    ctl = blas_controller()
    if args.threads:
        t, b = (int(v) for v in args.threads.split(","))
        set_split(ctl, t, b)

    probes = []
    if args.tuned and args.device == "cpu":  # a GPU has no split of the cores to probe
        missing = [k for k, v in MALLOC_ENV.items() if os.environ.get(k) != v]
        if missing:
            print("train_reference: --tuned without the allocator settings in the environment: " +
                  " ".join(f"{k}={MALLOC_ENV[k]}" for k in missing), file=sys.stderr)
        model = build(args, shape, settings)
        batches = Batches(x, y, args.batch, args.seed, args.device)
        if args.warmup_epoch:
            warm_epoch(model, batches)
        probes = fastest_split(
            ctl, lambda: time_steps(model, batches, 3, args.probe_steps, args.max_seconds / 4)[0],
            "ms_per_step", lower_is_better=True)

    # Time a fresh model, as bench_train does for each of its rows.
    model = build(args, shape, settings)
    batches = Batches(x, y, args.batch, args.seed, args.device)
    if args.warmup_epoch:
        warm_epoch(model, batches, args.trace)
    ms, done, losses = time_steps(model, batches, args.warmup, args.steps, args.max_seconds,
                                  args.trace)
    result = {
        "impl": "python",
        "model": args.model,
        "tuned": args.tuned,
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "batch": args.batch,
        "warmup": args.warmup,
        "steps": done,
        "ms_per_step": round(ms, 3),
        "steps_per_s": round(1000.0 / ms, 2),
        "loss": round(losses["loss"], 6),
        "parameters": sum(common.parameter_count(m) for m in model.modules()),
        **process_facts(ctl),
    }
    if probes:
        result["probes"] = probes
    if args.count_flops:
        result["gflop_per_step"] = flops.step_flops(model, batches) / 1e9
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
