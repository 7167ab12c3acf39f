"""Real phrases: how they are cut, how they repeat and how they end (fills), and the bank of real
fill bars generated phrases draw from.

Phrases are cut from the Groove MIDI Dataset's 2-bar windows (1-bar hop, ``beatguide.gmd``): a
window of B bars starting on bar b is the 2-bar windows starting on b, b + 2, ... laid end to end,
exactly what cutting it whole would give. A bar is a *fill* when its snare and tom hits outnumber
the median bar of its phrase by FILL_EXCESS or more (docs/phrases.md measures why).

The bank (built from the train split by ``beatguide data phrases``, shipped in
``beatguide/phrases.npz``) holds each fill bar of the train split's phrase-aligned 4-bar windows
that falls on bar 4, with the bar played just before it, and how often real phrases end in a fill.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .drums import CLASSES, N_CLASSES
from .grid import HITS, OFFSETS, STEPS

BAR_STEPS = STEPS // 2  # 16
FILL_EXCESS = 3  # snare + tom hits above the phrase's median bar
FILL_CLASSES = [CLASSES.index(c) for c in ("snare", "low_tom", "mid_tom", "high_tom")]
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
    return (loops[..., HITS] > 0.5).reshape(len(loops), loops.shape[1] // BAR_STEPS, BAR_STEPS, N_CLASSES)


def fill_bars(loops: np.ndarray) -> np.ndarray:
    """(N, bars) bool: which bars of each phrase are fills (snare + tom hits at least FILL_EXCESS
    above the phrase's median bar)."""
    count = bar_hits(loops)[..., FILL_CLASSES].sum(axis=(2, 3))
    return count - np.median(count, axis=1, keepdims=True) >= FILL_EXCESS


def half_changes(loops: np.ndarray) -> dict:
    """Per phrase, mean over consecutive 2-bar halves: hit Jaccard distance and mean |offset change|
    of the hits both play (NaN for a phrase where no hit repeats)."""
    n, steps = loops.shape[:2]
    halves = loops.reshape(n, steps // 32, 32, loops.shape[-1])
    a, b = halves[:, :-1], halves[:, 1:]
    ha, hb = a[..., HITS] > 0.5, b[..., HITS] > 0.5
    jaccard = (ha ^ hb).sum(axis=(2, 3)) / np.maximum((ha | hb).sum(axis=(2, 3)), 1)
    both = ha & hb
    moved = np.where(both, np.abs(a[..., OFFSETS] - b[..., OFFSETS]), 0).sum(axis=(2, 3))
    count = both.sum(axis=(2, 3)).sum(axis=1)
    offset = np.where(count > 0, moved.sum(axis=1) / np.maximum(count, 1), np.nan)
    return {"hits": jaccard.mean(axis=1), "offsets": offset}


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


def _unpack(bits: np.ndarray) -> np.ndarray:
    return np.unpackbits(bits, axis=1)[:, : BAR_STEPS * N_CLASSES].reshape(-1, BAR_STEPS, N_CLASSES).astype(bool)


@dataclass
class FillBank:
    """Real fill bars (N, 16, 9), the bar before each, and the share of real phrases ending in a fill."""

    fill: np.ndarray
    before: np.ndarray
    rate: float

    @classmethod
    def from_arrays(cls, arrays) -> FillBank:
        """The bank from what :func:`build_bank` made (or an npz file holding it); ValueError if empty."""
        bank = cls(_unpack(arrays["fill"]), _unpack(arrays["before"]), float(arrays["rate"]))
        if not len(bank.fill) or bank.fill.shape != bank.before.shape:
            raise ValueError("the fill bank holds no fills")
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
