"""What drives diversity and realism: short training runs that change one design choice each, measured
with the same experiments as the shipped models (docs/results.md, "What drives diversity").

    python export/lab/ablation.py --gmd PATH [--limit 6000] [--epochs 10] [--out runs/ablation]

Every variant is AG-VAE 2 with the v2 configuration except for the change it names; all
train on the same first ``--limit`` training windows for the same number of epochs, and are measured
on the same random validation windows. Short schedules: compare the rows with each other, not with
the shipped models.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from beatguide.engine import Engine
from beatguide.evaluate import experiments
from beatguide.gmd import load_split
from beatguide.registry import AGVAE2
from beatguide_export import data
from beatguide_export.onnx_export import export_model, load_run
from beatguide_export.prior_fit import add_to_model
from beatguide_export.train import latent_bank, train

VARIANTS = {  # v2: squared-error values; each row changes one thing
    "v2 (shipped design)": {"values": "mean"},
    "+ prior dropout 0.1 (v1)": {"values": "mean", "prior_dropout": 0.1},
    "decoder reads latents only (paper)": {"values": "mean", "aux_controls": False},
    "48 free bits per latent (paper)": {"values": "mean", "free_bits": {"score": 48.0, "groove": 48.0}},
    "v1 design (prior dropout, no lane forcing, no previous-step dropout)": {
        "values": "mean",
        "prior_dropout": 0.1,
        "force_lanes": 0.0,
        "prev_dropout": 0.0,
    },
    "sampled velocities and offsets (logistic values, v3)": {"values": "logistic"},
    "v3 + half the loops decoded with another loop's groove code (hits scored only)": {
        "values": "logistic",
        "swap_groove": 0.5,
    },
    "v3 + a quarter of the loops decoded with another loop's groove code (hits scored only)": {
        "values": "logistic",
        "swap_groove": 0.25,
    },
}
SOURCES = ("prior", "fitted prior", "bank", "own posterior")
MODEL = AGVAE2.name  # every variant is AG-VAE 2


def measure(models: Path, loops: np.ndarray, seed: int) -> dict:
    """The ablation's rows: humanize diversity / F1 / realism with the groove from the prior, the fitted
    prior, the bank and the window's own posterior, and the model's own leak into lanes set empty."""
    engine = Engine(models)
    src = experiments.latent_sources(engine, loops, seed)[MODEL]
    leak = experiments.lane_leak(engine, loops, seed)[MODEL]["model alone"]
    row = {}
    for name in SOURCES:
        r = src[name]
        row[name] = {
            "diversity": r["diversity"][0],
            "hit_f1": r["prf"][2],
            "offset_w": float(np.nanmean(r["wasserstein"]["offset"])),
            "velocity_w": float(np.nanmean(r["wasserstein"]["velocity"])),
        }
    row["leak"] = leak
    return row


def write_table(results: dict, path: Path, args) -> None:
    lines = [
        f"AG-VAE 2, first {args.limit} training windows, {args.epochs} epochs each; measured on "
        f"{args.windows} random validation windows (`python export/lab/ablation.py --limit {args.limit} "
        f"--epochs {args.epochs} --windows {args.windows}`).",
        "",
        "| variant | groove latent from | diversity | hit F1 | offset W | velocity W | leak (model alone) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        for source in SOURCES:
            x = r[source]
            lines.append(
                f"| {name} | {source} | {x['diversity']:.3f} | {x['hit_f1']:.3f} | {x['offset_w']:.3f} | "
                f"{x['velocity_w']:.3f} | {r['leak'] * 100:.1f} % |"
            )
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python export/lab/ablation.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--gmd", type=Path, required=True, help="Groove MIDI Dataset folder (holding info.csv)")
    ap.add_argument("--out", type=Path, default=Path("runs/ablation"))
    ap.add_argument("--limit", type=int, default=6000, help="training windows per variant")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--windows", type=int, default=400, help="validation windows measured")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", action="append", help="run only these variants (by position, 0-based)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    val = load_split(args.gmd, "validation").loops
    loops = val[np.random.default_rng(args.seed).permutation(len(val))[: args.windows]]
    train_windows = data.load(args.gmd, "train", limit=args.limit)
    train_loops = load_split(args.gmd, "train").loops[: args.limit]
    results_path = args.out / "results.json"
    results = {}  # measured again each time (cheap); training is skipped where a variant's run is complete
    for i, (name, change) in enumerate(VARIANTS.items()):
        if args.only and str(i) not in args.only:
            continue
        run = args.out / f"variant{i}"
        if not (run / "summary.json").is_file():
            train(
                MODEL,
                args.gmd,
                run,
                epochs=args.epochs,
                limit=args.limit,
                threads=args.threads,
                lr=2e-3,
                patience=args.epochs,
                seed=args.seed,
                progress=False,
                **change,
            )
        model, summary = load_run(run)
        export_model(model, run / "models" / MODEL, summary, latent_bank(model, train_windows))
        add_to_model(run / "models" / MODEL, train_loops, val, args.seed)
        results[name] = measure(run / "models", loops, args.seed)
        args.out.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(results, indent=2))
    ordered = {k: results[k] for k in VARIANTS if k in results}
    write_table(ordered, args.out / "ablation.md", args)
    print((args.out / "ablation.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
