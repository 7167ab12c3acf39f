"""The example MIDI files the README uses, made from scratch in code (no dataset material), so
every install has them: ``beatguide examples [--out DIR]`` writes them (default ./examples).

Each is 2 bars of 4/4 at 100 BPM:

- ``beat.mid``: a drum score to humanize: kick on 1 and 3 (and the "and" of 3), snare on 2 and 4,
  closed hi-hat on every 8th, a crash on the first downbeat;
- ``taps.mid``: a groove tapped on one pad: every 16th, the off-beat 16ths played late (swing)
  and softer, the beats loudest;
- ``accents.mid``: accents on the first beat of each bar and on the "and" of 4 of bar 2.

The repository's ``examples/`` folder holds the same files (tests/test_examples.py checks them).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from .drums import CLASSES
from .generate import write_loops
from .gestures import groove_to_loop, score_to_loop
from .grid import STEPS, STEPS_PER_BEAT, VELOCITIES

BPM = 100.0
STEPS_PER_BAR = 4 * STEPS_PER_BEAT


def beat() -> np.ndarray:
    score = np.zeros((STEPS, len(CLASSES)), np.float32)
    for bar in (0, STEPS_PER_BAR):
        score[[bar, bar + 8, bar + 10], CLASSES.index("kick")] = 1
        score[[bar + 4, bar + 12], CLASSES.index("snare")] = 1
    score[::2, CLASSES.index("closed_hihat")] = 1
    score[0, CLASSES.index("crash")] = 1
    loop = score_to_loop(score, velocity=0.75)
    on_beat = np.arange(STEPS) % STEPS_PER_BEAT == 0
    loop[on_beat, VELOCITIES] = np.where(score[on_beat] > 0, 0.9, 0.0)  # beats a little louder
    return loop


def taps() -> np.ndarray:
    step = np.arange(STEPS)
    groove = np.zeros((STEPS, 3), np.float32)
    groove[:, 0] = 1
    groove[:, 1] = np.select([step % 4 == 0, step % 2 == 0], [0.9, 0.7], 0.5)
    groove[:, 2] = np.where(step % 2 == 1, 0.4, 0.0)  # off-beat 16ths a fifth of a 16th late
    return groove_to_loop(groove)


def accents() -> np.ndarray:
    score = np.zeros((STEPS, len(CLASSES)), np.float32)
    score[:, CLASSES.index("closed_hihat")] = np.arange(STEPS) % 2 == 0
    loop = score_to_loop(score, velocity=0.35)
    for s in (0, STEPS_PER_BAR, STEPS - 2):
        loop[s, CLASSES.index("closed_hihat")] = 1
        loop[s, 9 + CLASSES.index("closed_hihat")] = 1.0
    return loop


EXAMPLES = {"beat.mid": beat, "taps.mid": taps, "accents.mid": accents}


def write_examples(out, *, overwrite: bool = False) -> list[Path]:
    """Make beat.mid, taps.mid and accents.mid in folder ``out``, all or none (see write_loops).
    Files already there with exactly this content are kept (running it twice is fine); other files
    of those names are overwritten only with ``overwrite``."""
    out = Path(out)
    loops = {name: make() for name, make in EXAMPLES.items()}
    with tempfile.TemporaryDirectory() as tmp:
        made = {p.name: p.read_bytes() for p in write_loops(tmp, loops, BPM)}
    same = {n for n, data in made.items() if (out / n).is_file() and (out / n).read_bytes() == data}
    write_loops(out, {n: loop for n, loop in loops.items() if n not in same}, BPM, overwrite=overwrite)
    return [out / n for n in loops]
