"""Which bank rows a request's missing latents come from: rules for matching the input against the
bank, each scored on one model's humanizations of the validation windows' scores.

The engine draws the groove code of a humanized score from the bank's ``BANK_NEIGHBOURS`` rows most
like the score (``engine._bank_candidates``). Each rule below replaces that likeness for one run:
steps alone (the rule until round 25), every cell (step x drum), every cell with rare drums weighted
up (by one over each drum's share of the bank's cells), the steps plus the crash lane, the steps plus
the crash and ride lanes, the same plus the toms as one lane (the engine's rule), the steps plus each
lane's own likeness averaged; the fitted prior's draws beside them. Per rule: the realism test's AUC
(all features, mean ± SD over folds), within-loop velocity SD of kick / snare / closed hat / ride and
between-loop SD of loop level against real (percent), and the crash's, the toms' and the snare's mean
velocity against real::

    python server/lab/bank_match.py --gmd DIR [--model agvae2 ...] [--models DIR] [--seed 0]
"""

from __future__ import annotations

from unittest import mock

import numpy as np

from beatguide import engine as engine_module
from beatguide.drums import CLASSES
from beatguide.engine import BANK_NEIGHBOURS, Engine, _jaccard
from beatguide.evaluate import realism
from beatguide.evaluate.experiments import humanize
from beatguide.evaluate.realism import structure, two_sample_auc
from beatguide.gmd import load_split
from beatguide.model_paths import model_dirs
from beatguide.registry import AGVAE2
from lab_cli import study_args, study_parser

GOAL_DRUMS = [CLASSES.index(d) for d in realism.GOAL_DRUMS]
CRASH, SNARE, RIDE = CLASSES.index("crash"), CLASSES.index("snare"), CLASSES.index("ride")
TOMS = [CLASSES.index(d) for d in ("low_tom", "mid_tom", "high_tom")]


def _cells(rows: np.ndarray, cells: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted Jaccard similarity of each row's (32, 9) cells with ``cells``."""
    both = ((rows & cells) * weights).sum(axis=(1, 2))
    either = ((rows | cells) * weights).sum(axis=(1, 2))
    return both / np.maximum(either, 1e-9)


def _rarity(rows: np.ndarray) -> np.ndarray:
    """(9,) one over each drum's share of the bank's cells (a drum the bank never plays: one over one cell's)."""
    return 1 / np.maximum(rows.mean(axis=(0, 1)), 1 / rows[:, :, 0].size)


def _lanes(rows: np.ndarray, cells: np.ndarray, lanes) -> np.ndarray:
    return sum(_jaccard(rows[:, :, d], cells[:, d]) for d in lanes)


RULES = {  # likeness of each bank row to the input: (model, parsed) -> (rows,); None: the engine's own
    "steps alone": lambda m, p: _jaccard(m.bank_steps, p.steps),
    "every cell": lambda m, p: _cells(m.bank_hits, p.cells, np.ones(len(CLASSES))),
    "every cell, rare drums weighted": lambda m, p: _cells(m.bank_hits, p.cells, _rarity(m.bank_hits)),
    "steps + crash lane": lambda m, p: _jaccard(m.bank_steps, p.steps) + _lanes(m.bank_hits, p.cells, [CRASH]),
    "steps + crash and ride lanes": lambda m, p: (
        _jaccard(m.bank_steps, p.steps) + _lanes(m.bank_hits, p.cells, [CRASH, RIDE])
    ),
    "steps + crash and ride lanes + the toms as one (the engine's)": None,  # engine._bank_candidates itself
    "steps + each lane's own, averaged": lambda m, p: (
        _jaccard(m.bank_steps, p.steps) + _lanes(m.bank_hits, p.cells, range(len(CLASSES))) / len(CLASSES)
    ),
}


def candidates(rule):
    """A stand-in for ``engine._bank_candidates`` that ranks the bank by ``rule``."""

    def pick(model, parsed):
        if not parsed.steps.any():
            return np.arange(len(model.bank))
        return np.argsort(-rule(model, parsed), kind="stable")[:BANK_NEIGHBOURS]

    return pick


def row(label: str, gen: np.ndarray, real: np.ndarray, files: np.ndarray, seed: int) -> str:
    auc, sd = two_sample_auc(real, gen, files, files, seed=seed)
    st, sr = structure(gen), structure(real)
    within = " / ".join(_pct(st["within"]["velocity"][d], sr["within"]["velocity"][d]) for d in GOAL_DRUMS)
    gaps = " | ".join(f"{st['mean'][d] - sr['mean'][d]:+.3f}" for d in (CRASH, *TOMS, SNARE))
    return f"| {label} | {auc:.3f} ± {sd:.3f} | {within} | {_pct(st['level_between'], sr['level_between'])} | {gaps} |"


def _pct(x: float, real: float) -> str:
    return f"{x / real - 1:+.0%}" if real > 0 else "—"


def main(argv=None) -> int:
    ap = study_parser("bank_match.py", __doc__.split("\n")[0])
    ap.add_argument("--model", action="append", help=f"the models scored (repeatable; default: {AGVAE2.name})")
    args = study_args(ap, argv)
    val = load_split(args.gmd, "validation", progress=False)
    real, files, seed = val.loops, val.file_index, args.seed
    engine = Engine(model_dirs(args.models))
    print(f"{len(real)} validation windows humanized once (seed {seed}); against real, in percent of its SD or "
          "in velocity\n")  # fmt: skip
    print("| model, groove code | AUC | within-loop velocity SD kick / snare / closed hat / ride | between-loop SD "
          "of loop level | mean velocity: crash | low tom | mid tom | high tom | snare |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.model or [AGVAE2.name]:
        if engine.models[name].bank_hits is None:
            print(f"| {name}: its bank holds no scores (python -m beatguide_export.bank rebuilds it) | | | | | | | | |")
            continue
        gen = humanize(engine, name, real, 1, seed, latent_source="fitted")[:, 0]
        print(row(f"{name}, the fitted prior", gen, real, files, seed))
        for label, rule in RULES.items():
            pick = engine_module._bank_candidates if rule is None else candidates(rule)
            with mock.patch.object(engine_module, "_bank_candidates", pick):
                gen = humanize(engine, name, real, 1, seed, latent_source="bank")[:, 0]
            print(row(f"{name}, bank: {label}", gen, real, files, seed), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
