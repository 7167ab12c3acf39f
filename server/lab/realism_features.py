"""Which features tell a model's loops from a drummer's: each realism feature alone, as a ROC AUC.

The realism test (``beatguide eval realism``) trains a classifier on all features together; this
scores each feature on its own (no classifier: the AUC of the raw value, folded so that 0.5 is
indistinguishable and 1.0 separates completely), on validation windows humanized at the default
settings, so a shortfall can be traced to what carries it; and the classifier's AUC on parts of the
windows (those whose drummer plays toms, a crash, neither), where a part carries the gap::

    python server/lab/realism_features.py --gmd DIR [--models DIR] [--model agvae2] [--windows 1500] [--top 15] [--own-groove]
"""

from __future__ import annotations

import numpy as np

from beatguide import gestures
from beatguide.drums import CLASSES
from beatguide.engine import Engine, Request
from beatguide.evaluate.experiments import humanize, run
from beatguide.evaluate.realism import features, two_sample_auc
from beatguide.gmd import load_split
from beatguide.grid import HITS, TOP_VELOCITY, VELOCITIES
from beatguide.model_paths import model_dirs
from beatguide.registry import DEFAULT_MODEL
from lab_cli import study_args, study_parser


def feature_names() -> list[str]:
    """The names of :func:`beatguide.evaluate.realism.features`' columns, in order."""
    per_drum = lambda what: [f"{what} {c}" for c in CLASSES]  # noqa: E731
    return [
        *per_drum("hit count"),
        *per_drum("velocity mean"),
        *per_drum("velocity SD"),
        *per_drum("velocity max"),
        *per_drum("offset mean"),
        *per_drum("offset SD"),
        "loop velocity mean",
        "loop velocity SD",
        "loop share at full velocity",
        "loop offset mean",
        "loop offset SD",
        "quarter-note accent",
        "8th off-beat offset",
        "16th off-beat offset",
        "bar repeat, velocity",
        "bar repeat, offset",
    ]


def single_auc(real: np.ndarray, other: np.ndarray) -> tuple[float, float, float, int]:
    """AUC of one feature alone (folded to >= 0.5), the two medians and the loops where both have it."""
    from sklearn.metrics import roc_auc_score

    r, o = real[np.isfinite(real)], other[np.isfinite(other)]
    if len(r) < 20 or len(o) < 20:
        return float("nan"), float("nan"), float("nan"), min(len(r), len(o))
    auc = roc_auc_score(np.r_[np.zeros(len(r)), np.ones(len(o))], np.r_[r, o])
    return max(auc, 1 - auc), float(np.median(r)), float(np.median(o)), min(len(r), len(o))


TOMS = [CLASSES.index(d) for d in ("low_tom", "mid_tom", "high_tom")]
CRASH = CLASSES.index("crash")


def parts(real: np.ndarray) -> dict:
    """{label: mask over ``real``'s windows}: those playing toms, a crash (the two overlap), or neither."""
    hits = real[..., HITS] > 0.5
    toms, crash = hits[..., TOMS].any(axis=(1, 2)), hits[..., CRASH].any(axis=1)
    return {"toms played": toms, "crash played": crash, "neither toms nor crash": ~toms & ~crash}


def part_aucs(real: np.ndarray, gen: np.ndarray, files: np.ndarray, seed: int = 0) -> list[tuple]:
    """(part, windows, AUC, SD over folds, AUC of as many random windows) of the realism classifier on
    each of :func:`parts`, the generated loop of a window going with its real one; the random windows
    are the control (a smaller set trains a weaker classifier)."""
    rng = np.random.default_rng(seed)
    out = []
    for label, m in parts(real).items():
        same = np.zeros(len(real), bool)
        same[rng.permutation(len(real))[: m.sum()]] = True
        control = two_sample_auc(real[same], gen[same], files[same], files[same], seed=seed)[0]
        out.append((label, int(m.sum()), *two_sample_auc(real[m], gen[m], files[m], files[m], seed=seed), control))
    return out


def main(argv=None) -> int:
    ap = study_parser("realism_features.py", __doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL, help="the model whose humanizations are scored")
    ap.add_argument("--windows", type=int, default=1500, help="random validation windows")
    ap.add_argument("--top", type=int, default=15, help="rows shown, most telling first")
    ap.add_argument(
        "--own-groove", action="store_true", help="give each window's own groove with its score (the decoder's ceiling)"
    )
    args = study_args(ap, argv)
    val = load_split(args.gmd, "validation", progress=False)
    pick = np.random.default_rng(args.seed).permutation(len(val.loops))[: args.windows]
    real = val.loops[pick]
    engine = Engine(model_dirs(args.models))
    if args.own_groove:
        reqs = [Request(args.model, 1, 1.0, args.seed + i, score=s, groove=g)
                for i, (s, g) in enumerate(zip(gestures.score(real), gestures.groove(real)))]  # fmt: skip
        gen = np.stack([r.loops[0] for r in run(engine, args.model, reqs, "own groove")])
    else:
        gen = humanize(engine, args.model, real, 1, args.seed)[:, 0]
    fr, fo = features(real)[0], features(gen)[0]
    rows = [(name, *single_auc(fr[:, i], fo[:, i])) for i, name in enumerate(feature_names())]
    rows = sorted((r for r in rows if np.isfinite(r[1])), key=lambda r: -r[1])[: args.top]
    given = " with their own groove" if args.own_groove else ""
    print(f"{args.model}, {len(real)} validation windows humanized once{given} (seed {args.seed}); one feature alone\n")
    for label, loops in (("real", real), ("generated", gen)):
        top = loops[..., VELOCITIES][loops[..., HITS] > 0.5] >= TOP_VELOCITY
        print(f"{label}: {top.mean():.1%} of hits at the top velocity (127)")
    auc, sd = two_sample_auc(real, gen, val.file_index[pick], val.file_index[pick])
    print(f"all features (the realism test's classifier): AUC {auc:.3f} ± {sd:.3f}\n")
    print("| windows | count | AUC, all features | as many random windows |")
    print("|---|---|---|---|")
    for label, n, a, d, control in part_aucs(real, gen, val.file_index[pick], args.seed):
        print(f"| {label} | {n} | {a:.3f} ± {d:.3f} | {control:.3f} |")
    print()
    print("| feature | AUC alone | real median | generated median | loops |")
    print("|---|---|---|---|---|")
    for name, auc, mr, mo, n in rows:
        print(f"| {name} | {auc:.3f} | {mr:.3f} | {mo:.3f} | {n} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
