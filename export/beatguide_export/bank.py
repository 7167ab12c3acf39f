"""Rebuild an exported model's latent bank in place (``train.latent_bank``: real drummers' codes and
what their windows play), e.g. after a version that matches more of a request against the bank::

    python -m beatguide_export.bank models/agvae2 [FOLDER ...] --gmd DIR [--seed 0]

The codes come from the model's own encoder (its torch weights); model.json's checksum and row count
follow. Nothing else in the folder changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from beatguide.cli import GMD_ENV, _gmd
from beatguide.errors import BeatGuideError

from . import data
from .onnx_export import load_exported
from .train import BANK_FILE, latent_bank


def rebuild(folder: Path, train: data.WindowSet, seed: int = 0) -> dict:
    """Write a new bank.npz into the exported model ``folder`` from ``train``; returns the bank."""
    folder = Path(folder)
    if not (folder / "model.json").is_file():
        raise BeatGuideError(f"{folder}: no model.json here (not an exported model)")
    bank = latent_bank(load_exported(folder), train, seed=seed)
    np.savez_compressed(folder / BANK_FILE, **bank)
    meta = json.loads((folder / "model.json").read_text())
    meta["bank"], meta["bank_rows"] = BANK_FILE, int(len(bank["z"]))
    meta["sha256"][BANK_FILE] = hashlib.sha256((folder / BANK_FILE).read_bytes()).hexdigest()
    if "bank" not in meta["capabilities"]["latent_sources"]:
        meta["capabilities"]["latent_sources"].append("bank")
    (folder / "model.json").write_text(json.dumps(meta, indent=2))
    return bank


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m beatguide_export.bank", description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="+", type=Path, help="exported model folders")
    ap.add_argument("--gmd", type=Path, default=os.environ.get(GMD_ENV), help=f"dataset folder (default: ${GMD_ENV})")
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        train = data.load(_gmd(args.gmd), "train", args.cache_dir)
        for folder in args.folders:
            bank = rebuild(folder, train, args.seed)
            print(f"{folder.name}: {len(bank['z'])} bank rows written to {folder / BANK_FILE}")
    except BeatGuideError as e:
        print(f"beatguide_export.bank: {e}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
