"""Does the decoder play a score better with a groove code not its own once it is trained to?

In training, a loop decoded with another loop's groove code scores its hits only (``swap_groove``):
there is no performance of that score with that groove to score its values against. So the values
the default source plays (a bank row's code: another window's) are never trained, and the realism
classifier tells them apart more easily than those played with the drummer's own code (docs/
ablation.md, "Where the realism gap lies"). The same file's other bars give such a target: the same
drummer, the same take, another pattern. This study fine-tunes a shipped model's decoder (encoders,
prior, bank and feel kept) on the train split two ways, the same number of steps each:

- ``as trained``: the model's own swaps (another loop of the batch, hits scored only);
- ``same file``: half the loops decoded with the groove code of another window of their own file (two
  bars or more away), values scored too; the other half as trained.

Each is exported beside the base (``--out``); the realism classifier on validation (each window once:
its own groove; the default source), against the base::

    python export/lab/swap_values.py --gmd DIR --out runs/swap_values [--model agvae2] [--epochs 3]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import torch

from beatguide.cli import GMD_ENV
from beatguide.engine import Engine
from beatguide.evaluate.realism import auc_cells
from beatguide.gmd import load_split, same_file_partners
from beatguide.model_paths import model_dirs
from beatguide.registry import AGVAE2
from beatguide_export.data import WindowSet, delete_lanes
from beatguide_export.finetune import _export, load_base
from beatguide_export.losses import total_loss
from beatguide_export.models import DrumVAE
from realism_draws import humanize_once

VARIANTS = ("as trained", "same file")


def decoder_parameters(model: DrumVAE) -> list:
    """What the study trains: the decoder and the plan it reads; encoders and auxiliary readers stay."""
    keep = [*model.encoders.parameters(), *model.aux.parameters()]
    ids = {id(p) for p in keep}
    return [p for p in model.parameters() if id(p) not in ids]


def refit(model: DrumVAE, train, partners: np.ndarray, variant: str, epochs: int, lr: float, seed: int) -> list:
    """Fine-tune ``model``'s decoder in place; returns the mean loss of each epoch."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    ws = WindowSet(train.loops)
    params = decoder_parameters(model)
    for p in model.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=lr)
    beta, history = model.config.max_beta, []
    model.train()
    for _ in range(epochs):
        losses = []
        for idx in torch.randperm(len(ws), generator=gen).split(128):
            pidx = torch.from_numpy(partners[idx.numpy()])
            both = torch.cat([idx, pidx])
            gest = {k: v[both] for k, v in ws.gestures.items()}
            target = ws.loops[both]
            if model.config.delete_lane > 0:
                gest, target = delete_lanes(gest, target, model.config.delete_lane)
            n = len(idx)
            if variant == "same file":  # the first half with its partner's groove code, values scored
                mask = torch.zeros(2 * n, dtype=torch.bool)
                mask[:n] = (pidx != idx) & (torch.rand(n, generator=gen) < 0.5)
                perm = torch.arange(2 * n)
                perm[:n] = torch.arange(n, 2 * n)
                swap, scored = (mask, perm), None
            else:
                swap = model.random_swap(2 * n)
                scored = ~swap[0]
            post, raw, aux = model(gest, target, swap=swap)
            loss, _ = total_loss(model, post, raw, aux, gest, target, beta, scored)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            losses.append(float(loss.detach()))
        history.append(float(np.mean(losses)))
    model.eval()
    return history


def realism_row(engine: Engine, model: str, loops: np.ndarray, files: np.ndarray, seed: int) -> list[str]:
    """AUC cells (all ± SD, velocity, offset) of each window humanized once with its own groove, then
    with the default source."""
    return [auc_cells(loops, humanize_once(engine, model, loops, own, seed), files) for own in (True, False)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="swap_values.py", description=__doc__.split("\n")[0])
    ap.add_argument("--gmd", type=Path, default=os.environ.get(GMD_ENV), help=f"dataset folder (default: ${GMD_ENV})")
    ap.add_argument("--models", type=Path, action="append", help="model folders (default: the search path)")
    ap.add_argument("--model", default=AGVAE2.name, help="a model whose values are drawn")
    ap.add_argument("--out", type=Path, required=True, help="folder for the fine-tuned models")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.gmd is None:
        ap.error(f"give --gmd or set ${GMD_ENV}")
    torch.set_num_threads(1)
    dirs = model_dirs(args.models)
    train, val = (load_split(args.gmd, s, progress=False) for s in ("train", "validation"))
    partners = same_file_partners(train.file_index, train.start_bar, np.random.default_rng(args.seed))
    print(
        f"{args.model}: {np.mean(partners != np.arange(len(partners))):.1%} of train windows have a same-file partner\n"
    )
    rows = [["base", "—", *realism_row(Engine(dirs), args.model, val.loops, val.file_index, args.seed)]]
    for variant in VARIANTS:
        base = load_base(args.model, dirs)
        history = refit(base.model, train, partners, variant, args.epochs, args.lr, args.seed)
        name = f"{args.model}-{variant.replace(' ', '-')}"
        summary = {"study": "swap_values", "variant": variant, "epochs": args.epochs, "lr": args.lr, "loss": history}
        prior_meta = {"prior_fit": base.meta.get("prior_fit", []), "prior_adapted": False}
        bank = base.bank.arrays() if base.bank is not None else None
        _export(base.model, args.out / name, summary, bank, True, base.prior, prior_meta, base.meta.get("feel"))
        engine = Engine([args.out])
        losses = " → ".join(f"{x:.2f}" for x in history)
        rows.append([variant, losses, *realism_row(engine, name, val.loops, val.file_index, args.seed)])
    print(f"Validation, {len(val.loops)} windows humanized once each (seed {args.seed})\n")
    print(
        "| decoder | training loss by epoch | own groove: AUC | velocity | offset | default source: AUC | velocity | offset |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
