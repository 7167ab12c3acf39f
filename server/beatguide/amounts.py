"""Groove-Pool-style amounts: how much of the generated timing and dynamics is played.

Timing scales every hit's offset from the grid (0 %: on the grid, 150 %: half as far again;
clamped to the loop's [-1, 1] half-steps). Velocity scales each hit's deviation from its loop's
mean level (0 %: every hit at the mean, 150 %: accents louder and ghost notes softer; clamped to
MIDI velocity 1-127). 100 % leaves a loop exactly as the model played it.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import InputError
from .grid import HITS, MIN_VELOCITY, OFFSETS, VELOCITIES

MIN, FULL, MAX = 0.0, 100.0, 150.0  # percent


def check(amount, name: str) -> float:
    """An amount in percent, or InputError."""
    try:
        value = float(amount)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number (percent), got {amount!r}") from None
    if not (math.isfinite(value) and MIN <= value <= MAX):
        raise InputError(f"{name} must be {MIN:g}-{MAX:g} %, got {amount}")
    return value


def mean_level(loops: np.ndarray) -> np.ndarray:
    """(N,) mean velocity of each loop's hits (0 for a loop without hits)."""
    hits = loops[..., HITS] > 0.5
    return np.where(hits, loops[..., VELOCITIES], 0).sum(axis=(-2, -1)) / np.maximum(hits.sum(axis=(-2, -1)), 1)


def apply(loops: np.ndarray, timing: float = FULL, velocity: float = FULL) -> np.ndarray:
    """Loops (N, steps, 27) with ``timing`` and ``velocity`` (percent) applied; at 100 % the same array."""
    timing, velocity = check(timing, "timing"), check(velocity, "velocity")
    if timing == FULL and velocity == FULL:
        return loops
    out = np.array(loops, np.float32)
    hits = out[..., HITS] > 0.5
    if timing != FULL:
        out[..., OFFSETS] = np.where(hits, np.clip(out[..., OFFSETS] * (timing / FULL), -1.0, 1.0), 0.0)
    if velocity != FULL:
        mean = mean_level(out)[:, None, None]
        vel = np.clip(mean + (out[..., VELOCITIES] - mean) * (velocity / FULL), MIN_VELOCITY, 1.0)
        out[..., VELOCITIES] = np.where(hits, vel, 0.0)
    return out.astype(np.float32)
