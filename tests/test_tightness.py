"""A loop played tight or loose as a whole: the measure (realism.spread_correlations) and the feel's tightness."""

import numpy as np
import pytest

import tightness
from beatguide.evaluate import realism
from beatguide.feel import Feel
from beatguide.grid import HITS, OFFSETS

KICK, SNARE = 0, 1


def loops_with_spreads(kick_sd: np.ndarray, snare_sd: np.ndarray, seed: int = 0) -> np.ndarray:
    """Loops whose kick and snare play every other step with offsets of the given spreads."""
    rng = np.random.default_rng(seed)
    out = np.zeros((len(kick_sd), 32, 27), np.float32)
    for i, (k, s) in enumerate(zip(kick_sd, snare_sd)):
        out[i, ::2, HITS.start + KICK] = out[i, 1::2, HITS.start + SNARE] = 1
        out[i, ::2, OFFSETS.start + KICK] = k * rng.standard_normal(16)
        out[i, 1::2, OFFSETS.start + SNARE] = s * rng.standard_normal(16)
    return out


def test_a_loop_played_tight_as_a_whole_correlates_its_drums_spreads():
    tight = np.random.default_rng(1).uniform(0.02, 0.3, 300)
    corr = realism.spread_correlations(loops_with_spreads(tight, tight), "offset")
    assert corr[("kick", "snare")][0] > 0.8
    assert corr[("kick", "snare")][1] == 300


def test_drums_tight_on_their_own_do_not():
    rng = np.random.default_rng(2)
    corr = realism.spread_correlations(
        loops_with_spreads(rng.uniform(0.02, 0.3, 300), rng.uniform(0.02, 0.3, 300)), "offset"
    )
    assert abs(corr[("kick", "snare")][0]) < 0.15


def test_pairs_seen_in_too_few_loops_are_left_out():
    tight = np.linspace(0.05, 0.3, 50)
    assert realism.spread_correlations(loops_with_spreads(tight, tight), "offset", min_loops=100) == {}
    assert ("kick", "snare") in realism.spread_correlations(loops_with_spreads(tight, tight), "offset", min_loops=20)


def test_tightness_is_the_mean_over_pairs_and_the_lab_shows_it():
    tight = np.random.default_rng(1).uniform(0.02, 0.3, 300)
    loops = loops_with_spreads(tight, tight)
    assert realism.tightness(loops, "offset") == realism.spread_correlations(loops, "offset")[("kick", "snare")][0]
    assert np.isnan(realism.tightness(loops[:20], "offset"))
    assert tightness.measures(loops, 100)[1] == realism.tightness(loops, "offset")
    assert tightness.cell([0.5]) == "0.500" and tightness.cell([0.1, 0.3], signed=True) == "+0.200 ± 0.141"


def test_tightness_keeps_the_scale_normal_standard_and_ties_a_loops_drums():
    feel = Feel(scatter=(1.0, 1.0), tightness=(0.0, 0.8))
    x = feel.scale_normals(7, 4000, 4000)
    assert x.shape == (4000, 1, 2, 9)
    assert abs(x.std() - 1) < 0.03 and abs(x.mean()) < 0.03
    offsets, velocities = x[:, 0, 1], x[:, 0, 0]
    assert np.corrcoef(offsets[:, 0], offsets[:, 1])[0, 1] > 0.7  # kick and snare scaled together
    assert abs(np.corrcoef(velocities[:, 0], velocities[:, 1])[0, 1]) < 0.1  # velocities on their own
    untied = Feel(scatter=(1.0, 1.0))
    assert np.array_equal(x[:, :, 0], untied.scale_normals(7, 4000, 4000)[:, :, 0])  # a share of 0: as before
    assert np.array_equal(feel.scale_normals(7, 4000, 3, shared=(7, 0)), x[:3])  # a phrase's first window


def test_drawn_loops_with_tightness_move_their_drums_spreads_together():
    u = np.random.default_rng(0).random((3000, 32, 27), np.float32)
    loops = np.zeros((3000, 32, 27), np.float32)
    loops[:, ::2, HITS.start + KICK] = loops[:, 1::2, HITS.start + SNARE] = 1
    spread = {}
    for t in (0.0, 0.9):
        drawn = Feel(scatter=(0.0, 1.5), tightness=(0.0, t)).apply(u, 3, 3000)
        loops[..., OFFSETS] = drawn[..., 18:] - 0.5
        spread[t] = realism.tightness(loops, "offset")
    assert spread[0.0] < 0.1 < 0.5 < spread[0.9]


def test_tightness_round_trips_and_is_checked():
    f = Feel(scatter=(1.0, 1.0), tightness=(0.2, 0.5))
    assert Feel.from_meta(f.to_meta()) == f
    assert Feel.from_meta({k: v for k, v in f.to_meta().items() if k != "tightness"}).tightness == (0.0, 0.0)
    with pytest.raises(ValueError, match="tightness"):
        Feel(tightness=(0.0, 1.5))
