"""Whether a loop is played tight or loose as a whole: how each drum's spread within a loop moves with the
other drums', real against each model's humanizations.

The scale mixture (``beatguide.feel``, ``scatter``) makes some (loop, drum) pairs tighter than others;
its ``tightness`` shares part of each drum's scale with the whole loop, as a drummer plays a whole loop
tight or loose. Per pair of drums, over the loops that play both at least twice: the correlation across
loops of their within-loop SDs (``beatguide.evaluate.realism.spread_correlations``), velocity and
offset apart; their mean over the pairs with at least ``--min-loops`` loops. Each model humanizes the
validation windows' scores once at its default settings, and with ``--tightness V O`` (repeatable)
also with its feel's tightness set to V (velocity) and O (offset), scored by the realism test's
classifier; ``--seeds N`` humanizes with N seeds (from --seed on) and gives each measure's mean and SD
over them, how far a feel's AUC moves with the draws alone::

    python server/lab/tightness.py --gmd DIR [--models DIR] [--model agvae2 ...] [--tightness 0 0.5 ...] [--seeds 3]
"""

from __future__ import annotations

import dataclasses

import numpy as np

from beatguide.engine import Engine
from beatguide.evaluate.experiments import humanize
from beatguide.evaluate.realism import FEATURE_GROUPS, feel, spread_correlations, tightness, two_sample_auc
from beatguide.gmd import load_split
from beatguide.model_paths import model_dirs
from lab_cli import at_least_one, study_args, study_parser

SHOWN = (("kick", "snare"), ("kick", "closed_hihat"), ("snare", "closed_hihat"), ("kick", "ride"))


def measures(loops: np.ndarray, min_loops: int) -> list[float]:
    """Velocity and offset tightness (mean over pairs), then the SHOWN pairs' offset correlations."""
    corr = spread_correlations(loops, "offset", min_loops)
    return [tightness(loops, "velocity", min_loops), tightness(loops, "offset", min_loops)] + [
        corr[p][0] if p in corr else float("nan") for p in SHOWN
    ]


def cell(values: list[float], signed: bool = False) -> str:
    """A measure's mean over seeds, with its SD over them where there are several."""
    mean = f"{np.mean(values):+.3f}" if signed else f"{np.mean(values):.3f}"
    return mean if len(values) == 1 else f"{mean} ± {np.std(values, ddof=1):.3f}"


def main(argv=None) -> int:
    ap = study_parser("tightness.py", __doc__.split("\n")[0])
    ap.add_argument(
        "--model",
        action="append",
        help="the models whose humanizations are measured (default: those with a fitted feel)",
    )
    ap.add_argument("--min-loops", type=int, default=100, help="the fewest loops a pair of drums is measured on")
    ap.add_argument(
        "--tightness",
        type=float,
        nargs=2,
        action="append",
        default=[],
        metavar=("VELOCITY", "OFFSET"),
        help="also with the feel's tightness set to these",
    )
    ap.add_argument("--seeds", type=at_least_one, default=1, help="humanizations per setting, one seed each")
    args = study_args(ap, argv)
    if not all(0 <= t <= 1 for pair in args.tightness for t in pair):
        ap.error("--tightness: shares from 0 to 1")
    val = load_split(args.gmd, "validation", progress=False)
    real, files = val.loops, val.file_index
    engine = Engine(model_dirs(args.models))
    models = args.model or [name for name, m in engine.models.items() if not m.feel.independent]
    shown = " | ".join(f"offset {a}-{b}" for a, b in SHOWN)
    seeds = range(args.seed, args.seed + args.seeds)
    print(
        f"{len(real)} validation windows, each model's humanization with seed {', '.join(map(str, seeds))}"
        f"{' (mean ± SD over seeds)' if args.seeds > 1 else ''}; correlation across loops of two drums' "
        "within-loop SD; the realism test's AUC (all features, offset features; mean over folds)\n"
    )
    print(f"| loops | AUC all | AUC offset | velocity, mean over pairs | offset, mean over pairs | {shown} |")
    print("|---" * (5 + len(SHOWN)) + "|")
    print(f"| the drummers | — | — | {' | '.join(f'{m:+.3f}' for m in measures(real, args.min_loops))} |")

    def measured(label: str, engine_model: str) -> str:
        cols = []
        for seed in seeds:
            gen = humanize(engine, engine_model, real, 1, seed)[:, 0]
            aucs = [two_sample_auc(real, gen, files, files, g, args.seed)[0] for g in (FEATURE_GROUPS, ("offset",))]
            cols.append(aucs + measures(gen, args.min_loops))
        cols = np.array(cols).T
        return f"| {label} | " + " | ".join(cell(list(c), signed=i >= 2) for i, c in enumerate(cols)) + " |"

    for model in models:
        shipped = engine.models[model].feel
        print(measured(f"{model} (tightness {shipped.tightness[0]:.1f} / {shipped.tightness[1]:.1f})", model))
        for t in args.tightness:
            with feel(engine, model, dataclasses.replace(shipped, tightness=tuple(t))):
                print(measured(f"{model}, tightness {t[0]:.1f} / {t[1]:.1f}", model))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
