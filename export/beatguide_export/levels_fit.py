"""Fit a model's levels (``beatguide.levels``) on the training split, select them on validation.

    python -m beatguide_export.levels_fit --gmd DIR [--models DIR] [--model NAME] [--write]

1. Fit (train windows): each window's score humanized once with the groove drawn from each latent
   source the model has, its levels off; per drum, the drawn velocities' quantiles mapped onto the
   train drummers'. The table shows each drum's mean velocity and share at the top velocity (127),
   real against drawn (default source) and the drummer's own groove, on the same windows.
2. Select (validation): the model as it is and with the fitted levels, each window's score humanized
   at the default settings once per seed (``--selection-seeds``, default 3; the AUC their mean); the
   levels are kept where the two-sample classifier tells the loops from real playing less well (lower
   AUC) and both structure goals still hold (each goal drum's
   within-loop velocity SD and the between-loop SD of the loop's level within 15 % of real), as the
   feel is selected (``beatguide_export.feel_fit``). ``--write`` stores the kept levels beside the
   model (``beatguide.levels.LEVELS_FILE``, named in model.json) and removes any where it is kept
   without; with ``--keep`` it stores them whatever the selection, so that a feel can be refitted
   with them in place (``feel_fit --write``) before the levels are selected again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from beatguide.drums import CLASSES
from beatguide.engine import Engine
from beatguide.evaluate import realism
from beatguide.evaluate.experiments import humanize, run
from beatguide.evaluate.realism import levels
from beatguide.grid import TOP_VELOCITY
from beatguide.levels import LEVELS_FILE, Levels, drum_velocities
from beatguide_export.feel_fit import (
    drawing_models,
    fit_inputs,
    fit_parser,
    md_table,
    own_request,
    print_selection,
    seeded_auc,
    selection_row,
)


def fit(engine: Engine, model: str, loops: np.ndarray, seed: int = 0) -> tuple[Levels, dict]:
    """The levels of ``model`` fitted on ``loops`` (train), and {setting: loops} it was fitted from
    (each latent source's, levels off) with the drummer's own groove's beside them."""
    drawn = {}
    with levels(engine, model, Levels()):
        for source in engine.capabilities(model)["latent_sources"]:
            drawn[source] = humanize(engine, model, loops, 1, seed, latent_source=source)[:, 0]
        reqs = [own_request(engine, model, x, seed + i, 1) for i, x in enumerate(loops)]
        own = np.stack([r.loops[0] for r in run(engine, model, reqs, f"own {model}")])
    return Levels.fit(drawn, loops), {**drawn, "own groove": own}


def select(engine: Engine, model: str, fitted: Levels, loops: np.ndarray, files: np.ndarray, seed: int = 0,
           seeds: int = 1):  # fmt: skip
    """{name: (levels, AUC, SD, structure)} on validation for the model without and with the ``fitted``
    levels, and the name kept: with them where their AUC is lower and both structure goals hold, else
    without. AUC and SD as in ``feel_fit.select`` (``seeds`` humanizations from ``seed`` on)."""
    rows, real = {}, realism.structure(loops)
    for name, lv in (("without", Levels()), ("with the fitted levels", fitted)):
        with levels(engine, model, lv):
            runs = [humanize(engine, model, loops, 1, seed + k)[:, 0] for k in range(seeds)]
        rows[name] = (lv, *seeded_auc(loops, files, runs, seed), realism.structure(runs[0]))
    better = rows["with the fitted levels"][1] < rows["without"][1]
    keep = better and realism.structure_within_goals(rows["with the fitted levels"][3], real)
    return rows, "with the fitted levels" if keep else "without"


def attach(folder: Path, lv: Levels | None) -> None:
    """Write levels ``lv`` beside the exported model in ``folder`` and name them in model.json (file,
    checksum); ``None``: remove any it has."""
    path, meta_path = Path(folder) / LEVELS_FILE, Path(folder) / "model.json"
    meta = json.loads(meta_path.read_text())
    meta.pop("levels", None)
    meta.get("sha256", {}).pop(LEVELS_FILE, None)
    path.unlink(missing_ok=True)
    if lv is not None:
        np.savez_compressed(path, **lv.arrays())
        meta["levels"] = LEVELS_FILE
        meta["sha256"][LEVELS_FILE] = hashlib.sha256(path.read_bytes()).hexdigest()
    meta_path.write_text(json.dumps(meta, indent=2))


def level_rows(model: str, real: np.ndarray, settings: dict) -> list[list[str]]:
    """Per setting, each drum's mean velocity and share at the top velocity: table rows."""
    rows = []
    for name, loops in {"real": real, **settings}.items():
        cells = []
        for d in range(len(CLASSES)):
            v = drum_velocities(loops, d)
            cells.append(f"{v.mean():.3f} / {np.mean(v >= TOP_VELOCITY):.2f}" if len(v) else "—")
        rows.append([model, name, *cells])
    return rows


def main(argv=None) -> int:
    """Fit on train and select on validation each model's levels; print the tables."""
    ap = fit_parser("levels_fit", main.__doc__, fit_windows=4000)
    ap.add_argument("--write", action="store_true", help="store each model's selected levels in its model.json")
    ap.add_argument(
        "--keep",
        action="store_true",
        help="with --write, store the fitted levels whatever the selection (to refit a feel on them)",
    )
    args = ap.parse_args(argv)
    engine, _, val, fit_loops = fit_inputs(args)

    fit_rows, select_rows = [], []
    for model in args.model or drawing_models(engine):
        fitted, settings = fit(engine, model, fit_loops, args.seed)
        fit_rows += level_rows(model, fit_loops, settings)
        result, kept = select(engine, model, fitted, val.loops, val.file_index, args.seed, args.selection_seeds)
        real = realism.structure(val.loops)
        for name, (_, auc, sd, st) in result.items():
            select_rows.append(selection_row(model, name + (" (kept)" if name == kept else ""), auc, sd, st, real))
        if args.write:
            attach(engine.models[model].folder, fitted if args.keep or kept != "without" else None)

    print(f"## Fit (train, {len(fit_loops)} windows): mean velocity / share at 127, per drum\n")
    print(md_table(["model", "groove", *CLASSES], fit_rows), "\n")
    print_selection("levels", select_rows, args.selection_seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
