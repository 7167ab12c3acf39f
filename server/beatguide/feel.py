"""A drummer's feel: how the value head's per-note draws are shared within one loop.

The decoder draws each velocity and offset as location + scale * logistic noise, the noise read from
one uniform per note (the decoder's ``uniforms`` input, columns 9-26). Drawn independently, every
note gets noise of its own: within a loop the spread is wider than a drummer's and a loop's overall
level hardly moves between loops (docs/ablation.md, "A structured feel"). A Gaussian copula shares
part of it: a note's uniform is Phi(sqrt(a) L + sqrt(b) D + sqrt(c) P + sqrt(1 - a - b - c) E), with L
common to the whole loop, D to one drum in the loop, P to one drum's cell at the same step of both
bars (what a drummer repeats bar to bar) and E the note's own. Each uniform stays uniform, so every
note's distribution is the one the model learned; only the draws' dependence within a loop changes.
``spread`` scales the noise itself, velocity and offset apart (1: as trained, 0: every value at its
location). ``scatter`` makes the note's own part a scale mixture: scaled per (loop, drum) by
exp(sigma x - sigma^2), x standard normal, so a drum is tighter in some loops than in others, as a
drummer is (docs/ablation.md, "Where the realism gap lies"); each uniform still stays uniform.
``tightness`` shares part of x with the whole loop, so a loop is played tight or loose as a whole, its
drums' spreads moving together as a drummer's do (docs/ablation.md, "A loop played tight or loose").

The shares (velocity, offset) are fitted on the training split (``beatguide_export.feel_fit``) and
shipped in model.json under "feel"; a model without them draws every note on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .drums import N_CLASSES
from .grid import BARS

FEEL_STREAM = 3  # random stream of the shared components, beside the seed's own uniforms (engine.derive_seed: 1, 2)
SCATTER_STREAM = 4  # random stream of the scale mixture's per (loop, drum) scales
TIGHTNESS_STREAM = 5  # random stream of the scale mixture's per loop part (tightness)
SHARES = ("loop", "drum", "bar")
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(24)  # E[f(x)], x ~ N(0, 1): Gauss-Hermite nodes, weights
_GH_W = _GH_W / _GH_W.sum()
# erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7): vectorized, where math.erf per
# element took as long as the models themselves.
_P = 0.3275911
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """The standard normal distribution function, elementwise (absolute error below 1e-7)."""
    z = np.asarray(x, np.float64) / math.sqrt(2.0)
    a = np.abs(z)
    t = 1.0 / (1.0 + _P * a)
    poly = t * (_A[0] + t * (_A[1] + t * (_A[2] + t * (_A[3] + t * _A[4]))))
    erf = 1.0 - poly * np.exp(-a * a)
    return 0.5 * (1.0 + np.sign(z) * erf)


@dataclass(frozen=True)
class Feel:
    """Shares of each value draw's variance common to the loop (``loop``), to one drum in the loop
    (``drum``) and to one drum's step in both bars (``bar``), per kind (velocity, offset); the rest is
    the note's own. ``spread`` scales the noise (velocity, offset); ``scatter`` (velocity, offset): the
    spread of the note's own part's scale between (loop, drum) pairs, 0 for none; ``tightness``
    (velocity, offset): the share of that scale's normal common to the whole loop, 0 to 1."""

    loop: tuple[float, float] = (0.0, 0.0)
    drum: tuple[float, float] = (0.0, 0.0)
    bar: tuple[float, float] = (0.0, 0.0)
    spread: tuple[float, float] = (1.0, 1.0)  # one number: the same for velocity and offset
    scatter: tuple[float, float] = (0.0, 0.0)
    tightness: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self):
        if not isinstance(self.spread, tuple):
            object.__setattr__(self, "spread", (float(self.spread),) * 2)
        for shares in zip(self.loop, self.drum, self.bar):
            if min(shares) < 0 or sum(shares) >= 1:
                raise ValueError(f"feel shares must be >= 0 and sum below 1, got {self.to_meta()}")
        if not min(self.spread) >= 0:
            raise ValueError(f"feel spread must be >= 0, got {self.spread}")
        if not min(self.scatter) >= 0:
            raise ValueError(f"feel scatter must be >= 0, got {self.scatter}")
        if not all(0 <= t <= 1 for t in self.tightness):
            raise ValueError(f"feel tightness must be from 0 to 1, got {self.tightness}")

    @classmethod
    def from_meta(cls, meta: dict | None) -> Feel:
        """The feel a model.json describes (independent draws where it describes none)."""
        if not meta:
            return cls()
        spread = meta.get("spread", 1.0)
        spread = tuple(float(x) for x in spread) if isinstance(spread, list) else float(spread)
        scatter, tightness = (tuple(float(x) for x in meta.get(k, (0.0, 0.0))) for k in ("scatter", "tightness"))
        return cls(*(tuple(float(x) for x in meta[k]) for k in SHARES), spread, scatter, tightness)

    def to_meta(self) -> dict:
        return {
            **{k: list(getattr(self, k)) for k in SHARES},
            "spread": list(self.spread),
            "scatter": list(self.scatter),
            "tightness": list(self.tightness),
        }

    @property
    def independent(self) -> bool:
        return not any(self.loop + self.drum + self.bar + self.scatter) and self.spread == (1.0, 1.0)

    def normals(self, seed: int, total: int, n: int, steps: int, shared: tuple[int, int] | None = None):
        """The standard normal draws behind :meth:`apply`, (n, steps, 2, 9) each: the part shared
        within the loop (loop, drum and bar components, weighted by their shares) and the note's own
        (weighted by what the shares leave); their sum is standard normal."""
        rng = np.random.default_rng([seed, FEEL_STREAM])
        loop = rng.standard_normal((total, 1, 2, 1))[:n]
        drum = rng.standard_normal((total, 1, 2, N_CLASSES))[:n]
        if shared is not None:
            first, row = shared
            held = np.random.default_rng([first, FEEL_STREAM])
            loop = held.standard_normal((total, 1, 2, 1))[row : row + n]
            drum = held.standard_normal((total, 1, 2, N_CLASSES))[row : row + n]
        bar = np.tile(rng.standard_normal((total, steps // BARS, 2, N_CLASSES)), (1, BARS, 1, 1))[:n]
        note = rng.standard_normal((total, steps, 2, N_CLASSES))[:n]
        a, b, c = (np.array(s)[:, None] for s in (self.loop, self.drum, self.bar))
        return np.sqrt(a) * loop + np.sqrt(b) * drum + np.sqrt(c) * bar, np.sqrt(1 - a - b - c) * note

    def scale_normals(self, seed: int, total: int, n: int, shared: tuple[int, int] | None = None) -> np.ndarray:
        """(n, 1, 2, 9): the standard normal behind each (loop, drum)'s scale in the scale mixture, per
        kind (velocity, offset), ``tightness`` of it common to the loop; ``shared`` as in :meth:`apply`."""
        first, row = (seed, 0) if shared is None else shared  # a phrase's windows keep the first window's scales
        x = np.random.default_rng([first, SCATTER_STREAM]).standard_normal((total, 1, 2, N_CLASSES))[row : row + n]
        if not any(self.tightness):
            return x
        loop = np.random.default_rng([first, TIGHTNESS_STREAM]).standard_normal((total, 1, 2, 1))[row : row + n]
        t = np.array(self.tightness)[:, None]
        return np.sqrt(t) * loop + np.sqrt(1 - t) * x

    def _mixed(self, common, note, seed: int, total: int, shared) -> np.ndarray:
        """Uniforms of the scale mixture: the note's own part scaled per (loop, drum), then the mixture's
        own distribution function (by Gauss-Hermite quadrature over the scale)."""
        x = self.scale_normals(seed, total, len(common), shared)
        sigma = np.array(self.scatter)[:, None]
        g = common + note * np.exp(sigma * x - sigma**2)
        held = np.array([sum(s) for s in zip(self.loop, self.drum, self.bar)])[:, None]  # the shared variance
        u = np.zeros_like(g)
        for xq, wq in zip(_GH_X, _GH_W):
            u += wq * normal_cdf(g / np.sqrt(held + (1 - held) * np.exp(2 * sigma * xq - 2 * sigma**2)))
        return u

    def apply(self, uniforms: np.ndarray, seed: int, total: int, shared: tuple[int, int] | None = None) -> np.ndarray:
        """``uniforms`` (n, 32, 27) with the value columns (9-26) redrawn with this feel from ``seed``;
        row k's draws are the same whatever n (each stream is drawn for ``total`` rows, then cut).
        ``shared`` (seed, row): take the loop and drum components of that seed's draws from that row
        on, so the windows of a phrase keep one loop-level feel. Uniforms of hits-only decoders
        (width 9), or under independent draws, are returned as given."""
        if uniforms.shape[-1] != 3 * N_CLASSES or self.independent:
            return uniforms
        n, steps = uniforms.shape[:2]
        common, note = self.normals(seed, total, n, steps, shared)
        u = self._mixed(common, note, seed, total, shared) if any(self.scatter) else normal_cdf(common + note)
        u = u.reshape(n, steps, 2 * N_CLASSES).clip(1e-6, 1 - 1e-6)
        if self.spread != (1.0, 1.0):  # logistic noise scaled: logit(u') = spread * logit(u)
            scale = np.repeat(np.array(self.spread), N_CLASSES)  # velocity columns, then offset columns
            u = 1.0 / (1.0 + np.exp(-scale * np.log(u / (1 - u))))
        out = uniforms.copy()
        out[..., N_CLASSES:] = u
        return out.astype(np.float32)
