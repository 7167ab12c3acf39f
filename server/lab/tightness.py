"""Whether a loop is played tight or loose as a whole: how each drum's spread within a loop moves with the
other drums', real against each model's humanizations.

The scale mixture (``beatguide.feel``, ``scatter``) makes some (loop, drum) pairs tighter than others,
each drum's scale drawn on its own. A drummer may instead play a whole loop tight or loose. Per pair
of drums, over the loops that play both at least twice: the correlation across loops of their
within-loop SDs, velocity and offset apart; their mean
over the pairs with at least ``--min-loops`` loops. Each model humanizes the validation windows'
scores once at its default settings (seed 0)::

    python server/lab/tightness.py --gmd DIR [--models DIR] [--model agvae2 ...] [--min-loops 100]
"""

from __future__ import annotations

import numpy as np

from beatguide.drums import CLASSES
from beatguide.engine import Engine
from beatguide.evaluate.experiments import humanize
from beatguide.evaluate.realism import within_sd
from beatguide.gmd import load_split
from beatguide.model_paths import model_dirs
from lab_cli import study_args, study_parser

SHOWN = (("kick", "snare"), ("kick", "closed_hihat"), ("snare", "closed_hihat"), ("kick", "ride"))


def spread_correlations(loops: np.ndarray, kind: str, min_loops: int = 100) -> dict:
    """{(drum a, drum b): (r, loops)}: the correlation across ``loops`` of the two drums' within-loop
    SD of ``kind`` ("velocity" or "offset"), over the loops where both play twice or more; pairs with
    fewer than ``min_loops`` such loops are left out."""
    sd = within_sd(loops, kind)
    out = {}
    for a in range(len(CLASSES)):
        for b in range(a + 1, len(CLASSES)):
            both = np.isfinite(sd[:, a]) & np.isfinite(sd[:, b])
            if both.sum() >= max(min_loops, 3):
                out[(CLASSES[a], CLASSES[b])] = (float(np.corrcoef(sd[both, a], sd[both, b])[0, 1]), int(both.sum()))
    return out


def row(label: str, loops: np.ndarray, min_loops: int) -> str:
    cells = []
    for kind in ("velocity", "offset"):
        corr = spread_correlations(loops, kind, min_loops)
        cells.append(f"{np.mean([r for r, _ in corr.values()]):+.3f}" if corr else "—")
        if kind == "offset":
            cells += [f"{corr[p][0]:+.2f}" if p in corr else "—" for p in SHOWN]
    return f"| {label} | " + " | ".join(cells) + " |"


def main(argv=None) -> int:
    ap = study_parser("tightness.py", __doc__.split("\n")[0])
    ap.add_argument(
        "--model",
        action="append",
        help="the models whose humanizations are measured (default: those with a fitted feel)",
    )
    ap.add_argument("--min-loops", type=int, default=100, help="the fewest loops a pair of drums is measured on")
    args = study_args(ap, argv)
    val = load_split(args.gmd, "validation", progress=False)
    engine = Engine(model_dirs(args.models))
    models = args.model or [name for name, m in engine.models.items() if not m.feel.independent]
    shown = " | ".join(f"offset {a}-{b}" for a, b in SHOWN)
    print(
        f"{len(val.loops)} validation windows, each model's humanization once (seed {args.seed}); correlation across loops of two drums' within-loop SD\n"
    )
    print(f"| loops | velocity, mean over pairs | offset, mean over pairs | {shown} |")
    print("|---" * (3 + len(SHOWN)) + "|")
    print(row("the drummers", val.loops, args.min_loops))
    for model in models:
        print(row(model, humanize(engine, model, val.loops, 1, args.seed)[:, 0], args.min_loops))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
