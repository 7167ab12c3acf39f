"""Phrases: 4- and 8-bar loops made of 2-bar windows of one model, with one feel and optional fills.

Method (measured in docs/phrases.md): the first window is exactly what a 2-bar request gives.
Every later window keeps the first one's groove latents (one feel) and moves its score latents a
random step of ``wander`` times a standard normal draw (one number per model, fitted on the train
split so that the hits change from each 2-bar half to the next as much as real drummers' do), then
draws its own hits and values; a window that would play like a fill (``fills.fill_bars`` next to
the first window: real drummers rarely fill outside a phrase's end) keeps the first window's score
latents instead. Its value draws share the first window's loop and drum components of the
model's feel (``beatguide.feel``), and its velocities are shifted to the first window's mean level
(loop-level dynamics held). A fill replaces the second bar of a window that ends a 4-bar phrase by a real drummer's fill
bar from the fill bank (``beatguide.fills``), humanized with the groove latents held: ``always``
on the last bar, ``auto`` on every 4th bar at the rate real phrases end in one. Then the amounts
(``beatguide.amounts``) scale the whole phrase's timing and dynamics.

The fill bank and the fitted steps ship in ``phrases.npz`` (``beatguide data phrases`` rebuilds it).
"""

from __future__ import annotations

import dataclasses
import time
from functools import cache
from pathlib import Path

import numpy as np

from . import amounts
from .drums import N_CLASSES
from .engine import Engine, Request, Result, derive_seed
from .errors import DataError, InputError, ModelError, OutputError
from .fills import BAR_STEPS, FillBank, build_bank, fill_bars, half_changes, phrase_windows
from .grid import HITS, MIN_VELOCITY, VELOCITIES
from .registry import SCORE_SIDE
from .vocabulary import MAX_VARIATIONS

PHRASE_BARS = (2, 4, 8)
FILL_MODES = ("off", "auto", "always")  # auto: as often as real phrases end in a fill
DATA_FILE = Path(__file__).with_name("phrases.npz")
WINDOW_STREAM, WANDER_STREAM, FILL_STREAM = 100, 150, 200  # derive_seed streams of the phrase's draws
FIT_PHRASES = 400  # train phrases the wander is fitted on
FIT_STEPS = 10  # bisection steps of the fit, over [0, FIT_MAX]
FIT_MAX = 2.0  # the largest step tried: two standard deviations of the prior
LEVEL_PASSES = 3  # shifts toward the first window's level: clipping can leave part of one to the next


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


@dataclasses.dataclass(frozen=True)
class PhraseData:
    """What phrases draw on: the fill bank and each model's fitted wander (``default`` for others)."""

    bank: FillBank
    wander: dict

    @property
    def default(self) -> float:
        return float(np.median(list(self.wander.values())))

    def wander_of(self, model: str) -> float:
        return self.wander.get(model, self.default)


@cache
def data(path: Path = DATA_FILE) -> PhraseData:
    try:
        with np.load(path) as z:
            return PhraseData(FillBank.from_arrays(z), dict(zip(z["wander_models"].tolist(), z["wander"].tolist())))
    except (OSError, KeyError, ValueError) as e:
        raise ModelError(f"{path}: unreadable phrase data ({e}); reinstall Beat Guide") from None


def generate(engine: Engine, req: Request, phrase: Phrase = Phrase()) -> Result:
    """N variations of ``req`` as phrases: loops (N, bars * 16, 27), the first window's readings
    and seeds, the whole phrase's time. A 2-bar phrase at full amounts is exactly
    ``engine.generate(req)``. As there, variation k is the same whatever N. A locked score (the
    score seed) keeps the first window's score latents; the later windows wander from them anew
    with each seed."""
    phrase.check()
    if phrase.bars == 2:
        first = engine.generate(req)
        return dataclasses.replace(first, loops=amounts.apply(first.loops, phrase.timing, phrase.velocity))
    t0 = time.perf_counter()
    d = data()
    result = _phrase(engine, req, phrase, d.wander_of(req.model), d.bank)
    return dataclasses.replace(result, elapsed_ms=(time.perf_counter() - t0) * 1000)


def _phrase(engine: Engine, req: Request, phrase: Phrase, wander: float, bank: FillBank) -> Result:
    first = engine.generate(req)
    n, windows = len(first.loops), phrase.bars // 2
    score_side = _score_side(engine, req.model)
    reqs = []
    for k in range(1, windows):
        rng = np.random.default_rng(derive_seed(req.seed, WANDER_STREAM + k))
        eps = rng.standard_normal((MAX_VARIATIONS, first.z.shape[1]))[:n]
        seed = derive_seed(req.seed, WINDOW_STREAM + k)
        for step in (wander, 0.0):
            held = np.where(score_side, first.z + step * eps, first.z).astype(np.float32)
            reqs.append(
                dataclasses.replace(
                    req, seed=seed, score_seed=first.score_seed, held=held, feel_of=(first.seed, 0), candidates=1
                )
            )
    out = [r.loops for r in engine.generate_batch(reqs)]
    later = [_unfilled(moved, kept, first.loops) for moved, kept in zip(out[::2], out[1::2])]
    fills = _fills(req.seed, phrase, n, bank.rate)  # (windows, N)
    if fills.any():
        filled = _fill_windows(engine, req, first, later, fills, score_side, bank)
        for (k, v), loop in filled.items():
            later[k - 1][v] = loop
    loops = np.concatenate([first.loops, *(_level(w, first.loops) for w in later)], axis=1)
    return dataclasses.replace(first, loops=amounts.apply(loops, phrase.timing, phrase.velocity))


def _unfilled(moved: np.ndarray, kept: np.ndarray, first: np.ndarray) -> np.ndarray:
    """A later window per variation: the one with moved score latents, unless it plays like a fill
    next to the first window (``fills.fill_bars`` on the two); then the one with the first's."""
    fill_like = fill_bars(np.concatenate([first, moved], axis=1))[:, 2:].any(axis=1)
    return np.where(fill_like[:, None, None], kept, moved)


def _score_side(engine: Engine, model: str) -> np.ndarray:
    """(z size,) bool: the latents drawn from the score seed (score, lanes); the rest is the feel."""
    lats = engine.models[model].latents
    return np.concatenate([np.full(lat["dim"] * lat["groups"], lat["gesture"] in SCORE_SIDE) for lat in lats])


def _fills(seed: int, phrase: Phrase, n: int, rate: float) -> np.ndarray:
    """(windows, N) bool: which windows of each variation end in a fill. ``always``: the last one;
    ``auto``: each window that ends a 4-bar phrase, at the bank's rate (draws of the seed)."""
    windows = phrase.bars // 2
    out = np.zeros((windows, n), bool)
    if phrase.fill == "always":
        out[-1] = True
    elif phrase.fill == "auto":
        draws = np.random.default_rng(derive_seed(seed, FILL_STREAM)).random((windows, MAX_VARIATIONS))[:, :n]
        out[1::2] = draws[1::2] < rate
    return out


def _fill_windows(engine, req, first, later, fills, score_side, bank) -> dict:
    """{(window, variation): (32, 27)}: the window's first bar as played, then a real fill bar,
    humanized with the first window's groove-side latents (the score side read from this score)."""
    empty = np.zeros(N_CLASSES, bool) if req.lane_modes is None else np.array([m == "empty" for m in req.lane_modes])
    modes = tuple("empty" if e else "given" for e in empty)
    windows = fills.shape[0]
    picks = np.random.default_rng(derive_seed(req.seed, FILL_STREAM + 1)).random((windows, MAX_VARIATIONS))
    keys, reqs = [], []
    for k, v in zip(*np.nonzero(fills)):
        played = later[k - 1][v][:, HITS] > 0.5
        score = np.concatenate([played[:BAR_STEPS], bank.choose(played[:BAR_STEPS], picks[k, v])]) & ~empty
        seed = derive_seed(req.seed, FILL_STREAM + 2 + k * MAX_VARIATIONS + v)
        held = np.where(score_side, np.nan, first.z[v])[None].astype(np.float32)
        reqs.append(
            dataclasses.replace(
                req,
                variations=1,
                seed=seed,
                score=score.astype(np.float32),
                lane_modes=modes,
                held=held,
                feel_of=(first.seed, int(v)),
                candidates=1,
            )
        )
        keys.append((int(k), int(v)))
    return {key: r.loops[0] for key, r in zip(keys, engine.generate_batch(reqs))}


def _level(window: np.ndarray, first: np.ndarray) -> np.ndarray:
    """``window`` (N, 32, 27) with its velocities shifted to ``first``'s mean level, per variation:
    where the top or bottom velocity clips part of the shift, the notes that can still move make up
    the rest."""
    out = window.copy()
    hits = window[:, :, HITS] > 0.5
    for _ in range(LEVEL_PASSES):
        gap = (amounts.mean_level(first) - amounts.mean_level(out))[:, None, None]
        vel = out[:, :, VELOCITIES]
        free = hits & np.where(gap > 0, vel < 1.0, vel > MIN_VELOCITY)  # notes that can move that way
        shift = gap * hits.sum(axis=(1, 2), keepdims=True) / np.maximum(free.sum(axis=(1, 2), keepdims=True), 1)
        out[:, :, VELOCITIES] = np.where(free, np.clip(vel + shift, MIN_VELOCITY, 1.0), vel)
    return out


# --------------------------------------------------------------------------------------------
# Building phrases.npz (the train split)


def fit_wander(engine: Engine, model: str, real: np.ndarray, bank: FillBank, seed: int = 0) -> float:
    """The step of the score latents that makes ``model``'s 4-bar phrases without a fill change
    their hits from one 2-bar half to the next as much as the ``real`` phrases (N, 64, 27) without
    a fill do, on average: bisection over [0, FIT_MAX], each phrase humanizing its real first two
    bars' score (fill off). FIT_MAX when even that step changes them less."""
    from . import gestures

    target = float(half_changes(real[~fill_bars(real).any(axis=1)])["hits"].mean())
    reqs = [Request(model, 1, 1.0, seed + i, score=gestures.score(x[:32])) for i, x in enumerate(real)]
    lo, hi = 0.0, FIT_MAX
    for _ in range(FIT_STEPS):
        mid = (lo + hi) / 2
        loops = np.concatenate([_phrase(engine, r, Phrase(4, "off"), mid, bank).loops for r in reqs])
        change = half_changes(loops[~fill_bars(loops).any(axis=1)])["hits"].mean()
        lo, hi = (mid, hi) if change < target else (lo, mid)
    return (lo + hi) / 2


def build(engine: Engine, train, models, path: Path = DATA_FILE, seed: int = 0) -> dict:
    """Build and write phrases.npz from the train split's windows: the fill bank, then each model's
    wander fitted on FIT_PHRASES phrase-aligned 4-bar windows (drawn with ``seed``)."""
    arrays = build_bank(train)
    if not len(arrays["fill"]):
        raise DataError("the train split has no phrase-aligned 4-bar window ending in a fill: no fill bank")
    bank = FillBank.from_arrays(arrays)
    real, _, _ = phrase_windows(train, 4, align=4)
    pick = np.random.default_rng(seed).permutation(len(real))[:FIT_PHRASES]
    wander = {m: fit_wander(engine, m, real[np.sort(pick)], bank, seed) for m in models}
    try:
        with open(path, "wb") as f:  # a file object: numpy would add ".npz" to a path without it
            np.savez_compressed(
                f,
                **arrays,
                wander_models=np.array(list(wander), dtype=str),
                wander=np.array(list(wander.values()), np.float64),
            )
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
    data.cache_clear()
    return wander
