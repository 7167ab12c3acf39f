"""server/lab/split_shift.py: each drum's mean velocity per split and per model."""

import numpy as np

import split_shift
from beatguide.drums import CLASSES


def test_drum_means_average_each_drums_hits_only():
    loops = np.zeros((2, 32, 27), np.float32)
    kick = CLASSES.index("kick")
    loops[0, 0, kick], loops[0, 0, 9 + kick] = 1, 0.4
    loops[1, 4, kick], loops[1, 4, 9 + kick] = 1, 0.8
    loops[1, 8, 9 + kick] = 0.9  # a velocity without a hit is not a hit
    means = split_shift.drum_means(loops)
    assert abs(means[kick] - 0.6) < 1e-6
    assert np.isnan(means[CLASSES.index("crash")])


def test_script_prints_both_splits_and_each_model(fake_gmd, tiny_models, capsys):
    assert split_shift.main(["--gmd", str(fake_gmd), "--models", str(tiny_models[0])]) == 0
    out = capsys.readouterr().out
    assert "| real, train split |" in out and "| real, validation split |" in out
    assert "| agvae2 (validation scores) |" in out and "| baseline (validation scores) |" in out
    assert "all features:" in out
