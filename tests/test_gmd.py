import csv

import numpy as np
import pytest

from beatguide.errors import DataError
from beatguide.gmd import load_split
from beatguide.grid import Note
from beatguide.midi_io import write_midi


def _fake_gmd(root):
    """Two tiny performances (3 bars and 1 bar at 120 BPM) and one 3/4 file, GMD layout."""
    (root / "drummer1" / "session1").mkdir(parents=True)
    rows = []
    specs = [("a", "4-4", 3, "train"), ("b", "4-4", 1, "train"), ("c", "3-4", 3, "train"), ("d", "4-4", 2, "validation")]
    for name, sig, bars, split in specs:
        rel = f"drummer1/session1/{name}.mid"
        notes = [Note(b * 4.0 + i, 36 if i % 2 == 0 else 38, 100) for b in range(bars) for i in range(4)]
        write_midi(root / rel, notes, 120)
        rows.append({"drummer": "drummer1", "session": "drummer1/session1", "id": name, "style": "rock", "bpm": "120",
                     "beat_type": "beat", "time_signature": sig, "midi_filename": rel, "audio_filename": "",
                     "duration": str(bars * 2.0), "split": split})
    with open(root / "info.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return root


def test_windows_from_a_fake_dataset(tmp_path):
    root = _fake_gmd(tmp_path / "groove")
    w = load_split(tmp_path, "train", tmp_path / "cache", progress=False)  # the parent folder works too
    # 3-bar file: windows at bars 0, 1, 2 (the last one half full); 1-bar file: one window; 3/4 skipped
    assert len(w) == 4
    assert w.start_bar.tolist() == [0, 1, 2, 0]
    assert w.skipped["time signature 3-4"] == 1
    assert w.loops[2, :16, :9].sum() == 4 and w.loops[2, 16:, :9].sum() == 0
    assert w.loops.shape == (4, 32, 27) and w.loops.dtype == np.float32
    cached = load_split(root, "train", tmp_path / "cache", progress=False)
    np.testing.assert_array_equal(cached.loops, w.loops)


def test_missing_dataset_and_unknown_split(tmp_path):
    with pytest.raises(DataError):
        load_split(tmp_path, "train", tmp_path / "cache")
    root = _fake_gmd(tmp_path / "groove")
    with pytest.raises(DataError):
        load_split(root, "test", tmp_path / "cache")
    with pytest.raises(DataError):
        load_split(root, "dev", tmp_path / "cache")


def test_validation_split_window_count(gmd_path, tmp_path_factory):
    w = load_split(gmd_path, "validation", progress=False)
    assert abs(len(w) - 2100) <= 0.05 * 2100
    assert w.loops[:, :, :9].sum(axis=(1, 2)).min() > 0
