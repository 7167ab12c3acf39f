"""``beatguide eval``: run the experiments on a split and write docs/results.md with plots."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..drums import CLASSES
from ..engine import Engine
from ..gmd import load_split
from . import experiments

PAPER_DIVERSITY = {"baseline": "0.061 ± 0.001", "factorized": "0.200 ± 0.002", "agvae2": "0.222 ± 0.002"}
PAPER_SWING = {0.05: (0.091, 0.161, 0.042), 0.2: (0.214, 0.163, 0.014), 0.4: (0.366, 0.175, 0.034)}
NAMES = {"baseline": "Baseline VAE", "factorized": "Factorized VAE", "agvae2": "Factorized VAE + aux. decoders (AG-VAE 2)",
         "agvae11": "AG-VAE 11 inputs (not in Table 1)"}


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
    _histograms(path, [(f"target {t:+.2f}: mean {r['mean']:+.3f}", r["offsets"], step, t) for t, r in sw.items()],
                "generated off-beat offset (half-steps; + = late)",
                "Figure 3: off-beat offsets under three swing grooves (AG-VAE 2)", 80)


def _plot_offsets(dr: dict, path: Path) -> None:
    series = [("real (validation)", dr["real_offsets"], {"color": "0.8"}, None)]
    series += [(m, dr[m]["offsets"], {"histtype": "step", "linewidth": 1.3}, None)
               for m in experiments.HUMANIZE_MODELS if m in dr]
    _histograms(path, series, "closed hi-hat offset (half-steps)", "Humanized closed hi-hat timing vs. real playing", 60)


def _fmt(x, nd=3) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{nd}f}"


def write_report(out: Path, split: str, n: int, dr, sw, aux, ln, seconds: float, models: str) -> Path:
    lines = [f"# Results on the GMD {split} split", "",
             f"Produced by `beatguide eval all --split {split}` on the ONNX models in `{models}/`, through the "
             f"engine (what users get): {n} windows, temperature 1.0, {seconds / 60:.1f} min. The paper's numbers "
             "are on the GMD test split, which this project never uses; ours are on the validation split.", ""]
    if dr:
        lines += ["## Table 1: diversity of humanized timing", "",
                  "Each window's score humanized 5 times; at each (step, drum) the score plays, the standard deviation of "
                  "the timing offsets of the samples that play it (half-step units); averaged over positions, then windows "
                  "(mean ± standard error). Score keeping: hits of all 5 samples against the input score.", "",
                  "| model | diversity (ours) | paper | hit precision | hit recall | hit F1 |", "|---|---|---|---|---|---|"]
        for m in experiments.HUMANIZE_MODELS:
            if m in dr:
                mean, se = dr[m]["diversity"]
                p, r, f = dr[m]["prf"]
                lines.append(f"| {NAMES[m]} | {mean:.3f} ± {se:.4f} | {PAPER_DIVERSITY.get(m, '—')} | {p:.3f} | {r:.3f} | {f:.3f} |")
        lines += ["", "## Realism: Wasserstein distance to real playing, per drum", "",
                  "1-D Wasserstein distance between the humanized outputs' and the real validation loops' offsets and "
                  "velocities of each drum's hits (lower is closer to real).", "",
                  "| model | measure | " + " | ".join(CLASSES) + " | mean |", "|---|---|" + "---|" * (len(CLASSES) + 1)]
        for m in experiments.HUMANIZE_MODELS:
            if m in dr:
                for kind in ("offset", "velocity"):
                    v = dr[m]["wasserstein"][kind]
                    lines.append(f"| {m} | {kind} | " + " | ".join(_fmt(x) for x in v) + f" | {_fmt(np.nanmean(v))} |")
        lines += ["", "![offsets](humanize_offsets.png)", ""]
    if sw:
        lines += ["## Table 2 and Figure 3: fidelity to a swing groove", "",
                  f"A tap on every 16th: offset 0 on on-beats, the target on off-beats; velocities "
                  f"{experiments.SWING_VELOCITIES[0]} on on-beats and {experiments.SWING_VELOCITIES[1]} on off-beats. "
                  "Applied with every score of the split to AG-VAE 2 (one sample each); offsets of all generated "
                  "off-beat hits (positive = late).", "",
                  "| target | mean | std | abs(mean - target) | paper mean | paper std | paper abs diff |", "|---|---|---|---|---|---|---|"]
        for t, r in sw.items():
            pm, ps, pd = PAPER_SWING[t]
            lines.append(f"| {t:+.2f} | {r['mean']:+.3f} | {r['std']:.3f} | {abs(r['mean'] - t):.3f} | {pm:+.3f} | {ps:.3f} | {pd:.3f} |")
        lines += ["", "![figure 3](figure3_swing.png)", ""]
    if aux:
        lines += ["## Auxiliary readings (the model's reading of each input)", "",
                  "Score and groove of each window given; the auxiliary decoders' reconstructions against the inputs. "
                  "Groove error: mean abs offset difference between the generated loop's loudest note per step and the "
                  "given tap, where both play.", "",
                  "| model | aux score hit F1 | aux groove hit F1 | aux groove velocity MAE | aux groove offset MAE | output groove offset error |",
                  "|---|---|---|---|---|---|"]
        for m, a in aux.items():
            lines.append(f"| {m} | {a['score_f1']:.3f} | {a['groove_hit_f1']:.3f} | {a['groove_velocity_mae']:.3f} | "
                         f"{a['groove_offset_mae']:.3f} | {a['groove_error']:.3f} |")
        lines.append("")
    if ln:
        p, r, f = ln["given_prf"]
        lines += ["## 11-input model: following lanes, accents and groove", "",
                  "Each window: lanes that play are given, lanes that don't are given empty; its groove and accents given.", "",
                  "| measure | value |", "|---|---|",
                  f"| given lanes: hit precision / recall / F1 | {p:.3f} / {r:.3f} / {f:.3f} |",
                  f"| empty lanes with any hit (share of lanes) | {ln['empty_lane_rate'] * 100:.2f} % |",
                  f"| hits on empty-lane cells (share of cells) | {ln['empty_cell_rate'] * 100:.3f} % |",
                  f"| hi-hat <-> ride switch followed ({ln['switch_windows']} windows with hats and no ride) | {ln['switch_rate'] * 100:.1f} % |",
                  f"| accent contrast: mean velocity accented - unaccented (real loops: {ln['real_accent_contrast']:.3f}) | {ln['accent_contrast']:.3f} |",
                  f"| groove offset error | {ln['groove_error']:.3f} |", ""]
    path = out / "results.md"
    path.write_text("\n".join(lines))
    return path


def eval_cli(args) -> int:
    t0 = time.perf_counter()
    engine = Engine(args.models)
    loops = load_split(args.gmd, args.split, args.cache_dir).loops
    if args.limit:
        loops = loops[:args.limit]
    what = args.what
    dr = experiments.diversity_and_realism(engine, loops, args.seed) if what in ("diversity", "realism", "all") else None
    sw = experiments.swing(engine, loops, args.seed) if what in ("swing", "all") else None
    aux = experiments.aux_readings(engine, loops, args.seed) if what in ("realism", "all") else None
    ln = experiments.lanes(engine, loops, args.seed) if what in ("lanes", "all") and "agvae11" in engine.names else None
    args.out.mkdir(parents=True, exist_ok=True)
    if sw:
        _plot_swing(sw, args.out / "figure3_swing.png")
    if dr:
        _plot_offsets(dr, args.out / "humanize_offsets.png")
    path = write_report(args.out, args.split, len(loops), dr, sw, aux, ln, time.perf_counter() - t0,
                        ", ".join(sorted({m.folder.parent.name for m in engine.models.values()})))
    print(path.read_text())
    return 0
