"""Where the realism test's AUC comes from: one model's humanizations under settings that isolate a cause.

Each setting humanizes the validation windows' scores once (seed 0) and scores them with the realism
test's classifier (all features, velocity features, offset features) and the structure measures the
goals name (within-loop velocity SD of kick, snare, closed hi-hat and ride; bar-to-bar velocity
repeat). Settings: as shipped; the velocity draws off (the value head's locations alone); each
drum's deviations from its loop mean shrunk to the train drummers' within-loop SD (with and without
the notes at 127); the groove code from the fitted prior (the default until round 25, now the bank); temperature 0.7; the drummer's
own groove given; and the shipped setting on train windows instead::

    python server/lab/realism_sources.py --gmd DIR [--model agvae2] [--models DIR] [--seed 0]
"""

from __future__ import annotations

import numpy as np

from beatguide import gestures
from beatguide.drums import CLASSES
from beatguide.engine import Engine, Request
from beatguide.evaluate import realism
from beatguide.evaluate.experiments import humanize, run
from beatguide.evaluate.realism import FEATURE_GROUPS, feel, structure, two_sample_auc
from beatguide.feel import Feel
from beatguide.gmd import load_split
from beatguide.grid import HITS, TOP_VELOCITY, VELOCITIES
from beatguide.model_paths import model_dirs
from beatguide.registry import DEFAULT_MODEL
from lab_cli import study_args, study_parser

GOAL_DRUMS = [CLASSES.index(d) for d in realism.GOAL_DRUMS]  # the drums of the within-loop goal


def shrink(loops: np.ndarray, factors: np.ndarray, keep_top: bool) -> np.ndarray:
    """Each drum's velocities in each loop moved toward that loop's mean velocity of the drum by its
    factor (1: unchanged); ``keep_top``: notes at the top velocity stay there."""
    out = loops.copy()
    hits, vel = out[..., HITS] > 0.5, out[..., VELOCITIES]
    mean = (vel * hits).sum(axis=1, keepdims=True) / np.maximum(hits.sum(axis=1, keepdims=True), 1)
    moved = mean + factors * (vel - mean)
    if keep_top:
        moved = np.where(vel >= TOP_VELOCITY, 1.0, moved)
    moved = np.clip(np.round(moved * 127) / 127, 1 / 127, 1.0)  # MIDI velocities
    out[..., VELOCITIES] = np.where(hits, moved, 0.0)
    return out


def row(label: str, gen: np.ndarray, real: np.ndarray, files: np.ndarray, seed: int) -> str:
    aucs = [two_sample_auc(real, gen, files, files, g, seed)[0] for g in (FEATURE_GROUPS, ("velocity",), ("offset",))]
    st = structure(gen)
    within = " / ".join(f"{st['within']['velocity'][d]:.3f}" for d in GOAL_DRUMS)
    return f"| {label} | " + " | ".join(f"{a:.3f}" for a in aucs) + f" | {within} | {st['repeat']['velocity']:.3f} |"


def main(argv=None) -> int:
    ap = study_parser("realism_sources.py", __doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL, help="the model whose humanizations are scored")
    args = study_args(ap, argv)
    val, train = load_split(args.gmd, "validation", progress=False), load_split(args.gmd, "train", progress=False)
    real, files, name, seed = val.loops, val.file_index, args.model, args.seed
    engine = Engine(model_dirs(args.models))
    shipped = engine.models[name].feel
    pick = np.random.default_rng(seed + 1).permutation(len(train.loops))[: len(real)]
    train_real, train_files = train.loops[pick], train.file_index[pick]
    train_gen = humanize(engine, name, train_real, 1, seed)[:, 0]
    factors = np.array(structure(train_real)["within"]["velocity"]) / np.array(
        structure(train_gen)["within"]["velocity"]
    )
    factors = np.clip(np.nan_to_num(factors, nan=1.0), 0.0, 1.0)
    gen = humanize(engine, name, real, 1, seed)[:, 0]
    with feel(engine, name, Feel(shipped.loop, shipped.drum, shipped.bar, (0.0, shipped.spread[1]))):
        quiet = humanize(engine, name, real, 1, seed)[:, 0]
    cool = [Request(name, 1, 0.7, seed + i, score=s) for i, s in enumerate(gestures.score(real))]
    own = [Request(name, 1, 1.0, seed + i, score=s, groove=g)
           for i, (s, g) in enumerate(zip(gestures.score(real), gestures.groove(real)))]  # fmt: skip
    st = structure(real)
    print(f"{name}, {len(real)} validation windows humanized once (seed {seed}); train factors "
          + " ".join(f"{c} {f:.2f}" for c, f in zip(CLASSES, factors)) + "\n")  # fmt: skip
    print(
        "| setting | AUC all | velocity | offset | within-loop velocity SD kick / snare / closed hat / ride | bar-to-bar velocity repeat |"
    )
    print("|---|---|---|---|---|---|")
    within = " / ".join(f"{st['within']['velocity'][d]:.3f}" for d in GOAL_DRUMS)
    print(f"| real | — | — | — | {within} | {st['repeat']['velocity']:.3f} |")
    print(row("shipped", gen, real, files, seed))
    print(row("velocity draws off (the head's locations)", quiet, real, files, seed))
    print(
        row(
            "deviations shrunk to train's within-loop SD, notes at 127 kept",
            shrink(gen, factors, True),
            real,
            files,
            seed,
        )
    )
    print(row("the same, notes at 127 shrunk too", shrink(gen, factors, False), real, files, seed))
    print(
        row(
            "groove code from the fitted prior",
            humanize(engine, name, real, 1, seed, latent_source="fitted")[:, 0],
            real,
            files,
            seed,
        )
    )
    print(row("temperature 0.7", np.stack([r.loops[0] for r in run(engine, name, cool, "t 0.7")]), real, files, seed))
    print(
        row(
            "the drummer's own groove given",
            np.stack([r.loops[0] for r in run(engine, name, own, "own")]),
            real,
            files,
            seed,
        )
    )
    print(row("train windows instead of validation (shipped)", train_gen, train_real, train_files, seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
