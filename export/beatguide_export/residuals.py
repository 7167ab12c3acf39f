"""How much of a drum's level in a loop the value head leaves unexplained, given the loop so far.

Teacher-forced on the validation split (each window's own codes, posterior means; the drummer's own
previous steps given), per drum: the residuals of the played velocities below 127 from the head's
locations, split into a part common to the (loop, drum) and the note's own. A head that followed a
drum's level through the loop would leave little common to it (docs/ablation.md, "A drum's level
through the loop")::

    python -m beatguide_export.residuals --gmd DIR [--model agvae2 ...] [--models DIR]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import torch

from beatguide.cli import GMD_ENV
from beatguide.drums import CLASSES
from beatguide.drums import N_CLASSES as N
from beatguide.errors import BeatGuideError
from beatguide.grid import TOP_VELOCITY
from beatguide.model_paths import model_dirs
from beatguide.registry import KINDS

from .finetune import load_base
from .models import DrumVAE, value_locations
from .train import load_splits

MIN_NOTES = 4  # a (loop, drum) counts with at least this many notes below 127


def velocity_residuals(model: DrumVAE, windows) -> tuple[np.ndarray, np.ndarray]:
    """(loops (N, 32, 27), residuals (N, 32, 9)): played velocities below 127 minus the head's
    locations, teacher-forced; NaN elsewhere."""
    model.eval()
    loops, res = [], []
    with torch.no_grad():
        for gest, target in windows.batches(512):
            _, raw, _ = model(gest, target, sample=False, hit_control=-torch.ones_like(target[..., :N]))
            loc = value_locations(raw, head=True, wide=model.config.censored)[0].clamp(0, 1)
            v = target[..., N : 2 * N]
            ok = (target[..., :N] > 0.5) & (v < TOP_VELOCITY)
            res.append(torch.where(ok, v - loc, torch.nan).numpy())
            loops.append(target.numpy())
    return np.concatenate(loops), np.concatenate(res)


def common_share(residuals: np.ndarray) -> list[dict]:
    """Per drum, over (loop, drum) pairs with MIN_NOTES notes or more: notes, residual SD, the SD of the
    pairs' mean residual (common to the loop), the SD within a pair, and the common share of the
    variance (intraclass correlation)."""
    rows = []
    for d, name in enumerate(CLASSES):
        r = residuals[..., d]
        keep = np.sum(~np.isnan(r), axis=1) >= MIN_NOTES
        r = r[keep]
        if not len(r):
            rows.append({"drum": name, "notes": 0})
            continue
        mean = np.nanmean(r, axis=1)
        total, common = float(np.nanstd(r)), float(np.std(mean))
        rows.append(
            {
                "drum": name,
                "notes": int(np.sum(~np.isnan(r))),
                "sd": total,
                "common": common,
                "within": float(np.sqrt(np.nanmean((r - mean[:, None]) ** 2))),
                "share": common**2 / total**2,
            }
        )
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m beatguide_export.residuals", description=__doc__.split("\n")[0])
    ap.add_argument("--gmd", type=Path, default=os.environ.get(GMD_ENV), help=f"dataset folder (default: ${GMD_ENV})")
    ap.add_argument(
        "--model", action="append", help="models to read (default: every shipped kind whose values are drawn)"
    )
    ap.add_argument("--models", type=Path, action="append", help="model folders (default: the search path)")
    args = ap.parse_args(argv)
    if args.gmd is None:
        ap.error(f"give --gmd or set ${GMD_ENV}")
    torch.set_num_threads(1)
    try:
        _, val = load_splits(args.gmd)
        for name in args.model or list(KINDS):
            base = load_base(name, model_dirs(args.models))
            if base.model.decoder.dist is None:
                print(f"\n{name}: no value head (its velocities and offsets are not drawn)")
                continue
            rows = common_share(velocity_residuals(base.model, val)[1])
            history = "reads" if base.model.config.history else "does not read"
            print(f"\n{name} (its head {history} the running residuals), validation, teacher-forced\n")
            print("| drum | notes | residual SD | common to the (loop, drum) | within it | common share |")
            print("|---|---|---|---|---|---|")
            for r in rows:
                if r["notes"]:
                    print(
                        f"| {r['drum']} | {r['notes']} | {r['sd']:.3f} | {r['common']:.3f} | {r['within']:.3f} | {r['share']:.2f} |"
                    )
    except BeatGuideError as e:
        print(f"beatguide_export.residuals: {e}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
