"""Python mirror of core/models/gan.h and core/models/gan.cpp: ll::Gan's "dcgan", "cgan",
"acgan" and "wgan-gp" (images, and cgan's tabular MLPs), the same networks built in the same
order and the same training step (non-saturating loss with the mode-seeking term, or the
WGAN-GP critic updates with the gradient penalty), two Adam optimisers with the TTUR ratio.
"""

import copy

import torch
from torch import nn
import torch.nn.functional as F

import common

KINDS = ("dcgan", "cgan", "acgan", "wgan-gp")


def _device(settings):
    """ll::settingDevice: "cpu", "cuda", or "auto" (also when unset or empty)."""
    want = settings.get("device") or "auto"
    if want == "cpu":
        return torch.device("cpu")
    if want == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if want == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("setting 'device' is cuda, but this torch sees no GPU")
        return torch.device("cuda")
    raise ValueError(f"setting 'device': '{want}' is not auto, cpu or cuda")


def _body(*make):
    """nn::Sequential(a(), b(), ...) as GCC builds it: the constructor's arguments are
    evaluated right to left, so the last module draws its initial weights first. `make` holds
    one factory per module, in the Sequential's order."""
    built = [f() for f in reversed(make)]
    return nn.Sequential(*reversed(built))


class GanGenerator(nn.Module):
    """ll::GanGeneratorImpl. Images: [class embedding beside z] -> Linear (no bias) to
    2*width x H/4 x W/4 -> BatchNorm -> ReLU -> (nearest 2x, 3x3 conv, BatchNorm, ReLU) ->
    nearest 2x -> `refine` times (3x3 conv to width/2, BatchNorm, ReLU) -> 3x3 conv to C
    channels: logits. Rows: ConditionalMlp on the one-hot class."""

    def __init__(self, shape, latent, width, hidden, conditional, refine=0):
        super().__init__()
        self.shape, self.latent, self.conditional = shape, latent, conditional
        self.top = 2 * width
        if shape.tabular:
            self.mlp = common.ConditionalMlp(latent, shape.num_classes if conditional else 0,
                                             hidden, shape.features)
            return
        inp = 2 * latent if conditional else latent
        if conditional:
            self.embed = nn.Embedding(shape.num_classes, latent)
        self.project = nn.Linear(inp, self.top * (shape.height // 4) * (shape.width // 4),
                                 bias=False)
        self.norm = nn.BatchNorm2d(self.top)
        up = lambda: nn.Upsample(scale_factor=(2.0, 2.0), mode="nearest")  # noqa: E731
        if refine == 0:
            self.body = _body(up,
                              lambda: nn.Conv2d(self.top, width, 3, padding=1, bias=False),
                              lambda: nn.BatchNorm2d(width),
                              lambda: nn.ReLU(inplace=True),
                              up,
                              lambda: nn.Conv2d(width, shape.channels, 3, padding=1))
            return
        # With refine, built layer by layer in order (push_back in C++).
        layers = [up(), nn.Conv2d(self.top, width, 3, padding=1, bias=False),
                  nn.BatchNorm2d(width), nn.ReLU(inplace=True), up()]
        channels, narrow = width, max(1, width // 2)
        for _ in range(refine):
            layers += [nn.Conv2d(channels, narrow, 3, padding=1, bias=False),
                       nn.BatchNorm2d(narrow), nn.ReLU(inplace=True)]
            channels = narrow
        layers.append(nn.Conv2d(channels, shape.channels, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, z, labels):
        s = self.shape
        if s.tabular:
            condition = (F.one_hot(labels, s.num_classes).to(z.dtype) if self.conditional
                         else torch.empty(z.size(0), 0, dtype=z.dtype, device=z.device))
            return self.mlp(z, condition)
        h = torch.cat([z, self.embed(labels)], 1) if self.conditional else z
        h = self.project(h).view(z.size(0), self.top, s.height // 4, s.width // 4)
        h = torch.relu(self.norm(h))
        return self.body(h)


def _unit(t):
    return t / t.norm().clamp_min(1e-12)


def _power_step(matrix, u):
    """One power-iteration step: v from u, then u from v (models/spectralnorm.cpp)."""
    v = _unit(torch.mv(matrix.t(), u))
    return _unit(torch.mv(matrix, v)), v


class _Spectral(nn.Module):
    """ll::SpectralConv2d / ll::SpectralLinear: the wrapped layer's weight over its spectral
    norm, u and v buffers started from a unit vector of ones (where PyTorch's own draws one)
    with 15 power iterations, one more step per training forward."""

    def __init__(self, name, layer):
        super().__init__()
        setattr(self, name, layer)
        self.name = name
        with torch.no_grad():
            matrix = layer.weight.reshape(layer.weight.size(0), -1)
            u = _unit(torch.ones(matrix.size(0), dtype=matrix.dtype))
            for _ in range(15):
                u, v = _power_step(matrix, u)
        self.register_buffer("u", u)
        self.register_buffer("v", v)

    def weight(self):
        w = getattr(self, self.name).weight
        matrix = w.reshape(w.size(0), -1)
        if self.training:  # a power step makes fresh vectors; without one, copies
            with torch.no_grad():
                u, v = _power_step(matrix.detach(), self.u)
                self.u.copy_(u)
                self.v.copy_(v)
        else:
            u, v = self.u.clone(), self.v.clone()
        return w / torch.dot(u, torch.mv(matrix, v))


class SpectralConv2d(_Spectral):
    def __init__(self, inp, out, kernel, stride, padding, bias=True):
        super().__init__("conv", nn.Conv2d(inp, out, kernel, stride=stride, padding=padding,
                                           bias=bias))

    def forward(self, x):
        return F.conv2d(x, self.weight(), self.conv.bias, self.conv.stride, self.conv.padding)


class SpectralLinear(_Spectral):
    def __init__(self, inp, out):
        super().__init__("linear", nn.Linear(inp, out))

    def forward(self, x):
        return F.linear(x, self.weight(), self.linear.bias)


class GanDiscriminator(nn.Module):
    """ll::GanDiscriminatorImpl: strided 4x4 convolutions with LeakyReLU(0.2), or Linear +
    LeakyReLU per hidden width for rows; a Linear score head; a projection embedding
    (normal(0, 0.02)), an auxiliary class head, or both. `norm` ("d_norm"): "batch" puts batch
    norm on the second convolution, "spectral" normalises every layer but the embedding."""

    def __init__(self, shape, width, hidden, projection, auxiliary, norm):
        super().__init__()
        self.projection, self.auxiliary = projection, auxiliary
        spectral = norm == "spectral"
        linear = SpectralLinear if spectral else nn.Linear

        def conv(inp, out, bias):
            if spectral:
                return SpectralConv2d(inp, out, 4, 2, 1, bias)
            return nn.Conv2d(inp, out, 4, stride=2, padding=1, bias=bias)

        layers = []
        if shape.tabular:
            inp = shape.features
            for h in hidden:
                layers += [linear(inp, h), nn.LeakyReLU(0.2)]
                inp = h
            features = inp
        else:
            batch_norm = norm == "batch"
            layers += [conv(shape.channels, width, True), nn.LeakyReLU(0.2)]
            layers.append(conv(width, 2 * width, not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(2 * width))
            layers += [nn.LeakyReLU(0.2), nn.Flatten()]
            features = 2 * width * (shape.height // 4) * (shape.width // 4)
        self.body = nn.Sequential(*layers)
        self.head = linear(features, 1)
        if projection:
            self.embed = nn.Embedding(shape.num_classes, features)
            nn.init.normal_(self.embed.weight, 0, 0.02)
        if auxiliary:
            self.class_head = nn.Linear(features, shape.num_classes)

    def forward(self, x, labels):
        """(adversarial N, class logits N x K or None) in fp32, as ll::GanScores."""
        features = self.body(x)
        adversarial = self.head(features).squeeze(1).float()
        classes = None
        if self.projection:
            adversarial = adversarial + (self.embed(labels) * features).sum(1)
        if self.auxiliary:
            classes = self.class_head(features).float()
        return adversarial, classes


class Gan:
    """ll::Gan: generator built first, then the discriminator; Adam for each, the
    discriminator's learning rate d_lr_ratio times the generator's; samples from the
    generator's weight average when "ema" is above 0."""

    def __init__(self, kind, shape, settings, lr):
        if kind not in KINDS:
            raise ValueError(f"gan.py mirrors {', '.join(KINDS)}, not '{kind}'")
        if shape.tabular and kind != "cgan":
            raise ValueError("only cgan takes tabular rows")
        self.kind, self.shape = kind, shape
        wasserstein = kind == "wgan-gp"
        self.latent = common.whole(settings, "latent")
        width = 0 if shape.tabular else common.whole(settings, "width")
        hidden = common.ints(settings, "hidden") if shape.tabular else []
        betas = (common.number(settings, "beta1"), common.number(settings, "beta2"))
        self.lr_ratio = common.number(settings, "d_lr_ratio")
        self.mode_seeking = 0.0 if wasserstein else common.number(settings, "mode_seeking")
        self.aux_weight = common.number(settings, "aux_weight") if kind == "acgan" else 0.0
        self.gp = common.number(settings, "gp") if wasserstein else 0.0
        self.critic_steps = common.whole(settings, "critic_steps") if wasserstein else 1
        # Lazy regularisation: the penalty on every gp_every-th critic update, weighted so.
        self.gp_every = (common.whole(settings, "gp_every")
                         if wasserstein and settings.get("gp_every", "") != "" else 1)
        self.critic_updates = 0
        self.latest_penalty = 0.0
        projection = kind == "cgan" or (kind == "acgan" and
                                        float(settings.get("projection", 0) or 0) == 1)
        self.bf16 = common.bf16(settings)
        conditional = kind in ("cgan", "acgan")

        refine = common.whole(settings, "refine") if "refine" in settings and not shape.tabular \
            else 0
        self.generator = GanGenerator(shape, self.latent, width, hidden, conditional, refine)
        norm = settings.get("d_norm") or ("none" if wasserstein else "batch")
        if norm not in ("batch", "spectral", "none") or (wasserstein and norm == "batch"):
            raise ValueError(f"setting 'd_norm': '{norm}' is not one this model takes")
        # "d_width": the discriminator's own width (older runs' settings lack it: as width).
        critic_width = (common.whole(settings, "d_width")
                        if not shape.tabular and settings.get("d_width", "") != "" else width)
        self.discriminator = GanDiscriminator(shape, critic_width, hidden, projection,
                                              kind == "acgan", norm)
        self.device = _device(settings)
        self.generator.to(self.device)
        self.discriminator.to(self.device)
        self.generator_optimizer = torch.optim.Adam(self.generator.parameters(), lr=lr,
                                                    betas=betas)
        self.discriminator_optimizer = torch.optim.Adam(self.discriminator.parameters(),
                                                        lr=lr * self.lr_ratio, betas=betas)
        # The generator's weight average, a copy that draws nothing from the random stream
        # (ll::Gan builds it with the stream's state put back).
        self.ema = common.number(settings, "ema") if "ema" in settings else 0.0
        self.average, self.average_steps = None, 0
        if self.ema > 0:
            self.average = copy.deepcopy(self.generator)
            for p in self.average.parameters():
                p.requires_grad_(False)

    def modules(self):
        average = [self.average] if self.average is not None else []
        return [self.generator, self.discriminator] + average

    def _update_average(self):
        if self.average is not None:
            common.update_ema(self.average, self.generator,
                              common.ema_decay(self.ema, self.average_steps))
            self.average_steps += 1

    def _generate(self, z, y, net=None):
        out = (self.generator if net is None else net)(z, y).float()
        return out if self.shape.tabular else torch.sigmoid(out)

    def latents(self, count, seed, truncation=0.0):
        """Gan::latents: truncatedNormal (count x latent) from the seed, on the device."""
        return common.truncated_normal((count, self.latent), seed, truncation, self.device)

    def decode_latents(self, z, labels=None):
        """Gan::decodeLatents: no gradients, the generator in eval mode (batch norm on its
        running statistics), the request's labels (None: classes in turn) for the conditional
        kinds and zeros for the others, then toImages (images) or float32 CPU rows."""
        with torch.no_grad():
            net = self.average if self.average is not None else self.generator
            net.eval()
            count = z.size(0)
            if self.kind in ("cgan", "acgan"):
                if labels is None:
                    labels = common.request_labels(count, self.shape.num_classes)
            else:
                labels = torch.zeros(count, dtype=torch.int64)
            out = self._generate(z.to(self.device), labels.to(self.device), net)
            if self.shape.tabular:
                return out.to("cpu", torch.float32)
            return common.to_images(out, self.shape)

    def sample(self, count, seed, temperature=1.0, truncation=0.0):
        """GenerativeModel::sample(SampleRequest{count, seed, labels={}, temperature,
        truncation}) of ll::Gan: decodeLatents(latents(request), request); temperature is a
        VAE knob the GAN ignores."""
        return self.decode_latents(self.latents(count, seed, truncation))

    def _discriminator_trainable(self, trainable):
        for p in self.discriminator.parameters():
            p.requires_grad_(trainable)

    def train_step(self, x, y):
        self.generator.train()
        self.discriminator.train()
        data = x.reshape(x.size(0), -1) if self.shape.tabular else x
        data, y = data.to(self.device), y.to(self.device)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            if self.kind == "wgan-gp":
                return self._wasserstein_step(data, y)
            return self._adversarial_step(data, y)

    def _adversarial_step(self, x, y):
        n = x.size(0)
        half = n // 2
        fake_labels = y
        if self.mode_seeking > 0 and half > 0:
            fake_labels = torch.cat([y[:half], y[:n - half]])
        z = torch.randn(n, self.latent, dtype=x.dtype, device=x.device)
        fake = self._generate(z, fake_labels)

        d = self.discriminator
        self._discriminator_trainable(True)
        real, real_classes = d(x, y)
        faked, _ = d(fake.detach(), fake_labels)
        d_loss = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) +
                  F.binary_cross_entropy_with_logits(faked, torch.zeros_like(faked)))
        aux = None
        if self.kind == "acgan":
            aux = F.cross_entropy(real_classes, y)
            d_loss = d_loss + self.aux_weight * aux
        common.drop_gradients(d)
        d_loss.backward()
        self.discriminator_optimizer.step()

        self._discriminator_trainable(False)
        judged, judged_classes = d(fake, fake_labels)
        g_loss = F.binary_cross_entropy_with_logits(judged, torch.ones_like(judged))
        if self.kind == "acgan":
            g_loss = g_loss + self.aux_weight * F.cross_entropy(judged_classes, fake_labels)
        seeking = None
        if self.mode_seeking > 0 and half > 0:
            def apart(t):
                a, b = t[:half], t[half:2 * half]
                return (a - b).abs().flatten(1).mean(1)

            seeking = self.mode_seeking / ((apart(fake) / apart(z)).mean() + 1e-5)
            g_loss = g_loss + seeking
        common.drop_gradients(self.generator)
        g_loss.backward()
        self.generator_optimizer.step()
        self._update_average()
        self._discriminator_trainable(True)

        g = g_loss.item()
        dl = d_loss.item()
        ms = seeking.item() if seeking is not None else 0.0
        out = {"loss": g + dl, "generator": g - ms, "discriminator": dl}
        if aux is not None:
            out["aux"] = aux.item()
        if seeking is not None:
            out["mode_seeking"] = ms
        return out

    def _wasserstein_step(self, x, y):
        n = x.size(0)
        d = self.discriminator
        d_loss = penalty = distance = None
        lazy = self.gp_every > 1
        self._discriminator_trainable(True)
        for _ in range(self.critic_steps):
            penalise = not lazy or self.critic_updates % self.gp_every == 0
            with torch.no_grad():
                fake = self._generate(torch.randn(n, self.latent, dtype=x.dtype,
                                                  device=x.device), y)
            real_score = d(x, y)[0].mean()
            fake_score = d(fake, y)[0].mean()
            if penalise:
                with torch.autocast("cpu", enabled=False):  # the penalty in fp32, as LatentLab
                    mix = torch.rand((n,) + (1,) * (x.dim() - 1), dtype=x.dtype,
                                     device=x.device)
                    between = (mix * x + (1 - mix) * fake).requires_grad_(True)
                    score = d(between, y)[0]
                    grad = torch.autograd.grad(score.sum(), between, retain_graph=True,
                                               create_graph=True)[0]
                    penalty = (grad.reshape(n, -1).norm(2, 1) - 1).pow(2).mean()
            distance = real_score - fake_score
            d_loss = (-distance + (self.gp * self.gp_every) * penalty if penalise
                      else -distance)
            if lazy:
                self.critic_updates += 1
                if penalise:
                    self.latest_penalty = penalty.item()
            common.drop_gradients(d)
            d_loss.backward()
            self.discriminator_optimizer.step()
            if self.bf16:
                torch.clear_autocast_cache()  # the next critic step casts the new weights

        self._discriminator_trainable(False)
        fake = self._generate(torch.randn(n, self.latent, dtype=x.dtype, device=x.device), y)
        g_loss = -d(fake, y)[0].mean()
        common.drop_gradients(self.generator)
        g_loss.backward()
        self.generator_optimizer.step()
        self._update_average()
        self._discriminator_trainable(True)

        g = g_loss.item()
        w = distance.item()
        # At gp_every 1 the loss minimised; lazily, the critic's objective with the latest
        # penalty (Gan::wassersteinStep).
        gp = self.latest_penalty if lazy else penalty.item()
        dl = -w + self.gp * gp if lazy else d_loss.item()
        return {"loss": g + dl, "generator": g, "discriminator": dl,
                "gp": gp, "wasserstein": w}


def build(name, shape, settings, lr):
    return Gan(name, shape, settings, lr)
