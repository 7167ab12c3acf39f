"""The demonstrations F(X) computed from a loop, and the way back to something audible.

One implementation, used both to build training inputs and to read a user's input: the loop
functions (``score``, ``groove``, ``accents``) build training inputs, :func:`read_notes` reads a
user's notes with the same rules (the device's bg_core.js reads notes exactly as it does; the
parity vectors of server/lab/vectors.py check that). The rules, exact in any language:

- a cell (drum, step) holds its loudest note; at equal MIDI velocity the earlier one (smaller
  offset), then the lower pitch;
- the groove is, per step, the loudest note of any drum; at equal velocity the lowest drum class;
- a drum's note is an accent when its MIDI velocity v exceeds the drum's mean + 1 (population)
  standard deviation over the loop, decided on integers: with n notes, S = sum v, Q = sum v^2,
  d = n v - S, an accent when d > 0 and d^2 > n Q - S^2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .drums import GM_MAP, N_CLASSES, TAP_MAP, DrumMap
from .grid import HITS, OFFSETS, VELOCITIES, Note, empty_loop, notes_to_loop

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
    """Accents (..., 32): a step holds a note whose MIDI velocity is more than one (population)
    standard deviation above its drum's mean over the loop, decided in integer arithmetic."""
    loop = np.asarray(loop, np.float32)
    hits = loop[..., HITS] > 0.5
    vel = np.where(hits, np.rint(loop[..., VELOCITIES] * 127), 0).astype(np.int64)
    n = hits.sum(axis=-2, keepdims=True, dtype=np.int64)
    total = vel.sum(axis=-2, keepdims=True)
    squares = (vel * vel).sum(axis=-2, keepdims=True)
    d = n * vel - total
    loud = hits & (d > 0) & (d * d > n * squares - total * total)
    return loud.any(axis=-1).astype(np.float32)


def midi_velocity(v: float) -> int:
    """A note velocity as the reading uses it: its whole part (as ``notes_to_loop`` reads a MIDI
    file's), within 1..127."""
    return min(127, max(1, math.floor(float(v))))


@dataclass
class Reading:
    """What a clip demonstrates: score (32, 9), groove (32, 3), accents (32,)."""

    score: np.ndarray
    groove: np.ndarray
    accents: np.ndarray


def read_notes(notes, drum_map: DrumMap = GM_MAP) -> Reading:
    """Read notes (onsets in beats from the loop start; a ``mute`` attribute, when true, drops
    a note) as the device reads a clip. Score and accents read the pitches of ``drum_map``; the
    groove reads every note, pitches outside the map ranking after every drum class at equal
    velocity. A note up to half a step before 0 is an early first step, a note from 8 beats on
    or earlier than that is outside the loop."""
    kept = [
        Note(float(n.start), int(n.pitch), midi_velocity(n.velocity)) for n in notes if not getattr(n, "mute", False)
    ]
    mapped = notes_to_loop([n for n in kept if drum_map.class_of(n.pitch) is not None], drum_map, strict=False)
    other = notes_to_loop([n for n in kept if drum_map.class_of(n.pitch) is None], TAP_MAP, strict=False)
    g, extra = groove(mapped), groove(other)
    louder = (extra[:, 0] > 0) & (np.rint(extra[:, 1] * 127) > np.where(g[:, 0] > 0, np.rint(g[:, 1] * 127), 0))
    g[louder] = extra[louder]
    return Reading(score(mapped), g, accents(mapped))


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
