"""Write the example MIDI files the README uses: ``python examples/make_examples.py [--out DIR]``.

Made from scratch here (no dataset material), 2 bars of 4/4 at 100 BPM each:

- ``beat.mid``: a drum score to humanize: kick on 1 and 3 (and the "and" of 3), snare on 2 and 4,
  closed hi-hat on every 8th, a crash on the first downbeat;
- ``taps.mid``: a groove tapped on one pad: every 16th, the off-beat 16ths played late (swing)
  and softer, the beats loudest;
- ``accents.mid``: accents on the first beat of each bar and on the "and" of 4 of bar 2.

tests/test_examples.py checks that the committed files are exactly what this script writes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from beatguide.drums import CLASSES
from beatguide.gestures import groove_to_loop, score_to_loop
from beatguide.grid import STEPS, STEPS_PER_BEAT, VELOCITIES
from beatguide.midi_io import write_loop

BPM = 100.0
HERE = Path(__file__).resolve().parent
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


def write_all(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [write_loop(out / name, make(), BPM) for name, make in EXAMPLES.items()]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE, help="folder to write into (default: examples/)")
    for path in write_all(ap.parse_args(argv).out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
