"""How the train and validation drummers differ: each drum's mean velocity per split, and the models'.

The realism goal asks every drum's mean velocity within 0.05 of the validation split's. A model
learns the train split's drummers; where the validation drummers play a drum louder, a model can
match one split or the other, not both. This prints, per drum, the mean velocity of the real hits
of each split and of each model's humanizations of the validation scores (default settings), and how
well the realism test's classifier tells real train windows from real validation windows::

    python server/lab/split_shift.py --gmd DIR [--models DIR] [--seed 0]
"""

from __future__ import annotations

import numpy as np

from beatguide.drums import CLASSES
from beatguide.engine import Engine
from beatguide.evaluate.experiments import humanize
from beatguide.evaluate.realism import structure, two_sample_auc
from beatguide.gmd import load_split
from beatguide.model_paths import model_dirs
from beatguide.registry import KINDS
from lab_cli import study_args, study_parser


def drum_means(loops: np.ndarray) -> np.ndarray:
    """Each drum's mean velocity over its hits (NaN for a drum never played)."""
    return np.array(structure(loops)["mean"])


def main(argv=None) -> int:
    ap = study_parser("split_shift.py", __doc__.split("\n")[0])
    args = study_args(ap, argv)
    train = load_split(args.gmd, "train", progress=False)
    val = load_split(args.gmd, "validation", progress=False)
    engine = Engine(model_dirs(args.models))
    rows = {"real, train split": drum_means(train.loops), "real, validation split": drum_means(val.loops)}
    for name, kind in KINDS.items():
        if name in engine.names and kind.needs != "groove":
            rows[f"{name} (validation scores)"] = drum_means(humanize(engine, name, val.loops, 1, args.seed)[:, 0])
    tr, va = rows["real, train split"], rows["real, validation split"]
    print("Mean velocity of each drum's hits (0-1)\n")
    print("| loops | " + " | ".join(CLASSES) + " | largest gap to validation | to train |")
    print("|---|" + "---|" * (len(CLASSES) + 2))
    for label, m in rows.items():
        to_val, to_train = np.abs(m - va), np.abs(m - tr)
        worst_val, worst_train = int(np.nanargmax(to_val)), int(np.nanargmax(to_train))
        print(
            f"| {label} | " + " | ".join(f"{x:.3f}" for x in m)
            + f" | {CLASSES[worst_val]} {to_val[worst_val]:.3f} | {CLASSES[worst_train]} {to_train[worst_train]:.3f} |"
        )  # fmt: skip
    pick = np.random.default_rng(args.seed).permutation(len(train.loops))[: 2 * len(val.loops)]
    files = train.file_index[pick] + val.file_index.max() + 1  # no file id shared across the splits
    print(
        "\nThe realism test's classifier, real train windows against real validation windows (AUC ± SD over folds):\n"
    )
    for group in ("all", "velocity"):
        groups = ("hits", "velocity", "offset") if group == "all" else (group,)
        auc, sd = two_sample_auc(val.loops, train.loops[pick], val.file_index, files, groups, args.seed)
        print(f"- {group} features: {auc:.3f} ± {sd:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
