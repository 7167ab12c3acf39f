"""Whether a loop is played tight or loose as a whole: how each drum's spread within a loop moves with the
other drums', real against each model's humanizations.

The scale mixture (``beatguide.feel``, ``scatter``) makes some (loop, drum) pairs tighter than others,
each drum's scale drawn on its own. A drummer may instead play a whole loop tight or loose. Per pair
of drums, over the loops that play both at least twice: the correlation across loops of their
within-loop SDs, velocity and offset apart; their mean over the pairs with at least ``--min-loops``
loops. Each model humanizes the validation windows' scores once at its default settings (seed 0),
and with ``--loop-share S`` (repeatable) also with the offsets' scale normal shared with the whole
loop at share S (the velocities' kept per (loop, drum)), scored by the realism test's classifier::

    python server/lab/tightness.py --gmd DIR [--models DIR] [--model agvae2 ...] [--loop-share 0.5 ...]
"""

from __future__ import annotations

from unittest import mock

import numpy as np

from beatguide.drums import CLASSES
from beatguide.engine import Engine
from beatguide.evaluate.experiments import humanize
from beatguide.evaluate.realism import two_sample_auc, within_sd
from beatguide.feel import Feel
from beatguide.gmd import load_split
from beatguide.model_paths import model_dirs
from lab_cli import study_args, study_parser

SHOWN = (("kick", "snare"), ("kick", "closed_hihat"), ("snare", "closed_hihat"), ("kick", "ride"))
LOOP_STREAM = 5  # random stream of the loop's scale normal, beside the feel's own (beatguide.feel: 3, 4)


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


def loop_shared(share: float):
    """A stand-in for ``Feel.scale_normals``: the offsets' scale normal of each (loop, drum) shares
    ``share`` of its variance with one normal per loop; it stays standard normal, so every note's
    distribution is the feel's own."""
    own = Feel.scale_normals

    def normals(self, seed, total, n, shared=None):
        x = own(self, seed, total, n, shared)
        first, row = (seed, 0) if shared is None else shared
        loop = np.random.default_rng([first, LOOP_STREAM]).standard_normal((total, 1, 1, 1))[row : row + n]
        r = np.array([0.0, share])[None, None, :, None]  # velocity, offset
        return np.sqrt(r) * loop + np.sqrt(1 - r) * x

    return normals


def row(label: str, loops: np.ndarray, min_loops: int, auc: str = "— | —") -> str:
    cells = [auc]
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
    ap.add_argument(
        "--loop-share",
        type=float,
        action="append",
        default=[],
        help="also with the offsets' scale this much the loop's",
    )
    args = study_args(ap, argv)
    if not all(0 <= s <= 1 for s in args.loop_share):
        ap.error("--loop-share: a share from 0 to 1")
    val = load_split(args.gmd, "validation", progress=False)
    real, files = val.loops, val.file_index
    engine = Engine(model_dirs(args.models))
    models = args.model or [name for name, m in engine.models.items() if not m.feel.independent]
    shown = " | ".join(f"offset {a}-{b}" for a, b in SHOWN)
    print(
        f"{len(real)} validation windows, each model's humanization once (seed {args.seed}); correlation across "
        "loops of two drums' within-loop SD; the realism test's AUC (all features, offset features)\n"
    )
    print(f"| loops | AUC all | AUC offset | velocity, mean over pairs | offset, mean over pairs | {shown} |")
    print("|---" * (5 + len(SHOWN)) + "|")
    print(row("the drummers", real, args.min_loops))

    def measured(label: str, gen: np.ndarray) -> str:
        aucs = [
            two_sample_auc(real, gen, files, files, g, args.seed) for g in (("hits", "velocity", "offset"), ("offset",))
        ]
        return row(label, gen, args.min_loops, " | ".join(f"{m:.3f} ± {sd:.3f}" for m, sd in aucs))

    for model in models:
        print(measured(model, humanize(engine, model, real, 1, args.seed)[:, 0]))
        for share in args.loop_share:
            with mock.patch.object(Feel, "scale_normals", loop_shared(share)):
                gen = humanize(engine, model, real, 1, args.seed)[:, 0]
            print(measured(f"{model}, offsets' scale {share:.1f} the loop's", gen))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
