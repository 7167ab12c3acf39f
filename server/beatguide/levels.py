"""How loud each drum plays with a drawn groove: per-drum maps onto the training drummers' velocities.

Decoded with a groove code drawn for a score (a bank row, a draw of the fitted prior) rather than the
drummer's own, the decoders play the accented drums quieter than the drummers did and reach the top
velocity less often, on the training split itself (docs/ablation.md, "A drum's level with a code not
its own"). A quantile map per drum and latent source, fitted on the training split
(``beatguide_export.levels_fit``), moves each drum's drawn velocities onto the train drummers'
distribution. It is monotone, so a loop keeps the order of its loud and soft notes; the engine applies
it only where the groove was drawn (a given groove carries the player's own level).

Shipped in model.json under "levels": {source: [[x...], [y...]] per drum}, x the drawn velocities'
quantiles and y the drummers' at the same probabilities; a model without it plays as decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .drums import N_CLASSES
from .grid import HITS, MIN_VELOCITY, VELOCITIES

PROBS = np.linspace(0.0, 1.0, 51)  # the quantiles a map holds
MIN_NOTES = 50  # a drum with fewer notes, drawn or real, keeps its velocities (an identity map)
IDENTITY = (np.array([0.0, 1.0]), np.array([0.0, 1.0]))


def drum_map(drawn: np.ndarray, real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) mapping velocities distributed as ``drawn`` onto ``real``'s distribution: their quantiles
    at PROBS, x increasing; where several quantiles of ``drawn`` are equal (an atom, e.g. at the top
    velocity), ``real``'s quantile at their middle probability (the atom's mid-rank)."""
    if len(drawn) < MIN_NOTES or len(real) < MIN_NOTES:
        return IDENTITY
    qx = np.quantile(drawn, PROBS)
    x = np.unique(qx)
    return x, np.quantile(real, [PROBS[qx == v].mean() for v in x])


@dataclass(frozen=True)
class Levels:
    """Per latent source, per drum, a monotone map (x, y) of velocities (``drum_map``)."""

    maps: dict = field(default_factory=dict)  # source -> [(x, y)] * N_CLASSES

    @classmethod
    def fit(cls, drawn: dict, real: np.ndarray) -> Levels:
        """Maps from loops decoded with each source's codes (``drawn``: {source: (N, 32, 27)}) onto the
        ``real`` loops (M, 32, 27) whose scores they played."""
        return cls({source: [drum_map(*(drum_velocities(x, d) for x in (loops, real))) for d in range(N_CLASSES)]
                    for source, loops in drawn.items()})  # fmt: skip

    @classmethod
    def from_meta(cls, meta: dict | None) -> Levels:
        """The levels a model.json describes (none where it describes none)."""
        maps = {}
        for source, drums in (meta or {}).items():
            pairs = [(np.asarray(x, np.float64), np.asarray(y, np.float64)) for x, y in drums]
            if len(pairs) != N_CLASSES or any(
                x.ndim != 1 or x.shape != y.shape or len(x) < 2 or np.any(np.diff(x) <= 0) or np.any(np.diff(y) < 0)
                for x, y in pairs
            ):
                raise ValueError(f"levels of {source!r}: expected {N_CLASSES} increasing maps (x, y)")
            maps[source] = pairs
        return cls(maps)

    def to_meta(self) -> dict:
        return {
            s: [[np.round(x, 5).tolist(), np.round(y, 5).tolist()] for x, y in drums] for s, drums in self.maps.items()
        }

    def apply(self, loops: np.ndarray, source: str) -> np.ndarray:
        """``loops`` (..., 32, 27) with each hit's velocity mapped by ``source``'s map (as given where
        there is none); velocities stay within [MIN_VELOCITY, 1], silent cells at 0."""
        if source not in self.maps:
            return loops
        out = np.array(loops, np.float32, copy=True)
        hits = out[..., HITS] > 0.5
        for d, (x, y) in enumerate(self.maps[source]):
            col = VELOCITIES.start + d
            mapped = np.clip(np.interp(out[..., col], x, y), MIN_VELOCITY, 1.0)
            out[..., col] = np.where(hits[..., d], mapped, 0.0)
        return out


def drum_velocities(loops: np.ndarray, drum: int) -> np.ndarray:
    """Every velocity of ``drum``'s hits in ``loops`` (..., 32, 27)."""
    return loops[..., VELOCITIES.start + drum][loops[..., HITS.start + drum] > 0.5]
