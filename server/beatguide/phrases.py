"""Phrases: 4- and 8-bar loops made of 2-bar windows of one model, with one feel and an optional fill.

Method (measured in docs/phrases.md): the first window is exactly what a 2-bar request gives.
Every later window decodes the same latents (score and groove: one feel) with hit and value draws
of its own, so the score comes back with the small changes the model makes between two takes;
each window's velocities are then shifted to the first window's mean level (loop-level dynamics
held). With a fill, the last window's second bar is a real drummer's fill bar from the fill bank
(``beatguide.fills``), humanized with the first window's groove latents held. Then the amounts
(``beatguide.amounts``) scale the whole phrase's timing and dynamics.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np

from . import amounts
from .drums import N_CLASSES
from .engine import SCORE_SIDE, Engine, Request, Result, derive_seed
from .errors import InputError
from .fills import BAR_STEPS, FillBank
from .grid import HITS, VELOCITIES

PHRASE_BARS = (2, 4, 8)
FILL_MODES = ("off", "auto", "always")  # auto: as often as real phrases end in a fill
WINDOW_STREAM, FILL_STREAM = 100, 200  # derive_seed streams of later windows' and fills' draws


@dataclasses.dataclass(frozen=True)
class Phrase:
    """How long the loop is and how it is played: ``bars`` of PHRASE_BARS, ``fill`` of FILL_MODES
    (used from 4 bars), ``timing`` and ``velocity`` amounts in percent (amounts.MIN-MAX)."""

    bars: int = 2
    fill: str = "auto"
    timing: float = amounts.FULL
    velocity: float = amounts.FULL

    def check(self) -> Phrase:
        if self.bars not in PHRASE_BARS:
            raise InputError(f"bars must be one of {', '.join(map(str, PHRASE_BARS))}, got {self.bars}")
        if self.fill not in FILL_MODES:
            raise InputError(f"fill must be one of {', '.join(FILL_MODES)}, got {self.fill!r}")
        amounts.check(self.timing, "timing")
        amounts.check(self.velocity, "velocity")
        return self


@cache
def fill_bank() -> FillBank:
    return FillBank.load()


def generate(engine: Engine, req: Request, phrase: Phrase = Phrase()) -> Result:
    """N variations of ``req`` as phrases: loops (N, bars * 16, 27), the first window's readings
    and seeds. A 2-bar phrase at full amounts is exactly ``engine.generate(req)``."""
    phrase.check()
    first = engine.generate(req)
    loops = first.loops
    windows = phrase.bars // 2
    if windows > 1:
        repeats = [
            dataclasses.replace(
                req,
                seed=derive_seed(req.seed, WINDOW_STREAM + k),
                score_seed=first.score_seed,
                groove_seed=first.groove_seed,
            )
            for k in range(1, windows)
        ]
        later = [r.loops for r in engine.generate_batch(repeats)]
        fills = _fills(first, req, phrase)
        if fills.any():
            later[-1] = np.where(fills[:, None, None], _fill_window(engine, req, first, fills), later[-1])
        loops = np.concatenate([loops, *(_level(w, first.loops) for w in later)], axis=1)
    loops = amounts.apply(loops, phrase.timing, phrase.velocity)
    return dataclasses.replace(first, loops=loops)


def _fills(first: Result, req: Request, phrase: Phrase) -> np.ndarray:
    """(N,) bool: which variations end in a fill (auto: a seeded draw at the bank's rate)."""
    n = len(first.loops)
    if phrase.fill == "off":
        return np.zeros(n, bool)
    if phrase.fill == "always":
        return np.ones(n, bool)
    draws = np.random.default_rng(derive_seed(req.seed, FILL_STREAM)).random(n)
    return draws < fill_bank().rate


def _fill_window(engine: Engine, req: Request, first: Result, fills: np.ndarray) -> np.ndarray:
    """(N, 32, 27): per variation, its first bar as played again, then a real fill bar, humanized
    with the first window's groove-side latents (the score side read from this score)."""
    model = engine.models[req.model]
    groove_side = np.concatenate(
        [np.full(lat["dim"] * lat["groups"], lat["gesture"] not in SCORE_SIDE) for lat in model.latents]
    )
    empty = (
        np.array([m == "empty" for m in req.lane_modes]) if req.lane_modes is not None else np.zeros(N_CLASSES, bool)
    )
    picks = np.random.default_rng(derive_seed(req.seed, FILL_STREAM + 1)).random(len(fills))
    reqs = []
    for v, loop in enumerate(first.loops):
        hits = loop[:, HITS] > 0.5
        fill = fill_bank().choose(hits[:BAR_STEPS], picks[v])
        score = np.concatenate([hits[:BAR_STEPS], fill]) & ~empty
        held = np.where(groove_side, first.z[v], np.nan)[None]
        modes = tuple("empty" if e else "given" for e in empty)
        reqs.append(
            dataclasses.replace(
                req,
                variations=1,
                seed=derive_seed(req.seed, FILL_STREAM + 2 + v),
                score_seed=first.score_seed,
                groove_seed=first.groove_seed,
                score=score.astype(np.float32),
                lane_modes=modes,
                held=held,
            )
        )
    return np.concatenate([r.loops for r in engine.generate_batch(reqs)])


def _level(window: np.ndarray, first: np.ndarray) -> np.ndarray:
    """``window`` (N, 32, 27) with its velocities shifted to ``first``'s mean level, per variation."""
    out = window.copy()
    shift = amounts.mean_level(first) - amounts.mean_level(window)
    hits = window[:, :, HITS] > 0.5
    vel = np.clip(window[:, :, VELOCITIES] + shift[:, None, None], amounts.MIN_VELOCITY, 1.0)
    out[:, :, VELOCITIES] = np.where(hits, vel, window[:, :, VELOCITIES])
    return out
