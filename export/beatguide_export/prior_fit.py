"""Fit the fitted prior (a Gaussian mixture over the training codes) and add it to an exported model.

    python -m beatguide_export.prior_fit --gmd DIR models/agvae2 [models/factorized ...]

Codes are posterior samples (mean + sigma * noise) of every training window, every gesture given,
from the exported ONNX encoder, so they are exactly the codes the engine computes. The number of
components is chosen by the mean log-likelihood of the validation windows' codes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
from sklearn.mixture import GaussianMixture

from beatguide.engine import PRIOR_FILE, OnnxModel
from beatguide.gmd import load_split

from .data import gesture_arrays

COMPONENTS = (1, 4, 16, 32, 64)
REG_COVAR = 1e-3  # added to the covariances' diagonals: keeps them invertible


def codes(model: OnnxModel, loops: np.ndarray, seed: int = 0, batch: int = 1024) -> np.ndarray:
    """One posterior sample (N, z) per window, every gesture the model takes given."""
    g = gesture_arrays(loops)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(0, len(loops), batch):
        post = model.encode({k: g[k][i : i + batch].astype(np.float32) for k in model.gestures})
        mu = np.concatenate([post[lat["name"]][0] for lat in model.latents], axis=1)
        sigma = np.concatenate([post[lat["name"]][1] for lat in model.latents], axis=1)
        out.append(mu + sigma * rng.standard_normal(mu.shape))
    return np.concatenate(out)


def fit(train: np.ndarray, validation: np.ndarray, components=COMPONENTS, seed: int = 0) -> tuple[dict, list]:
    """The mixture with the best validation log-likelihood, as arrays, and one row per size tried."""
    rows, best = [], None
    for k in components:
        gm = GaussianMixture(k, covariance_type="full", reg_covar=REG_COVAR, max_iter=200, random_state=seed)
        gm.fit(train)
        rows.append(
            {
                "components": k,
                "train_loglik": float(gm.score(train)),
                "validation_loglik": float(gm.score(validation)),
                "converged": bool(gm.converged_),
            }
        )
        if best is None or rows[-1]["validation_loglik"] > best[0]:
            best = (rows[-1]["validation_loglik"], gm)
    gm = best[1]
    arrays = {
        "weights": gm.weights_.astype(np.float32),
        "means": gm.means_.astype(np.float32),
        "covariances": gm.covariances_.astype(np.float32),
    }
    return arrays, rows


def add_to_model(
    folder: Path, train_loops: np.ndarray, validation_loops: np.ndarray, seed: int = 0, components=COMPONENTS
) -> list:
    """Fit the prior of the exported model in ``folder``, write it beside the model and list it in
    model.json (``attach``); returns one row per mixture size tried."""
    model = OnnxModel(Path(folder))
    arrays, rows = fit(codes(model, train_loops, seed), codes(model, validation_loops, seed + 1), components, seed)
    attach(folder, arrays, rows)
    return rows


def attach(folder: Path, arrays: dict, rows: list, **notes) -> None:
    """Write a fitted prior's ``arrays`` beside the exported model in ``folder`` and list it in model.json:
    file, checksum, latent source, ``rows`` (the mixture sizes tried) and any ``notes``."""
    folder = Path(folder)
    np.savez_compressed(folder / PRIOR_FILE, **arrays)
    meta = json.loads((folder / "model.json").read_text())
    meta["prior"] = PRIOR_FILE
    meta["sha256"][PRIOR_FILE] = hashlib.sha256((folder / PRIOR_FILE).read_bytes()).hexdigest()
    meta["prior_fit"] = rows
    meta.update(notes)
    sources = meta["capabilities"]["latent_sources"]
    if "fitted" not in sources:
        sources.append("fitted")
    (folder / "model.json").write_text(json.dumps(meta, indent=2))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m beatguide_export.prior_fit", description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="+", type=Path, help="exported model folders")
    ap.add_argument("--gmd", required=True, help="Groove MIDI Dataset folder (train and validation splits)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    train = load_split(args.gmd, "train").loops
    validation = load_split(args.gmd, "validation").loops
    for folder in args.folders:
        rows = add_to_model(folder, train, validation, args.seed)
        for r in rows:
            print(
                f"{folder.name}: {r['components']:3d} components, log-likelihood train {r['train_loglik']:.1f} "
                f"validation {r['validation_loglik']:.1f}"
            )
        print(f"{folder.name}: kept {max(rows, key=lambda r: r['validation_loglik'])['components']} components")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
