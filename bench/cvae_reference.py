#!/usr/bin/python3
"""Python reference for bench_cvae: the same CVAE and training step as ll::Cvae, in PyTorch.

Run it with Debian's interpreter (/usr/bin/python3, python3-torch 1.13, the same library as
LibTorch). It times `--steps` training steps after `--warmup` untimed ones, batch 128 on
Fashion-MNIST, and prints one JSON line with ms_per_step.

Without --tuned it runs with the library defaults, as a user's plain `python3 script.py`.
With --tuned it tries each split of the cores between torch's OpenMP pool
(torch.set_num_threads) and OpenBLAS (threadpoolctl, else the OPENBLAS_NUM_THREADS the process
started with) and times the fastest. The allocator half of design.md's CPU settings cannot be
set from inside the interpreter: start it with MALLOC_MMAP_THRESHOLD_=33554432
MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_MMAP_MAX_=0 (bench_cvae does).
"""

import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

FASHION = "/usr/share/datasets/fashion-mnist"
MALLOC_ENV = {
    "MALLOC_MMAP_THRESHOLD_": "33554432",
    "MALLOC_TRIM_THRESHOLD_": "1073741824",
    "MALLOC_MMAP_MAX_": "0",
}


def load_fashion(folder):
    """Train images as float32 N x 784 in [0, 1] and labels as int64, as ll::loadDataset gives."""
    with gzip.open(os.path.join(folder, "train-images-idx3-ubyte.gz"), "rb") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(os.path.join(folder, "train-labels-idx1-ubyte.gz"), "rb") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    x = torch.from_numpy(images.astype(np.float32) / 255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def mlp(inp, hidden, out):
    """ll::Mlp: Linear + in-place ReLU per hidden width, a bare Linear last."""
    layers, width = [], inp
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU(inplace=True)]
        width = h
    layers.append(nn.Linear(width, out))
    return nn.Sequential(*layers)


class ConditionalMlp(nn.Module):
    """ll::ConditionalMlp: every Linear sees the condition beside its input; ReLU between."""

    def __init__(self, inp, condition, hidden, out):
        super().__init__()
        ins, outs = [inp] + list(hidden), list(hidden) + [out]
        self.layers = nn.ModuleList(nn.Linear(i + condition, o) for i, o in zip(ins, outs))

    def forward(self, x, condition):
        for i, layer in enumerate(self.layers):
            x = layer(torch.cat([x, condition], 1))
            if i + 1 < len(self.layers):
                x = F.relu(x)
        return x


class CvaeNet(nn.Module):
    """ll::CvaeNet: the encoder sees the one-hot class beside the image, the decoder beside the
    input of each of its layers."""

    def __init__(self, data_dim=784, num_classes=10, latent=16, hidden=(512, 256)):
        super().__init__()
        self.encoder = mlp(data_dim + num_classes, hidden, 2 * latent)
        self.decoder = ConditionalMlp(latent, num_classes, tuple(reversed(hidden)), data_dim)

    def encode(self, x, onehot):
        mu, logvar = self.encoder(torch.cat([x, onehot], 1)).chunk(2, 1)
        return mu, logvar.clamp(-12, 8)

    def decode(self, z, onehot):
        return self.decoder(z, onehot)


class Cvae:
    """ll::Cvae's image branch: BCE-with-logits sum / n + KL, Adam, losses read with .item()."""

    def __init__(self, lr=1e-3, beta=1.0):
        self.net = CvaeNet()
        self.beta = beta
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr)

    def train_step(self, x, y):
        self.net.train()
        n = x.size(0)
        flat = x.reshape(n, -1)
        onehot = F.one_hot(y, 10).to(torch.float32)
        mu, logvar = self.net.encode(flat, onehot)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        out = self.net.decode(z, onehot)
        recon = F.binary_cross_entropy_with_logits(out, flat, reduction="sum") / n
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum() / n
        loss = recon + self.beta * kl
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item(), "reconstruction": recon.item(), "kl": kl.item()}


class Batches:
    """ll::Trainer's data order: a fresh permutation per epoch, consecutive slices of it."""

    def __init__(self, x, y, batch, seed):
        self.x, self.y, self.batch = x, y, batch
        self.gen = torch.Generator().manual_seed(seed)
        self.per_epoch = x.size(0) // batch
        self.step = 0
        self.order = None

    def next(self):
        k = self.step % self.per_epoch
        if k == 0:
            self.order = torch.randperm(self.x.size(0), generator=self.gen)
        idx = self.order[k * self.batch:(k + 1) * self.batch]
        self.step += 1
        return self.x.index_select(0, idx), self.y.index_select(0, idx)


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


def time_steps(model, batches, warmup, steps, max_seconds):
    """Mean ms of a timed step, the steps timed and the last losses. A split that makes the
    thread pools fight can run 20x slower: warm-up stops after max_seconds / 4, the timed loop
    after max_seconds."""
    start = time.perf_counter()
    for _ in range(warmup):
        if time.perf_counter() - start >= max_seconds / 4:
            break
        model.train_step(*batches.next())
    start = time.perf_counter()
    done = 0
    while done < steps and (done == 0 or time.perf_counter() - start < max_seconds):
        losses = model.train_step(*batches.next())
        done += 1
    elapsed = time.perf_counter() - start
    return elapsed * 1000.0 / done, done, losses


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=20.0,
                    help="stop a timed loop after this long (warm-up after a quarter of it)")
    ap.add_argument("--tuned", action="store_true",
                    help="pick the fastest split of the cores between torch and OpenBLAS threads")
    ap.add_argument("--probe-steps", type=int, default=40,
                    help="--tuned: timed steps per split when choosing the split")
    ap.add_argument("--data", default=FASHION, help="folder with the Fashion-MNIST IDX .gz files")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    x, y = load_fashion(args.data)
    batches = Batches(x, y, args.batch, args.seed)
    model = Cvae()
    ctl = blas_controller()

    probes = []
    if args.tuned:
        missing = [k for k, v in MALLOC_ENV.items() if os.environ.get(k) != v]
        if missing:
            print("cvae_reference: --tuned without the allocator settings in the environment: " +
                  " ".join(f"{k}={MALLOC_ENV[k]}" for k in missing), file=sys.stderr)
        cores = os.cpu_count() or 1
        splits = sorted({(t, b) for t in (1, cores) for b in (1, cores)})
        if ctl is None:
            # Without threadpoolctl OpenBLAS keeps the thread count it started with.
            splits = sorted({(t, blas_threads(None)) for t, _ in splits})
        for t, b in splits:
            torch.set_num_threads(t)
            if ctl is not None:
                ctl.limit(limits=b)
            ms, _, _ = time_steps(model, batches, 10, args.probe_steps, args.max_seconds / 4)
            probes.append({"torch_threads": t, "blas_threads": b, "ms_per_step": round(ms, 3)})
        best = min(probes, key=lambda p: p["ms_per_step"])
        torch.set_num_threads(best["torch_threads"])
        if ctl is not None:
            ctl.limit(limits=best["blas_threads"])
        # Time a fresh model, as bench_cvae does for each of its rows.
        torch.manual_seed(args.seed)
        batches = Batches(x, y, args.batch, args.seed)
        model = Cvae()

    ms, done, losses = time_steps(model, batches, args.warmup, args.steps, args.max_seconds)
    result = {
        "impl": "python",
        "tuned": args.tuned,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "blas_threads": blas_threads(ctl),
        "malloc_env": all(os.environ.get(k) == v for k, v in MALLOC_ENV.items()),
        "batch": args.batch,
        "warmup": args.warmup,
        "steps": done,
        "ms_per_step": round(ms, 3),
        "steps_per_s": round(1000.0 / ms, 2),
        "loss": round(losses["loss"], 4),
    }
    if probes:
        result["probes"] = probes
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
