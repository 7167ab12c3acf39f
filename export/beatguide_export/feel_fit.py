"""Fit a model's feel (``beatguide.feel``) on the training split, select it on validation.

    python -m beatguide_export.feel_fit --gmd DIR [--models DIR] [--model NAME] [--write]

1. Diagnosis (validation): what carries a loop's dynamics. Each score humanized with the groove from
   its own performance (own codes) or drawn (the model's default source), the value head's per-note
   draws on or off (every value at its location): within-loop velocity SD, between-loop SD of the
   loop's level, bar-to-bar repeat, diversity.
2. Fit (train windows): the copula's shares (loop, drum, bar; velocity and offset apart) by
   coordinate search on a 0.05 grid, matching the real training loops' within-loop SD (kick, snare,
   closed hi-hat, ride), between-loop SD of the loop's mean and bar-to-bar repeat (squared log
   ratios); the noise's spread (velocity and offset apart) matching the within-loop SD alone, with
   independent draws (the simpler alternative) and with the fitted copula (what sharing alone leaves
   too wide within a loop).
   Then the scale mixture (``Feel.scatter``) on the fitted copula, velocity and offset apart, matching
   how much tighter some real loops are than others: the 10th, 50th and 90th percentiles over loops of
   each goal drum's within-loop SD, and its mean. ``--keep-copula`` fits the scatter alone, on each model's copula
   as shipped.
   Then the mixture's tightness (``Feel.tightness``), velocity then offset, matching how the real loops'
   drums are tight or loose together: the mean correlation across loops of two drums' within-loop SDs.
   ``--keep-scatter`` fits the tightness alone, on each model's feel as shipped.
3. Select (validation): among independent draws, the fitted spread, the fitted copula and both, the
   copula with its scale mixture, and with its tightness (``--keep-copula``: the shipped feel, it with
   the mixture and with its tightness; ``--keep-scatter``: the shipped feel and it with its
   tightness), the one the two-sample classifier tells from real playing worst (lowest AUC, the mean
   over ``--selection-seeds`` humanizations, default 3: one seed's AUC moves by about 0.005 with the
   draws alone), of those meeting the structure goals (each goal drum's within-loop velocity SD and
   the between-loop SD of the loop's level within 15 % of real), where any does; else of those keeping
   the loop's level within its goal. ``--write`` stores it in model.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from beatguide import gestures
from beatguide.drums import CLASSES
from beatguide.engine import Engine, Request
from beatguide.evaluate import metrics, realism
from beatguide.evaluate.experiments import humanize, run
from beatguide.evaluate.realism import feel
from beatguide.feel import SHARES, Feel

STEP = 0.05
MAX_SHARE = 0.9  # the shares' sum: the default bound of the search (--max-share)
GOAL = [CLASSES.index(d) for d in realism.GOAL_DRUMS]
KINDS = ("velocity", "offset")
INDEPENDENT = Feel()  # every note drawn on its own
SCATTER_GRID = np.round(np.arange(0.0, 2.0 + 1e-9, 0.2), 4)
QUANTILES = (10, 50, 90)  # of a goal drum's within-loop SD over loops, which the scatter matches
TIGHTNESS_GRID = np.round(np.arange(0.0, 1.0 + 1e-9, 0.1), 4)  # 1: the whole loop tight or loose together


def targets(st: dict, kind: str) -> np.ndarray:
    """What the fit matches, for velocity or offset: mean within-loop SD of the goal drums, between-loop
    SD of the loop's mean, bar-to-bar repeat."""
    between = st["level_between"] if kind == "velocity" else st["timing_between"]
    return np.array([np.nanmean(np.array(st["within"][kind])[GOAL]), between, st["repeat"][kind]])


def _generate(engine: Engine, model: str, loops: np.ndarray, f: Feel, seed: int) -> np.ndarray:
    """Each loop's score humanized once at the default settings, values drawn with feel ``f``."""
    with feel(engine, model, f):
        return humanize(engine, model, loops, 1, seed)[:, 0]


def fit_copula(engine: Engine, model: str, loops: np.ndarray, seed: int = 0, max_share: float = MAX_SHARE) -> Feel:
    """The copula's shares matching ``loops``' (real training windows) structure: coordinate search,
    velocity shares first (offsets drawn independently), then offset shares."""
    real = {k: targets(realism.structure(loops), k) for k in KINDS}
    cache = {}

    def loss(f: Feel, kind: str) -> float:
        if f not in cache:
            cache[f] = realism.structure(_generate(engine, model, loops, f, seed))
        with np.errstate(divide="ignore", invalid="ignore"):  # a target of 0 (never played): no move counts
            return float((np.log(targets(cache[f], kind) / real[kind]) ** 2).sum())

    shares = {s: [0.0, 0.0] for s in SHARES}
    make = lambda sh: Feel(*(tuple(sh[s]) for s in SHARES))  # noqa: E731
    for k, kind in enumerate(KINDS):
        improved = True
        while improved:
            improved = False
            for s in SHARES:
                for delta in (STEP, -STEP):
                    trial = {n: list(v) for n, v in shares.items()}
                    trial[s][k] = round(trial[s][k] + delta, 4)
                    if trial[s][k] < 0 or sum(trial[n][k] for n in SHARES) > max_share:
                        continue
                    if loss(make(trial), kind) < loss(make(shares), kind):
                        shares, improved = trial, True
                        break
    return make(shares)


def fit_spread(engine: Engine, model: str, loops: np.ndarray, seed: int = 0, shares: Feel = INDEPENDENT) -> Feel:
    """Scales of the per-note noise, velocity and offset apart, drawn with ``shares``' copula, each
    matching the real within-loop SD of its kind (the two draw from their own uniforms: apart, each
    search sees only its own)."""
    real = {k: targets(realism.structure(loops), k)[0] for k in KINDS}
    grid = np.arange(0.4, 1.0 + 1e-9, STEP).round(4)
    with_spread = lambda spread: Feel(shares.loop, shares.drum, shares.bar, spread)  # noqa: E731

    def loss(spread: tuple[float, float], kind: str) -> float:
        st = realism.structure(_generate(engine, model, loops, with_spread(spread), seed))
        return float(np.log(targets(st, kind)[0] / real[kind]) ** 2)

    velocity = float(min(grid, key=lambda v: loss((float(v), 1.0), "velocity")))
    offset = float(min(grid, key=lambda o: loss((velocity, float(o)), "offset")))
    return with_spread((velocity, offset))


def spread_profile(loops: np.ndarray, kind: str) -> np.ndarray:
    """(goal drums, QUANTILES + mean): percentiles over loops of each goal drum's within-loop SD of
    ``kind`` (how much tighter some loops are than others) and its mean (what the structure goal
    measures); at least 0.001, so a ratio stays finite."""
    sd = realism.within_sd(loops, kind)[:, GOAL]
    rows = [[*np.nanpercentile(sd[:, i], QUANTILES), np.nanmean(sd[:, i])] for i in range(len(GOAL))]
    return np.maximum(rows, 1e-3)


def fit_scatter(engine: Engine, model: str, loops: np.ndarray, seed: int = 0, shares: Feel = INDEPENDENT) -> Feel:
    """``shares`` with the scale mixture's scatter, velocity then offset (each draws from its own
    uniforms), on SCATTER_GRID, matching ``loops``' (real training windows) spread_profile (squared
    log ratios)."""
    real = {k: spread_profile(loops, k) for k in KINDS}

    def loss(scatter: tuple[float, float], kind: str) -> float:
        gen = _generate(engine, model, loops, dataclasses.replace(shares, scatter=scatter), seed)
        return float((np.log(spread_profile(gen, kind) / real[kind]) ** 2).sum())

    velocity = float(min(SCATTER_GRID, key=lambda v: loss((float(v), 0.0), "velocity")))
    offset = float(min(SCATTER_GRID, key=lambda o: loss((velocity, float(o)), "offset")))
    return dataclasses.replace(shares, scatter=(velocity, offset))


def fit_tightness(engine: Engine, model: str, loops: np.ndarray, seed: int = 0, base: Feel = INDEPENDENT) -> Feel:
    """``base`` (a feel with a scale mixture) with its tightness, velocity then offset, on TIGHTNESS_GRID,
    matching ``loops``' (real training windows) realism.tightness (squared difference); a kind without
    scatter keeps 0, for there tightness draws nothing."""
    real = {k: realism.tightness(loops, k) for k in KINDS}

    def loss(t: tuple[float, float], kind: str) -> float:
        gen = _generate(engine, model, loops, dataclasses.replace(base, tightness=t), seed)
        return float((realism.tightness(gen, kind) - real[kind]) ** 2)

    grids = [
        TIGHTNESS_GRID if base.scatter[k] > 0 and np.isfinite(real[kind]) else [0.0] for k, kind in enumerate(KINDS)
    ]
    velocity = float(min(grids[0], key=lambda v: loss((float(v), 0.0), "velocity")))
    offset = float(min(grids[1], key=lambda o: loss((velocity, float(o)), "offset")))
    return dataclasses.replace(base, tightness=(velocity, offset))


def drawing_models(engine: Engine) -> list[str]:
    """The loaded models whose value head draws velocities and offsets (a feel applies to them alone)."""
    return [name for name, m in engine.models.items() if m.meta.get("config", {}).get("values") == "logistic"]


def own_request(engine: Engine, model: str, x: np.ndarray, seed: int, samples: int) -> Request:
    """A request humanizing loop ``x``'s score with its own performance's groove (and accents)."""
    extra = {"accents": gestures.accents(x)} if "accents" in engine.capabilities(model)["gestures"] else {}
    return Request(model, samples, 1.0, seed, score=gestures.score(x), groove=gestures.groove(x), **extra)


def diagnose(engine: Engine, loops: np.ndarray, seed: int = 0, samples: int = 5, models=None) -> dict:
    """{model: {(codes, sampling): row}}: codes "own" or "drawn", sampling "off" (values at their
    locations) or "on"; a row holds the structure of each window's first sample and the diversity of
    its ``samples``; ``models``: those models (default: every model that draws values)."""
    scores = gestures.score(loops)
    out = {}
    for model in models or drawing_models(engine):
        rows = {}
        for sampling, f in (("off", Feel(spread=0.0)), ("on", Feel())):
            with feel(engine, model, f):
                for codes in ("own", "drawn"):
                    if codes == "own":
                        reqs = [own_request(engine, model, x, seed + i, samples) for i, x in enumerate(loops)]
                        gen = np.stack([r.loops for r in run(engine, model, reqs, f"own {model}")])
                    else:
                        gen = humanize(engine, model, loops, samples, seed)
                    div = metrics.mean_and_se([metrics.offset_diversity(g, s) for g, s in zip(gen, scores)])
                    rows[(codes, sampling)] = {"structure": realism.structure(gen[:, 0]), "diversity": div}
        out[model] = rows
    return out


def seeded_auc(loops: np.ndarray, files: np.ndarray, runs: list, seed: int = 0) -> tuple[float, float]:
    """The two-sample AUC of each humanization in ``runs`` against ``loops`` (real, one file id each in
    ``files``): its mean over the runs and its SD over them (with one run, over the folds)."""
    aucs = [realism.two_sample_auc(loops, gen, files, files, seed=seed) for gen in runs]
    spread = float(np.std([a for a, _ in aucs], ddof=1)) if len(runs) > 1 else aucs[0][1]
    return float(np.mean([a for a, _ in aucs])), spread


def select(engine: Engine, model: str, candidates: dict, loops: np.ndarray, files: np.ndarray, seed: int = 0,
           seeds: int = 1):  # fmt: skip
    """{name: (feel, AUC, SD, structure)} on validation, and the name with the lowest AUC among those
    meeting both structure goals (each goal drum's within-loop velocity SD and the between-loop SD of
    the loop's level within 15 % of real); where none does, among those keeping the loop's level within
    its goal; where none does either, among all. Each candidate humanizes ``loops`` once per seed (from
    ``seed`` on): the AUC is the mean over seeds, its SD over seeds where ``seeds`` > 1 (else over
    folds); the structure is the first seed's. A humanization's seed alone moves the AUC by about
    0.005 (docs/ablation.md, "A loop played tight or loose")."""
    rows, real = {}, realism.structure(loops)
    for name, f in candidates.items():
        runs = [_generate(engine, model, loops, f, seed + k) for k in range(seeds)]
        rows[name] = (f, *seeded_auc(loops, files, runs, seed), realism.structure(runs[0]))
    keep = (
        [n for n in rows if realism.structure_within_goals(rows[n][3], real)]
        or [n for n in rows if realism.level_within_goal(rows[n][3], real)]
        or list(rows)
    )
    return rows, min(keep, key=lambda n: rows[n][1])


def auc_header(seeds: int) -> str:
    """The selection tables' AUC column: what its ± is."""
    return f"AUC (validation; mean ± SD over {seeds} seeds)" if seeds > 1 else "AUC (validation; ± SD over folds)"


def describe(f: Feel) -> str:
    """A feel in words: velocity / offset shares, the spread, the scatter and its tightness."""
    shares = ", ".join(f"{s} {a:.2f} / {b:.2f}" for s, (a, b) in zip(SHARES, (f.loop, f.drum, f.bar)))
    return (
        f"{shares}; spread {f.spread[0]:.2f} / {f.spread[1]:.2f}; scatter {f.scatter[0]:.1f} / {f.scatter[1]:.1f}"
        f"; tightness {f.tightness[0]:.1f} / {f.tightness[1]:.1f}"
    )


def _fmt_structure(st: dict) -> list[str]:
    return [
        " / ".join(f"{st['within']['velocity'][c]:.3f}" for c in GOAL),
        f"{st['level_between']:.3f}",
        f"{st['repeat']['velocity']:.3f}",
        " / ".join(f"{st['within']['offset'][c]:.3f}" for c in GOAL),
        f"{st['timing_between']:.3f}",
        f"{st['repeat']['offset']:.3f}",
    ]


STRUCTURE_HEADER = [
    "within-loop velocity SD (kick / snare / closed hat / ride)",
    "between-loop SD of loop level",
    "velocity bar repeat",
    "within-loop offset SD",
    "between-loop SD of mean offset",
    "offset bar repeat",
]


def selection_row(model: str, name: str, auc: float, sd: float, st: dict, real: dict) -> list[str]:
    """A row of a selection table: the setting, its AUC, its structure goals against ``real``'s."""
    within = " / ".join(f"{w:+.0%}" for w in realism.within_changes(st, real))
    level = realism.relative_change(st["level_between"], real["level_between"])
    return [model, name, f"{auc:.3f} ± {sd:.3f}", within, f"{level:+.0%}"]


def print_selection(setting: str, rows: list[list[str]], seeds: int) -> None:
    """The selection table of ``selection_row`` rows, the setting's column named ``setting``."""
    print(f"## Selection (validation, each window once per seed, {seeds} seeds)\n")
    header = [
        "model",
        setting,
        auc_header(seeds),
        "within-loop velocity SD vs real (kick / snare / closed hat / ride)",
        "between-loop SD of loop level vs real",
    ]
    print(md_table(header, rows))


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def fit_parser(module: str, description: str, fit_windows: int) -> argparse.ArgumentParser:
    """The options a fit on the dataset shares (``python -m beatguide_export.MODULE``): --gmd, --models,
    --cache-dir, --model, --fit-windows, --seed, --selection-seeds."""
    from beatguide.cli import GMD_ENV

    ap = argparse.ArgumentParser(prog=f"python -m beatguide_export.{module}", description=description)
    ap.add_argument(
        "--gmd", type=Path, default=os.environ.get(GMD_ENV), help=f"the dataset folder (default: ${GMD_ENV})"
    )
    ap.add_argument("--models", type=Path, action="append", help="model folders (default: the shipped models)")
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument(
        "--model", action="append", help="fit this model only (repeatable; default: every model that draws values)"
    )
    ap.add_argument("--fit-windows", type=int, default=fit_windows, help="random training windows the fit generates")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--selection-seeds",
        type=int,
        default=3,
        help="humanizations of the validation windows per candidate in the selection, one seed each (default 3)",
    )
    return ap


def fit_inputs(args: argparse.Namespace):
    """(engine, train split, validation split, the --fit-windows random train loops) of a fit's options;
    the engine's models without their critics (``beatguide.critic``: trained last, on what they play)."""
    from beatguide.cli import _gmd
    from beatguide.gmd import load_split
    from beatguide.model_paths import model_dirs

    gmd = _gmd(args.gmd)
    engine = Engine(model_dirs(args.models))
    for m in engine.models.values():  # feels, levels and critics are fitted on a model's single draws
        m.critic = None
    train = load_split(gmd, "train", args.cache_dir)
    val = load_split(gmd, "validation", args.cache_dir)
    return engine, train, val, train.loops[np.random.default_rng(args.seed).permutation(len(train))[: args.fit_windows]]


def main(argv=None) -> int:
    """Diagnose, fit on train and select on validation each model's feel; print the tables."""
    ap = fit_parser("feel_fit", main.__doc__, fit_windows=1500)
    ap.add_argument(
        "--max-share", type=float, default=MAX_SHARE, help="the most the copula's shares may sum to (below 1)"
    )
    ap.add_argument(
        "--keep-copula", action="store_true", help="fit the scatter alone, on each model's copula as shipped"
    )
    ap.add_argument(
        "--keep-scatter", action="store_true", help="fit the tightness alone, on each model's feel as shipped"
    )
    ap.add_argument("--write", action="store_true", help="store each selected feel in its model.json")
    args = ap.parse_args(argv)
    engine, train, val, fit_loops = fit_inputs(args)

    print("## Diagnosis (validation)\n")
    rows = [["real", "—", "—", *_fmt_structure(realism.structure(val.loops)), "—"]]
    for model, per in diagnose(engine, val.loops, args.seed, models=args.model).items():
        for (codes, sampling), r in per.items():
            rows.append([model, codes, sampling, *_fmt_structure(r["structure"]), f"{r['diversity'][0]:.3f}"])
    print(md_table(["model", "codes", "per-note draws", *STRUCTURE_HEADER, "diversity"], rows), "\n")

    print("## Fit (train) and selection (validation)\n")
    rows = []
    for model in args.model or drawing_models(engine):
        shipped = engine.models[model].feel
        if args.keep_scatter:
            candidates = {
                "shipped": shipped,
                "shipped, tightness": fit_tightness(engine, model, fit_loops, args.seed, shipped),
            }
        elif args.keep_copula:
            mixture = fit_scatter(engine, model, fit_loops, args.seed, shipped)
            candidates = {
                "shipped": shipped,
                "shipped, scale mixture": mixture,
                "shipped, scale mixture, tightness": fit_tightness(engine, model, fit_loops, args.seed, mixture),
            }
        else:
            copula = fit_copula(engine, model, fit_loops, args.seed, args.max_share)
            mixture = fit_scatter(engine, model, fit_loops, args.seed, copula)
            candidates = {
                "independent": INDEPENDENT,
                "spread scaled": fit_spread(engine, model, fit_loops, args.seed),
                "copula": copula,
                "copula, spread scaled": fit_spread(engine, model, fit_loops, args.seed, copula),
                "copula, scale mixture": mixture,
                "copula, scale mixture, tightness": fit_tightness(engine, model, fit_loops, args.seed, mixture),
            }
        result, best = select(engine, model, candidates, val.loops, val.file_index, args.seed, args.selection_seeds)
        for name, (f, auc, sd, st) in result.items():
            mark = " (selected)" if name == best else ""
            rows.append([model, name + mark, describe(f), f"{auc:.3f} ± {sd:.3f}", *_fmt_structure(st)])
        if args.write:
            path = engine.models[model].folder / "model.json"
            meta = json.loads(path.read_text())
            meta["feel"] = result[best][0].to_meta()
            path.write_text(json.dumps(meta, indent=2))
    rows.append(["real", "—", "—", "—", *_fmt_structure(realism.structure(val.loops))])
    print(md_table(["model", "feel", "shares", auc_header(args.selection_seeds), *STRUCTURE_HEADER], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
