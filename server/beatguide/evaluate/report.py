"""``beatguide eval``: run the experiments on a split and write docs/results.md with plots."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from ..drums import CLASSES
from ..engine import Engine
from ..registry import AGVAE2, AGVAE11, BASELINE, FACTORIZED, KINDS
from . import experiments, realism, tap2drum

PAPER_DIVERSITY = {BASELINE.name: "0.061 ± 0.001", FACTORIZED.name: "0.200 ± 0.002", AGVAE2.name: "0.222 ± 0.002"}
PAPER_SWING = {0.05: (0.091, 0.161, 0.042), 0.2: (0.214, 0.163, 0.014), 0.4: (0.366, 0.175, 0.034)}
OUTPUT_FILES = ("results.md", "results.json", "figure3_swing.png", "humanize_offsets.png")  # what run_eval may write
SOURCES = ("prior", "fitted", "bank")  # latent sources in the goal table, in this order
SHOWN = " / ".join(SOURCES)
SOURCE_LABELS = {"prior": "prior N(0, I)", "fitted": "fitted prior", "bank": "bank"}
NAMES = {  # Table 1's rows: each kind's title, or as the paper names it
    **{name: k.title for name, k in KINDS.items()},
    AGVAE2.name: f"Factorized VAE + aux. decoders ({AGVAE2.title})",
    AGVAE11.name: "AG-VAE 11 inputs (not in Table 1)",
}


def _histograms(path: Path, series: list, xlabel: str, title: str, bins: int) -> None:
    """Overlaid density histograms of (label, values, style, mark) series; ``mark`` draws a dotted line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    edges = np.linspace(-1, 1, bins + 1)
    for label, values, style, mark in series:
        _, _, patches = ax.hist(values, bins=edges, density=True, label=label, **style)
        if mark is not None:
            ax.axvline(mark, color=patches[0].get_edgecolor(), linestyle=":", linewidth=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_swing(sw: dict, path: Path) -> None:
    step = {"histtype": "step", "linewidth": 1.5}
    _histograms(
        path,
        [(f"target {t:+.2f}: mean {r['mean']:+.3f}", r["offsets"], step, t) for t, r in sw.items()],
        "generated off-beat offset (half-steps; + = late)",
        "Figure 3: off-beat offsets under three swing grooves (AG-VAE 2)",
        80,
    )


def _plot_offsets(dr: dict, path: Path) -> None:
    series = [("real (validation)", dr["real_offsets"], {"color": "0.8"}, None)]
    series += [
        (f"{m} ({src})", dr[(m, src)]["offsets"], {"histtype": "step", "linewidth": 1.3}, None)
        for m, src in _runs(dr)
        if m != BASELINE.name or src == "prior"
    ]
    _histograms(
        path, series, "closed hi-hat offset (half-steps)", "Humanized closed hi-hat timing vs. real playing", 60
    )


def _fmt(x, nd=3) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{nd}f}"


def _runs(dr: dict) -> list:
    return [k for k in dr if isinstance(k, tuple)]


def _mean(v) -> float:
    return float(np.nanmean(v))


def _worst(measure, dr: dict, source: str) -> float:
    values = [measure(m, src) for m, src in _runs(dr) if src == source]
    return max(values) if values else float("nan")


def _table(title: str, intro: str, header: list[str], rows, tail=()) -> list[str]:
    """A report section: its title, an intro paragraph, a markdown table (header cells, then rows of
    cells), then the ``tail`` lines (a figure)."""
    lines = [title, "", intro, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, "", *tail]


def _goals(dr, sw, ln, leak, ref) -> list[str]:
    """The goal table of issue 10: each goal, ours, the paper's."""

    def div(m, src="prior"):
        return dr[(m, src)]["diversity"][0] if (m, src) in dr else float("nan")

    def f1(m, src="prior"):
        return dr[(m, src)]["prf"][2] if (m, src) in dr else float("nan")

    def woff(m, src="prior"):
        return _mean(dr[(m, src)]["wasserstein"]["offset"]) if (m, src) in dr else float("nan")

    def each(measure, *args) -> str:
        return " / ".join(_fmt(measure(*args, src)) for src in SOURCES)

    rows = [
        (f"diversity AG-VAE 2 ({SHOWN})", ">= 0.22, above factorized", each(div, AGVAE2.name), "0.222"),
        (f"diversity factorized ({SHOWN})", ">= 0.20", each(div, FACTORIZED.name), "0.200"),
        ("diversity baseline", "<= 0.07", _fmt(div(BASELINE.name)), "0.061"),
        (f"humanize hit F1 AG-VAE 2 ({SHOWN})", ">= 0.96", each(f1, AGVAE2.name), "—"),
        (f"humanize hit F1 factorized ({SHOWN})", ">= 0.96", each(f1, FACTORIZED.name), "—"),
        (f"offset Wasserstein, mean of 9 drums, worst model ({SHOWN})", "<= 0.12",
         " / ".join(_fmt(_worst(woff, dr, src)) for src in SOURCES), "—"),
    ]  # fmt: skip
    if ref:
        rows.append(("real vs real (two halves of the split, by file)", "reference", _fmt(_mean(ref["offset"])), "—"))
    if sw:
        swing = " / ".join(_fmt(abs(r["mean"] - t)) for t, r in sw.items())
        rows.append(("swing abs(mean - target) at +0.05 / +0.2 / +0.4", "<= 0.03", swing, "0.042 / 0.014 / 0.034"))
    if ln:
        lift = f"{_fmt(ln['accent_contrast'])} ({_fmt(ln['real_accent_contrast'])})"
        rows += [("agvae11 given-lane hit F1", ">= 0.95", _fmt(ln["given_prf"][2]), "—"),
                 ("agvae11 accent lift (real loops)", "within 0.02 of real", lift, "—")]  # fmt: skip
    if leak:
        worst = max(r["model alone"] for r in leak.values())
        engine = max(r["engine"] for r in leak.values())
        rows.append(("played lane set empty: share with a hit, model alone (worst model) / engine", "<= 3 % / 0",
                     f"{worst * 100:.1f} % / {engine * 100:.1f} %", "—"))  # fmt: skip
    return ["## Goals", "", "| measure | goal | ours | paper |", "|---|---|---|---|",
            *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows], ""]  # fmt: skip


def _table1(dr) -> list[str]:
    rows = []
    for m, src in _runs(dr):
        mean, se = dr[(m, src)]["diversity"]
        p, r, f = dr[(m, src)]["prf"]
        paper = PAPER_DIVERSITY.get(m, "—") if src == "prior" else "—"
        rows.append([NAMES[m], src, f"{mean:.3f} ± {se:.4f}", paper, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}"])
    return _table(
        "## Table 1: diversity of humanized timing",
        "Each window's score humanized 5 times; at each (step, drum) the score plays, the standard deviation of "
        "the timing offsets of the samples that play it (half-step units); averaged over positions, then windows "
        "(mean ± standard error). Score keeping: hits of all 5 samples against the input score. The groove latent "
        "comes from the prior N(0, I) (the paper's sampling), from the fitted prior (a Gaussian mixture fitted to "
        "the training codes, conditioned on the score's code) or from the bank of real drummers' codes shipped with "
        "the model (`latent_source=bank`, the default where a model has one).",
        ["model", "groove from", "diversity (ours)", "paper", "hit precision", "hit recall", "hit F1"],
        rows,
    )


def _realism(dr, ref) -> list[str]:
    runs = [((m, src), dr[(m, src)]["wasserstein"]) for m, src in _runs(dr)]
    if ref:
        runs.append((("real vs real", "—"), ref))
    rows = [[m, src, kind, *map(_fmt, w[kind]), _fmt(_mean(w[kind]))]
            for (m, src), w in runs for kind in ("offset", "velocity")]  # fmt: skip
    return _table(
        "## Realism: Wasserstein distance to real playing, per drum",
        "1-D Wasserstein distance between the humanized outputs' and the real loops' offsets and velocities of "
        "each drum's hits (lower is closer to real). *real vs real*: the split's files in two random halves "
        "(by file), one half against the other: how far real playing is from itself.",
        ["model", "groove from", "measure", *CLASSES, "mean"],
        rows,
        ["![offsets](humanize_offsets.png)", ""],
    )


def _spread(dr) -> list[str]:
    rows = [[m, src, *map(_fmt, dr[(m, src)]["offset_sd"]), _fmt(_mean(dr[(m, src)]["offset_sd"]))]
            for m, src in _runs(dr)]  # fmt: skip
    rows.append(["real", "—", *map(_fmt, dr["real_offset_sd"]), _fmt(_mean(dr["real_offset_sd"]))])
    return _table(
        "## Timing spread: standard deviation of each drum's offsets",
        "Where the offset distances above come from: a decoder that returns each offset's conditional mean "
        "(the squared-error baseline) times every hit alike and narrows the spread of real playing.",
        ["model", "groove from", *CLASSES, "mean"],
        rows,
    )


def _summary_table(title: str, intro: str, rows: dict) -> list[str]:
    """Rows of {name: experiments._summary(...)}: diversity, hit F1, mean offset and velocity Wasserstein."""
    cells = [[name, f"{r['diversity'][0]:.3f}", f"{r['prf'][2]:.3f}", _fmt(_mean(r["wasserstein"]["offset"])),
              _fmt(_mean(r["wasserstein"]["velocity"]))] for name, r in rows.items()]  # fmt: skip
    return _table(title, intro, ["model", "diversity", "hit F1", "offset W (mean)", "velocity W (mean)"], cells)


def _sources(src) -> list[str]:
    rows = {f"{m}: {name}": r for m, per in src.items() for name, r in per.items()}
    return _summary_table(
        "## What drives diversity: where the groove latent comes from",
        "Each score humanized 5 times with the groove latent from (a) the prior N(0, I), (b) the fitted prior's "
        "mixture as a whole, not conditioned on the score, (c) the fitted prior, conditioned on the score's code, "
        "(d) the bank of training codes, (e) other windows' posteriors (5 other windows' grooves given), (f) the "
        "window's own posterior (its own groove given). Training-time ablations: [ablation.md](ablation.md).",
        rows,
    )


def _leak(leak) -> list[str]:
    return _table(
        "## Empty means empty",
        "In each window one lane the drummer played is set empty (the other played lanes given; groove and "
        "accents given to the models that take them). Share of those lanes that get any hit: *model alone* "
        "with the engine's forcing off, *engine* what users get (forced silent inside the decoder).",
        ["model", "lanes", "model alone", "engine"],
        [[m, r["lanes"], f"{r['model alone'] * 100:.1f} %", f"{r['engine'] * 100:.1f} %"] for m, r in leak.items()],
    )


def _swing(sw) -> list[str]:
    rows = [[f"{t:+.2f}", f"{r['mean']:+.3f}", f"{r['std']:.3f}", f"{abs(r['mean'] - t):.3f}",
             f"{PAPER_SWING[t][0]:+.3f}", f"{PAPER_SWING[t][1]:.3f}", f"{PAPER_SWING[t][2]:.3f}"]
            for t, r in sw.items()]  # fmt: skip
    return _table(
        "## Table 2 and Figure 3: fidelity to a swing groove",
        f"A tap on every 16th: offset 0 on on-beats, the target on off-beats; velocities "
        f"{experiments.SWING_VELOCITIES[0]} on on-beats and {experiments.SWING_VELOCITIES[1]} on off-beats. "
        "Applied with every score of the split to AG-VAE 2 (one sample each); offsets of all generated "
        "off-beat hits (positive = late).",
        ["target", "mean", "std", "abs(mean - target)", "paper mean", "paper std", "paper abs diff"],
        rows,
        ["![figure 3](figure3_swing.png)", ""],
    )


def _aux(aux) -> list[str]:
    keys = ("score_f1", "groove_hit_f1", "groove_velocity_mae", "groove_offset_mae", "groove_error")
    return _table(
        "## Auxiliary readings (the model's reading of each input)",
        "Score and groove of each window given; the auxiliary decoders' reconstructions against the inputs. "
        "Groove error: mean abs offset difference between the generated loop's loudest note per step and the "
        "given tap, where both play.",
        ["model", "aux score hit F1", "aux groove hit F1", "aux groove velocity MAE", "aux groove offset MAE",
         "output groove offset error"],
        [[m, *(f"{a[k]:.3f}" for k in keys)] for m, a in aux.items()],
    )  # fmt: skip


def _lanes(ln) -> list[str]:
    p, r, f = ln["given_prf"]
    rows = [
        ("given lanes: hit precision / recall / F1", f"{p:.3f} / {r:.3f} / {f:.3f}"),
        ("the same windows with every played lane given: precision / recall / F1",
         " / ".join(f"{x:.3f}" for x in ln["all_given_prf"])),
        ("played lane set empty, with any hit: model alone / engine",
         f"{ln['played_emptied_leak'] * 100:.1f} % / {ln['played_emptied_engine'] * 100:.1f} %"),
        ("silent lane set empty, with any hit, model alone", f"{ln['silent_leak'] * 100:.2f} %"),
        (f"hi-hat <-> ride switch followed ({ln['switch_windows']} windows with hats and no ride)",
         f"{ln['switch_rate'] * 100:.1f} %"),
        (f"accent lift: mean velocity accented - unaccented (real loops: {ln['real_accent_contrast']:.3f})",
         f"{ln['accent_contrast']:.3f}"),
        ("groove offset error", f"{ln['groove_error']:.3f}"),
    ]  # fmt: skip
    return _table(
        "## 11-input model: following lanes, accents and groove",
        "Each window: lanes that play are given, except one played lane (in windows playing two or more) which is "
        "set empty like the silent lanes; its groove and accents given.",
        ["measure", "value"],
        rows,
    )


def _dig(d, *keys):
    """d[k1][k2]...; None where a level is missing or not a mapping (an earlier run's file may lack it)."""
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _value(x) -> str:
    """A number as the tables show it; anything else as it is."""
    return _fmt(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else str(x)


def before_after(before: dict, now: dict, label: str) -> list[str]:
    """The section comparing this run's summary (``now``, as results.json) with an earlier run's
    (``before``, from ``label``): each goal's value then and now, where both runs measured it. A realism
    goal of a file that kept only whether it was met shows "met" or "not met"."""

    def realism_value(r, goal: str):
        if goal.startswith("AUC"):
            return _dig(r, "auc")
        met = _dig(r, "goals_met", goal)
        return _dig(r, "goals", goal) or ({True: "met", False: "not met"}.get(met) if isinstance(met, bool) else None)

    rows = []  # (measure, model, before, now)
    for m, r in now.get("realism", {}).items():
        for goal in r.get("goals_met", {}):
            rows.append((goal, m, realism_value(_dig(before, "realism", m), goal), realism_value(r, goal)))
    for m, sources in now.get("humanize", {}).items():
        for key, what in (("diversity", "diversity"), ("hit_f1", "humanize hit F1"),
                          ("offset_w", "offset Wasserstein"), ("velocity_w", "velocity Wasserstein")):  # fmt: skip
            for src in ("bank", "fitted"):
                rows.append((f"{what} ({SOURCE_LABELS[src]})", m, _dig(before, "humanize", m, src, key),
                             _dig(sources, src, key)))  # fmt: skip
    for m, targets in now.get("swing", {}).items():
        for t, err in targets.items():
            rows.append((f"swing abs(mean - target) at {t}", m, _dig(before, "swing", m, t), err))
    for row, r in now.get("tap2drum", {}).items():
        if row.endswith("(default, first variation)"):
            rows.append(("Tap2Drum per-loop hit F1, first variation", row.split(" (")[0],
                         _dig(before, "tap2drum", row, "f1"), r["f1"]))  # fmt: skip
    return _table(
        "## Before and after",
        f"Each goal measured by this run beside the same measure in `{label}`, an earlier run's "
        "results.json (`beatguide eval all --before FILE`).",
        ["measure", "model", "before", "now"],
        [(a, m, _value(b), _value(n)) for a, m, b, n in rows if b is not None and n is not None],
    )


def write_report(
    out: Path,
    split: str,
    n: int,
    results: dict,
    seconds: float,
    models: str,
    before: tuple[str, dict] | None = None,
    what: str = "all",
) -> Path:
    """docs/results.md from the experiments' results (keys: dr, ref, sw, aux, ln, leak, exact, sources,
    realism, tap2drum) of ``beatguide eval WHAT`` and, given ``before`` (label, an earlier run's
    results.json), a before/after section."""
    r = results
    lines = [
        f"# Results on the GMD {split} split",
        "",
        f"Produced by `beatguide eval {what} --split {split}` on the ONNX models in `{models}/`, through the "
        f"engine (what users get): {n} windows, temperature 1.0, {seconds / 60:.1f} min. The paper's numbers "
        "are on the GMD test split, which this project never uses; ours are on the validation split.",
        "",
    ]
    if r.get("dr"):
        lines += _goals(r["dr"], r.get("sw"), r.get("ln"), r.get("leak"), r.get("ref"))
        lines += _table1(r["dr"]) + _realism(r["dr"], r.get("ref")) + _spread(r["dr"])
    if r.get("exact"):
        lines += _summary_table(
            "## Humanize my pattern as drawn: every lane exact",
            "Each score humanized 5 times with every lane `exact` (its hits forced, velocity and "
            "timing generated); groove from each model's default source (the fitted prior).",
            r["exact"],
        )
    if r.get("leak"):
        lines += _leak(r["leak"])
    if r.get("sources"):
        lines += _sources(r["sources"])
    if r.get("sw"):
        lines += _swing(r["sw"])
    if r.get("aux"):
        lines += _aux(r["aux"])
    if r.get("ln"):
        lines += _lanes(r["ln"])
    if r.get("realism"):
        lines += realism.report_lines(r["realism"])
    if r.get("tap2drum"):
        lines += tap2drum.report_lines(r["tap2drum"])
    if before is not None:
        lines += before_after(before[1], summary(r), before[0])
    path = out / "results.md"
    path.write_text("\n".join(lines))
    return path


EXPERIMENTS = {  # what -> experiments run
    "diversity": ("dr", "ref"),
    "realism": ("realism",),
    "aux": ("aux",),
    "tap2drum": ("tap2drum",),
    "swing": ("sw",),
    "lanes": ("ln",),
    "sources": ("sources",),
    "leak": ("leak",),
    "exact": ("exact",),
}


def run_experiments(engine: Engine, windows, what: str, seed: int) -> dict:
    """The experiments ``what`` asks for ("all": every one) on a split's windows."""
    keys = {k for w, ks in EXPERIMENTS.items() if what in (w, "all") for k in ks}
    loops = windows.loops
    run = {
        "dr": lambda: experiments.diversity_and_realism(engine, loops, seed),
        "ref": lambda: experiments.real_reference(loops, windows.file_index, seed),
        "sw": lambda: experiments.swing(engine, loops, seed),
        "aux": lambda: experiments.aux_readings(engine, loops, seed),
        "ln": lambda: experiments.lanes(engine, loops, seed) if experiments.LANES_MODEL in engine.names else None,
        "sources": lambda: experiments.latent_sources(engine, loops, seed),
        "leak": lambda: experiments.lane_leak(engine, loops, seed),
        "exact": lambda: experiments.exact(engine, loops, seed),
        "realism": lambda: realism.evaluate(engine, loops, windows.file_index, seed),
        "tap2drum": lambda: tap2drum.tap2drum(engine, loops, seed, windows.file_index),
    }
    return {k: run[k]() for k in run if k in keys}


def summary(results: dict) -> dict:
    """The numbers model cards quote (docs/results.json): per model and latent source, and the rest."""

    def row(r):
        return {
            "diversity": r["diversity"][0],
            "hit_f1": r["prf"][2],
            "offset_w": _mean(r["wasserstein"]["offset"]),
            "velocity_w": _mean(r["wasserstein"]["velocity"]),
        }

    out = {"humanize": {}}
    for m, src in _runs(results.get("dr") or {}):
        out["humanize"].setdefault(m, {})[src] = row(results["dr"][(m, src)])
    if results.get("exact"):
        out["exact"] = {m: row(r) for m, r in results["exact"].items()}
    if results.get("leak"):
        out["leak"] = results["leak"]
    if results.get("ref"):
        out["real_vs_real_offset_w"] = _mean(results["ref"]["offset"])
    if results.get("sw"):
        out["swing"] = {experiments.SWING_MODEL: {f"{t:+.2f}": abs(r["mean"] - t) for t, r in results["sw"].items()}}
    if results.get("ln"):
        ln = results["ln"]
        out["lanes"] = {
            experiments.LANES_MODEL: {
                "given-lane hit F1": ln["given_prf"][2],
                "accent lift": ln["accent_contrast"],
                "real accent lift": ln["real_accent_contrast"],
                "played lane set empty, model alone": ln["played_emptied_leak"],
            }
        }
    if results.get("realism"):
        re = results["realism"]
        out["realism"] = {name: {"auc": r["all"][0], "auc_sd": r["all"][1]} for name, r in re["auc"].items()}
        for m in realism.model_rows(re):
            if m in re.get("auc_seeds", {}):
                mean, sd, each = realism.seeds_auc(re, m)
                out["realism"][m].update(auc_seeds=each, auc_seeds_mean=mean, auc_seeds_sd=sd)
            goals = realism.goals(re, m)
            out["realism"][m]["goals"] = {g: value for g, (value, _) in goals.items()}
            out["realism"][m]["goals_met"] = {g: bool(ok) for g, (_, ok) in goals.items()}
    if results.get("tap2drum"):
        out["tap2drum"] = {
            f"{m} ({src}, {var})": {"f1": r["f1"], "f1_median": r["f1_median"]}
            for (m, src, var), r in results["tap2drum"].items()
        }
    return out


def run_eval(
    engine: Engine,
    windows,
    what: str,
    out,
    *,
    split: str,
    seed: int = 0,
    limit: int = 0,
    started: float | None = None,
    before: tuple[str, dict] | None = None,
) -> Path:
    """Run the experiments ``what`` asks for on a split's windows (the first ``limit`` when set) and
    write results.md, results.json and the plots into folder ``out``; returns results.md's path.
    ``before``: (label, an earlier run's results.json) to compare with."""
    t0 = time.perf_counter() if started is None else started
    out = Path(out)
    if limit:
        k = min(limit, len(windows))
        windows = dataclasses.replace(
            windows,
            loops=windows.loops[:k],
            file_index=windows.file_index[:k],
            start_bar=windows.start_bar[:k],
            bpm=windows.bpm[:k],
        )
    results = run_experiments(engine, windows, what, seed)
    out.mkdir(parents=True, exist_ok=True)
    if results.get("sw"):
        _plot_swing(results["sw"], out / "figure3_swing.png")
    if results.get("dr"):
        _plot_offsets(results["dr"], out / "humanize_offsets.png")
    path = write_report(
        out,
        split,
        len(windows),
        results,
        time.perf_counter() - t0,
        ", ".join(sorted({m.folder.parent.name for m in engine.models.values()})),
        before,
        what,
    )
    (out / "results.json").write_text(json.dumps(summary(results), indent=2))
    return path
