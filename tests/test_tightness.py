"""server/lab/tightness.py: how drums' spreads within a loop move together."""

import numpy as np

import tightness
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
    corr = tightness.spread_correlations(loops_with_spreads(tight, tight), "offset")
    assert corr[("kick", "snare")][0] > 0.8
    assert corr[("kick", "snare")][1] == 300


def test_drums_tight_on_their_own_do_not():
    rng = np.random.default_rng(2)
    corr = tightness.spread_correlations(
        loops_with_spreads(rng.uniform(0.02, 0.3, 300), rng.uniform(0.02, 0.3, 300)), "offset"
    )
    assert abs(corr[("kick", "snare")][0]) < 0.15


def test_pairs_seen_in_too_few_loops_are_left_out():
    tight = np.linspace(0.05, 0.3, 50)
    assert tightness.spread_correlations(loops_with_spreads(tight, tight), "offset", min_loops=100) == {}
    assert ("kick", "snare") in tightness.spread_correlations(loops_with_spreads(tight, tight), "offset", min_loops=20)


def test_a_loop_shared_scale_stays_standard_normal_and_ties_the_offsets_drums():
    feel = Feel(scatter=(1.0, 1.0))
    x = tightness.loop_shared(0.8)(feel, 7, 4000, 4000)
    assert x.shape == (4000, 1, 2, 9)
    assert abs(x.std() - 1) < 0.03 and abs(x.mean()) < 0.03
    offsets, velocities = x[:, 0, 1], x[:, 0, 0]
    assert np.corrcoef(offsets[:, 0], offsets[:, 1])[0, 1] > 0.7  # kick and snare scaled together
    assert abs(np.corrcoef(velocities[:, 0], velocities[:, 1])[0, 1]) < 0.1  # velocities as the feel draws them
    assert np.array_equal(tightness.loop_shared(0.0)(feel, 7, 10, 10), feel.scale_normals(7, 10, 10))
