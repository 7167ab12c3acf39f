"""Does ``beatguide finetune`` make a model play like the drummer it was fine-tuned on? (docs/finetune.md)

For each drummer, from the Groove MIDI Dataset's validation split (the test split is never read):
their files are split in two halves by file; the model is fine-tuned on one half exactly as
``beatguide finetune`` does it (time limit, one thread); the other half's scores are humanized by the
base and by the fine-tuned model through the engine, with the groove latent from the N(0, I) prior,
from each model's fitted prior (conditioned on the score's code), from each model's default source
(the bank: the base's GMD codes, the fine-tuned model's its own or the base's), from each model's bank, or encoded from the window's own groove (given); per-drum offset and velocity
Wasserstein distances to the drummer's real playing in that half, and hit F1 against the scores.
Writes finetune_results.md, finetune.json and one plot of offset distributions per drummer into
--out. The default drummers: drummer1 and drummer7 have the most validation material (60 and 39
files, many styles); drummer5 (latin, 5 long files) and drummer8 (afrobeat, funk, rock, 5 long files)
are the only other validation drummers with over 10 minutes of playing (the rest have 7 minutes at
most).

    python export/lab/finetune_study.py --gmd PATH [--drummers drummer1 drummer7 drummer5 drummer8]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from beatguide import gestures
from beatguide.drums import CLASSES, GMD_MAP
from beatguide.engine import Engine, Request
from beatguide.evaluate import experiments, metrics
from beatguide.gmd import find_root, read_info
from beatguide.registry import DEFAULT_MODEL
from beatguide_export import finetune as ft
from beatguide_export.finetune import MidiWindows, finetune, read_windows

REPO_MODELS = Path(__file__).resolve().parents[2] / "models"
MIN_HITS = 20  # drums with fewer real held-out hits are shown but left out of the means
GOAL_CLOSER, MAX_F1_DROP = 0.25, 0.02
SAMPLES = 5
SOURCES = ("default", "prior", "fitted", "bank", "own groove")  # where the groove latent comes from


def drummer_files(root: Path, drummer: str) -> tuple[list[Path], str]:
    """The drummer's validation files and their styles (most common first)."""
    rows = [r for r in read_info(root) if r["split"] == "validation" and r["drummer"] == drummer]
    if not rows:
        raise SystemExit(f"{drummer} has no files in the validation split")
    styles = [r["style"].split("/")[0] for r in rows]
    counts = {s: styles.count(s) for s in dict.fromkeys(styles)}
    style = ", ".join(f"{s} {n}" for s, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    return [root / r["midi_filename"] for r in rows], style


def halves(data: MidiWindows, seed: int) -> tuple[list[Path], list[Path]]:
    """The used files in two halves with about as many windows each: files in a seeded random order,
    each to the half with fewer windows so far."""
    counts = np.bincount(data.file_index, minlength=len(data.files))
    parts, sizes = ([], []), [0, 0]
    for f in np.random.default_rng(seed).permutation(len(data.files)):
        k = int(sizes[1] < sizes[0])
        parts[k].append(data.files[f])
        sizes[k] += counts[f]
    return parts


def distances(gen: np.ndarray, real: np.ndarray) -> dict:
    """Per-drum offset and velocity Wasserstein distances of loops to real loops, and two means over
    the drums: plain, over the drums with at least MIN_HITS real hits, and weighted by real hit counts."""
    w = experiments.realism(gen, real)
    counts = (real[..., :9] > 0.5).reshape(-1, 9).sum(axis=0)
    out = dict(w)
    for k in ("offset", "velocity"):
        v = np.asarray(w[k])
        ok = np.isfinite(v) & (counts >= MIN_HITS)
        out[f"{k}_mean"] = float(v[ok].mean())
        out[f"{k}_weighted"] = float((v[ok] * counts[ok]).sum() / counts[ok].sum())
    return out


def scores(gen: np.ndarray, real: np.ndarray) -> dict:
    """``distances`` of humanized (windows, samples, 32, 27) outputs, and hit F1 against the real scores."""
    hits = gen[..., :9]
    return distances(gen, real) | {
        "hit_f1": metrics.hit_prf(hits, np.broadcast_to(real[:, None, :, :9], hits.shape))[2]
    }


def compare(base: dict, tuned: dict) -> dict:
    """How much closer the fine-tuned model is (1 - tuned / base) on each mean, the hit F1 change, the goal."""
    closer = {
        f"{k}_{m}": 1 - tuned[f"{k}_{m}"] / base[f"{k}_{m}"]
        for k in ("offset", "velocity")
        for m in ("mean", "weighted")
    }
    f1 = tuned["hit_f1"] - base["hit_f1"]
    goal = {
        m: bool(min(closer[f"offset_{m}"], closer[f"velocity_{m}"]) >= GOAL_CLOSER and f1 >= -MAX_F1_DROP)
        for m in ("mean", "weighted")
    }
    return {"closer": closer, "f1_change": f1, "goal_met": goal}


def humanized(engine: Engine, model: str, loops: np.ndarray, source: str, seed: int) -> np.ndarray:
    """(windows, SAMPLES, 32, 27): each window's score humanized, the groove latent from the prior, the
    model's bank, or the window's own groove (given: does the model still follow a groove?)."""
    if source != "own groove":
        return experiments.humanize(
            engine, model, loops, SAMPLES, seed, latent_source=None if source == "default" else source
        )
    reqs = [
        Request(model, SAMPLES, 1.0, seed + i, score=gestures.score(x), groove=gestures.groove(x))
        for i, x in enumerate(loops)
    ]
    return np.stack([r.loops for r in experiments.run(engine, model, reqs, f"own groove {model}")])


def study(
    gmd,
    drummer: str,
    model: str,
    models_dir: Path,
    minutes: float,
    seed: int,
    threads: int,
    work: Path,
    progress: bool,
    options: dict | None = None,
) -> tuple[dict, dict]:
    """One drummer: fine-tune on one half, measure on the other. ``options``: more keyword arguments
    of ``finetune`` (lr, prior_share, l2sp, fit_prior, max_steps: the experiments of docs/finetune.md).
    Returns (results, offsets for the plot)."""
    root = find_root(gmd)
    files, style = drummer_files(root, drummer)
    data = read_windows(files, GMD_MAP)
    train_files, test_files = halves(data, seed)
    test = read_windows(test_files, GMD_MAP).loops
    other = read_windows(train_files, GMD_MAP).loops
    name = f"{drummer}-{model}"
    t0 = time.perf_counter()
    meta = finetune(
        model,
        train_files,
        name,
        out_root=work,
        models=[models_dir],
        minutes=minutes,
        input_map="gmd",
        force=True,
        seed=seed,
        threads=threads,
        progress=progress,
        **(options or {}),
    )
    engine = Engine([work, models_dir])
    out = {
        "drummer": drummer,
        "styles": style,
        "model": model,
        "files": [len(train_files), len(test_files)],
        "windows": [len(other), len(test)],
        "held_out_hits": (test[..., :9] > 0.5).reshape(-1, 9).sum(0).tolist(),
        "finetune": meta["training"]["finetune"] | {"train_seconds": meta["training"]["train_seconds"]},
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "real_other_half": distances(other, test),
        "sources": {},
    }
    offsets = {"real": test}
    for source in SOURCES:
        row = {}
        for label, m in (("base", model), ("fine-tuned", name)):
            if source in engine.capabilities(m)["latent_sources"] + ["default", "own groove"]:
                gen = humanized(engine, m, test, source, seed)
                row[label] = scores(gen, test)
                offsets[(label, source)] = gen
        if len(row) == 2:
            out["sources"][source] = row | compare(row["base"], row["fine-tuned"])
    return out, offsets


def plot(offsets: dict, source: str, title: str, path: Path) -> None:
    """Offset histograms per drum: real held-out playing, base and fine-tuned humanized."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 3, figsize=(10, 8), sharex=True)
    bins = np.linspace(-1, 1, 41)
    for c, ax in enumerate(axes.flat):
        real = metrics.hit_values(offsets["real"], c, "offset")
        ax.hist(real, bins, density=True, color="0.75", label=f"real ({len(real)} hits)")
        for label, color in (("base", "tab:blue"), ("fine-tuned", "tab:red")):
            if (label, source) in offsets:
                x = metrics.hit_values(offsets[(label, source)], c, "offset")
                if len(x):
                    ax.hist(x, bins, density=True, histtype="step", lw=1.5, color=color, label=label)
        ax.set_title(CLASSES[c], fontsize=10)
        ax.legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("offset (half-step units, + = late)")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def markdown(results: list[dict], command: str) -> str:
    def change(b, t, s, key):
        return f"{b[key]:.3f} → {t[key]:.3f} ({s['closer'][key] * 100:+.0f} %)"

    lines = ["# Fine-tuning study: results", "", f"Produced by `{command}`.", ""]
    lines += [
        "| drummer | groove latent | offset W, mean over drums | velocity W, mean over drums | offset W, "
        "hit-weighted | velocity W, hit-weighted | hit F1 | goal met (mean / weighted) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for source, s in r["sources"].items():
            b, t = s["base"], s["fine-tuned"]
            lines.append(
                f"| {r['drummer']} | {source} | {change(b, t, s, 'offset_mean')} | "
                f"{change(b, t, s, 'velocity_mean')} | {change(b, t, s, 'offset_weighted')} | "
                f"{change(b, t, s, 'velocity_weighted')} | {b['hit_f1']:.3f} → {t['hit_f1']:.3f} "
                f"({s['f1_change']:+.3f}) | {'yes' if s['goal_met']['mean'] else 'no'} / "
                f"{'yes' if s['goal_met']['weighted'] else 'no'} |"
            )
    lines += [
        "",
        f"Base → fine-tuned, (closer: 1 - fine-tuned / base). Means over the drums with at least {MIN_HITS} "
        f"hits in the held-out half, plain or weighted by those hit counts. Goal: at least {GOAL_CLOSER * 100:.0f} % "
        f"closer on offsets and velocities, hit F1 down by at most {MAX_F1_DROP}. Groove latent: each model's "
        "default source (`default`: the bank; a fine-tuned model's holds the codes of the drummer's half where "
        "humanizing with them came at least as close on its validation files as the base's bank, else the base's), "
        "the N(0, I) `prior`, the `fitted` prior (a fine-tuned model ships its base's, adapted to the drummer's "
        "codes where that came closer on its validation files), the `bank`, or the window's `own groove` encoded.",
        "",
        "How close the drummer's own other half (the fine-tuning material) is to the held-out half, as "
        '"closer than the base model humanizing by default": what a model that copied its training half '
        "exactly would reach (negative: the base model is already closer than the drummer's other half).",
        "",
        "| drummer | offset W, mean | velocity W, mean | offset W, weighted | velocity W, weighted |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        b, o = r["sources"]["default"]["base"], r["real_other_half"]
        lines.append(
            f"| {r['drummer']} | "
            + " | ".join(
                f"{o[k]:.3f} ({(1 - o[k] / b[k]) * 100:+.0f} %)"
                for k in ("offset_mean", "velocity_mean", "offset_weighted", "velocity_weighted")
            )
            + " |"
        )
    lines += [
        "",
        "| drummer | styles (files) | files / windows fine-tuned on | files / windows held out | fitted prior "
        "| bank | fine-tuning |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        f = r["finetune"]
        lines.append(
            f"| {r['drummer']} | {r['styles']} | {r['files'][0]} / {r['windows'][0]} | {r['files'][1]} / "
            f"{r['windows'][1]} | {f.get('prior', 'kept')} | {f.get('bank', 'yours')} | {f['stopped']} after {f['steps']} steps, {f['train_seconds'] / 60:.1f} min |"
        )
    lines.append("")
    for r in results:
        lines += [
            f"## {r['drummer']}: per drum",
            "",
            "| measure | groove latent | model | " + " | ".join(CLASSES) + " | mean | weighted |",
            "|---|---|---|" + "---|" * (len(CLASSES) + 2),
            "| held-out hits | | | " + " | ".join(map(str, r["held_out_hits"])) + " | | |",
        ]
        for kind in ("offset", "velocity"):
            rows = [(source, label, s[label]) for source, s in r["sources"].items() for label in ("base", "fine-tuned")]
            rows.append(("", "real: the other half", r["real_other_half"]))
            for source, label, s in rows:
                lines.append(
                    f"| {kind} W | {source} | {label} | "
                    + " | ".join(f"{v:.3f}" for v in s[kind])
                    + f" | {s[f'{kind}_mean']:.3f} | {s[f'{kind}_weighted']:.3f} |"
                )
        lines += ["", f"![offsets {r['drummer']}](finetune_offsets_{r['drummer']}.png)", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gmd", type=Path, required=True, help="Groove MIDI Dataset folder (holds info.csv)")
    p.add_argument("--drummers", nargs="+", default=["drummer1", "drummer7", "drummer5", "drummer8"])
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--models", type=Path, default=REPO_MODELS, help="folder holding the base model")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, default=ft.LR, help="fine-tuning learning rate")
    p.add_argument("--prior-share", type=float, default=ft.PRIOR_SHARE, help="share of loops decoded from prior draws")
    p.add_argument("--l2sp", type=float, default=ft.L2SP, help="weight of the pull toward the base weights")
    p.add_argument(
        "--fit-prior",
        choices=ft.FIT_PRIOR_CHOICES,
        default=ft.FIT_PRIOR,
        help="move the prior toward the drummer's codes before training (adapt the fitted prior, else fold)",
    )
    p.add_argument("--prior-strength", type=float, default=ft.PRIOR_STRENGTH, help="0-1: how far the prior moves")
    p.add_argument("--parts", nargs="+", default=list(ft.TRAINED_PARTS), help="parameter name prefixes trained")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: no limit)")
    p.add_argument("--plot-source", default="prior", choices=SOURCES, help="groove latent in the plots")
    p.add_argument("--out", type=Path, default=Path("docs"))
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    options = {
        "lr": args.lr,
        "prior_share": args.prior_share,
        "l2sp": args.l2sp,
        "fit_prior": args.fit_prior,
        "prior_strength": args.prior_strength,
        "parts": tuple(args.parts),
        "max_steps": args.max_steps,
    }
    results = []
    with tempfile.TemporaryDirectory() as work:
        for drummer in args.drummers:
            r, offsets = study(
                args.gmd,
                drummer,
                args.model,
                args.models,
                args.minutes,
                args.seed,
                args.threads,
                Path(work),
                progress=True,
                options=options,
            )
            plot(
                offsets,
                args.plot_source,
                f"{drummer}: offsets of the held-out half, groove latent from the {args.plot_source}\n({r['styles']})",
                args.out / f"finetune_offsets_{drummer}.png",
            )
            results.append(r)
    command = (
        f"python export/lab/finetune_study.py --gmd GMD --drummers {' '.join(args.drummers)} "
        f"--model {args.model} --minutes {args.minutes:g} --threads {args.threads} --seed {args.seed} "
        f"--lr {args.lr:g} --prior-share {args.prior_share:g} --l2sp {args.l2sp:g} "
        f"--fit-prior {args.fit_prior} --prior-strength {args.prior_strength:g} --parts {' '.join(args.parts)}"
        + (f" --max-steps {args.max_steps}" if args.max_steps else "")
    )
    (args.out / "finetune.json").write_text(json.dumps(results, indent=1))
    text = markdown(results, command)
    (args.out / "finetune_results.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
