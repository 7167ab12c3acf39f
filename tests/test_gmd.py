import numpy as np
import pytest

from beatguide.errors import DataError
from beatguide.gmd import PARTNER_BARS, load_split, same_file_partners
from beatguide.grid import HITS


def test_windows_from_a_fake_dataset(tmp_path, fake_gmd):
    root = fake_gmd
    w = load_split(tmp_path, "train", tmp_path / "cache", progress=False)  # the parent folder works too
    # 3-bar file: windows at bars 0, 1, 2 (the last one half full); 1-bar file: one window; 3/4 skipped
    assert len(w) == 4
    assert w.start_bar.tolist() == [0, 1, 2, 0]
    assert w.skipped["time signature 3-4"] == 1
    assert w.loops[2, :16, HITS].sum() == 4 and w.loops[2, 16:, HITS].sum() == 0
    assert w.loops.shape == (4, 32, 27) and w.loops.dtype == np.float32
    cached = load_split(root, "train", tmp_path / "cache", progress=False)
    np.testing.assert_array_equal(cached.loops, w.loops)


def test_missing_dataset_and_unknown_split(tmp_path, fake_gmd):
    with pytest.raises(DataError):
        load_split(tmp_path / "elsewhere", "train", tmp_path / "cache")
    root = fake_gmd
    with pytest.raises(DataError):
        load_split(root, "test", tmp_path / "cache")
    with pytest.raises(DataError):
        load_split(root, "dev", tmp_path / "cache")


def test_validation_split_window_count(gmd_path, tmp_path_factory):
    w = load_split(gmd_path, "validation", progress=False)
    assert abs(len(w) - 2100) <= 0.05 * 2100
    assert w.loops[:, :, HITS].sum(axis=(1, 2)).min() > 0


def test_partners_come_from_the_same_file_two_bars_away_or_are_the_window_itself():
    files = np.array([0, 0, 0, 0, 1, 1, 2])
    bars = np.array([0, 1, 2, 3, 0, 1, 0])
    p = same_file_partners(files, bars, np.random.default_rng(0))
    assert (files[p] == files).all()
    assert all(abs(bars[p[i]] - bars[i]) >= PARTNER_BARS for i in range(4))
    assert p[4] == 4 and p[5] == 5 and p[6] == 6  # files too short: no partner
