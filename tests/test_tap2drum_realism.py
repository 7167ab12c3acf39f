"""server/lab/tap2drum_realism.py: what tells the tap reader's first variation from a drummer's."""

import numpy as np

import tap2drum_realism
from beatguide.drums import CLASSES


def test_hits_per_loop_counts_each_drums_hits():
    loops = np.zeros((2, 32, 27), np.float32)
    kick = CLASSES.index("kick")
    loops[0, ::4, kick] = 1  # 8 kicks
    loops[1, ::8, kick] = 1  # 4 kicks
    loops[1, 3, 9 + kick] = 0.5  # a velocity without a hit is not a hit
    counts = tap2drum_realism.hits_per_loop(loops)
    assert counts[kick] == 6 and counts.sum() == 6


def test_script_prints_every_setting(fake_gmd, tiny_models, capsys):
    assert tap2drum_realism.main(["--gmd", str(fake_gmd), "--models", str(tiny_models[0])]) == 0
    out = capsys.readouterr().out
    for label in ("| the drummers |", "(shipped)", "threshold 0.5", "each cell drawn", "score side drawn", "no reader"):
        assert label in out, label


def test_without_a_reader_it_says_what_it_needs(fake_gmd, tiny_models, capsys, monkeypatch):
    from beatguide.tap_reader import TapReader

    monkeypatch.setattr(TapReader, "find", classmethod(lambda cls, dirs, threads=1: None))
    assert tap2drum_realism.main(["--gmd", str(fake_gmd), "--models", str(tiny_models[0])]) == 2
    assert "needs a tap reader" in capsys.readouterr().out
