"""Groove MIDI Dataset reader: 2-bar windows (1-bar hop) of 4/4 performances, cached as arrays.

Driven by ``info.csv``; works on the full public layout (``groove/info.csv`` plus the drummer
folders) and on any subset of its splits.
"""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .drums import GMD_MAP, DrumMap
from .errors import BeatGuideError, DataError
from .grid import HITS, LOOP_BEATS, Note, notes_to_loop
from .midi_io import read_midi

SPLITS = ("train", "validation", "test")
CACHE_VERSION = "2"


def default_cache_dir() -> Path:
    return Path(os.environ.get("BEATGUIDE_CACHE", Path.home() / ".cache" / "beatguide"))


def find_root(path) -> Path:
    """The folder that holds info.csv: PATH itself or PATH/groove."""
    path = Path(path)
    for cand in (path, path / "groove"):
        if (cand / "info.csv").is_file():
            return cand
    raise DataError(f"{path}: no info.csv here or in {path / 'groove'}; this is not the Groove MIDI Dataset folder")


@dataclass
class Windows:
    """The windows of one split: loops (N, 32, 27) and where each came from."""

    loops: np.ndarray
    file_index: np.ndarray  # (N,) index into files
    start_bar: np.ndarray  # (N,)
    bpm: np.ndarray  # (N,)
    files: list[str]
    styles: list[str]
    skipped: Counter = field(default_factory=Counter)

    def __len__(self) -> int:
        return len(self.loops)


PARTNER_BARS = 2  # bars between a window and its same-file partner: no shared bar


def same_file_partners(file_index: np.ndarray, start_bar: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each window, another window of its file (same drummer, same take) starting PARTNER_BARS
    bars or more away, drawn at random (itself where its file has none)."""
    out = np.arange(len(file_index))
    for f in np.unique(file_index):
        rows = np.flatnonzero(file_index == f)
        for i in rows:
            far = rows[np.abs(start_bar[rows] - start_bar[i]) >= PARTNER_BARS]
            if len(far):
                out[i] = rng.choice(far)
    return out


def read_info(root: Path) -> list[dict]:
    with open(root / "info.csv", newline="") as f:
        return list(csv.DictReader(f))


def file_windows(path: Path, bpm: float, duration_s: float) -> list[tuple[int, np.ndarray]]:
    """(start bar, loop) for each 2-bar window with a 1-bar hop that holds a hit.

    A window starts on every bar of the performance (its length in bars, rounded); the last one
    runs past the end and holds one bar of playing, as in GrooVAE's data.
    """
    notes = read_midi(path, require_4_4=False).notes
    return note_windows(notes, int(round(duration_s * bpm / 60.0 / 4.0)), GMD_MAP)


def note_windows(notes: list[Note], n_bars: int, drum_map: DrumMap) -> list[tuple[int, np.ndarray]]:
    """(start bar, loop) for each 2-bar window starting on bars 0 .. n_bars - 1 that holds a hit
    (notes in beats from the performance's start; pitches outside ``drum_map`` left out)."""
    out = []
    for bar in range(n_bars):
        start = bar * 4.0
        window = [
            Note(n.start - start, n.pitch, n.velocity) for n in notes if start - 0.125 <= n.start < start + LOOP_BEATS
        ]
        loop = notes_to_loop(window, drum_map, wrap=False, strict=False)
        if loop[:, HITS].any():
            out.append((bar, loop))
    return out


def build_split(root: Path, split: str, rows: list[dict], progress: bool = True) -> Windows:
    loops, fidx, bars, bpms, files, styles = [], [], [], [], [], []
    skipped: Counter = Counter()
    rows = [r for r in rows if r["split"] == split]
    for row in tqdm(rows, desc=f"{split:>10}", unit="file", disable=not progress):
        if row["time_signature"] != "4-4":
            skipped[f"time signature {row['time_signature']}"] += 1
            continue
        path = root / row["midi_filename"]
        try:
            wins = file_windows(path, float(row["bpm"]), float(row["duration"]))
        except (BeatGuideError, ValueError) as e:
            skipped[type(e).__name__] += 1
            continue
        if not wins:
            skipped["shorter than half a bar"] += 1
            continue
        files.append(row["midi_filename"])
        styles.append(row["style"])
        for bar, loop in wins:
            loops.append(loop)
            fidx.append(len(files) - 1)
            bars.append(bar)
            bpms.append(float(row["bpm"]))
    arr = np.stack(loops) if loops else np.zeros((0, 32, 27), np.float32)
    return Windows(
        arr, np.array(fidx, np.int32), np.array(bars, np.int32), np.array(bpms, np.float32), files, styles, skipped
    )


def _cache_path(root: Path, split: str, cache_dir: Path) -> Path:
    info = root / "info.csv"
    key = f"{root.resolve()}|{info.stat().st_mtime_ns}|{info.stat().st_size}|{CACHE_VERSION}"
    return cache_dir / f"gmd-{hashlib.sha1(key.encode()).hexdigest()[:12]}" / f"{split}.npz"


def load_split(gmd, split: str, cache_dir=None, *, progress: bool = True, rebuild: bool = False) -> Windows:
    """The windows of a split, built once and cached (outside the repository) under ``cache_dir``."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    root = find_root(gmd)
    rows = read_info(root)
    if not any(r["split"] == split for r in rows):
        raise DataError(f"{root}: info.csv lists no files in the {split} split")
    cache = _cache_path(root, split, Path(cache_dir) if cache_dir else default_cache_dir())
    if cache.is_file() and not rebuild:
        with np.load(cache, allow_pickle=False) as z:
            return Windows(
                z["loops"],
                z["file_index"],
                z["start_bar"],
                z["bpm"],
                list(z["files"]),
                list(z["styles"]),
                Counter(dict(zip(z["skip_keys"].tolist(), z["skip_counts"].tolist()))),
            )
    w = build_split(root, split, rows, progress)
    cache.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own: two processes building the same split must not share a temporary file
    fd, tmp = tempfile.mkstemp(suffix=".npz", prefix=f".{split}.", dir=cache.parent)
    os.close(fd)
    np.savez_compressed(
        tmp,
        loops=w.loops,
        file_index=w.file_index,
        start_bar=w.start_bar,
        bpm=w.bpm,
        files=np.array(w.files, dtype=str),
        styles=np.array(w.styles, dtype=str),
        skip_keys=np.array(list(w.skipped), dtype=str),
        skip_counts=np.array(list(w.skipped.values()), dtype=np.int64),
    )
    os.replace(tmp, cache)
    return w


def available_splits(gmd) -> list[str]:
    rows = read_info(find_root(gmd))
    present = {r["split"] for r in rows}
    return [s for s in SPLITS if s in present]
