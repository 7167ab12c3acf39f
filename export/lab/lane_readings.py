"""How well agvae11 reads its lanes: each lane's auxiliary reconstruction from the posterior mean of
its own latent, against the lane, on training and validation windows (docs/ablation.md, "agvae11's
lane readings"). A reading that misses training lanes is a fitting limit, one that misses only
validation lanes a generalisation limit. ``--code-dims`` trains the lane encoder and reader alone
(agvae11's sizes, allowance and beta) with codes of each size, to isolate the code from the rest.

    python export/lab/lane_readings.py RUN [RUN ...] --gmd PATH [--windows 2000]
    python export/lab/lane_readings.py --code-dims 8 16 32 --gmd PATH [--epochs 20]
"""

from __future__ import annotations

import argparse
import math

import torch
from torch.nn import functional as F

from beatguide.evaluate.metrics import hit_prf
from beatguide.registry import AGVAE11
from beatguide_export import data
from beatguide_export.models import N_DRUMS, STEPS, MLPDecoder, MLPEncoder, ModelConfig, group_kl
from beatguide_export.onnx_export import load_run
from beatguide_export.train import DEFAULT_SIZES

LANES = AGVAE11.name  # the kind that reads lanes


def reading_prf(model, windows: data.WindowSet, n: int, seed: int = 0) -> tuple[float, float, float]:
    """Hit precision, recall and F1 of the lanes' auxiliary readings on ``n`` random windows."""
    idx = torch.randperm(len(windows), generator=torch.Generator().manual_seed(seed))[:n]
    gest = {k: v[idx] for k, v in windows.gestures.items()}
    with torch.no_grad():
        codes = {name: mu for name, (mu, _) in model.encode(gest).items()}
        pred = model.reconstruct(codes)["lanes"] > 0
    return hit_prf(pred.numpy(), gest["lanes"].numpy())


def fit_lane_codes(train_lanes, val_lanes, dim: int, epochs: int = 20, seed: int = 0) -> dict:
    """Train agvae11's lane encoder and reader alone (its widths, sharing, allowance and beta) with
    ``dim``-wide codes on lanes (B, 9, 32); reading F1 (posterior mean) on both sets and KL per lane."""
    cfg = ModelConfig(kind=LANES, **DEFAULT_SIZES[LANES])
    torch.manual_seed(seed)
    enc = MLPEncoder(STEPS, cfg.lane_hidden, dim, N_DRUMS, cfg.lanes_shared)
    dec = MLPDecoder(dim, cfg.lane_hidden, STEPS, N_DRUMS, cfg.lanes_shared)
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=2e-3)
    free = cfg.free_bits["lanes"] * math.log(2.0)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(train_lanes), generator=gen).split(256):
            x = train_lanes[idx]
            mu, sigma = enc(x)
            z = mu + sigma * torch.randn_like(mu)
            kl = group_kl(mu, sigma, N_DRUMS, dim).mean(0)
            bce = F.binary_cross_entropy_with_logits(dec(z), x, reduction="sum") / len(x)
            loss = bce + cfg.max_beta * torch.clamp(kl - free, min=0.0).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    out = {"dim": dim}
    with torch.no_grad():
        for name, lanes in (("train", train_lanes), ("validation", val_lanes)):
            mu, sigma = enc(lanes)
            out[name] = hit_prf((dec(mu) > 0).numpy(), lanes.numpy())[2]
            out[f"kl_{name}"] = group_kl(mu, sigma, N_DRUMS, dim).mean().item()
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="*", help="agvae11 run folders (best.pt)")
    ap.add_argument("--gmd", required=True)
    ap.add_argument("--windows", type=int, default=2000)
    ap.add_argument("--code-dims", type=int, nargs="+", help="train the lane encoder and reader alone, per code size")
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    splits = {s: data.load(args.gmd, s) for s in ("train", "validation")}
    if args.code_dims:
        lanes = {k: w.gestures["lanes"] for k, w in splits.items()}
        print(
            "| code dims per lane | KL per lane (nats, validation) | reading F1 train | validation |\n|---|---|---|---|"
        )
        for dim in args.code_dims:
            r = fit_lane_codes(lanes["train"], lanes["validation"], dim, args.epochs)
            print(f"| {dim} | {r['kl_validation']:.1f} | {r['train']:.3f} | {r['validation']:.3f} |", flush=True)
    if args.runs:
        print("| run | split | precision | recall | F1 |\n|---|---|---|---|---|")
    for run in args.runs:
        model = load_run(run)[0]
        for name, windows in splits.items():
            p, r, f = reading_prf(model, windows, args.windows)
            print(f"| {run} | {name} | {p:.3f} | {r:.3f} | {f:.3f} |")


if __name__ == "__main__":
    main()
