"""server/lab/realism_sources.py: the settings that isolate what the realism classifier reads."""

import numpy as np

import realism_sources
from beatguide.drums import CLASSES

KICK = CLASSES.index("kick")


def _kicks(velocities):
    loop = np.zeros((1, 32, 27), np.float32)
    for t, v in zip(range(0, 32, 4), velocities):
        loop[0, t, KICK], loop[0, t, 9 + KICK] = 1, v
    return loop


def test_shrink_moves_each_drum_toward_its_loop_mean():
    loop = _kicks([0.4, 0.6, 0.4, 0.6])
    half = realism_sources.shrink(loop, np.full(9, 0.5), keep_top=True)[0, ::4, 9 + KICK][:4]
    np.testing.assert_allclose(half, np.round(np.array([0.45, 0.55, 0.45, 0.55]) * 127) / 127)
    assert not realism_sources.shrink(loop, np.full(9, 0.5), True)[0, 2, 9:18].any()  # no hit, no velocity


def test_shrink_keeps_the_top_only_when_asked():
    loop = _kicks([1.0, 0.5])
    kept = realism_sources.shrink(loop, np.full(9, 0.5), keep_top=True)[0, 0, 9 + KICK]
    moved = realism_sources.shrink(loop, np.full(9, 0.5), keep_top=False)[0, 0, 9 + KICK]
    assert kept == 1.0 and moved < 1.0


def test_script_prints_every_setting(fake_gmd, tiny_models, capsys):
    assert realism_sources.main(["--gmd", str(fake_gmd), "--models", str(tiny_models[0]), "--model", "agvae2"]) == 0
    out = capsys.readouterr().out
    for label in ("| real |", "| shipped |", "velocity draws off", "own groove given", "train windows instead"):
        assert label in out, label
