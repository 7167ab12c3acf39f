"""The four models of the paper: baseline VAE, factorized VAE, AG-VAE (2 inputs), AG-VAE (11 inputs).

Every model maps gestures -> one or more latents -> an autoregressive LSTM decoder -> a (32, 27)
loop (hit logits, velocities, offsets). The AG-VAEs add auxiliary decoders that rebuild each
gesture from its own latent alone.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from beatguide import registry
from beatguide.drums import N_CLASSES as N_DRUMS
from beatguide.grid import MIN_VELOCITY, STEPS, WIDTH
from beatguide.registry import Latent

VELOCITY_REACH = 0.25  # censored values: how far velocity locations may pass the ends
MIN_SCALE = 0.02  # of the logistic value distributions: 2.5 MIDI velocity steps, 1 % of a step in time


@dataclass
class ModelConfig:
    kind: str
    enc_hidden: int = 192
    mlp_hidden: int = 256
    lane_hidden: int = 64  # agvae11: hidden width of each lane's and the accents' encoder and auxiliary decoder
    lanes_shared: bool = False  # agvae11: one lane encoder and one lane reader for all nine lanes (own biases)
    dec_hidden: int = 256
    dec_layers: int = 2
    z_dims: dict = field(default_factory=dict)
    free_bits: dict = field(default_factory=lambda: {"z": 48.0})  # per latent group, in bits
    max_beta: float = 0.2
    dropout: float = 0.1
    enc_readout: str = "steps"  # LSTM encoders: "steps" (all outputs) or "final" (final states, GrooVAE)
    plan: int = 16  # per-step plan features the decoder expands from z (0: none, the original GrooVAE)
    prior_dropout: float = 0.0  # training-time chance of replacing a latent by a prior draw
    force_lanes: float = 0.0  # training-time chance that a loop has some lanes forced (hit control)
    prev_dropout: float = 0.0  # training-time chance of hiding the previous step from the decoder
    swap_groove: float = 0.0  # training-time share of loops decoded with another loop's groove-side codes (hits only)
    delete_lane: float = 0.0  # training-time share of loops with one played drum removed from score and target
    aux_controls: bool = True  # AG-VAEs: the decoder also reads the auxiliary decoders' readings (paper: latents only)
    aux_detach: tuple = ()  # AG-VAEs: latents whose auxiliary decoder learns from a detached code (no shaping)
    values: str = (
        "mean"  # velocities and offsets: "mean" (squared error, GrooVAE) or "logistic" (a sampled distribution)
    )
    censored: bool = False  # logistic values: velocity 127 scored as the chance of reaching it (see value_locations)
    history: bool = False  # logistic values: a level head reads each drum's running residuals in the loop (History)

    def __post_init__(self) -> None:
        if not isinstance(self.free_bits, dict):  # one number: the same allowance for every latent
            self.free_bits = {lat.name: float(self.free_bits) for lat in self.latents()}

    def latents(self) -> list[Latent]:
        """The kind's latents (``beatguide.registry``), sized as ``z_dims`` says where it names them."""
        return [
            dataclasses.replace(lat, dim=self.z_dims.get(lat.name, lat.dim)) for lat in registry.kind(self.kind).latents
        ]

    def to_dict(self) -> dict:
        return asdict(self)


GESTURE_SHAPES = {"score": (STEPS, N_DRUMS), "groove": (STEPS, 3), "lanes": (N_DRUMS, STEPS), "accents": (STEPS,)}


class Gaussian(nn.Module):
    """Linear head giving a diagonal Gaussian: mean and standard deviation (softplus)."""

    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.mu = nn.Linear(d_in, d_out)
        self.sigma = nn.Linear(d_in, d_out)

    def forward(self, h):
        return self.mu(h), F.softplus(self.sigma(h)) + 1e-4


class LSTMEncoder(nn.Module):
    """Bidirectional LSTM over a (B, 32, D) gesture -> Gaussian over a latent.

    ``readout="final"`` reads the two final states (GrooVAE); ``"steps"`` reads the outputs of all 32
    steps, which learns a precise code of a pattern far faster.
    """

    def __init__(self, d_in: int, hidden: int, z: int, readout: str = "steps"):
        super().__init__()
        self.readout = readout
        self.rnn = nn.LSTM(d_in, hidden, batch_first=True, bidirectional=True)
        self.head = Gaussian(2 * hidden * (STEPS if readout == "steps" else 1), z)

    def forward(self, x):
        out, (h, _) = self.rnn(x)
        if self.readout == "steps":
            return self.head(out.reshape(out.shape[0], -1))
        return self.head(torch.cat([h[0], h[1]], dim=-1))


class GroupedMLP(nn.Module):
    """Two-layer ReLU MLP with ``groups`` copies side by side: (B, groups, d_in) -> (B, groups, d_out).
    ``shared``: one set of weights for every group, each group with its own biases."""

    def __init__(self, d_in: int, hidden: int, d_out: int, groups: int = 1, shared: bool = False):
        super().__init__()
        self.groups = groups
        w = 1 if shared else groups
        self.w1 = nn.Parameter(torch.randn(w, d_in, hidden) * d_in**-0.5)
        self.b1 = nn.Parameter(torch.zeros(groups, hidden))
        self.w2 = nn.Parameter(torch.randn(w, hidden, d_out) * hidden**-0.5)
        self.b2 = nn.Parameter(torch.zeros(groups, d_out))

    def forward(self, x):
        h = F.relu(torch.einsum("bgi,gih->bgh", x, self.w1.expand(self.groups, -1, -1)) + self.b1)
        return torch.einsum("bgh,gho->bgo", h, self.w2.expand(self.groups, -1, -1)) + self.b2


class MLPEncoder(GroupedMLP):
    """Feed-forward encoder of a flattened gesture (B, groups, d_in) -> (mu, sigma), each (B, groups * z)."""

    def __init__(self, d_in: int, hidden: int, z: int, groups: int = 1, shared: bool = False):
        super().__init__(d_in, hidden, 2 * z, groups, shared)
        self.z = z

    def forward(self, x):
        out = super().forward(x)
        mu, s = out[..., : self.z], out[..., self.z :]
        return mu.reshape(x.shape[0], -1), (F.softplus(s) + 1e-4).reshape(x.shape[0], -1)


class MLPDecoder(GroupedMLP):
    """Feed-forward auxiliary decoder: a latent (B, groups * z) -> a flattened gesture (B, groups, d_out)."""

    def __init__(self, z: int, hidden: int, d_out: int, groups: int = 1, shared: bool = False):
        super().__init__(z, hidden, d_out, groups, shared)
        self.zdim = z

    def forward(self, z):
        return super().forward(z.reshape(z.shape[0], self.groups, self.zdim))


class LoopDecoder(nn.Module):
    """Autoregressive LSTM: z and per-step controls -> 32 steps of (hit logits, velocities, offsets).

    At each step the LSTM reads the previous step's output, z, and that step's row of the controls:
    a 32-step plan expanded from z by an MLP, (AG-VAEs) the auxiliary decoders' readings, and the hit
    control (per drum: whether its hit is forced, and to what), so forced hits condition the loop.
    """

    def __init__(
        self,
        z: int,
        controls: int,
        hidden: int,
        layers: int,
        dropout: float,
        prev_dropout: float = 0.0,
        values: str = "mean",
        censored: bool = False,
        history: bool = False,
    ):
        super().__init__()
        self.layers, self.hidden, self.prev_dropout, self.values = layers, hidden, prev_dropout, values
        self.censored = censored
        self.init = nn.Linear(z, 2 * layers * hidden)
        self.rnn = nn.LSTM(
            WIDTH + z + controls, hidden, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0
        )
        self.out = nn.Linear(hidden, WIDTH)
        # logistic values: a head reading the LSTM's state with its gradient stopped gives each value's
        # distribution (location, scale), so the LSTM trains as with squared error (hits unaffected)
        self.dist = self.level = None
        if raw_width(values) > WIDTH:
            self.dist = nn.Sequential(nn.Linear(hidden, hidden // 2), nn.Tanh(), nn.Linear(hidden // 2, 4 * N_DRUMS))
            if history:
                self.read_history()

    @property
    def history(self) -> bool:
        """Whether a level head reads each drum's running residuals (``read_history``)."""
        return self.level is not None

    def read_history(self) -> None:
        """Add the level head: from the LSTM's state and each drum's running residuals (``History``), a
        correction to the velocity distributions' locations and scales; offsets stay the head's. Its
        output layer starts at zero, so the decoder begins drawing as it did."""
        self.level = nn.Sequential(
            nn.Linear(self.hidden + History.WIDTH, self.hidden // 2),
            nn.Tanh(),
            nn.Linear(self.hidden // 2, 2 * N_DRUMS),
        )
        nn.init.zeros_(self.level[-1].weight)
        nn.init.zeros_(self.level[-1].bias)

    def _raw(self, h, history=None):
        """Hit logits, squared-error velocities and offsets (pre-activation); with logistic values then
        the distributions' locations (pre-activation) and scales, read from the LSTM's state (gradient
        stopped), the velocities' corrected by the level head from ``history``, each drum's running
        residuals so far in the loop."""
        raw = self.out(h)
        if self.dist is None:
            return raw
        dist = self.dist(h.detach())
        if history is not None:
            loc, scale = self.level(torch.cat([h.detach(), history], dim=-1)).split(N_DRUMS, dim=-1)
            keep = torch.zeros_like(loc)  # the offsets' locations and scales
            dist = dist + torch.cat([loc, keep, scale, keep], dim=-1)
        return torch.cat([raw, dist], dim=-1)

    def _state(self, z):
        s = torch.tanh(self.init(z)).reshape(z.shape[0], 2, self.layers, self.hidden).permute(1, 2, 0, 3)
        return s[0].contiguous(), s[1].contiguous()

    def teacher_forced(self, z, controls, target):
        """Raw outputs (B, 32, 27) given the true previous steps."""
        prev = torch.cat([torch.zeros_like(target[:, :1]), target[:, :-1]], dim=1)
        if self.training and self.prev_dropout > 0:
            prev = prev * (torch.rand(prev.shape[0], STEPS, 1) >= self.prev_dropout)
        x = torch.cat([prev, z[:, None].expand(-1, STEPS, -1), controls], dim=-1)
        h, _ = self.rnn(x, self._state(z))
        if not self.history:
            return self._raw(h)
        return self._raw(h, History.before_each_step(self.out(h).detach(), target))

    def sample(self, z, controls, uniforms, temperature, hit_control):
        """A loop (B, 32, 27): hits drawn as uniform < sigmoid(logit / temperature), except where
        ``hit_control`` (B, 32, 9) forces them (0: no hit, 1: a hit; -1: free); velocity and offset
        kept only where a hit is played. ``uniforms`` (B, 32, 9) make sampling reproducible; with
        logistic values (B, 32, 27): the last 18 draw each velocity and offset around its location,
        the spread scaled by the temperature."""
        state = self._state(z)
        prev = torch.zeros(z.shape[0], WIDTH, dtype=z.dtype)
        forced, value = hit_control >= 0, (hit_control > 0.5).to(z.dtype)
        history = History(z.shape[0], z.dtype) if self.history else None
        steps = []
        for t in range(STEPS):
            h, state = self.rnn(torch.cat([prev, z, controls[:, t]], dim=-1)[:, None], state)
            raw = self._raw(h[:, 0], None if history is None else history.features())
            drawn = (uniforms[:, t, :N_DRUMS] < torch.sigmoid(raw[:, :N_DRUMS] / temperature)).to(z.dtype)
            hits = torch.where(forced[:, t], value[:, t], drawn)
            vel, off = value_locations(raw, head=self.dist is not None, wide=self.censored)
            if self.values == "logistic":
                u = uniforms[:, t, N_DRUMS:].clamp(1e-6, 1 - 1e-6)
                noise = temperature * value_scales(raw) * torch.log(u / (1 - u))
                vel = (vel + noise[:, :N_DRUMS]).clamp(MIN_VELOCITY, 1.0)
                off = (off + noise[:, N_DRUMS:]).clamp(-1.0, 1.0)
            vel, off = vel * hits, off * hits
            prev = torch.cat([hits, vel, off], dim=-1)
            if history is not None:
                history.add(raw, prev)
            steps.append(prev)
        return torch.stack(steps, dim=1)


class History:
    """What the level head of a ``history`` decoder reads beside the LSTM's state: per drum, the mean
    residual so far in this loop of its played velocities from the decoder's squared-error values (its
    expected velocity for each note), and how many it has played (up to FULL, scaled to 0-1).

    Given its own loop's past values the LSTM still leaves a drum's level in the loop unexplained:
    teacher-forced on validation, half of the kick's velocity residual is common to the loop (docs/
    ablation.md, "A drum's level through the loop"). The running residual is that level, so once a
    drum has played, the level head can keep it there, as a drummer does. It reads and corrects the
    velocities alone, so the offsets' distributions stay the head's own: refitting the whole head
    moved them, and a swung groove's off-beats with them (ablation.md)."""

    WIDTH = 2 * N_DRUMS
    FULL = 8

    def __init__(self, n: int, dtype):
        self.sums = torch.zeros(n, N_DRUMS, dtype=dtype)
        self.counts = torch.zeros(n, N_DRUMS, dtype=dtype)

    def features(self):
        return self._features(self.sums, self.counts)

    @classmethod
    def _features(cls, sums, counts):
        """Mean residuals and scaled counts (..., WIDTH) from residual sums and counts (..., 9) each."""
        return torch.cat([sums / counts.clamp(min=1), counts.clamp(max=cls.FULL) / cls.FULL], dim=-1)

    def add(self, raw, played):
        """Count one step: ``raw`` its outputs, ``played`` (B, 27) its hits, velocities and offsets."""
        hits = played[:, :N_DRUMS]
        self.sums = self.sums + _residuals(raw, played) * hits
        self.counts = self.counts + hits

    @classmethod
    def before_each_step(cls, raw, loops):
        """(B, 32, WIDTH) features at every step of ``loops`` (B, 32, 27) with decoder outputs ``raw``,
        each from the steps before it only (teacher forcing)."""
        hits = loops[..., :N_DRUMS]
        own = _residuals(raw, loops) * hits
        return cls._features(torch.cumsum(own, dim=1) - own, torch.cumsum(hits, dim=1) - hits)


def _residuals(raw, played):
    """(..., 9) played velocities minus the decoder's squared-error velocities (gradient stopped)."""
    vel, _ = value_locations(raw.detach())
    return played[..., N_DRUMS : 2 * N_DRUMS] - vel


def raw_width(values: str) -> int:
    """Decoder outputs per step: hit logits, velocity and offset locations, and with logistic values
    their log scales."""
    if values not in ("mean", "logistic"):
        raise ValueError(f"unknown values {values!r}: mean or logistic")
    return WIDTH if values == "mean" else WIDTH + 4 * N_DRUMS


def value_locations(raw, head: bool = False, wide: bool = False):
    """Velocities (sigmoid) and offsets (tanh), (..., 9) each, from raw outputs: the squared-error
    values, or (``head``) the locations of the logistic distributions. ``wide`` (censored values):
    velocity locations reach VELOCITY_REACH past 0 and 1, so a note a drummer plays at the top
    (127, clamped there when drawn) can be drawn at the top more often than not."""
    i = WIDTH if head else N_DRUMS
    vel = torch.sigmoid(raw[..., i : i + N_DRUMS])
    if wide:
        vel = vel * (1 + 2 * VELOCITY_REACH) - VELOCITY_REACH
    return vel, torch.tanh(raw[..., i + N_DRUMS : i + 2 * N_DRUMS])


def value_scales(raw):
    """Scales (..., 18) of the logistic velocity and offset distributions, from raw outputs; at least
    MIN_SCALE, so repeated identical values (velocity 127) cannot become infinitely likely."""
    return F.softplus(raw[..., WIDTH + 2 * N_DRUMS :]) + MIN_SCALE


class DrumVAE(nn.Module):
    """One of the four models, chosen by ``config.kind``."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = c = config
        self.model_kind = registry.kind(c.kind)
        self.latents = c.latents()
        self.encoders = nn.ModuleDict()
        for lat in self.latents:
            if self.model_kind.encoders == "mlp":
                d_in = {"lanes": STEPS, "groove": STEPS * 3, "accents": STEPS}[lat.gesture]
                hidden = c.mlp_hidden if lat.gesture == "groove" else c.lane_hidden
                self.encoders[lat.name] = MLPEncoder(d_in, hidden, lat.dim, lat.groups, c.lanes_shared)
            else:
                self.encoders[lat.name] = LSTMEncoder(
                    GESTURE_SHAPES[lat.gesture][1], c.enc_hidden, lat.dim, c.enc_readout
                )
        self.z_size = sum(lat.size for lat in self.latents)
        self.aux = nn.ModuleDict()
        aux_width = 0
        if self.model_kind.aux:
            for lat in self.latents:
                d_out = {"score": STEPS * N_DRUMS, "groove": STEPS * 3, "lanes": STEPS, "accents": STEPS}[lat.gesture]
                hidden = c.mlp_hidden if lat.gesture in ("score", "groove") else c.lane_hidden
                self.aux[lat.name] = MLPDecoder(lat.dim, hidden, d_out, lat.groups, c.lanes_shared)
                aux_width += d_out * lat.groups // STEPS if c.aux_controls else 0
        self.plan = MLPDecoder(self.z_size, c.mlp_hidden, STEPS * c.plan) if c.plan else None
        self.decoder = LoopDecoder(
            self.z_size,
            c.plan + aux_width + 2 * N_DRUMS,
            c.dec_hidden,
            c.dec_layers,
            c.dropout,
            c.prev_dropout,
            c.values,
            c.censored,
            c.history,
        )
        self.uniform_width = N_DRUMS if c.values == "mean" else WIDTH  # the decoder's uniforms per step

    # -- gestures -> latents
    def encode(self, gestures: dict) -> dict:
        """{latent name: (mu, sigma)} for the gestures given (tensors shaped as GESTURE_SHAPES)."""
        out = {}
        for lat in self.latents:
            x = gestures[lat.gesture]
            if self.model_kind.encoders == "mlp":
                x = x.reshape(x.shape[0], lat.groups, -1)
            out[lat.name] = self.encoders[lat.name](x)
        return out

    def join(self, zs: dict):
        return torch.cat([zs[lat.name] for lat in self.latents], dim=-1)

    # -- latents -> auxiliary reconstructions (raw: logits for hits, pre-activations otherwise)
    def reconstruct(self, zs: dict) -> dict:
        out = {}
        for lat in self.latents:
            if lat.name not in self.aux:
                continue
            r = self.aux[lat.name](zs[lat.name])
            out[lat.gesture] = r.reshape((r.shape[0],) + GESTURE_SHAPES[lat.gesture])
        return out

    def controls(self, z, aux: dict, hit_control):
        """Per-step decoder controls (B, 32, C): the plan from z, each auxiliary reading (hit
        probabilities, velocities, offsets) laid out by step, then the hit control as two flags per
        drum (forced, forced to a hit)."""
        parts = [] if self.plan is None else [self.plan(z).reshape(z.shape[0], STEPS, -1)]
        for lat in self.latents:
            if lat.gesture in aux and self.config.aux_controls:
                parts.append(step_major(lat.gesture, activate(lat.gesture, aux[lat.gesture])))
        parts += [(hit_control >= 0).to(z.dtype), (hit_control > 0.5).to(z.dtype)]
        return torch.cat(parts, dim=-1)

    def sample(self, z, uniforms, temperature, hit_control=None):
        """Free-running decode of joined latents (B, z) into loops (B, 32, 27); ``hit_control``
        (B, 32, 9): -1 free, 0 forced silent, 1 forced hit (None: all free)."""
        if hit_control is None:
            hit_control = -torch.ones_like(uniforms[..., :N_DRUMS])
        controls = self.controls(z, self.reconstruct(self.split(z)), hit_control)
        return self.decoder.sample(z, controls, uniforms, temperature, hit_control)

    def gradient_groups(self) -> list[list]:
        """Parameters whose gradients are clipped together: the logistic values' distribution head on its
        own, so its large early gradients do not shrink the rest of the model's steps."""
        head = [p for m in (self.decoder.dist, self.decoder.level) if m is not None for p in m.parameters()]
        ids = {id(p) for p in head}
        return [g for g in ([p for p in self.parameters() if id(p) not in ids], head) if g]

    def split(self, z) -> dict:
        zs, i = {}, 0
        for lat in self.latents:
            zs[lat.name] = z[:, i : i + lat.size]
            i += lat.size
        return zs

    def random_hit_control(self, target):
        """Training-time hit control: with chance ``force_lanes`` a loop has each lane forced to its
        true hits (or silence) with chance one half; everything else is free (-1)."""
        n = target.shape[0]
        forced = (torch.rand(n, 1, 1) < self.config.force_lanes) & (torch.rand(n, 1, N_DRUMS) < 0.5)
        return torch.where(
            forced.expand(-1, STEPS, -1), target[..., :N_DRUMS], torch.full_like(target[..., :N_DRUMS], -1.0)
        )

    def random_swap(self, n: int):
        """Training-time groove swap: (mask (n,), permutation (n,)): loops whose groove-side codes are
        replaced by another loop's of the batch, a share ``swap_groove`` of them."""
        return torch.rand(n) < self.config.swap_groove, torch.randperm(n)

    def forward(self, gestures: dict, target, sample: bool = True, hit_control=None, swap=None):
        """Training pass: posteriors, teacher-forced loop outputs and auxiliary outputs. The hit
        control is random in training (``random_hit_control``) and free otherwise, unless given.
        ``swap`` (``random_swap``): the masked loops are decoded with the permuted loops' groove-side
        codes, so the decoder learns to play the score whatever groove code it is given (their values
        are not scored: ``losses.total_loss``); the auxiliary outputs stay those of their own codes."""
        post = self.encode(gestures)
        zs = {}
        for lat in self.latents:
            mu, sigma = post[lat.name]
            z = mu + sigma * torch.randn_like(mu) if sample else mu
            if self.training and self.config.prior_dropout > 0:
                n = mu.shape[0]
                drop = torch.rand(n, lat.groups, 1) < self.config.prior_dropout
                prior = torch.randn(n, lat.groups, lat.dim)
                z = torch.where(drop, prior, z.reshape(n, lat.groups, lat.dim)).reshape(n, -1)
            zs[lat.name] = z
        aux = self.reconstruct({k: v.detach() if k in self.config.aux_detach else v for k, v in zs.items()})
        decoded = dict(zs)
        if swap is not None:
            mask, perm = swap
            for lat in self.latents:
                if not lat.score_side:
                    decoded[lat.name] = torch.where(mask[:, None], zs[lat.name][perm], zs[lat.name])
        z = self.join(decoded)
        if hit_control is None:
            hit_control = (
                self.random_hit_control(target)
                if self.training and self.config.force_lanes > 0
                else -torch.ones_like(target[..., :N_DRUMS])
            )
        read = aux if swap is None else self.reconstruct(decoded)
        return post, self.decoder.teacher_forced(z, self.controls(z, read, hit_control), target), aux


def activate(gesture: str, raw):
    """Raw auxiliary outputs -> probabilities (hits, accents), velocities (sigmoid), offsets (tanh)."""
    if gesture == "groove":
        return torch.stack([torch.sigmoid(raw[..., 0]), torch.sigmoid(raw[..., 1]), torch.tanh(raw[..., 2])], -1)
    return torch.sigmoid(raw)


def step_major(gesture: str, x):
    """A gesture laid out as (B, 32, features)."""
    if gesture == "lanes":
        return x.transpose(1, 2)
    if gesture == "accents":
        return x[..., None]
    return x


def group_kl(mu, sigma, groups: int, dim: int):
    """KL(N(mu, sigma) || N(0, I)) in nats per window and group: (B, groups * dim) -> (B, groups)."""
    kl = 0.5 * (mu**2 + sigma**2 - 1.0) - torch.log(sigma)
    return kl.reshape(mu.shape[0], groups, dim).sum(-1)


def kl_per_latent(model: DrumVAE, post: dict) -> dict:
    """KL(q || N(0, I)) in nats, summed over dimensions, mean over the batch; one entry per latent group."""
    out = {}
    for lat in model.latents:
        kl = group_kl(*post[lat.name], lat.groups, lat.dim).mean(0)
        for g in range(lat.groups):
            out[lat.name if lat.groups == 1 else f"{lat.name}{g}"] = kl[g]
    return out


def free_nats(model: DrumVAE) -> dict:
    """Free bits of each latent group, in nats (bits * ln 2). A latent with several groups (agvae11's
    nine lanes) gives each group the latent's allowance."""
    bits = model.config.free_bits
    out = {}
    for lat in model.latents:
        for g in range(lat.groups):
            out[lat.name if lat.groups == 1 else f"{lat.name}{g}"] = bits[lat.name] * math.log(2.0)
    return out


def build(kind: str, **overrides) -> DrumVAE:
    return DrumVAE(ModelConfig(kind=kind, **overrides))
