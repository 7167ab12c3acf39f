"""Metric functions on loops (..., 32, 27), each checked on hand-made cases in tests/test_metrics.py."""

from __future__ import annotations

import numpy as np

from ..grid import HITS, OFFSETS, VELOCITIES


def offset_diversity(samples: np.ndarray, score: np.ndarray) -> float:
    """Table 1 for one window: at each (step, drum) the input score plays, the standard deviation of the
    samples' timing offsets (over the samples that play it, at least two), averaged over positions.
    ``samples`` (S, 32, 27), ``score`` (32, 9). NaN when no position qualifies."""
    hits = samples[:, :, HITS] > 0.5
    off = samples[:, :, OFFSETS]
    count = hits.sum(axis=0)
    pos = (score > 0.5) & (count >= 2)
    if not pos.any():
        return float("nan")
    mean = np.where(hits, off, 0).sum(axis=0) / np.maximum(count, 1)
    var = np.where(hits, (off - mean) ** 2, 0).sum(axis=0) / np.maximum(count, 1)
    return float(np.sqrt(var[pos]).mean())


def mean_and_se(values) -> tuple[float, float]:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0


def hit_prf(pred: np.ndarray, ref: np.ndarray) -> tuple[float, float, float]:
    """Precision, recall, F1 of predicted hits against reference hits (any matching shapes, pooled)."""
    p, r = np.asarray(pred) > 0.5, np.asarray(ref) > 0.5
    tp = float((p & r).sum())
    prec = tp / p.sum() if p.sum() else 1.0
    rec = tp / r.sum() if r.sum() else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1


def hit_values(loops: np.ndarray, cls: int, kind: str) -> np.ndarray:
    """All velocities or offsets of one drum class's hits in a batch of loops."""
    col = {"velocity": VELOCITIES, "offset": OFFSETS}[kind]
    x = loops.reshape(-1, 32, 27)
    return x[:, :, col][:, :, cls][x[:, :, cls] > 0.5]


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    """1-D Wasserstein (earth mover's) distance between two samples; NaN if either is empty."""
    from scipy.stats import wasserstein_distance

    if len(a) == 0 or len(b) == 0:
        return float("nan")
    return float(wasserstein_distance(a, b))


def offbeat_offsets(loops: np.ndarray) -> np.ndarray:
    """Offsets of every hit on an off-beat 16th (odd steps) in a batch of loops."""
    x = loops.reshape(-1, 32, 27)[:, 1::2]
    return x[:, :, OFFSETS][x[:, :, HITS] > 0.5]


def accent_contrast(loops: np.ndarray, accents: np.ndarray) -> float:
    """Mean velocity of hits on accented steps minus on unaccented steps (pooled over the batch)."""
    x = loops.reshape(-1, 32, 27)
    acc = np.broadcast_to(np.asarray(accents).reshape(-1, 32)[:, :, None] > 0.5, x[:, :, HITS].shape)
    hits = x[:, :, HITS] > 0.5
    vel = x[:, :, VELOCITIES]
    on, off = vel[hits & acc], vel[hits & ~acc]
    if len(on) == 0 or len(off) == 0:
        return float("nan")
    return float(on.mean() - off.mean())


def groove_offset_error(loops: np.ndarray, grooves: np.ndarray) -> float:
    """Mean |offset of the loudest generated note - tapped offset| over steps both tap and play."""
    from ..gestures import groove

    g_out = groove(loops.reshape(-1, 32, 27))
    g_in = np.asarray(grooves).reshape(-1, 32, 3)
    both = (g_out[..., 0] > 0.5) & (g_in[..., 0] > 0.5)
    if not both.any():
        return float("nan")
    return float(np.abs(g_out[..., 2] - g_in[..., 2])[both].mean())
