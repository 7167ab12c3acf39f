"""How well agvae11 reads its lanes: each lane's auxiliary reconstruction from the posterior mean of
its own latent, against the lane, on training and validation windows (docs/ablation.md, "agvae11's
lane readings"). A reading that misses training lanes is a fitting limit, one that misses only
validation lanes a generalisation limit.

    python -m beatguide_export.lane_readings RUN [RUN ...] --gmd PATH [--windows 2000]
"""

from __future__ import annotations

import argparse

import torch

from . import data
from .onnx_export import load_run


def reading_prf(model, windows: data.WindowSet, n: int, seed: int = 0) -> tuple[float, float, float]:
    """Hit precision, recall and F1 of the lanes' auxiliary readings on ``n`` random windows."""
    idx = torch.randperm(len(windows), generator=torch.Generator().manual_seed(seed))[:n]
    gest = {k: v[idx] for k, v in windows.gestures.items()}
    with torch.no_grad():
        codes = {name: mu for name, (mu, _) in model.encode(gest).items()}
        pred = model.reconstruct(codes)["lanes"] > 0
    ref = gest["lanes"] > 0.5
    tp = (pred & ref).sum().item()
    p, r = tp / max(pred.sum().item(), 1), tp / max(ref.sum().item(), 1)
    return p, r, 2 * p * r / max(p + r, 1e-9)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="agvae11 run folders (best.pt)")
    ap.add_argument("--gmd", required=True)
    ap.add_argument("--windows", type=int, default=2000)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    splits = {s: data.load(args.gmd, s) for s in ("train", "validation")}
    print("| run | split | precision | recall | F1 |\n|---|---|---|---|---|")
    for run in args.runs:
        model = load_run(run)[0]
        for name, windows in splits.items():
            p, r, f = reading_prf(model, windows, args.windows)
            print(f"| {run} | {name} | {p:.3f} | {r:.3f} | {f:.3f} |")


if __name__ == "__main__":
    main()
