"""What the Python mirrors of LatentLab's model zoo share: the data's shape, settings read as
core reads them, and the layers and helpers of core/models/layers.cpp.

Each mirror builds the same networks in the same order as its C++ model, so that the same
torch.manual_seed draws the same initial weights, and takes the same training step, so that the
same batches give the same losses (bench_train checks that). Settings arrive as the C++ model's
effective settings (GenerativeModel::settings(): every default filled in), strings as in a run's
config.json.
"""

from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F


@dataclass(frozen=True)
class Shape:
    """ll::ModelShape: images (channels x height x width) or tabular rows (features > 0)."""

    channels: int = 1
    height: int = 28
    width: int = 28
    features: int = 0
    num_classes: int = 10

    @property
    def tabular(self):
        return self.features > 0

    @property
    def data_dim(self):
        return self.features if self.tabular else self.channels * self.height * self.width


def number(settings, key):
    """A numeric setting; every key a mirror reads must be present (the C++ side fills them)."""
    if key not in settings:
        raise KeyError(f"setting '{key}' missing: pass the C++ model's effective settings")
    return float(settings[key])


def whole(settings, key):
    return int(round(number(settings, key)))


def bf16(settings):
    """The "precision" setting: True for bf16 (the training step under CPU autocast, as
    ll::PrecisionScope), False for fp32 or none."""
    return str(settings.get("precision", "fp32") or "fp32") == "bf16"


def ints(settings, key):
    """A comma-separated list of widths, as ll::settingInts reads it."""
    if key not in settings:
        raise KeyError(f"setting '{key}' missing: pass the C++ model's effective settings")
    return [int(v) for v in str(settings[key]).split(",") if v.strip()]


class Mlp(nn.Module):
    """ll::Mlp: Linear + in-place ReLU per hidden width, a bare Linear last (one Sequential
    named `layers`)."""

    def __init__(self, inp, hidden, out):
        super().__init__()
        layers, width = [], inp
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(inplace=True)]
            width = h
        layers.append(nn.Linear(width, out))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


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


def drop_gradients(module):
    """ll::dropGradients: gradients set to None, so that backward writes them fresh."""
    for p in module.parameters():
        p.grad = None


def classifier_step(net, optimizer, logits, target):
    """ll::classifierStep: cross-entropy, backward, Adam step, loss and accuracy read."""
    loss = F.cross_entropy(logits, target)
    drop_gradients(net)
    loss.backward()
    optimizer.step()
    accuracy = (logits.argmax(1) == target).float().mean().item()
    return {"loss": loss.item(), "accuracy": accuracy}


@torch.no_grad()
def update_ema(target, source, decay):
    """ll::updateEma: parameters averaged, buffers copied."""
    for t, s in zip(target.parameters(), source.parameters()):
        t.mul_(decay).add_(s, alpha=1 - decay)
    for t, s in zip(target.buffers(), source.buffers()):
        t.copy_(s)


def ema_decay(decay, step):
    """ll::emaDecay: decay, warmed up as (1 + step) / (10 + step)."""
    return min(decay, (1.0 + float(step)) / (10.0 + float(step)))


def parameter_count(module):
    return sum(p.numel() for p in module.parameters())


# The sampling helpers of core/models/layers.cpp.

MASK64 = (1 << 64) - 1


def request_labels(count, num_classes, labels=None):
    """ll::requestLabels: the request's labels cycled, or (none given) i % numClasses; int64
    on the CPU."""
    out = [(int(labels[i % len(labels)]) if labels else i % num_classes) for i in range(count)]
    for k in out:
        if k < 0 or k >= num_classes:
            raise ValueError(f"no class {k} (the model has {num_classes})")
    return torch.tensor(out, dtype=torch.int64).reshape(count)


def seeded_generator(seed):
    """torch::make_generator<CPUGeneratorImpl>(seed): a private CPU generator."""
    return torch.Generator(device="cpu").manual_seed(int(seed) & MASK64)


def default_device():
    """Where factory functions put tensors: the CPU, or what torch.set_default_device chose
    (bench --device cuda)."""
    return torch.empty(0).device


def seeded_normal(shape, seed, device=None):
    """ll::seededNormal: randn from a private CPU generator seeded by `seed`, then moved."""
    z = torch.randn(list(shape), generator=seeded_generator(seed), device="cpu")
    return z.to(device or default_device())


def truncated_normal(shape, seed, limit, device=None):
    """ll::truncatedNormal: randn from the seed, the entries with |z| > limit redrawn (from
    the same generator, in masked_scatter_'s order) until none is left, then clamped."""
    gen = seeded_generator(seed)
    z = torch.randn(list(shape), generator=gen, device="cpu")
    if limit > 0:
        for _ in range(1000):
            outside = z.abs() > limit
            n = outside.sum().item()
            if n == 0:
                break
            z.masked_scatter_(outside, torch.randn(n, generator=gen, device="cpu"))
        z.clamp_(-limit, limit)
    return z.to(device or default_device())


def to_images(values, shape):
    """ll::toImages: N x C x H x W in [0, 1], float32, on the CPU."""
    return (values.reshape(values.size(0), shape.channels, shape.height, shape.width)
            .clamp(0, 1).to("cpu", torch.float32))
