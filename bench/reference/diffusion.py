"""Python mirrors of LatentLab's diffusion family: "ddpm", "latent-ddpm" and "noisy-classifier".

Mirrors core/models/diffusion.h/.cpp (Ddpm, NoisyClassifier, noiseBatch, emaDecay, the
DiffusionState buffers), core/models/unet.h/.cpp (UNet, ResBlock, NoisyClassifierNet,
sinusoidalEmbedding), core/models/schedule.h/.cpp (NoiseSchedule) and
core/models/latentdiffusion.h/.cpp (LatentDdpm, LatentDenoiser, ResidualMlpBlock; its owned
VAE is the "vae" mirror of reference/vae.py, built as the C++ builds its CvaeNet).

Sampling mirrors core/models/diffusionsampler.h/.cpp (sampleDiffusion: DDIM with eta = 0 and
ancestral DDPM on the respaced chain, classifier-free guidance in one doubled batch, the
guidance interval, the x_0 clip, classifier guidance from a noisy classifier's gradient),
Ddpm::sample/latents/decodeLatents, LatentDdpm::sample/latents/decodeLatents and
ll::requestLabels / ll::seededNormal (private CPU generators seeded by the request's seed).
"""

import math

import torch
from torch import nn
import torch.nn.functional as F

import common

# --- schedule.cpp ---------------------------------------------------------------------------


def alpha_bars(kind, timesteps):
    """ll::NoiseSchedule's alphaBar, in doubles with the C++'s operation order."""
    if kind not in ("linear", "cosine"):
        raise ValueError(f"setting 'schedule': '{kind}' is not a noise schedule")
    n = timesteps
    if kind == "linear":
        scale = 1000.0 / n
        first, last = min(0.999, scale * 1e-4), min(0.999, scale * 0.02)
        betas = [first + (last - first) * float(t) / float(n - 1) for t in range(n)]
    else:
        s = 0.008

        def f(t):
            c = math.cos((t / float(n) + s) / (1 + s) * math.pi / 2)
            return c * c

        betas = [min(0.999, 1 - f(float(t + 1)) / f(float(t))) for t in range(n)]
    out, product = [], 1.0
    for b in betas:
        product *= 1 - b
        out.append(product)
    return out


def respaced(timesteps, steps):
    """ll::NoiseSchedule::respaced: `steps` timesteps spread evenly over 0..T-1, ascending,
    always ending at T - 1; steps <= 0 or >= T gives all of them."""
    total = timesteps
    if steps <= 0 or steps >= total:
        return list(range(total))
    if steps == 1:
        return [total - 1]
    out = []
    for i in range(steps):
        v = float(total - 1) * i / (steps - 1)
        # std::lround: halves away from zero (v >= 0 here; v - floor(v) is exact).
        r = int(math.floor(v))
        if v - r >= 0.5:
            r += 1
        if not out or out[-1] != r:  # std::unique on an ascending list
            out.append(r)
    return out


def alpha_bar_tensor(alpha_bar):
    """ll::alphaBarTensor: float64 values cast to float32, built afresh on every call."""
    return torch.tensor(alpha_bar, dtype=torch.float64).to(torch.float32)


class DiffusionSettings:
    """ll::readDiffusionSettings (the values; the C++ side has validated them)."""

    def __init__(self, settings):
        self.timesteps = common.whole(settings, "timesteps")
        self.alpha_bar = alpha_bars(str(settings["schedule"]), self.timesteps)
        self.label_dropout = common.number(settings, "label_dropout")
        self.ema = common.number(settings, "ema")
        self.sample_steps = common.whole(settings, "sample_steps")


def noise_batch(x0, labels, diffusion, null_label):
    """ll::noiseBatch: label-dropout mask, timesteps, noise, in that order on the global
    generator. Returns (xt, t, noise, labels)."""
    n = x0.size(0)
    if diffusion.label_dropout > 0:
        drop = torch.rand(n) < diffusion.label_dropout
        labels = torch.where(drop, torch.full_like(labels, null_label), labels)
    t = torch.randint(diffusion.timesteps, (n,), dtype=torch.int64)
    per_sample = [n] + [1] * (x0.dim() - 1)
    ab = alpha_bar_tensor(diffusion.alpha_bar).index_select(0, t).view(per_sample)
    noise = torch.randn_like(x0)
    xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return xt, t, noise, labels


class DiffusionState(nn.Module):
    """ll::DiffusionStateImpl: the step count and the latent scale, buffers only."""

    def __init__(self):
        super().__init__()
        self.register_buffer("step", torch.zeros((), dtype=torch.int64))
        self.register_buffer("scale", torch.zeros((), dtype=torch.float32))


class LatentRange(nn.Module):
    """ll::LatentRangeImpl: the largest |value| of the scaled latents trained on (0: no clip)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("bound", torch.zeros((), dtype=torch.float32))


# --- unet.cpp -------------------------------------------------------------------------------


def sinusoidal_embedding(values, dim):
    """ll::sinusoidalEmbedding."""
    half = dim // 2
    frequencies = torch.exp(torch.arange(half, dtype=torch.float32) * (-math.log(10000.0) / half))
    angles = values.to(torch.float32).unsqueeze(1) * frequencies.unsqueeze(0)
    out = torch.cat([angles.sin(), angles.cos()], 1)
    if dim % 2:
        out = F.pad(out, (0, 1))
    return out


def group_norm(channels):
    return nn.GroupNorm(8 if channels % 8 == 0 else 1, channels)


def conv3(inp, out, stride=1):
    return nn.Conv2d(inp, out, 3, padding=1, stride=stride)


class ResBlock(nn.Module):
    """ll::ResBlockImpl: GroupNorm - SiLU - conv, the embedding added, twice; 1x1 skip."""

    def __init__(self, inp, out, embedding):
        super().__init__()
        self.norm1 = group_norm(inp)
        self.conv1 = conv3(inp, out)
        self.project = nn.Linear(embedding, out)
        self.norm2 = group_norm(out)
        self.conv2 = conv3(out, out)
        self.skip = nn.Conv2d(inp, out, 1) if inp != out else None

    def forward(self, x, embedding):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.project(embedding).unsqueeze(-1).unsqueeze(-1)
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.skip(x) if self.skip is not None else x) + h


def upsample(h):
    return F.interpolate(h, scale_factor=(2.0, 2.0), mode="nearest")


class UNet(nn.Module):
    """ll::UNetImpl: three levels (width, 2 width, 4 width), output conv zero-initialised."""

    def __init__(self, channels, width, num_classes):
        super().__init__()
        e = 4 * width
        self.width = width
        self.time1 = nn.Linear(width, e)
        self.time2 = nn.Linear(e, e)
        self.classes = nn.Embedding(num_classes + 1, e)
        self.stem = conv3(channels, width)
        self.enc0 = ResBlock(width, width, e)
        self.down1 = conv3(width, width, 2)
        self.enc1 = ResBlock(width, 2 * width, e)
        self.down2 = conv3(2 * width, 2 * width, 2)
        self.enc2 = ResBlock(2 * width, 4 * width, e)
        self.mid1 = ResBlock(4 * width, 4 * width, e)
        self.mid2 = ResBlock(4 * width, 4 * width, e)
        self.dec2 = ResBlock(8 * width, 4 * width, e)
        self.up1 = conv3(4 * width, 2 * width)
        self.dec1 = ResBlock(4 * width, 2 * width, e)
        self.up0 = conv3(2 * width, width)
        self.dec0 = ResBlock(2 * width, width, e)
        self.out_norm = group_norm(width)
        self.out = conv3(width, channels)
        with torch.no_grad():
            self.out.weight.zero_()
            self.out.bias.zero_()

    def forward(self, x, t, labels):
        emb = self.time2(F.silu(self.time1(sinusoidal_embedding(t, self.width))))
        emb = F.silu(emb + self.classes(labels))
        h0 = self.enc0(self.stem(x), emb)
        h1 = self.enc1(self.down1(h0), emb)
        h2 = self.enc2(self.down2(h1), emb)
        h = self.mid2(self.mid1(h2, emb), emb)
        h = self.dec2(torch.cat([h, h2], 1), emb)
        h = self.dec1(torch.cat([upsample(self.up1(h)), h1], 1), emb)
        h = self.dec0(torch.cat([upsample(self.up0(h)), h0], 1), emb)
        return self.out(F.silu(self.out_norm(h)))


class NoisyClassifierNet(nn.Module):
    """ll::NoisyClassifierNetImpl: a small ResNet that sees the noise level as log-SNR."""

    def __init__(self, channels, width, num_classes):
        super().__init__()
        e = 4 * width
        self.width = width
        self.level1 = nn.Linear(width, e)
        self.level2 = nn.Linear(e, e)
        self.stem = conv3(channels, width)
        self.block0 = ResBlock(width, width, e)
        self.down1 = conv3(width, width, 2)
        self.block1 = ResBlock(width, 2 * width, e)
        self.down2 = conv3(2 * width, 2 * width, 2)
        self.block2 = ResBlock(2 * width, 4 * width, e)
        self.out_norm = group_norm(4 * width)
        self.head = nn.Linear(4 * width, num_classes)

    def forward(self, x, alpha_bar):
        ab = alpha_bar.to(x.device, torch.float32).clamp(1e-6, 1 - 1e-6)
        level = ((ab / (1 - ab)).log().clamp(-12, 12) + 12) * (1000.0 / 24)
        emb = self.level2(F.silu(self.level1(sinusoidal_embedding(level, self.width))))
        emb = F.silu(emb)
        h = self.block0(self.stem(x), emb)
        h = self.block1(self.down1(h), emb)
        h = self.block2(self.down2(h), emb)
        h = F.silu(self.out_norm(h)).mean((2, 3))
        return self.head(h)


# --- latentdiffusion.cpp --------------------------------------------------------------------


class ResidualMlpBlock(nn.Module):
    """ll::ResidualMlpBlockImpl: LayerNorm - SiLU - Linear, embedding added, SiLU - Linear."""

    def __init__(self, hidden, embedding):
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.project = nn.Linear(embedding, hidden)
        self.fc2 = nn.Linear(hidden, hidden)

    def forward(self, x, embedding):
        h = self.fc1(F.silu(self.norm(x))) + self.project(embedding)
        return x + self.fc2(F.silu(h))


class LatentDenoiser(nn.Module):
    """ll::LatentDenoiserImpl: residual MLP over a latent vector, conditioned on t and class."""

    def __init__(self, latent, hidden, depth, num_classes):
        super().__init__()
        self.hidden = hidden
        self.time1 = nn.Linear(hidden, hidden)
        self.time2 = nn.Linear(hidden, hidden)
        self.classes = nn.Embedding(num_classes + 1, hidden)
        self.stem = nn.Linear(latent, hidden)
        self.blocks = nn.ModuleList(ResidualMlpBlock(hidden, hidden) for _ in range(depth))
        self.out_norm = nn.LayerNorm(hidden)
        self.out = nn.Linear(hidden, latent)

    def forward(self, x, t, labels):
        emb = self.time2(F.silu(self.time1(sinusoidal_embedding(t, self.hidden))))
        emb = F.silu(emb + self.classes(labels))
        h = self.stem(x)
        for block in self.blocks:
            h = block(h, emb)
        return self.out(F.silu(self.out_norm(h)))


# --- layers.cpp (sampling helpers) ----------------------------------------------------------


SAMPLERS = ("ddim", "ddpm")


def parse_sampler(sampler):
    """Sampler::Ddim / Sampler::Ddpm by name (as the CLI spells them)."""
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler '{sampler}': ddim or ddpm")
    return sampler


# --- diffusionsampler.cpp -------------------------------------------------------------------


class Sampling:
    """ll::DiffusionSampling (without live guidance and onStep, which the mirror has no use
    for)."""

    def __init__(self, alpha_bar, shape, labels, null_label, guidance=0.0, guidance_from=0.0,
                 guidance_to=1.0, steps=50, sampler="ddim", clip=0.0, seed=0,
                 classifier_gradient=None, classifier_scale=0.0, initial=None):
        self.alpha_bar = alpha_bar  # the schedule's float64 alphaBar list
        self.shape = list(shape)
        self.labels = labels
        self.null_label = null_label
        self.guidance = float(guidance)
        self.guidance_from = float(guidance_from)
        self.guidance_to = float(guidance_to)
        self.steps = int(steps)
        self.sampler = parse_sampler(sampler)
        self.clip = float(clip)
        self.seed = int(seed)
        self.classifier_gradient = classifier_gradient
        self.classifier_scale = float(classifier_scale)
        self.initial = initial


def null_condition(labels, null_label):
    """ll::nullCondition for int64 labels."""
    return torch.full_like(labels, null_label)


def guided_eps(eps, x, t, s, guidance):
    """diffusionsampler.cpp's guidedEps: classifier-free guidance in one doubled batch."""
    if guidance == 0:
        return eps(x, t, s.labels)
    none = null_condition(s.labels, s.null_label)
    both = eps(torch.cat([x, x]), torch.cat([t, t]), torch.cat([s.labels, none]))
    parts = both.chunk(2, 0)
    return (1 + guidance) * parts[0] - guidance * parts[1]


def sample_diffusion(eps, s):
    """ll::sampleDiffusion: the reverse process from seeded noise (or s.initial), x_0 back.
    Call without autograd, as the C++ asks."""
    alpha_bar = s.alpha_bar
    timesteps = respaced(len(alpha_bar), s.steps)
    n = s.shape[0]
    gen = common.seeded_generator(s.seed)
    device = common.default_device()
    # Drawn even with an initial: DDPM goes on from it.
    x = torch.randn(s.shape, generator=gen, device="cpu").to(device)
    if s.initial is not None:
        x = s.initial.reshape(s.shape).to(device, x.dtype)
    for i in range(len(timesteps) - 1, -1, -1):
        step = timesteps[i]
        ab = alpha_bar[step]
        ab_prev = alpha_bar[timesteps[i - 1]] if i > 0 else 1.0
        t = torch.full((n,), step, dtype=torch.int64)
        level = float(step) / float(len(alpha_bar))
        guided = s.guidance_from <= level <= s.guidance_to
        e = guided_eps(eps, x, t, s, s.guidance if guided else 0.0)
        gradient = None
        if s.classifier_gradient is not None and guided and s.classifier_scale != 0:
            gradient = s.classifier_scale * s.classifier_gradient(
                x, torch.full((n,), ab, dtype=torch.float32))
        if s.sampler == "ddim":
            # eta = 0 (Song et al. 2021); classifier guidance shifts the noise estimate.
            if gradient is not None:
                e = e - math.sqrt(1 - ab) * gradient
            x0 = (x - math.sqrt(1 - ab) * e) / math.sqrt(ab)
            if s.clip > 0:
                x0 = x0.clamp(-s.clip, s.clip)
                e = (x - math.sqrt(ab) * x0) / math.sqrt(1 - ab)
            x = math.sqrt(ab_prev) * x0 + math.sqrt(1 - ab_prev) * e
            continue
        # Ancestral DDPM on the respaced chain.
        beta = 1 - ab / ab_prev
        x0 = (x - math.sqrt(1 - ab) * e) / math.sqrt(ab)
        if s.clip > 0:
            x0 = x0.clamp(-s.clip, s.clip)
        variance = beta * (1 - ab_prev) / (1 - ab)
        mean = ((math.sqrt(ab_prev) * beta / (1 - ab)) * x0 +
                (math.sqrt(1 - beta) * (1 - ab_prev) / (1 - ab)) * x)
        if gradient is not None:
            mean = mean + variance * gradient
        noise = torch.randn(s.shape, generator=gen, device="cpu").to(device) if i > 0 else None
        x = mean + math.sqrt(variance) * noise if i > 0 else mean
    return x


def classifier_guidance(classifier, shape, labels):
    """ll::classifierGuidance: the gradient of log p(labels | x_t) from a noisy classifier
    (autograd on, whatever the caller's mode), unscaled; None without a classifier."""
    if classifier is None:
        return None
    if not hasattr(classifier, "classify_noisy"):
        raise ValueError("classifier guidance needs a noisy classifier")
    if classifier.shape != shape:
        raise ValueError("the guiding classifier was trained on other data (its input shape "
                         "or classes differ)")

    def gradient(x, alpha_bar):
        with torch.enable_grad():
            inp = x.detach().requires_grad_(True)
            logits = classifier.classify_noisy(inp, alpha_bar)
            log_p = torch.log_softmax(logits, 1)
            chosen = log_p.gather(1, labels.unsqueeze(1)).sum()
            grad = torch.autograd.grad([chosen], [inp])[0]
        return grad.detach()

    return gradient


# --- the models -----------------------------------------------------------------------------


def check_images(shape, model):
    if shape.tabular:
        raise ValueError(f"'{model}' models images, not tabular rows")
    if shape.height % 4 or shape.width % 4 or shape.height < 8 or shape.width < 8:
        raise ValueError(f"'{model}' needs image sides that are multiples of 4")


class Ddpm:
    """ll::Ddpm: U-Net noise predictor, label dropout, EMA copy with a warmed-up decay."""

    def __init__(self, shape, settings, lr):
        check_images(shape, "ddpm")
        self.shape = shape
        self.diffusion = DiffusionSettings(settings)
        width = common.whole(settings, "width")
        self.net = UNet(shape.channels, width, shape.num_classes)
        self.ema = UNet(shape.channels, width, shape.num_classes)
        self.state = DiffusionState()
        common.update_ema(self.ema, self.net, 0)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr)

    def train_step(self, x, y):
        self.net.train()
        xt, t, noise, labels = noise_batch(x * 2 - 1, y, self.diffusion, self.shape.num_classes)
        loss = F.mse_loss(self.net(xt, t, labels), noise)
        common.drop_gradients(self.net)
        loss.backward()
        self.optimizer.step()
        step = self.state.step.item()
        common.update_ema(self.ema, self.net, common.ema_decay(self.diffusion.ema, step))
        self.state.step.fill_(step + 1)
        return {"loss": loss.item()}

    def latents(self, count, seed):
        """Ddpm::latents: x_T, flat (N x C H W), from a private generator seeded by `seed`."""
        shape = self.shape
        return common.seeded_normal([count, shape.channels * shape.height * shape.width], seed)

    def decode_latents(self, z, seed, guidance=0.0, steps=0, sampler="ddim", classifier=None,
                       classifier_scale=0.0, labels=None, guidance_from=0.0, guidance_to=1.0):
        """Ddpm::decodeLatents: DDIM or ancestral DDPM from x_T = z with the EMA U-Net, the
        predicted x_0 clipped to [-1, 1]; images in [0, 1]."""
        shape = self.shape
        count = z.size(0)
        with torch.no_grad():
            self.ema.eval()
            y = common.request_labels(count, shape.num_classes, labels)
            s = Sampling(self.diffusion.alpha_bar,
                         [count, shape.channels, shape.height, shape.width], y,
                         shape.num_classes, guidance=guidance, guidance_from=guidance_from,
                         guidance_to=guidance_to,
                         steps=steps if steps > 0 else self.diffusion.sample_steps,
                         sampler=sampler, clip=1, seed=seed,
                         classifier_gradient=classifier_guidance(classifier, shape, y),
                         classifier_scale=classifier_scale, initial=z)
            return common.to_images((sample_diffusion(self.ema, s) + 1) / 2, shape)

    def sample(self, count, seed, guidance=0.0, steps=0, sampler="ddim", classifier=None,
               classifier_scale=0.0, labels=None, guidance_from=0.0, guidance_to=1.0):
        """Ddpm::sample(SampleRequest{count, seed, labels, guidance, guidanceFrom/To, steps,
        sampler, classifier, classifierScale}): images N x C x H x W in [0, 1]."""
        return self.decode_latents(self.latents(count, seed), seed, guidance, steps, sampler,
                                   classifier, classifier_scale, labels, guidance_from,
                                   guidance_to)

    def modules(self):
        return [self.net, self.ema, self.state]


class NoisyClassifier:
    """ll::NoisyClassifier: a classifier of x_t at timesteps drawn from the schedule."""

    def __init__(self, shape, settings, lr):
        check_images(shape, "noisy-classifier")
        self.shape = shape
        self.timesteps = common.whole(settings, "timesteps")
        self.alpha_bar = alpha_bars(str(settings["schedule"]), self.timesteps)
        width = common.whole(settings, "width")
        self.net = NoisyClassifierNet(shape.channels, width, shape.num_classes)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr)

    def train_step(self, x, y):
        self.net.train()
        n = x.size(0)
        x0 = x * 2 - 1
        t = torch.randint(self.timesteps, (n,), dtype=torch.int64)
        ab = alpha_bar_tensor(self.alpha_bar).index_select(0, t)
        a = ab.view(n, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * torch.randn_like(x0)
        return common.classifier_step(self.net, self.optimizer, self.net(xt, ab), y)

    def classify_noisy(self, x, alpha_bar):
        """NoisyClassifier::classifyNoisy: logits of x_t (diffusion space) at signal levels
        alpha_bar (N), in eval mode; differentiable in x."""
        self.net.eval()
        return self.net(x, alpha_bar)

    def classify(self, x):
        """NoisyClassifier::classify: logits of clean images in [0, 1]."""
        with torch.no_grad():
            clean = torch.full((x.size(0),), 1 - 1e-4, dtype=torch.float32)
            return self.classify_noisy(x * 2 - 1, clean)

    def modules(self):
        return [self.net]


class EncodingCache:
    """ll::EncodingCache (models/encodingcache.cpp): a frozen encoder's outputs by the content
    of the image and its label, so that an image met again is looked up, not encoded again.
    The key is a linear hash modulo 2^64 of the row's float bits and its label (the C++ one
    also mixes the sum; the keys differ, which rows hit does not); unseen rows are encoded in
    one call, in batch order, and kept up to max_bytes of outputs."""

    def __init__(self, max_bytes=256 << 20):
        self.max_bytes = max_bytes
        self.weights = None
        self.store = None
        self.row_of = {}  # key -> its row of store

    def keys(self, x, y):
        n = x.shape[0]
        # Sign-extended (C++: zero-extended): either is one-to-one on the float bits.
        bits = x.reshape(n, -1).float().contiguous().view(torch.int32).to(torch.int64)
        d = bits.shape[1]
        if self.weights is None or self.weights.numel() != d:
            # Odd weights, fixed; int64 products and sums wrap, a hash modulo 2^64.
            g = torch.Generator().manual_seed(0x5EED)
            self.weights = torch.randint(-(1 << 62), 1 << 62, (d,), generator=g) | 1
        return ((bits * self.weights).sum(1) + (y.to(torch.int64) + 1) * 0x2545F4914F6CDD1D)

    def lookup(self, x, y, encode):
        keys = self.keys(x, y).tolist()
        hit_at, hit_row, miss_at, miss_keys = [], [], [], []
        for i, k in enumerate(keys):
            row = self.row_of.get(k)
            if row is None:
                miss_at.append(i)
                miss_keys.append(k)
            else:
                hit_at.append(i)
                hit_row.append(row)
        if not miss_at:
            return self.store.index_select(0, torch.tensor(hit_row, device=self.store.device))
        if hit_at:
            misses = torch.tensor(miss_at)
            encoded = encode(x.index_select(0, misses.to(x.device)),
                             y.index_select(0, misses.to(y.device)))
            out = torch.empty(x.shape[0], encoded.shape[1], dtype=encoded.dtype,
                              device=encoded.device)
            out.index_copy_(0, torch.tensor(hit_at, device=out.device),
                            self.store.index_select(0, torch.tensor(hit_row,
                                                                    device=out.device)))
            out.index_copy_(0, torch.tensor(miss_at, device=out.device), encoded)
        else:
            encoded = encode(x, y)
            out = encoded
        self.keep(encoded, miss_keys)
        return out

    def keep(self, rows, keys):
        kept = len(self.row_of)
        width = rows.shape[1]
        limit = self.max_bytes // max(1, width * rows.element_size())
        wanted = min(limit, kept + rows.shape[0])
        if wanted <= kept:
            return
        if self.store is None or self.store.shape[0] < wanted:
            capacity = min(limit, max(wanted, 2 * self.store.shape[0]
                                      if self.store is not None else 1024))
            grown = torch.empty(capacity, width, dtype=rows.dtype, device=rows.device)
            if kept:
                grown[:kept].copy_(self.store[:kept])
            self.store = grown
        take = []
        for i, k in enumerate(keys):
            if len(self.row_of) >= wanted:
                break
            if k not in self.row_of:
                self.row_of[k] = len(self.row_of)
                take.append(i)
        if take:
            index = torch.tensor(take, device=rows.device)
            self.store[kept:len(self.row_of)].copy_(rows.index_select(0, index))


class LatentDdpm:
    """ll::LatentDdpm with its own VAE (an empty 'autoencoder' setting): vae_steps VAE steps,
    then the denoiser on the frozen encoder's scaled posterior means."""

    def __init__(self, shape, settings, lr):
        if shape.tabular:
            raise ValueError("'latent-ddpm' models images, not tabular rows")
        if str(settings.get("autoencoder", "")):
            raise ValueError("the latent-ddpm mirror trains its own VAE: 'autoencoder' must be "
                             "empty")
        import vae  # reference/vae.py, on sys.path beside this module

        self.shape = shape
        self.diffusion = DiffusionSettings(settings)
        hidden = common.whole(settings, "hidden")
        depth = common.whole(settings, "depth")
        self.latent = common.whole(settings, "latent")
        self.vae_steps = common.whole(settings, "vae_steps")
        # A plain ll::Vae from the vae_* settings (vae_net, vae_width, vae_hidden,
        # vae_likelihood, vae_beta, vae_precision; runs without them had the MLP with the
        # Bernoulli likelihood and beta 1) and the standard prior: the denoiser is the prior.
        own = {"latent": str(self.latent), "beta": "1", "prior": "standard"}
        for key in ("hidden", "net", "width", "likelihood", "beta", "precision"):
            if settings.get("vae_" + key, "") != "":
                own[key] = str(settings["vae_" + key])
        self.vae = vae.build("vae", shape, own, lr)
        self.net = LatentDenoiser(self.latent, hidden, depth, shape.num_classes)
        self.ema = LatentDenoiser(self.latent, hidden, depth, shape.num_classes)
        self.state = DiffusionState()
        self.range = LatentRange()
        common.update_ema(self.ema, self.net, 0)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr)
        self.encodings = EncodingCache()

    def train_step(self, x, y):
        step = self.state.step.item()
        self.state.step.fill_(step + 1)
        if step < self.vae_steps:
            losses = self.vae.train_step(x, y)
            losses["vae_loss"] = losses["loss"]
            return losses

        # The encoder no longer changes: an image seen before has the mean it had then.
        mean = self.encodings.lookup(x, y, self.vae.encode_mean)
        if self.state.scale.item() == 0:
            # Measured once, on the first denoiser batch; stored as float32.
            self.state.scale.fill_(1.0 / max(1e-6, mean.std().item()))
        self.net.train()
        scaled = mean * self.state.scale.item()
        if scaled.numel() > 0:
            self.range.bound.copy_(torch.maximum(self.range.bound, scaled.abs().max()))
        xt, t, noise, labels = noise_batch(scaled, y, self.diffusion, self.shape.num_classes)
        loss = F.mse_loss(self.net(xt, t, labels), noise)
        common.drop_gradients(self.net)
        loss.backward()
        self.optimizer.step()
        common.update_ema(self.ema, self.net,
                          common.ema_decay(self.diffusion.ema, step - self.vae_steps))
        value = loss.item()
        return {"loss": value, "denoiser": value}

    def decode(self, z, labels):
        """LatentDdpm::decode with its own VAE: the decoder (eval mode, an empty condition:
        the plain VAE ignores the labels), sigmoid, images."""
        if hasattr(self.vae, "decode"):
            # vae.py's Vae.decode mirrors Vae::decodeLatents, which for the plain "vae" kind
            # is the same decoder call on an N x 0 condition.
            return self.vae.decode(z, labels)
        net = self.vae.net
        net.eval()
        out = net.decode(z, torch.empty(z.size(0), 0, dtype=z.dtype))
        return common.to_images(torch.sigmoid(out), self.shape)

    def latents(self, count, seed):
        """LatentDdpm::latents: seeded normal N x latent."""
        return common.seeded_normal([count, self.latent], seed)

    def decode_latents(self, z, seed, guidance=0.0, steps=0, sampler="ddim", classifier=None,
                       classifier_scale=0.0, labels=None, guidance_from=0.0, guidance_to=1.0):
        """LatentDdpm::decodeLatents: DDIM or DDPM over the scaled latents with the EMA
        denoiser (x_0 clipped to the range trained on), divided by the scale, through the VAE's
        decoder. Before the
        denoiser has started (scale 0) the VAE's prior samples, as the C++ shows them."""
        count = z.size(0)
        with torch.no_grad():
            if classifier is not None and classifier_scale != 0:
                raise ValueError("latent-ddpm has no classifier guidance: a noisy classifier "
                                 "judges images, this model diffuses VAE latents")
            y = common.request_labels(count, self.shape.num_classes, labels)
            scale = self.state.scale.item()  # the float32 value, as item<float>()
            if scale == 0:
                return self.decode(z, y)
            self.ema.eval()
            s = Sampling(self.diffusion.alpha_bar, [count, self.latent], y,
                         self.shape.num_classes, guidance=guidance,
                         guidance_from=guidance_from, guidance_to=guidance_to,
                         steps=steps if steps > 0 else self.diffusion.sample_steps,
                         sampler=sampler, clip=self.range.bound.item(), seed=seed,
                         initial=z)
            return self.decode(sample_diffusion(self.ema, s) / scale, y)

    def sample(self, count, seed, guidance=0.0, steps=0, sampler="ddim", classifier=None,
               classifier_scale=0.0, labels=None, guidance_from=0.0, guidance_to=1.0):
        """LatentDdpm::sample(SampleRequest{...}): images N x C x H x W in [0, 1]."""
        return self.decode_latents(self.latents(count, seed), seed, guidance, steps, sampler,
                                   classifier, classifier_scale, labels, guidance_from,
                                   guidance_to)

    def modules(self):
        return [self.net, self.ema, self.state, self.range] + list(self.vae.modules())


MODELS = {"ddpm": Ddpm, "latent-ddpm": LatentDdpm, "noisy-classifier": NoisyClassifier}


def build(name, shape, settings, lr):
    """The mirror of registry model `name`: .train_step(x, y) -> losses, .modules(); ddpm and
    latent-ddpm also .sample(count, seed, guidance, steps, sampler, classifier,
    classifier_scale), the noisy classifier .classify_noisy(x_t, alpha_bar)."""
    if name not in MODELS:
        raise KeyError(f"diffusion.py mirrors {sorted(MODELS)}, not '{name}'")
    return MODELS[name](shape, settings, lr)
