"""The demonstrations F(X) computed from a loop, and the way back to something audible.

One implementation, used both to build training inputs and to read a user's input.
"""

from __future__ import annotations

import numpy as np

from .drums import N_CLASSES
from .grid import HITS, OFFSETS, VELOCITIES, empty_loop

GROOVE_WIDTH = 3  # hit, velocity, offset


def score(loop: np.ndarray) -> np.ndarray:
    """F1: the hits of a loop (..., 32, 9), velocity and timing removed."""
    return (np.asarray(loop)[..., HITS] > 0.5).astype(np.float32)


def groove(loop: np.ndarray) -> np.ndarray:
    """F2 ("squash"): per step, (hit, velocity, offset) of the loudest note on any drum -> (..., 32, 3)."""
    loop = np.asarray(loop, np.float32)
    hits = loop[..., HITS] > 0.5
    vel = np.where(hits, loop[..., VELOCITIES], -1.0)
    loudest = np.argmax(vel, axis=-1)[..., None]
    any_hit = hits.any(axis=-1)
    out = np.zeros(loop.shape[:-1] + (GROOVE_WIDTH,), np.float32)
    out[..., 0] = any_hit
    out[..., 1] = np.where(any_hit, np.take_along_axis(loop[..., VELOCITIES], loudest, -1)[..., 0], 0.0)
    out[..., 2] = np.where(any_hit, np.take_along_axis(loop[..., OFFSETS], loudest, -1)[..., 0], 0.0)
    return out


def accents(loop: np.ndarray) -> np.ndarray:
    """Accents (..., 32): a step holds a note whose velocity is more than one standard deviation
    above its drum's mean velocity over the loop."""
    loop = np.asarray(loop, np.float32)
    hits = loop[..., HITS] > 0.5
    vel = loop[..., VELOCITIES]
    count = hits.sum(axis=-2, keepdims=True)
    safe = np.maximum(count, 1)
    mean = np.where(hits, vel, 0).sum(axis=-2, keepdims=True) / safe
    var = np.where(hits, (vel - mean) ** 2, 0).sum(axis=-2, keepdims=True) / safe
    loud = hits & (vel > mean + np.sqrt(var))
    return loud.any(axis=-1).astype(np.float32)


def lanes(loop: np.ndarray) -> np.ndarray:
    """The nine per-drum score lanes (..., 9, 32): row c is the score of drum class c."""
    return np.swapaxes(score(loop), -1, -2)


def score_to_loop(hits: np.ndarray, velocity: float = 0.8) -> np.ndarray:
    """A score (32, 9) as a playable loop: every hit on the grid at one velocity."""
    loop = empty_loop()
    hits = np.asarray(hits, np.float32) > 0.5
    loop[:, HITS] = hits
    loop[:, VELOCITIES] = np.where(hits, velocity, 0.0)
    return loop


def groove_to_loop(g: np.ndarray, drum_class: int = 0) -> np.ndarray:
    """A groove (32, 3) as a loop on one drum class: the taps as they would be heard."""
    g = np.asarray(g, np.float32)
    loop = empty_loop()
    on = g[:, 0] > 0.5
    loop[:, HITS.start + drum_class] = on
    loop[:, VELOCITIES.start + drum_class] = np.where(on, g[:, 1], 0.0)
    loop[:, OFFSETS.start + drum_class] = np.where(on, g[:, 2], 0.0)
    return loop


def accents_to_loop(accents: np.ndarray, drum_class: int = 0, velocity: float = 1.0) -> np.ndarray:
    """Accents (32,) as a loop on one drum class: a loud note on every accented step."""
    return score_to_loop(np.outer(np.asarray(accents, np.float32) > 0.5, np.eye(1, N_CLASSES, drum_class)[0]), velocity)
