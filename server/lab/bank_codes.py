"""Which of the bank rows like a score to draw its groove from: any of the rhythm's neighbours, or
those whose score code is nearest the score's own.

The engine draws a humanized score's groove code from the ``BANK_NEIGHBOURS`` bank rows most like
the score in rhythm (``engine.bank_neighbours``). Each setting here keeps those rows and draws from
the K of them whose score-side code (the bank row's posterior mean) is nearest, in Euclidean
distance, to the score's own code: a groove a drummer played on a score the model reads as this
one. Per setting: the realism test's AUC (all features, mean ± SD over folds), within-loop velocity
SD of kick / snare / closed hat / ride and between-loop SD of loop level against real (percent), the
drum whose mean velocity is furthest from real, and the paper's offset diversity over five
humanizations of the first --windows scores (how much the variations differ)::

    python server/lab/bank_codes.py --gmd DIR [--model agvae2 ...] [--models DIR] [--seed 0] [--windows 500]
"""

from __future__ import annotations

from unittest import mock

import numpy as np

from bank_match import GOAL_DRUMS, _pct
from beatguide import engine as engine_module
from beatguide import gestures
from beatguide.drums import CLASSES
from beatguide.engine import BANK_NEIGHBOURS, Engine
from beatguide.evaluate import metrics
from beatguide.evaluate.experiments import humanize
from beatguide.evaluate.realism import structure, two_sample_auc
from beatguide.gmd import load_split
from beatguide.model_paths import model_dirs
from beatguide.registry import AGVAE2, SCORE_SIDE
from lab_cli import at_least_one, study_args, study_parser

NEAREST = (16, 8, 4, 2)  # K: rows drawn from, of the rhythm's BANK_NEIGHBOURS


def score_side(model) -> np.ndarray:
    """(z,) True where a model's latent vector holds its score side (score, lanes)."""
    return np.concatenate([np.full(lat["dim"] * lat["groups"], lat["gesture"] in SCORE_SIDE) for lat in model.latents])


def nearest_in_code(k: int):
    """A stand-in for ``engine._bank_candidates``: of the rows the engine would draw from, the ``k``
    whose score-side code is nearest the request's own (its posterior mean); all of them where the
    request gives no score side."""
    own = engine_module._bank_candidates

    def pick(model, parsed):
        rows = own(model, parsed)
        side = score_side(model)
        given = np.concatenate([np.repeat(parsed.given[lat["name"]], lat["dim"]) for lat in model.latents])
        if len(rows) <= k or not (given & side).any():
            return rows
        post = model.encode(parsed.inputs)
        code = np.concatenate([post[lat["name"]][0][0] for lat in model.latents])[side]
        far = ((model.bank[rows][:, side] - code) ** 2).sum(axis=1)
        return rows[np.argsort(far, kind="stable")[:k]]

    return pick


def row(label, engine, name, real, files, seed, windows) -> str:
    gen = humanize(engine, name, real, 1, seed)[:, 0]
    auc, sd = two_sample_auc(real, gen, files, files, seed=seed)
    st, sr = structure(gen), structure(real)
    within = " / ".join(_pct(st["within"]["velocity"][d], sr["within"]["velocity"][d]) for d in GOAL_DRUMS)
    gaps = np.array(st["mean"]) - np.array(sr["mean"])
    worst = int(np.nanargmax(np.abs(gaps)))
    few = real[:windows]
    five = humanize(engine, name, few, 5, seed)
    div = metrics.mean_and_se([metrics.offset_diversity(g, s) for g, s in zip(five, gestures.score(few))])
    return (
        f"| {label} | {auc:.3f} ± {sd:.3f} | {within} | {_pct(st['level_between'], sr['level_between'])} | "
        f"{CLASSES[worst]} {gaps[worst]:+.3f} | {div[0]:.3f} ± {div[1]:.3f} |"
    )


def main(argv=None) -> int:
    ap = study_parser("bank_codes.py", __doc__.split("\n")[0])
    ap.add_argument("--model", action="append", help=f"the models scored (repeatable; default: {AGVAE2.name})")
    ap.add_argument("--windows", type=at_least_one, default=500, help="scores humanized five times for diversity")
    args = study_args(ap, argv)
    val = load_split(args.gmd, "validation", progress=False)
    real, files, seed = val.loops, val.file_index, args.seed
    engine = Engine(model_dirs(args.models))
    print(f"{len(real)} validation windows humanized once (seed {seed}), diversity over five humanizations of the "
          f"first {min(args.windows, len(real))}; against real, in percent of its SD or in velocity\n")  # fmt: skip
    print("| model, groove code drawn from | AUC | within-loop velocity SD kick / snare / closed hat / ride | "
          "between-loop SD of loop level | furthest drum mean velocity | diversity |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name in args.model or [AGVAE2.name]:
        if engine.models[name].bank is None:
            print(f"| {name}: no bank | | | | | |")
            continue
        print(row(f"{name}, the {BANK_NEIGHBOURS} rows like it in rhythm (the engine's)", engine, name, real, files,
                  seed, args.windows), flush=True)  # fmt: skip
        for k in NEAREST:
            with mock.patch.object(engine_module, "_bank_candidates", nearest_in_code(k)):
                line = row(f"{name}, the {k} of those nearest in score code", engine, name, real, files, seed,
                           args.windows)  # fmt: skip
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
