"""Tap2Drum (GrooVAE, Gillick et al. 2019; GrooveTransformer): a whole drum loop from taps alone.

The taps of a real loop are its groove (per step the loudest hit, its velocity and timing); a model
given only those plays a loop, scored against the drummer's performance: per-loop hit precision,
recall and F1, and velocity / offset mean squared error over the cells either plays (a cell one of
them leaves silent counts as velocity and offset 0 there). Hit accuracy is not reported: predicting
silence everywhere scores 87 %. Floors: every cell silent; the taps copied to the closed hi-hat.
With the tap reader (``beatguide.tap_reader``), also its best guess alone and the device's model
without it (the first variation as before the reader); with the windows' files, how well a classifier
tells each row's loops from the drummer's (``realism.two_sample_auc``, all features).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from .. import gestures
from ..drums import CLASSES
from ..engine import Request
from ..grid import HITS, OFFSETS, VELOCITIES
from ..registry import KINDS
from .experiments import run
from .realism import two_sample_auc

HH = CLASSES.index("closed_hihat")
MODELS = tuple(name for name, k in KINDS.items() if "groove" in k.gestures)  # the models that take a groove alone
# the device's default model, used with taps alone: as the device picks it, the one taking the most gestures
DEVICE_MODEL = max(KINDS.values(), key=lambda k: len(k.gestures)).name


def per_loop_prf(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """(N, 3) hit precision, recall, F1 of each predicted loop against its reference (N, 32, 27); a
    loop that plays nothing has precision 1, a reference without hits recall 1, F1 0 where either
    side is empty and the other is not."""
    p, r = pred[..., HITS] > 0.5, ref[..., HITS] > 0.5
    tp = (p & r).sum(axis=(1, 2))
    np_, nr = p.sum(axis=(1, 2)), r.sum(axis=(1, 2))
    prec = np.where(np_ > 0, tp / np.maximum(np_, 1), 1.0)
    rec = np.where(nr > 0, tp / np.maximum(nr, 1), 1.0)
    f1 = np.where(prec + rec > 0, 2 * prec * rec / np.maximum(prec + rec, 1e-12), 0.0)
    f1 = np.where((np_ == 0) & (nr == 0), 1.0, np.where((np_ == 0) | (nr == 0), 0.0, f1))
    return np.stack([prec, rec, f1], axis=1)


def value_mse(pred: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """Velocity and offset mean squared error over the cells played by either loop (pooled)."""
    either = (pred[..., HITS] > 0.5) | (ref[..., HITS] > 0.5)
    if not either.any():
        return float("nan"), float("nan")
    return tuple(float(((pred[..., c] - ref[..., c]) ** 2)[either].mean()) for c in (VELOCITIES, OFFSETS))


def scores(pred: np.ndarray, ref: np.ndarray) -> dict:
    """Per-loop hit P / R / F1 (mean and median over loops) and value MSEs of loops ``pred``."""
    prf = per_loop_prf(pred, ref)
    vel, off = value_mse(pred, ref)
    return {
        "precision": float(prf[:, 0].mean()),
        "recall": float(prf[:, 1].mean()),
        "f1": float(prf[:, 2].mean()),
        "f1_median": float(np.median(prf[:, 2])),
        "velocity_mse": vel,
        "offset_mse": off,
    }


def floors(loops: np.ndarray) -> dict:
    """The floors' scores: every cell silent; the taps copied to the closed hi-hat."""
    taps = gestures.groove(loops)
    return {
        "all silent": scores(np.zeros_like(loops), loops),
        "taps on the closed hi-hat": scores(np.stack([gestures.groove_to_loop(t, HH) for t in taps]), loops),
    }


def tap2drum(engine, loops: np.ndarray, seed: int, files: np.ndarray | None = None) -> dict:
    """Every model that takes a groove alone, given each loop's taps: its first variation (the best
    guess: the tap reader's score where one is loaded, else the score side at the prior's mean) and
    its second (a draw), scored against the loop; for the device's model also with the score side
    from N(0, I) and from the bank, and without the tap reader. {(model, source, variation): scores}."""
    taps = gestures.groove(loops)
    out = {}

    def score(key, gen):
        out[key] = scores(gen, loops)
        if files is not None:
            out[key]["auc"] = two_sample_auc(loops, gen, files, files, seed=seed)[0]

    for model in MODELS:
        if model not in engine.names:
            continue
        sources = ["default"] + (["prior", "bank"] if model == DEVICE_MODEL else [])
        for source in sources:
            gen = _first_two(engine, model, taps, seed, source)
            for k, name in enumerate(("first variation", "second variation")):
                score((model, source, name), gen[:, k])
        if model == DEVICE_MODEL and engine.tap_reader is not None:
            with _without_reader(engine):
                score((model, "default, no tap reader", "first variation"), _first_two(engine, model, taps, seed)[:, 0])
    if engine.tap_reader is not None:
        guess = np.zeros_like(loops)
        guess[..., HITS] = engine.tap_reader.best_guess(taps)
        # hits only: the reader plays no velocities or offsets to score
        out[("tap reader's best guess", "—", "—")] = {
            **scores(guess, loops),
            "velocity_mse": np.nan,
            "offset_mse": np.nan,
        }
    out.update({(name, "—", "—"): r for name, r in floors(loops).items()})
    return out


def _first_two(engine, model: str, taps: np.ndarray, seed: int, source: str = "default") -> np.ndarray:
    """(N, 2, 32, 27): each taps' first two variations from ``model``."""
    src = None if source == "default" else source
    reqs = [Request(model, 2, 1.0, seed + i, groove=t, latent_source=src) for i, t in enumerate(taps)]
    return np.stack([r.loops for r in run(engine, model, reqs, f"tap2drum {model} {source}")])


@contextmanager
def _without_reader(engine):
    reader, engine.tap_reader = engine.tap_reader, None
    try:
        yield
    finally:
        engine.tap_reader = reader


def report_lines(result: dict) -> list[str]:
    """The Tap2Drum section of docs/results.md."""
    keys = ("f1", "f1_median", "precision", "recall", "velocity_mse", "offset_mse", "auc")
    lines = [
        "## Tap2Drum: a drum loop from taps alone",
        "",
        "The taps of each validation loop (per step the loudest hit, its velocity and timing; GrooVAE's "
        "Tap2Drum task) given alone to every model that takes a groove; the loop it plays scored against "
        "the drummer's: per-loop hit F1 (mean and median over loops), precision, recall (means), the "
        "velocity / offset mean squared error over the cells either plays, and the realism test's "
        "classifier AUC against the drummer's loops (all features; 0.5: indistinguishable). First "
        "variation: the best guess (the tap reader's score, played by the model with the score side's "
        "latents at their posterior mean; *no tap reader*: the score side from the source, a bank row "
        "like the taps by default, the priors' mean given the groove's code otherwise); second: a draw "
        "from the source. The tap reader's best guess alone (its hits, no "
        "velocities) shows what the reading itself is worth. Floors: all silent, and the taps copied to "
        f"the closed hi-hat. Goal: the device's model ({DEVICE_MODEL}) first variation F1 >= 0.55. "
        "GrooVAE reports about 0.4, GrooveTransformer 0.55-0.6 (test split, medians).",
        "",
        "| model | score side from | variation | F1 | F1 median | precision | recall | velocity MSE | offset MSE | AUC |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (model, source, variation), r in result.items():
        cells = [_cell(r.get(k)) for k in keys]
        lines.append(f"| {model} | {source} | {variation} | " + " | ".join(cells) + " |")
    return lines + [""] + _goal_lines(result)


def _goal_lines(result: dict) -> list[str]:
    """The goal for the device's model, and the realism of its first variation before the tap reader."""
    first = result.get((DEVICE_MODEL, "default", "first variation"))
    if first is None:
        return []
    lines = ["| goal | value | met |", "|---|---|---|",
             f"| {DEVICE_MODEL} first variation per-loop hit F1 >= 0.55 | {first['f1']:.3f} | "
             f"{'yes' if first['f1'] >= 0.55 else 'no'} |"]  # fmt: skip
    before = result.get((DEVICE_MODEL, "default, no tap reader", "first variation"))
    if before is not None and "auc" in first and "auc" in before:
        lines.append(
            f"| realism of that first variation no worse than without the tap reader (classifier AUC, within 0.01) | "
            f"{first['auc']:.3f} vs {before['auc']:.3f} | {'yes' if first['auc'] <= before['auc'] + 0.01 else 'no'} |"
        )
    return lines + [""]


def _cell(value) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{value:.3f}"
