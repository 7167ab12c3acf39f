"""The 2-bar drum loop: a 32-step x 9-class grid of (hit, velocity, offset).

A loop is an array of shape (32, 27): columns 0-8 hits, 9-17 velocities (MIDI velocity / 127),
18-26 offsets ((onset - grid time) / step length * 2, so half a step late is +1, clamped to [-1, 1]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .drums import GM_MAP, N_CLASSES, DrumMap
from .errors import DrumMapError, InputError, TempoError, WindowError

STEPS_PER_BEAT = 4
BARS = 2
BEATS_PER_BAR = 4
STEPS = BARS * BEATS_PER_BAR * STEPS_PER_BEAT  # 32
LOOP_BEATS = BARS * BEATS_PER_BAR  # 8
STEP_BEATS = 1.0 / STEPS_PER_BEAT
WIDTH = 3 * N_CLASSES  # 27
HITS, VELOCITIES, OFFSETS = (slice(k * N_CLASSES, (k + 1) * N_CLASSES) for k in range(3))
TOP_VELOCITY = 1 - 0.5 / 127  # a velocity column this high was played at 127, the top
MIN_VELOCITY = 1 / 127  # a played hit's lowest velocity: MIDI velocity 1, still audible
MIN_BPM, MAX_BPM = 20.0, 400.0
NOTE_BEATS = 0.25  # written note length: a 16th, what a drum clip shows well


@dataclass(frozen=True)
class Note:
    """A drum note: onset and duration in beats, MIDI pitch, MIDI velocity (1-127)."""

    start: float
    pitch: int
    velocity: int
    duration: float = NOTE_BEATS


def check_bpm(bpm) -> float:
    """A tempo in BPM, or TempoError when it is missing, not finite or absurd."""
    if bpm is None:
        raise TempoError("no tempo given")
    bpm = float(bpm)
    if not math.isfinite(bpm) or not (MIN_BPM <= bpm <= MAX_BPM):
        raise TempoError(f"tempo {bpm:g} BPM is outside {MIN_BPM:g}-{MAX_BPM:g}")
    return bpm


def seconds_to_beats(seconds: float, bpm: float) -> float:
    return seconds * check_bpm(bpm) / 60.0


def beats_to_seconds(beats: float, bpm: float) -> float:
    return beats * 60.0 / check_bpm(bpm)


def empty_loop() -> np.ndarray:
    return np.zeros((STEPS, WIDTH), np.float32)


def notes_to_loop(
    notes, drum_map: DrumMap = GM_MAP, *, wrap: bool = True, strict: bool = True, skip_unknown: bool = True
) -> np.ndarray:
    """Quantize notes (onsets in beats from the loop start) into a (32, 27) loop.

    The loudest note wins a cell; at equal velocity the earlier one (smaller offset), then the
    lower pitch, so the order of ``notes`` does not matter. A note late past the last step either wraps to step 0 (``wrap``,
    for loops) or is dropped. With ``strict``, a note before -half a step or after the window
    raises WindowError; otherwise it is dropped. Unknown pitches are skipped, or raise with
    ``skip_unknown=False``.
    """
    loop = empty_loop()
    best: dict[tuple[int, int], tuple] = {}  # (step, class) -> (velocity, -offset, -pitch) of its note
    for n in notes:
        start = float(n.start)
        if not math.isfinite(start):
            raise InputError(f"note onset {start} is not a number")
        if not (1 <= int(n.velocity) <= 127):
            raise InputError(f"velocity {n.velocity} is outside 1..127")
        cls = drum_map.class_of(n.pitch)
        if cls is None:
            if skip_unknown:
                continue
            raise DrumMapError(f"pitch {n.pitch} is not in the drum map")
        pos = start / STEP_BEATS
        step = int(math.floor(pos + 0.5))
        if step < 0 or start >= LOOP_BEATS:
            if strict:
                raise WindowError(f"a note at beat {start:.3f} lies outside the 2-bar window (0-{LOOP_BEATS} beats)")
            continue
        if step >= STEPS:
            if not wrap:
                continue
            step -= STEPS
            pos -= STEPS
        offset = float(np.clip((pos - step) * 2.0, -1.0, 1.0))
        rank = (int(n.velocity), -offset, -int(n.pitch))
        if rank > best.get((step, cls), (0,)):
            best[step, cls] = rank
            loop[step, HITS.start + cls] = 1.0
            loop[step, VELOCITIES.start + cls] = int(n.velocity) / 127.0
            loop[step, OFFSETS.start + cls] = offset
    return loop


def loop_to_notes(
    loop: np.ndarray, drum_map: DrumMap = GM_MAP, *, wrap: bool = True, duration: float = NOTE_BEATS
) -> list[Note]:
    """Notes in beats from a (32, 27) loop (or a phrase of whole loops), pitches from the map's output pitches.

    An early note on step 0 wraps to the loop's end (``wrap``, what a looping clip wants; every
    onset then lies in [0, loop length) beats); otherwise it keeps its negative onset.
    """
    loop = check_loop(loop)
    loop_beats = len(loop) * STEP_BEATS
    notes = []
    steps, classes = np.nonzero(loop[:, HITS] > 0.5)
    for step, cls in zip(steps.tolist(), classes.tolist()):
        start = (step + loop[step, OFFSETS][cls] / 2.0) * STEP_BEATS
        start = wrap_beats(start, loop_beats=loop_beats) if wrap else round(start, 6)
        vel = int(np.clip(round(float(loop[step, VELOCITIES][cls]) * 127), 1, 127))
        notes.append(Note(start, drum_map.output_pitches[cls], vel, duration))
    notes.sort(key=lambda n: (n.start, n.pitch))
    return notes


def wrap_beats(start: float, ndigits: int = 6, loop_beats: float = LOOP_BEATS) -> float:
    """An onset moved into the loop, [0, ``loop_beats``), rounded to ``ndigits``: a hair before the
    downbeat that rounds to the loop's end is the downbeat, 0.0."""
    start = round(start % loop_beats, ndigits)
    return 0.0 if start >= loop_beats else start


def notes_seconds_to_beats(notes, bpm: float) -> list[Note]:
    """Notes with onsets in seconds, rewritten in beats at a tempo."""
    bpm = check_bpm(bpm)
    return [Note(seconds_to_beats(n.start, bpm), n.pitch, n.velocity, seconds_to_beats(n.duration, bpm)) for n in notes]


def notes_beats_to_seconds(notes, bpm: float) -> list[Note]:
    bpm = check_bpm(bpm)
    return [Note(beats_to_seconds(n.start, bpm), n.pitch, n.velocity, beats_to_seconds(n.duration, bpm)) for n in notes]


def check_loop(loop) -> np.ndarray:
    """A (32, 27) float32 array with finite values (or a phrase of whole loops: (32 k, 27)), or InputError."""
    arr = np.asarray(loop, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != WIDTH or not arr.shape[0] or arr.shape[0] % STEPS:
        raise InputError(
            f"a loop has shape ({STEPS}, {WIDTH}) (a phrase: a multiple of {STEPS} steps), got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise InputError("a loop holds NaN or infinite values")
    return arr
