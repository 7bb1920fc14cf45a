"""Python mirror of core/models/vae.h / vae.cpp and vaeparts.h / vaeparts.cpp: ll::Vae's
three kinds ("vae", "cvae", "chaotic-vae"), its nets ll::CvaeNet and ll::ConvVaeNet, its
likelihoods, ll::FittedPrior and ll::ChaoticNoise (the logistic-map noise source).

The networks are built in the C++ constructor's order (encoder, decoder, then for the chaotic
kind the map's start values from torch's global generator), so that the same torch.manual_seed
gives the same initial weights and noise state; the training step draws its Gaussian noise with
randn_like on the global generator, as the C++ does, and the chaotic noise walks the same
float64 orbits (bit for bit: the map, its trap kicks and the standardisation are the same IEEE
operations in the same order).
"""

import math

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

import common

_MASK = (1 << 64) - 1
_LCG_A = 6364136223846793005
_LCG_C = 1442695040888963407


def _kicked(kick):
    """The trap escape of vae.cpp's logistic(): the kick's next LCG value and the new x."""
    kick = (kick * _LCG_A + _LCG_C) & _MASK
    return kick, 0.05 + 0.9 * float(kick >> 11) * 2.0 ** -53


def _logistic(x, r, kick):
    """vae.cpp's logistic(): one step of the map, kept off its traps. Returns (x', kick)."""
    nxt = r * x * (1 - x)
    if not (0 < nxt < 1) or nxt == x:
        kick, nxt = _kicked(kick)
    return nxt, kick


def _seeded_starts(units, r, seed):
    """vae.cpp's seededStarts: uniform starts in (0.05, 0.95) from a uint64 LCG on the seed,
    each burnt in 64 steps with the same LCG state as the trap kick."""
    x = []
    s = (seed * 0x9E3779B97F4A7C15 + 0xD1B54A32D192ED03) & _MASK
    for _ in range(units):
        s = (s * _LCG_A + _LCG_C) & _MASK
        v = 0.05 + 0.9 * float(s >> 11) * 2.0 ** -53
        for _ in range(64):
            v, s = _logistic(v, r, s)
        x.append(v)
    return x


def _walk(start, n, r, kick):
    """n steps of the map from `start` (units, float64) as the C++ loops run them: row by row,
    unit by unit, one kick state shared by all. Returns the (n x units) orbit and the kick.

    A whole row runs per numpy operation; from the first row with a trap (a value outside
    (0, 1) or a fixed point: practically never) on, unit by unit, so that the kicks come in
    the C++ loop's (row, unit) order."""
    units = start.shape[0]
    orbit = np.empty((n + 1, units), dtype=np.float64)
    orbit[0] = start
    scratch = np.empty(units, dtype=np.float64)
    for i in range(n):
        # r * x * (1 - x), evaluated as (r * x) * (1 - x) like the C++.
        np.multiply(r, orbit[i], out=orbit[i + 1])
        np.subtract(1, orbit[i], out=scratch)
        orbit[i + 1] *= scratch
    rows = orbit[1:]
    bad = ~((rows > 0) & (rows < 1)) | (rows == orbit[:-1])
    if bad.any():
        first = int(np.flatnonzero(bad.any(1))[0])
        for i in range(first, n):
            for j in range(units):
                orbit[i + 1, j], kick = _logistic(float(orbit[i, j]), r, kick)
    return orbit[1:], kick


def _normal_quantile(p):
    """vae.cpp's normalQuantile: Acklam's approximation refined by one Halley step."""
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771972e+01, -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
         -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
         3.754408661907416e+00)
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        x = ((((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
             ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1))
    elif p > 1 - 0.02425:
        q = math.sqrt(-2 * math.log(1 - p))
        x = -((((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
              ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1))
    else:
        q = p - 0.5
        t = q * q
        x = ((((((a[0] * t + a[1]) * t + a[2]) * t + a[3]) * t + a[4]) * t + a[5]) * q /
             (((((b[0] * t + b[1]) * t + b[2]) * t + b[3]) * t + b[4]) * t + 1))
    e = 0.5 * math.erfc(-x / math.sqrt(2.0)) - p
    u = e * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
    return x - u / (1 + x * u / 2)


class CvaeNet(nn.Module):
    """ll::CvaeNet: an Mlp encoder (data beside the condition) to mu and logvar, and a
    ConditionalMlp decoder with the hidden widths reversed; an unconditional net passes an
    empty (N x 0) condition, which the cats carry along as the C++ does."""

    def __init__(self, data_dim, condition_dim, latent, hidden):
        super().__init__()
        self.latent = latent
        self.encoder = common.Mlp(data_dim + condition_dim, hidden, 2 * latent)
        self.decoder = common.ConditionalMlp(latent, condition_dim, list(reversed(hidden)),
                                             data_dim)

    def encode(self, x, condition):
        mu, logvar = self.encoder(torch.cat([x, condition], 1)).chunk(2, 1)
        return mu, logvar.clamp(-12, 8)

    def decode(self, z, condition):
        return self.decoder(z, condition)


class ConvVaeNet(nn.Module):
    """ll::ConvVaeNet: 4x4 stride-2 convolutions (LeakyReLU 0.2) down to at most 8 pixels on
    the longer side (at least twice), a fully connected layer each way, nearest upsampling to
    the encoder's sizes with 3x3 convolutions (one-hot class maps beside each), and a last
    3x3 convolution; layers built in the C++ order."""

    def __init__(self, shape, condition_dim, latent, width, fc):
        super().__init__()
        if shape.tabular:
            raise ValueError("setting 'net' = conv is for images")
        self.latent = latent
        self.shape = shape
        sizes = [(shape.height, shape.width)]
        while True:
            h, w = sizes[-1]
            if (max(h, w) <= 8 and len(sizes) >= 3) or min(h, w) < 2:
                break
            sizes.append((h // 2, w // 2))
        self.sizes = sizes
        levels = len(sizes) - 1

        def channels(level):
            return min(256, width << (level - 1))

        self.top = channels(levels)
        flat = self.top * sizes[-1][0] * sizes[-1][1]
        down, inp = [], shape.channels
        for level in range(1, levels + 1):
            down += [nn.Conv2d(inp, channels(level), 4, 2, 1), nn.LeakyReLU(0.2)]
            inp = channels(level)
        self.down = nn.Sequential(*down)
        self.encoder_fc = nn.Sequential(nn.Linear(flat + condition_dim, fc), nn.LeakyReLU(0.2),
                                        nn.Linear(fc, 2 * latent))
        self.decoder_fc = nn.Sequential(nn.Linear(latent + condition_dim, fc), nn.ReLU(),
                                        nn.Linear(fc, flat), nn.ReLU())
        self.up = nn.ModuleList()
        inp = self.top
        for level in range(levels - 1, -1, -1):
            out = channels(level) if level > 0 else max(4, width // 2)
            self.up.append(nn.Conv2d(inp + condition_dim, out, 3, padding=1))
            inp = out
        self.out = nn.Conv2d(inp, shape.channels, 3, padding=1)

    @staticmethod
    def _with_class_maps(h, condition):
        if condition.size(1) == 0:
            return h
        maps = condition[:, :, None, None].expand(-1, -1, h.size(2), h.size(3))
        return torch.cat([h, maps], 1)

    def encode(self, x, condition):
        s = self.shape
        h = self.down(x.reshape(x.size(0), s.channels, s.height, s.width)).flatten(1)
        mu, logvar = self.encoder_fc(torch.cat([h, condition], 1)).chunk(2, 1)
        return mu, logvar.clamp(-12, 8)

    def decode(self, z, condition):
        n = z.size(0)
        h = self.decoder_fc(torch.cat([z, condition], 1)).view(n, self.top, *self.sizes[-1])
        for i, conv in enumerate(self.up):
            h = F.interpolate(h, size=self.sizes[-2 - i], mode="nearest")
            h = torch.relu(conv(self._with_class_maps(h, condition)))
        return self.out(h).reshape(n, -1)


class FittedPrior(nn.Module):
    """ll::FittedPrior: per class, running E[z] and E[z z^T] of the posterior means over
    about the last 4,096 rows; draws mean + cholesky(cov + 1e-4 I) noise."""

    WINDOW = 4096.0
    JITTER = 1e-4

    def __init__(self, components, latent):
        super().__init__()
        self.register_buffer("mean", torch.zeros(components, latent))
        self.register_buffer("second",
                             torch.eye(latent).expand(components, latent, latent).clone())
        self.register_buffer("count", torch.zeros(components, dtype=torch.float64))

    @torch.no_grad()
    def update(self, mu, labels):
        k = self.mean.size(0)
        z = mu.detach().float()
        one_hot = F.one_hot(labels.long().clamp(0, k - 1), k).float()
        rows = one_hot.sum(0)
        sums = one_hot.t().mm(z)
        outer = torch.einsum("nk,nl,nm->klm", one_hot, z, z)
        seen = rows.double()
        window = torch.clamp_max(self.count + seen, self.WINDOW).clamp_min(seen)
        rate = (seen / window).nan_to_num(0).float()
        safe = rows.clamp_min(1)
        self.mean += rate[:, None] * (sums / safe[:, None] - self.mean)
        self.second += rate.view(k, 1, 1) * (outer / safe.view(k, 1, 1) - self.second)
        self.count += seen

    @torch.no_grad()
    def draw(self, components, noise):
        latent = self.mean.size(1)
        eye = torch.eye(latent)
        cov = self.second - self.mean[:, :, None] * self.mean[:, None, :]
        cov = 0.5 * (cov + cov.transpose(1, 2)) + self.JITTER * eye
        factor, info = torch.linalg.cholesky_ex(cov)
        diagonal = torch.diag_embed(cov.diagonal(0, 1, 2).clamp_min(self.JITTER).sqrt())
        factor = torch.where(info.ne(0).view(-1, 1, 1), diagonal, factor)
        fitted = self.count.gt(0)
        factor = torch.where(fitted.view(-1, 1, 1), factor, eye)
        centres = torch.where(fitted.view(-1, 1), self.mean, torch.zeros_like(self.mean))
        c = components.long()
        return centres[c] + factor[c].bmm(noise.float()[:, :, None]).squeeze(2)

    def pick(self, n, seed):
        weights = self.count.to("cpu", torch.float64)
        if weights.sum().item() <= 0:
            weights = torch.ones_like(weights)
        gen = common.seeded_generator(seed ^ 0x5851F42D4C957F2D)
        return torch.multinomial(weights, n, True, generator=gen)

    def centre(self, labels, n):
        fitted = self.count.gt(0)
        centres = torch.where(fitted.view(-1, 1), self.mean, torch.zeros_like(self.mean))
        if labels is None:
            w = self.count.float()
            return (w[None, :].mm(centres) / w.sum().clamp_min(1)).expand(n, -1)
        return centres[labels.long()]


class ChaoticNoise(nn.Module):
    """ll::ChaoticNoise: one logistic-map orbit per latent unit, its state a float64 buffer
    (`state`, as the C++ checkpoints it), standardised with the map's own mean and spread or
    (inverse_normal) sent through its CDF and the inverse normal CDF."""

    stays_on_cpu = True  # as the C++ keeps it: its state is walked through numpy

    def __init__(self, units, r, initial, inverse_normal=False):
        super().__init__()
        if not (3.56995 < r <= 4):
            raise ValueError("setting 'r' must lie in (3.57, 4]")
        self.r = r
        self.inverse_normal = inverse_normal
        # The map's mean and spread for this r, and the periodic-window check, as the C++.
        kick = 12345
        x = 0.3141592653589793
        for _ in range(2000):
            nxt = r * x * (1 - x)
            if not (0 < nxt < 1) or nxt == x:
                kick, nxt = _kicked(kick)
            x = nxt
        count = 200000
        tail = [0.0] * 64
        total = total_sq = 0.0
        for i in range(count):
            nxt = r * x * (1 - x)
            if not (0 < nxt < 1) or nxt == x:
                kick, nxt = _kicked(kick)
            x = nxt
            total += x
            total_sq += x * x
            tail[i % 64] = x
        for period in range(1, 33):
            repeats, i = True, 0
            while i + period < len(tail) and repeats:
                repeats = abs(tail[i] - tail[i + period]) < 1e-9
                i += 1
            if repeats:
                raise ValueError(f"setting 'r' = {r} lies in a periodic window of the logistic "
                                 f"map (period {period}); choose another, e.g. 4")
        self.mean = total / count
        self.stddev = math.sqrt(max(1e-12, total_sq / count - self.mean * self.mean))
        self.quantiles = None
        if inverse_normal and r < 4:
            orbit = []
            for _ in range(count):
                x, kick = _logistic(x, r, kick)
                orbit.append(x)
            orbit.sort()
            self.quantiles = np.array(
                [orbit[i * (count - 1) // 4096] for i in range(4097)], dtype=np.float64)
        self.register_buffer(
            "state", initial.to(torch.float64).clamp(1e-9, 1 - 1e-9).contiguous())
        if self.state.numel() != units:
            raise ValueError("chaotic state has the wrong size")

    @staticmethod
    def starts_from(units, r, x0):
        """ChaoticNoiseImpl::startsFrom: unit j starts 64 + 17 j steps along x0's orbit."""
        if not (0 < x0 < 1):
            raise ValueError("setting 'start' must lie in (0, 1)")
        out = torch.empty(units, dtype=torch.float64, device="cpu")
        kick = 0x853C49E6748FEA9B
        x = x0
        for _ in range(64):
            x, kick = _logistic(x, r, kick)
        for j in range(units):
            out[j] = x
            for _ in range(17):
                x, kick = _logistic(x, r, kick)
        return out

    def _transform(self, values):
        """float64 map values (any shape) to the float32 noise, as ChaoticNoiseImpl::transform."""
        if not self.inverse_normal:
            return ((values - self.mean) / self.stddev).astype(np.float32)
        flat = values.reshape(-1)
        out = np.empty(flat.shape, dtype=np.float32)
        for k, x in enumerate(flat.tolist()):
            if self.quantiles is None:
                u = 2 / math.pi * math.asin(math.sqrt(x))
            else:
                i = float(np.searchsorted(self.quantiles, x, side="left"))
                u = (i + 0.5) / float(len(self.quantiles) + 1)
            out[k] = _normal_quantile(min(max(u, 1e-7), 1 - 1e-7))
        return out.reshape(values.shape)

    def next(self, n):
        """ChaoticNoiseImpl::next: the next n values of every orbit (n x units, float32), the
        state moved on."""
        s = self.state.numpy()  # shares the buffer's memory
        rows, _ = _walk(s, n, self.r, 0x2545F4914F6CDD1D)
        if n > 0:
            s[:] = rows[n - 1]
        return torch.from_numpy(self._transform(rows))

    def fresh(self, n, seed):
        """ChaoticNoiseImpl::fresh: n x units float32 noise from orbits started afresh from
        the seed (seededStarts), the state untouched."""
        seed &= _MASK
        start = np.array(_seeded_starts(self.state.numel(), self.r, seed), dtype=np.float64)
        rows, _ = _walk(start, n, self.r, seed ^ 0x2545F4914F6CDD1D)
        return torch.from_numpy(self._transform(rows))


class Vae:
    """ll::Vae: Bernoulli (images) or unit-variance Gaussian (tabular) likelihood, sum / n
    reductions, beta-weighted KL, gradients dropped, Adam with LibTorch's defaults, three
    .item() reads per step."""

    KINDS = ("vae", "cvae", "chaotic-vae")

    def __init__(self, kind, shape, settings, lr):
        if kind not in self.KINDS:
            raise ValueError(f"not a VAE: {kind}")
        self.kind = kind
        self.shape = shape
        latent = common.whole(settings, "latent")
        hidden = common.ints(settings, "hidden")
        self.beta = common.number(settings, "beta")
        if latent < 1 or latent > 4096:
            raise ValueError("setting 'latent' must lie in 1..4096")
        if self.beta < 0:
            raise ValueError("setting 'beta' must not be negative")
        condition_dim = shape.num_classes if kind == "cvae" else 0
        net = str(settings.get("net", "mlp") or "mlp")
        self.likelihood = str(settings.get("likelihood", "auto") or "auto")
        if self.likelihood == "auto":
            self.likelihood = "unit-gaussian" if shape.tabular else "bernoulli"
        if self.likelihood not in ("bernoulli", "unit-gaussian", "gaussian"):
            raise ValueError(f"setting 'likelihood': {self.likelihood}")
        prior = str(settings.get("prior", "standard") or "standard")
        self.bf16 = common.bf16(settings)
        if net == "auto":
            fits = not shape.tabular and shape.height >= 4 and shape.width >= 4
            net = "conv" if fits else "mlp"
        if net == "conv":
            width = int(settings.get("width", 32))
            self.net = ConvVaeNet(shape, condition_dim, latent, width, hidden[0])
        elif net == "mlp":
            self.net = CvaeNet(shape.data_dim, condition_dim, latent, hidden)
        else:
            raise ValueError(f"setting 'net' must be mlp or conv, not '{net}'")
        if self.likelihood == "gaussian":
            self.net.log_sigma = nn.Parameter(torch.full((1,), 0.0 if shape.tabular else -1.0))
        self.prior = FittedPrior(max(1, shape.num_classes), latent) if prior == "fitted" else None
        self.noise = None
        if kind == "chaotic-vae":
            r = common.number(settings, "r")
            transform = str(settings.get("transform", ""))
            if transform not in ("", "standardise", "inverse-normal"):
                raise ValueError(f"setting 'transform' must be standardise or inverse-normal, "
                                 f"not '{transform}'")
            start = str(settings.get("start", ""))
            # The run's seed through torch's global generator, after the net's weights.
            # On the CPU, as the C++ keeps its orbits (their state is read through numpy).
            initial = (torch.rand(latent, dtype=torch.float64, device="cpu")
                       if start in ("", "random")
                       else ChaoticNoise.starts_from(latent, r, common.number(settings, "start")))
            self.noise = ChaoticNoise(latent, r, initial, transform == "inverse-normal")
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr)

    def modules(self):
        return ([self.net] + ([self.noise] if self.noise is not None else []) +
                ([self.prior] if self.prior is not None else []))

    def condition(self, y):
        if self.kind != "cvae":
            return torch.empty(y.size(0), 0)
        return F.one_hot(y, self.shape.num_classes).to(torch.float32)

    def encode(self, x, y):
        """Vae::encode: posterior means and log-variances of data x."""
        flat = x.reshape(x.size(0), -1)
        return self.net.encode(flat, self.condition(y))

    def encode_mean(self, x, y):
        """Vae::encodeLatents (and latent-ddpm's encodeMean of its own VAE): no gradients,
        eval mode, the posterior means."""
        with torch.no_grad():
            self.net.eval()
            return self.encode(x, y)[0]

    def decode_output(self, z, y):
        """Vae::decode: the decoder's output for latents z, through the sigmoid and toImages
        (images in [0, 1], N x C x H x W, float32) or the bare means (tabular rows)."""
        out = self.output_mean(self.net.decode(z, self.condition(y)))
        if self.shape.tabular:
            return out
        return common.to_images(out, self.shape)

    def output_mean(self, out):
        return out if self.shape.tabular else torch.sigmoid(out)

    def row_error(self, out, flat):
        """Vae::rowError: each row's negative log-likelihood (without constants)."""
        if self.likelihood == "bernoulli":
            return F.binary_cross_entropy_with_logits(out, flat, reduction="none").sum(1)
        if self.likelihood == "unit-gaussian":
            return 0.5 * (self.output_mean(out) - flat).pow(2).sum(1)
        log_sigma = self.net.log_sigma.clamp_min(-7)
        scaled = (self.output_mean(out) - flat) * torch.exp(-log_sigma)
        return 0.5 * scaled.pow(2).sum(1) + log_sigma * float(flat.size(1))

    def latents(self, count, seed):
        """Vae::latents: the chaotic kind's fresh orbits from the seed, else seededNormal."""
        with torch.no_grad():
            if self.noise is not None:
                noise = self.noise.fresh(count, seed).to(common.default_device())
            else:
                noise = common.seeded_normal((count, self.net.latent), seed)
            if self.prior is None:
                return noise
            if self.kind == "cvae":
                components = common.request_labels(count, self.shape.num_classes)
            else:
                components = self.prior.pick(count, seed)
            return self.prior.draw(components, noise)

    def decode_latents(self, z, labels=None, temperature=1.0):
        """Vae::decodeLatents: no gradients, eval mode, z times the temperature through
        decode, for `labels` (int64 N; None: the request's empty labels, classes in turn)."""
        with torch.no_grad():
            self.net.eval()
            if labels is None:
                labels = common.request_labels(z.size(0), self.shape.num_classes)
            if temperature != 1:
                if self.prior is not None:
                    centre = self.prior.centre(labels if self.kind == "cvae" else None,
                                               z.size(0))
                    z = centre + (z - centre) * temperature
                else:
                    z = z * temperature
            return self.decode_output(z, labels)

    def sample(self, count, seed, temperature=1.0, truncation=0.0):
        """GenerativeModel::sample(SampleRequest{count, seed, labels={}, temperature,
        truncation}) of ll::Vae: decodeLatents(latents(request), request); truncation is a
        GAN knob the VAE ignores."""
        return self.decode_latents(self.latents(count, seed), None, temperature)

    def decode(self, z, labels):
        """The decoder's images for latents z, as Vae::decodeLatents at temperature 1 (and
        latent-ddpm's LatentDdpm::decode of its own VAE: eval, the net's decode with an empty
        condition, sigmoid, toImages). labels: int64 N, read by the cvae only (None for the
        others)."""
        with torch.no_grad():
            self.net.eval()
            if labels is None:
                if self.kind == "cvae":
                    raise ValueError("a cvae decodes for labels: pass them")
                labels = torch.zeros(z.size(0), dtype=torch.int64)
            return self.decode_output(z, labels)

    def train_step(self, x, y):
        self.net.train()
        n = x.size(0)
        flat = x.reshape(n, -1)
        c = self.condition(y)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            return self._train_step(flat, y, c)

    def _train_step(self, flat, y, c):
        n = flat.size(0)
        mu, logvar = self.net.encode(flat, c)
        mu, logvar = mu.float(), logvar.float()
        if self.prior is not None:
            self.prior.update(mu, y)
        noise = (self.noise.next(n).to(mu.device) if self.noise is not None
                 else torch.randn_like(mu))
        z = mu + noise * (0.5 * logvar).exp()
        out = self.net.decode(z, c).float()
        if self.likelihood == "bernoulli":
            recon = F.binary_cross_entropy_with_logits(out, flat, reduction="sum") / n
        elif self.likelihood == "unit-gaussian":
            recon = 0.5 * (self.output_mean(out) - flat).pow(2).sum() / n
        else:
            recon = self.row_error(out, flat).sum() / n
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum() / n
        loss = recon + self.beta * kl
        common.drop_gradients(self.net)
        loss.backward()
        self.optimizer.step()
        losses = {"loss": loss.item(), "reconstruction": recon.item(), "kl": kl.item()}
        if self.likelihood == "gaussian":
            losses["sigma"] = self.net.log_sigma.exp().item()
        return losses


def build(name, shape, settings, lr):
    return Vae(name, shape, settings, lr)
