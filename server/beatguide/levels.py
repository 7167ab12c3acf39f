"""How loud each drum plays with a drawn groove: per-drum maps onto the training drummers' velocities.

Decoded with a groove code drawn for a score (a bank row, a draw of the fitted prior) rather than the
drummer's own, the decoders play the accented drums quieter than the drummers did and reach the top
velocity less often, on the training split itself (docs/ablation.md, "A drum's level with a code not
its own"). A quantile map per drum and latent source, fitted on the training split
(``beatguide_export.levels_fit``), moves each drum's drawn velocities onto the train drummers'
distribution. It is monotone, so a loop keeps the order of its loud and soft notes; the engine applies
it only where the groove was drawn (a given groove carries the player's own level).

Stored beside the model (LEVELS_FILE, named in model.json under "levels"): per source, the drawn and
the real velocities' quantiles at PROBS, per drum (NaN for a drum too rare to map); a model without
it plays as decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .drums import N_CLASSES
from .grid import HITS, MIN_VELOCITY, VELOCITIES

LEVELS_FILE = "levels.npz"
PROBS = np.linspace(0.0, 1.0, 51)  # the quantiles stored
MIN_NOTES = 50  # a drum with fewer notes, drawn or real, keeps its velocities


def drum_velocities(loops: np.ndarray, drum: int) -> np.ndarray:
    """Every velocity of ``drum``'s hits in ``loops`` (..., 32, 27)."""
    return loops[..., VELOCITIES.start + drum][loops[..., HITS.start + drum] > 0.5]


def quantiles(loops: np.ndarray) -> np.ndarray:
    """(9, len(PROBS)): each drum's velocity quantiles over ``loops`` (NaN for a drum with fewer than
    MIN_NOTES hits)."""
    out = np.full((N_CLASSES, len(PROBS)), np.nan)
    for d in range(N_CLASSES):
        v = drum_velocities(loops, d)
        if len(v) >= MIN_NOTES:
            out[d] = np.quantile(v, PROBS)
    return out


def drum_map(drawn: np.ndarray, real: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(x, y) mapping velocities with quantiles ``drawn`` onto those with quantiles ``real`` (both at
    PROBS), x increasing; where several drawn quantiles are equal (an atom, e.g. at the top velocity),
    the real quantile at their middle probability (the atom's mid-rank). None where either is NaN."""
    if np.isnan(drawn).any() or np.isnan(real).any():
        return None
    x = np.unique(drawn)
    return x, np.interp([PROBS[drawn == v].mean() for v in x], PROBS, real)


@dataclass(frozen=True)
class Levels:
    """Per latent source, the drawn and real velocity quantiles (9, len(PROBS)) of each drum."""

    quantiles: dict = field(default_factory=dict)  # source -> (drawn, real)
    maps: dict = field(init=False, repr=False, compare=False)  # source -> per drum, drum_map's (x, y) or None

    def __post_init__(self):
        maps = {s: [drum_map(d, r) for d, r in zip(*pair)] for s, pair in self.quantiles.items()}
        object.__setattr__(self, "maps", maps)  # built once, not on every request

    @classmethod
    def fit(cls, drawn: dict, real: np.ndarray) -> Levels:
        """Levels from loops decoded with each source's codes (``drawn``: {source: (N, 32, 27)}) and the
        ``real`` loops (M, 32, 27) whose scores they played."""
        target = quantiles(real)
        return cls({source: (quantiles(loops), target) for source, loops in drawn.items()})

    @classmethod
    def from_file(cls, path) -> Levels:
        """The levels stored in a model's levels file (raises KeyError or ValueError if it is not one)."""
        with np.load(path) as f:
            if not np.allclose(f["probs"], PROBS):
                raise ValueError("quantiles at other probabilities")
            sources = {k.rsplit("_", 1)[0] for k in f.files if k != "probs"}
            out = {s: (f[f"{s}_drawn"].astype(np.float64), f[f"{s}_real"].astype(np.float64)) for s in sources}
        for s, pair in out.items():
            if any(q.shape != (N_CLASSES, len(PROBS)) or np.any(np.diff(q, axis=1) < 0) for q in pair):
                raise ValueError(f"levels of {s!r}: expected increasing quantiles of {N_CLASSES} drums")
        return cls(out)

    def arrays(self) -> dict:
        """The quantiles as float32 arrays, as stored in a model's levels file."""
        out = {"probs": PROBS.astype(np.float32)}
        for s, (drawn, real) in self.quantiles.items():
            out[f"{s}_drawn"], out[f"{s}_real"] = drawn.astype(np.float32), real.astype(np.float32)
        return out

    def apply(self, loops: np.ndarray, source: str | None) -> np.ndarray:
        """``loops`` (..., 32, 27) with each hit's velocity mapped by ``source``'s map (as given where
        there is none); velocities stay within [MIN_VELOCITY, 1], silent cells at 0."""
        if source not in self.maps:
            return loops
        out = np.array(loops, np.float32, copy=True)
        hits = out[..., HITS] > 0.5
        for d, m in enumerate(self.maps[source]):
            if m is None:
                continue
            col = VELOCITIES.start + d
            out[..., col] = np.where(hits[..., d], np.clip(np.interp(out[..., col], *m), MIN_VELOCITY, 1.0), 0.0)
        return out
