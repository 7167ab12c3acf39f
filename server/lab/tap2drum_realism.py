"""What makes the tap reader's first variation easy to tell from a drummer's: the device's model
given each validation loop's taps, its first variation under settings that isolate a cause.

Settings: the reader's score at its threshold (shipped) and at higher ones (fewer, surer hits); each
cell drawn from the reader's probability instead (as many hits as the drummers, unstructured); the
score side's latents drawn instead of at their posterior mean; without the reader (the first
variation then draws its score side from the default source, like the second). Per setting: the
realism test's AUC with all features and with each feature group alone, per-loop hit F1 against the
drummer's loop, and hits per loop of each drum beside the drummers'::

    python server/lab/tap2drum_realism.py --gmd DIR [--models DIR] [--seed 0]
"""

from __future__ import annotations

from unittest import mock

import numpy as np

from beatguide import engine as engine_module
from beatguide import gestures
from beatguide.drums import CLASSES
from beatguide.engine import Engine
from beatguide.evaluate.realism import FEATURE_GROUPS, two_sample_auc
from beatguide.evaluate.tap2drum import DEVICE_MODEL, _first_two, _without_reader, scores
from beatguide.gmd import load_split
from beatguide.grid import HITS
from beatguide.model_paths import model_dirs
from lab_cli import study_args, study_parser

THRESHOLDS = (0.4, 0.5)  # tried beside the reader's own


def hits_per_loop(loops: np.ndarray) -> np.ndarray:
    """(9,) each drum's mean number of hits per loop."""
    return (loops[..., HITS] > 0.5).sum(axis=(0, 1)) / len(loops)


def drawn_score_side(latents):
    """``engine._latents`` with the score side always drawn (no best guess at the mean)."""

    def draw(*args, **kw):
        return latents(*args, **{**kw, "best_guess": False})

    return draw


def drawn_cells(reader, seed: int):
    """A stand-in for ``reader.best_guess``: each cell a hit with the reader's probability."""

    def guess(taps):
        p = reader.probabilities(taps)
        return (np.random.default_rng(seed).random(p.shape) < p).astype(np.float32)

    return guess


def row(label: str, gen: np.ndarray, real: np.ndarray, files: np.ndarray, seed: int) -> str:
    groups = (FEATURE_GROUPS, *((g,) for g in FEATURE_GROUPS))
    aucs = " | ".join(f"{two_sample_auc(real, gen, files, files, g, seed)[0]:.3f}" for g in groups)
    per_drum = " / ".join(f"{h:.1f}" for h in hits_per_loop(gen))
    return f"| {label} | {aucs} | {scores(gen, real)['f1']:.3f} | {per_drum} |"


def main(argv=None) -> int:
    ap = study_parser("tap2drum_realism.py", __doc__.split("\n")[0])
    args = study_args(ap, argv)
    engine = Engine(model_dirs(args.models))
    reader = engine.tap_reader
    if reader is None or DEVICE_MODEL not in engine.names:
        print(f"needs a tap reader and {DEVICE_MODEL} in the models folders (python -m beatguide_export.tap_reader)")
        return 2
    val = load_split(args.gmd, "validation", progress=False)
    real, files, seed = val.loops, val.file_index, args.seed
    taps = gestures.groove(real)
    print(f"{DEVICE_MODEL}, {len(real)} validation loops' taps, first variation (seed {seed})\n")
    print("| setting | AUC all | hits | velocity | offset | hit F1 | hits per loop: " + " / ".join(CLASSES) + " |")
    print("|---|---|---|---|---|---|---|")
    print(f"| the drummers | — | — | — | — | — | {' / '.join(f'{h:.1f}' for h in hits_per_loop(real))} |")
    shipped = reader.threshold
    print(row(f"reader's score, threshold {shipped:g} (shipped)", _first_two(engine, DEVICE_MODEL, taps, seed)[:, 0],
              real, files, seed), flush=True)  # fmt: skip
    for t in THRESHOLDS:
        with mock.patch.object(reader, "threshold", t):
            gen = _first_two(engine, DEVICE_MODEL, taps, seed)[:, 0]
        print(row(f"reader's score, threshold {t:g}", gen, real, files, seed), flush=True)
    with mock.patch.object(reader, "best_guess", drawn_cells(reader, seed)):
        gen = _first_two(engine, DEVICE_MODEL, taps, seed)[:, 0]
    print(row("each cell drawn from the reader's probability", gen, real, files, seed), flush=True)
    with mock.patch.object(engine_module, "_latents", drawn_score_side(engine_module._latents)):
        gen = _first_two(engine, DEVICE_MODEL, taps, seed)[:, 0]
    print(row("reader's score, score side drawn", gen, real, files, seed), flush=True)
    with _without_reader(engine):
        gen = _first_two(engine, DEVICE_MODEL, taps, seed)[:, 0]
    print(row("no reader: the score side from the default source", gen, real, files, seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
