"""Train the tap reader (``beatguide.tap_reader``): taps -> the drums a drummer plays under them.

A bidirectional LSTM over the 32 steps of taps (hit, velocity, offset; ``gestures.groove``) gives
each step and drum the chance of a hit, trained on the train split with binary cross-entropy; the
epoch is selected on the validation split's loss, and the threshold of its best guess on the
validation split's per-loop hit F1. Exported to ONNX with ``reader.json`` and a model card::

    python -m beatguide_export.tap_reader --gmd DIR [--out models --replace] [--resume]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from beatguide.cli import GMD_ENV
from beatguide.drums import N_CLASSES
from beatguide.errors import BeatGuideError
from beatguide.evaluate.tap2drum import per_loop_prf
from beatguide.grid import STEPS
from beatguide.tap_reader import FOLDER, META_FILE

from .model_card import GMD, LICENSE
from .onnx_export import OPSET, _export, destination, install, staging
from .train import hardware, load_splits, seed_all

ONNX_FILE = "tap_reader.onnx"
THRESHOLDS = np.round(np.arange(0.10, 0.61, 0.05), 2)  # best-guess thresholds tried on validation
PATIENCE = 4  # epochs without a better validation loss before training stops


class TapReaderNet(nn.Module):
    """Taps (B, 32, 3) -> hit logits (B, 32, 9): a bidirectional LSTM, its outputs and the step's own
    taps read by one linear layer."""

    def __init__(self, hidden: int = 256, layers: int = 2, dropout: float = 0.3):
        super().__init__()
        self.config = {"hidden": hidden, "layers": layers, "dropout": dropout}
        self.rnn = nn.LSTM(3, hidden, num_layers=layers, batch_first=True, bidirectional=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(2 * hidden + 3, N_CLASSES)

    def forward(self, taps):
        h, _ = self.rnn(taps)
        return self.out(torch.cat([self.drop(h), taps], dim=-1))


class Probabilities(nn.Module):
    """The exported graph: hit probabilities."""

    def __init__(self, net: TapReaderNet):
        super().__init__()
        self.net = net

    def forward(self, taps):
        return torch.sigmoid(self.net(taps))


@torch.no_grad()
def probabilities(net: TapReaderNet, taps: torch.Tensor) -> np.ndarray:
    net.eval()
    return torch.sigmoid(net(taps)).numpy()


def validation_loss(net: TapReaderNet, val_set) -> float:
    """Mean binary cross-entropy per cell on the validation windows."""
    p = torch.from_numpy(probabilities(net, val_set.gestures["groove"]))
    return float(F.binary_cross_entropy(p, val_set.loops[..., :N_CLASSES]))


def threshold_scores(net: TapReaderNet, ds) -> dict:
    """{threshold: (mean per-loop hit F1, precision, recall)} of the best guess at each threshold."""
    p = probabilities(net, ds.gestures["groove"])
    ref = ds.loops.numpy()
    out = {}
    for t in THRESHOLDS:
        guess = np.zeros_like(ref)
        guess[..., :N_CLASSES] = p > t
        prf = per_loop_prf(guess, ref)
        out[float(t)] = tuple(float(x) for x in prf[:, [2, 0, 1]].mean(axis=0))
    return out


def train_reader(
    gmd,
    run: Path,
    *,
    hidden: int = 256,
    layers: int = 2,
    dropout: float = 0.3,
    lr: float = 2e-3,
    batch_size: int = 128,
    epochs: int = 40,
    max_minutes: float = 90.0,
    seed: int = 0,
    threads: int = 2,
    limit: int = 0,
    resume: bool = False,
    progress: bool = True,
) -> tuple[TapReaderNet, dict]:
    """Train a reader (checkpoints in ``run``; ``resume`` continues from its last.pt) and choose its
    threshold. Returns the best epoch's network and the training summary."""
    torch.set_num_threads(threads)
    seed_all(seed)
    train_set, val_set = load_splits(gmd, limit=limit)
    net = TapReaderNet(hidden, layers, dropout)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    run.mkdir(parents=True, exist_ok=True)
    last, best_file = run / "last.pt", run / "best.pt"
    history, spent = [], 0.0
    if resume and last.is_file():
        state = torch.load(last, weights_only=False)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        gen.set_state(state["gen"])
        torch.set_rng_state(state["rng"])
        history, spent = state["history"], state["seconds"]
    best = min((h["val_loss"] for h in history), default=float("inf"))
    for epoch in range(len(history) + 1, epochs + 1):
        if spent >= 60 * max_minutes or _since_best(history) >= PATIENCE:
            break
        t0 = time.perf_counter()
        net.train()
        total = count = 0
        for gest, target in tqdm(
            train_set.batches(batch_size, gen), desc=f"epoch {epoch}", disable=not progress, leave=False
        ):
            loss = F.binary_cross_entropy_with_logits(net(gest["groove"]), target[..., :N_CLASSES])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, count = total + float(loss.detach()) * len(target), count + len(target)
        val = validation_loss(net, val_set)
        spent += time.perf_counter() - t0
        history.append({"epoch": epoch, "train_loss": total / count, "val_loss": val, "seconds": round(spent, 1)})
        if val < best:
            best = val
            torch.save(net.state_dict(), best_file)
        torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                    "rng": torch.get_rng_state(), "history": history, "seconds": spent}, last)  # fmt: skip
        tqdm.write(f"epoch {epoch}: train {total / count:.4f} validation {val:.4f}{' *' if val <= best else ''}")
    net.load_state_dict(torch.load(best_file))
    scores = threshold_scores(net, val_set)
    threshold = max(scores, key=lambda t: scores[t][0])
    f1, precision, recall = scores[threshold]
    best_epoch = min(history, key=lambda h: h["val_loss"])["epoch"]
    summary = {
        "config": net.config,
        "threshold": threshold,
        "validation": {
            "loss": round(best, 5),
            "per_loop_hit_f1": round(f1, 4),
            "precision": round(precision, 4),
            "recall": round(recall, 4),
        },  # fmt: skip
        "thresholds": {f"{t:.2f}": round(s[0], 4) for t, s in scores.items()},
        "best_epoch": best_epoch,
        "epochs_run": len(history),
        "train_seconds": round(spent, 1),
        "train_windows": len(train_set),
        "validation_windows": len(val_set),
        "lr": lr,
        "batch_size": batch_size,
        "seed": seed,
        "hardware": hardware("cpu", threads),
        "history": history,
    }
    return net, summary


def _since_best(history: list[dict]) -> int:
    """Epochs since the best validation loss."""
    if not history:
        return 0
    best = min(range(len(history)), key=lambda i: history[i]["val_loss"])
    return len(history) - 1 - best


def export_reader(net: TapReaderNet, summary: dict, dest: Path) -> dict:
    """Write the reader (ONNX, reader.json, model card) to ``dest``; returns reader.json."""
    with staging(dest) as tmp:
        tmp.mkdir()
        _export(Probabilities(net).eval(), (torch.zeros(1, STEPS, 3),), tmp / ONNX_FILE, ["taps"], ["probabilities"])
        meta = {
            "file": ONNX_FILE,
            "sha256": hashlib.sha256((tmp / ONNX_FILE).read_bytes()).hexdigest(),
            "threshold": summary["threshold"],
            "opset": OPSET,
            "parameters": sum(p.numel() for p in net.parameters()),
            "exported": dt.date.today().isoformat(),
            "torch": torch.__version__,
            "training": summary,
        }
        (tmp / META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
        (tmp / "MODEL_CARD.md").write_text(card(meta))
        install(tmp, dest)
    return meta


def card(meta: dict) -> str:
    """The reader's MODEL_CARD.md."""
    t = meta["training"]
    v = t["validation"]
    c = t["config"]
    return "\n".join(
        [
            "# Tap reader",
            "",
            "Reads which drums a drummer plays under a tapped groove (GrooVAE's Tap2Drum task): per step and",
            "drum the chance of a hit. Its best guess (cells above the threshold) is the score the engine gives",
            "a model when a request sends taps and no score; that model then plays it as its first variation",
            "(`beatguide.tap_reader`).",
            "",
            "## Model",
            f"- Bidirectional LSTM, {c['layers']} layers of {c['hidden']} units a side (dropout {c['dropout']}), then one",
            f"  linear layer over its outputs and the step's taps; {meta['parameters']:,} parameters; ONNX opset {meta['opset']}.",
            "- Input: taps (32 steps x hit, velocity, offset), as `beatguide.gestures.groove` reads them. Output: hit",
            f"  probabilities (32 steps x 9 drum classes). Threshold {meta['threshold']:.2f}.",
            "",
            "## Data",
            f"{GMD} Trained on the `train` split ({t['train_windows']} 2-bar windows), epoch and threshold",
            f"selected on `validation` ({t['validation_windows']} windows); the test split was not used.",
            "",
            "## Training",
            f"- Binary cross-entropy per cell, Adam (lr {t['lr']}, batch {t['batch_size']}, seed {t['seed']}), stopped after",
            f"  {PATIENCE} epochs without a better validation loss: {t['epochs_run']} epochs, best {t['best_epoch']},",
            f"  {t['train_seconds'] / 60:.1f} minutes on {t['hardware']}.",
            "- Command: `python -m beatguide_export.tap_reader --gmd DIR --out models --replace`.",
            "",
            "## Evaluation (validation split)",
            f"- Best guess against the drummer's hits: per-loop hit F1 {v['per_loop_hit_f1']:.3f}, precision",
            f"  {v['precision']:.3f}, recall {v['recall']:.3f}; cross-entropy {v['loss']:.4f} per cell.",
            "- F1 by threshold: " + ", ".join(f"{k} {s:.3f}" for k, s in t["thresholds"].items()) + ".",
            '- What the models play from it: `beatguide eval tap2drum` (docs/results.md, "Tap2Drum").',
            "",
            "## Limits",
            "- One guess per groove: the drums most drummers of the dataset would play. Other variations of a",
            "  taps-alone request are the model's own draws. Taps far from the dataset's styles (rock, funk,",
            "  jazz, latin and others, played on a kit) read less well.",
            "",
            "## Files",
            f"- `{meta['file']}` sha256 `{meta['sha256']}`",
            "",
            "## License",
            f"Weights {LICENSE}",
            "",
        ]
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m beatguide_export.tap_reader", description=__doc__.split("\n")[0])
    ap.add_argument("--gmd", type=Path, default=os.environ.get(GMD_ENV), help=f"dataset folder (default: ${GMD_ENV})")
    ap.add_argument(
        "--out", type=Path, default=Path("."), help=f"models folder the reader's folder ({FOLDER}/) goes in"
    )
    ap.add_argument("--run", type=Path, default=Path("runs") / FOLDER, help="checkpoints (default: runs/tap_reader)")
    ap.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    ap.add_argument("--replace", action="store_true", help="replace the reader already in --out")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--max-minutes", type=float, default=90.0, help="stop after this much training time")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N windows only (quick runs)")
    args = ap.parse_args(argv)
    if args.gmd is None:
        ap.error(f"give --gmd or set ${GMD_ENV}")
    try:
        dest = destination(FOLDER, args.out, args.replace)
        net, summary = train_reader(
            args.gmd, args.run, hidden=args.hidden, layers=args.layers, dropout=args.dropout, lr=args.lr,
            batch_size=args.batch_size, epochs=args.epochs, max_minutes=args.max_minutes, seed=args.seed,
            threads=args.threads, limit=args.limit, resume=args.resume,
        )  # fmt: skip
        export_reader(net, summary, dest)
    except BeatGuideError as e:
        print(f"beatguide_export.tap_reader: {e}")
        return 2
    v = summary["validation"]
    print(f"{dest}: threshold {summary['threshold']:.2f}, validation per-loop hit F1 {v['per_loop_hit_f1']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
