"""Train a model's critic (``beatguide.critic``) on the training split, select its candidates on validation.

    python -m beatguide_export.critic --gmd DIR [--models DIR] [--model NAME] [--write]

1. Fit (train windows): each window's score humanized ``--draws`` times by the model at its default
   settings with the critic off; ``CriticNet`` learns the drummer's own loops (1) from these (0) with
   binary cross-entropy, classes weighted alike. A tenth of the train files is held out (whole files,
   so no performance is seen on both sides) and the epoch with the best ROC AUC on them is kept.
2. Select (validation): each window's score humanized at the default settings, the critic keeping
   the best of K whole draws of the request for K in ``--candidates`` (1: the critic off), once per
   seed (``--selection-seeds``); the K kept has the lowest two-sample AUC (``beatguide.evaluate.
   realism``, mean over seeds) among those meeting both structure goals, as a feel is selected
   (``beatguide_export.feel_fit``). ``--write`` stores critic.onnx beside the model and names it with
   its K in model.json, or removes any critic where K = 1 is kept. Train it last: it learns the
   model as its feel and levels make it play.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from beatguide.critic import CRITIC_ROLE, MAX_CANDIDATES, Critic
from beatguide.drums import N_CLASSES
from beatguide.engine import Engine
from beatguide.evaluate import realism
from beatguide.evaluate.experiments import humanize
from beatguide.evaluate.realism import critic
from beatguide.grid import BARS, HITS, OFFSETS, STEPS, VELOCITIES
from beatguide.model_files import session

from .feel_fit import drawing_models, fit_inputs, fit_parser, md_table, print_selection, seeded_auc, selection_row
from .onnx_export import _export
from .train import seed_all

CRITIC_FILE = "critic.onnx"
CANDIDATES = (1, 4, 8)  # the numbers of candidates tried on validation (each costs that many decodes)
HELD_OUT = 0.1  # share of the train files held out to pick the epoch
BATCH = 256


class CriticNet(nn.Module):
    """Loops (B, 32, 27) -> logits (B,), high for a drummer's: the two bars side by side (velocities and
    offsets where a hit plays), three 1-D convolutions over the 16 steps of a bar, their mean and max
    over the steps, a small perceptron."""

    def __init__(self, width: int = 64):
        super().__init__()
        channels = BARS * 3 * N_CLASSES
        self.conv = nn.Sequential(
            nn.Conv1d(channels, width, 3, padding=1),
            nn.GELU(),
            nn.Conv1d(width, width, 3, padding=1),
            nn.GELU(),
            nn.Conv1d(width, width, 3, padding=1),
            nn.GELU(),
        )
        self.head = nn.Sequential(nn.Linear(2 * width, width), nn.GELU(), nn.Linear(width, 1))

    def forward(self, loops: torch.Tensor) -> torch.Tensor:
        hits = loops[..., HITS]
        x = torch.cat([hits, loops[..., VELOCITIES] * hits, loops[..., OFFSETS] * hits], dim=-1)
        x = torch.cat(x.chunk(BARS, dim=1), dim=-1).transpose(1, 2)  # (B, 54, 16): the bars side by side
        h = self.conv(x)
        return self.head(torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=-1)).squeeze(-1)


def auc(y: np.ndarray, logits: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, logits))


def train_critic(real: np.ndarray, real_files: np.ndarray, generated: np.ndarray, generated_files: np.ndarray,
                 epochs: int = 12, width: int = 64, seed: int = 0) -> tuple[CriticNet, list[float]]:  # fmt: skip
    """A critic trained on ``real`` (1) against ``generated`` (0) loops (N, 32, 27), each with its file
    id; the epoch with the best AUC on the held-out files, and every epoch's held-out AUC."""
    seed_all(seed)
    files = np.unique(real_files)
    held = np.random.default_rng(seed).choice(files, max(1, int(len(files) * HELD_OUT)), replace=False)
    x = torch.as_tensor(np.concatenate([real, generated]), dtype=torch.float32)
    y = torch.cat([torch.ones(len(real)), torch.zeros(len(generated))])
    out = torch.as_tensor(np.isin(np.concatenate([real_files, generated_files]), held))
    xt, yt, xh, yh = x[~out], y[~out], x[out], y[out].numpy()
    weight = torch.where(yt == 1, len(yt) / (2 * yt.sum()), len(yt) / (2 * (1 - yt).sum()))
    net = CriticNet(width)
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
    history, best = [], (-1.0, None)
    for _ in tqdm(range(epochs), desc="critic", leave=False):
        net.train()
        for b in torch.randperm(len(xt)).split(BATCH):
            loss = (F.binary_cross_entropy_with_logits(net(xt[b]), yt[b], reduction="none") * weight[b]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            history.append(auc(yh, net(xh).numpy()))
        if history[-1] > best[0]:
            best = (history[-1], copy.deepcopy(net.state_dict()))
    net.load_state_dict(best[1])
    return net.eval(), history


def onnx_bytes(net: CriticNet) -> bytes:
    """The critic as an ONNX graph: input "loops" (B, 32, 27), output "logits" (B,)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / CRITIC_FILE
        _export(net.eval(), (torch.zeros(1, STEPS, 3 * N_CLASSES),), path, ["loops"], ["logits"])
        return path.read_bytes()


def select(engine: Engine, model: str, blob: bytes, loops: np.ndarray, files: np.ndarray, seed: int = 0,
           seeds: int = 1, grid=CANDIDATES):  # fmt: skip
    """{K: (AUC, SD, structure)} on validation with the critic ``blob`` keeping the best of K candidates,
    and the K kept: the lowest AUC among those meeting both structure goals (K = 1 where none does)."""
    rows, real = {}, realism.structure(loops)
    sess = session(blob, Path(CRITIC_FILE), 1)
    for k in grid:
        with critic(engine, model, Critic(sess, k) if k > 1 else None):
            runs = [humanize(engine, model, loops, 1, seed + s)[:, 0] for s in range(seeds)]
        rows[k] = (*seeded_auc(loops, files, runs, seed), realism.structure(runs[0]))
    ok = [k for k in grid if realism.structure_within_goals(rows[k][2], real)] or [1]
    return rows, min(ok, key=lambda k: rows[k][0])


def attach(folder: Path, blob: bytes | None, candidates: int = 1, summary: dict | None = None) -> None:
    """Write critic ``blob`` beside the exported model in ``folder`` and name it in model.json (file,
    checksum, candidates, how it was trained); ``None`` removes any it has."""
    path, meta_path = Path(folder) / CRITIC_FILE, Path(folder) / "model.json"
    meta = json.loads(meta_path.read_text())
    meta.pop("critic", None)
    meta["files"].pop(CRITIC_ROLE, None)
    meta.get("sha256", {}).pop(CRITIC_FILE, None)
    path.unlink(missing_ok=True)
    if blob is not None:
        path.write_bytes(blob)
        meta["files"][CRITIC_ROLE] = CRITIC_FILE
        meta["sha256"][CRITIC_FILE] = hashlib.sha256(blob).hexdigest()
        meta["critic"] = {"candidates": int(candidates), **(summary or {})}
    meta_path.write_text(json.dumps(meta, indent=2))


def main(argv=None) -> int:
    """Train on train and select on validation each model's critic; print the tables."""
    ap = fit_parser("critic", main.__doc__, fit_windows=20000)
    ap.add_argument("--draws", type=int, default=2, help="humanizations of each train window's score")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--width", type=int, default=64, help="channels of the critic's convolutions")
    ap.add_argument(
        "--candidates",
        type=int,
        nargs="+",
        default=list(CANDIDATES),
        help=f"the numbers of candidates tried on validation (1-{MAX_CANDIDATES}; 1: the critic off)",
    )
    ap.add_argument("--write", action="store_true", help="store each model's critic (or none) in its folder")
    args = ap.parse_args(argv)
    if not all(1 <= k <= MAX_CANDIDATES for k in args.candidates):
        ap.error(f"--candidates: numbers from 1 to {MAX_CANDIDATES}")
    engine, train, val, _ = fit_inputs(args)
    pick = np.random.default_rng(args.seed).permutation(len(train.loops))[: args.fit_windows]
    real, files = train.loops[pick], train.file_index[pick]

    fit_rows, select_rows = [], []
    for model in args.model or drawing_models(engine):
        gen = humanize(engine, model, real, args.draws, args.seed + 1000)  # critic off (fit_inputs)
        net, history = train_critic(
            real,
            files,
            gen.reshape(-1, *gen.shape[2:]),
            np.repeat(files, args.draws),
            args.epochs,
            args.width,
            args.seed,
        )
        best = int(np.argmax(history))
        fit_rows.append([model, str(len(real)), str(args.draws), f"{history[best]:.3f}", str(best + 1)])
        blob = onnx_bytes(net)
        rows, kept = select(engine, model, blob, val.loops, val.file_index, args.seed, args.selection_seeds,
                            sorted(set(args.candidates) | {1}))  # fmt: skip
        real_st = realism.structure(val.loops)
        for k, (a, sd, st) in rows.items():
            select_rows.append(selection_row(model, f"{k}{' (kept)' if k == kept else ''}", a, sd, st, real_st))
        if args.write:
            summary = {"train_windows": len(real), "draws": args.draws, "held_out_auc": round(history[best], 4),
                       "epochs": args.epochs, "width": args.width,
                       "selection_seeds": args.selection_seeds,
                       "validation_auc": {str(k): round(r[0], 4) for k, r in rows.items()}}  # fmt: skip
            attach(engine.models[model].folder, blob if kept > 1 else None, kept, summary)

    print(f"## Fit (train; {HELD_OUT:.0%} of the files held out)\n")
    print(md_table(["model", "windows", "draws each", "held-out AUC", "epoch kept"], fit_rows), "\n")
    print_selection("candidates", select_rows, args.selection_seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
