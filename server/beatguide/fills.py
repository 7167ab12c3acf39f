"""Fills: what marks a phrase's end in real playing, and the bank of real fill bars phrases draw from.

Phrases are cut from the Groove MIDI Dataset's 2-bar windows (1-bar hop, ``beatguide.gmd``): a
window of B bars starting on bar b is the 2-bar windows starting on b, b + 2, ... laid end to end,
exactly what cutting it whole would give. A bar is a *fill* when its snare and tom hits outnumber
the median bar of its phrase by FILL_EXCESS or more (docs/phrases.md measures why).

The bank (``fills.npz``, built by ``beatguide data fills`` from the train split) holds each fill
bar of the train split's phrase-aligned 4-bar windows that falls on bar 4, with the bar played just
before it, and how often real phrases end in a fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .drums import CLASSES, N_CLASSES
from .errors import ModelError
from .grid import HITS, STEPS

BAR_STEPS = STEPS // 2  # 16
FILL_EXCESS = 3  # snare + tom hits above the phrase's median bar
FILL_CLASSES = [CLASSES.index(c) for c in ("snare", "low_tom", "mid_tom", "high_tom")]
BANK_FILE = Path(__file__).with_name("fills.npz")
NEAREST = 16  # fills drawn from: those whose preceding bar is closest to the phrase's


def phrase_windows(windows, bars: int, align: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Real ``bars``-bar windows of a split (``gmd.Windows``) starting on bars divisible by ``align``
    (1: every bar, as the 2-bar windows; ``bars``: phrases counted from the performance's start):
    (loops (N, bars * 16, 27), file index (N,), start bar (N,)). A window needs every 2-bar part to
    hold a hit and its last bar to lie inside the performance."""
    if bars % 2:
        raise ValueError("phrases are whole 2-bar windows")
    index = {(int(f), int(b)): i for i, (f, b) in enumerate(zip(windows.file_index, windows.start_bar))}
    last = {}
    for f, b in index:  # a file's last window starts on its last bar (it holds one bar of playing)
        last[f] = max(last.get(f, -1), b)
    loops, files, starts = [], [], []
    for (f, b), _ in sorted(index.items()):
        if b % align or b + bars - 1 > last[f]:
            continue
        parts = [index.get((f, b + k)) for k in range(0, bars, 2)]
        if None in parts:
            continue
        loops.append(np.concatenate([windows.loops[j] for j in parts]))
        files.append(f)
        starts.append(b)
    shape = (0, bars * BAR_STEPS, windows.loops.shape[-1])
    return (np.stack(loops) if loops else np.zeros(shape, np.float32)), np.array(files), np.array(starts)


def bar_hits(loops: np.ndarray) -> np.ndarray:
    """(N, bars, 16, 9) hits of (N, steps, 27) loops."""
    loops = np.asarray(loops)
    return (loops[..., HITS] > 0.5).reshape(len(loops), -1, BAR_STEPS, N_CLASSES)


def fill_bars(loops: np.ndarray) -> np.ndarray:
    """(N, bars) bool: which bars of each phrase are fills (snare + tom hits at least FILL_EXCESS
    above the phrase's median bar)."""
    count = bar_hits(loops)[..., FILL_CLASSES].sum(axis=(2, 3))
    return count - np.median(count, axis=1, keepdims=True) >= FILL_EXCESS


def build_bank(windows) -> dict:
    """The fill bank of a split: every phrase-aligned 4-bar window whose bar 4 is a fill gives that
    bar and bar 3; ``rate`` is the share of those windows that end in a fill."""
    loops, _, _ = phrase_windows(windows, 4, align=4)
    fills = fill_bars(loops)
    ends = fills[:, -1]
    hits = bar_hits(loops)
    return {
        "fill": np.packbits(hits[ends, 3].reshape(-1, BAR_STEPS * N_CLASSES), axis=1),
        "before": np.packbits(hits[ends, 2].reshape(-1, BAR_STEPS * N_CLASSES), axis=1),
        "rate": np.float64(ends.mean() if len(ends) else 0.0),
        "phrases": np.int64(len(loops)),
    }


def write_bank(bank: dict, path: Path = BANK_FILE) -> Path:
    np.savez_compressed(path, **bank)
    return path


def _unpack(bits: np.ndarray) -> np.ndarray:
    return np.unpackbits(bits, axis=1)[:, : BAR_STEPS * N_CLASSES].reshape(-1, BAR_STEPS, N_CLASSES).astype(bool)


@dataclass
class FillBank:
    """Real fill bars (N, 16, 9), the bar before each, and the share of real phrases ending in a fill."""

    fill: np.ndarray
    before: np.ndarray
    rate: float

    @classmethod
    def load(cls, path: Path = BANK_FILE) -> FillBank:
        try:
            with np.load(path) as z:
                bank = cls(_unpack(z["fill"]), _unpack(z["before"]), float(z["rate"]))
        except (OSError, KeyError, ValueError) as e:
            raise ModelError(f"{path}: unreadable fill bank ({e}); reinstall Beat Guide") from None
        if not len(bank.fill) or bank.fill.shape != bank.before.shape:
            raise ModelError(f"{path}: the fill bank holds no fills; reinstall Beat Guide")
        return bank

    def choose(self, before: np.ndarray, uniform: float) -> np.ndarray:
        """A fill bar (16, 9) for a phrase whose bar before the fill is ``before`` (16, 9) hits: one of
        the NEAREST fills whose own bar before is closest to it (Jaccard similarity), picked by
        ``uniform`` in [0, 1)."""
        before = np.asarray(before, bool)
        both = (self.before & before).sum(axis=(1, 2))
        either = (self.before | before).sum(axis=(1, 2))
        similarity = both / np.maximum(either, 1)
        nearest = np.argsort(-similarity, kind="stable")[:NEAREST]
        return self.fill[nearest[min(int(uniform * len(nearest)), len(nearest) - 1)]]
