"""Refit a trained model's value head: censored velocities (``ModelConfig.censored``) or, with
``--history``, a level head reading each drum's running residuals in the loop (``models.History``).

Real drummers play one hit in seven at the top velocity, 127 (``python server/lab/realism_features.py``
prints the share): a point mass the logistic density cannot hold, so the head spread those notes' draws below the top instead (docs/results.md,
"Realism: what tells the loops apart"). The head reads the decoder's state with its gradient
stopped, so it can be refitted alone: encoders, decoder, hits, prior and bank stay the model's own.
Trains on the train split, early-stopped on the validation split::

    python -m beatguide_export.head_refit agvae2 --gmd DIR --name agvae2_censored [--models DIR] [--out DIR]
    python -m beatguide_export.head_refit agvae2 --gmd DIR --name agvae2 --out models --replace   # the shipped one

``--history`` (docs/ablation.md, "A drum's level through the loop"), on a head already refitted
censored: the decoder's squared-error values leave half of a drum's velocity residual common to the
loop; a level head reads the residuals so far and corrects the velocities' distributions to keep the
drum's level. It alone trains, starting at zero: the offsets' distributions stay the head's own.

Then fit its feel (``python -m beatguide_export.feel_fit``), as for any model whose values are drawn.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from beatguide.cli import GMD_ENV
from beatguide.errors import BeatGuideError, InputError
from beatguide.model_paths import model_dirs

from .finetune import _export, load_base
from .onnx_export import destination
from .train import HEAD_EPOCHS, evaluate, hardware, latent_bank, load_splits, seed_all, train_head


def refit(
    base_name: str,
    gmd,
    name: str,
    out: Path,
    *,
    models=None,
    lr: float = 1e-3,
    batch_size: int = 64,
    seed: int = 0,
    threads: int = 1,
    limit: int = 0,
    replace: bool = False,
    history: bool = False,
    epochs: int = HEAD_EPOCHS,
    progress: bool = True,
) -> dict:
    """Model ``base_name`` with its value head refitted censored, exported as ``out/name`` (a model there
    replaced only with ``replace``); returns its model.json."""
    dirs = model_dirs(models)
    dest = destination(name, out, replace)
    base = load_base(base_name, dirs)
    model = base.model
    if model.decoder.dist is None:
        raise InputError(f"{base_name!r} has no value head to refit: its velocities and offsets are not drawn")
    torch.set_num_threads(threads)
    seed_all(seed)
    if history and not model.config.censored:
        raise InputError(f"--history grows a censored head: refit {base_name!r} without --history first")
    model.config.censored = model.decoder.censored = True
    if history and not model.decoder.history:
        model.decoder.read_history()
        model.config.history = True
    train_set, val_set = load_splits(gmd, limit=limit)
    before = evaluate(model, val_set, model.config.max_beta)["value_spread"]
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    rows = train_head(
        model, train_set, val_set, batch_size=batch_size, lr=lr, gen=gen, progress=progress, epochs=epochs
    )
    record = {
        **base.provenance(),
        "censored_value_spread_before": round(before, 4),
        "epochs": rows,
        "seconds": round(time.perf_counter() - t0, 1),
        "train_windows": len(train_set),
        "validation_windows": len(val_set),
        "lr": lr,
        "batch_size": batch_size,
        "seed": seed,
        "hardware": hardware("cpu", threads),
    }
    summary = dict(base.meta.get("training", {}))
    summary.update(config=model.config.to_dict(), validation=evaluate(model, val_set, model.config.max_beta))
    # a level head's refit is kept beside the censored refit it grew from
    summary["level_refit" if model.config.history else "head_refit"] = record
    prior_meta = {"prior_fit": base.meta.get("prior_fit", [])}
    bank = latent_bank(model, train_set, seed=seed)
    return _export(model, dest, summary, bank, replace, base.prior, prior_meta)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m beatguide_export.head_refit", description=__doc__.split("\n")[0])
    ap.add_argument("model", help="the trained model whose head is refitted")
    ap.add_argument("--gmd", type=Path, default=os.environ.get(GMD_ENV), help=f"dataset folder (default: ${GMD_ENV})")
    ap.add_argument("--name", required=True, help="the new model's name")
    ap.add_argument(
        "--models", type=Path, action="append", help="model folders to find it in (default: the search path)"
    )
    ap.add_argument("--out", type=Path, default=Path("."), help="where the new model's folder goes")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N windows only (quick runs)")
    ap.add_argument(
        "--replace", action="store_true", help="replace out/NAME (e.g. the shipped model, with --out models)"
    )
    ap.add_argument("--epochs", type=int, default=HEAD_EPOCHS, help="at most this many epochs (early-stopped)")
    ap.add_argument("--history", action="store_true", help="the head also reads each drum's running residuals")
    args = ap.parse_args(argv)
    if args.gmd is None:
        ap.error(f"give --gmd or set ${GMD_ENV}")
    try:
        refit(
            args.model, args.gmd, args.name, args.out, models=args.models, lr=args.lr, batch_size=args.batch_size,
            seed=args.seed, threads=args.threads, limit=args.limit, replace=args.replace, history=args.history,
            epochs=args.epochs,
        )  # fmt: skip
    except BeatGuideError as e:
        print(f"beatguide_export.head_refit: {e}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
