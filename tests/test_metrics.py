import numpy as np
import pytest

from beatguide.evaluate import metrics
from beatguide.evaluate.experiments import swing_groove
from beatguide.grid import empty_loop


def _loop(cells):
    x = empty_loop()
    for step, cls, vel, off in cells:
        x[step, cls], x[step, 9 + cls], x[step, 18 + cls] = 1, vel, off
    return x


def test_offset_diversity_known_answer():
    score = np.zeros((32, 9))
    score[0, 0] = score[4, 1] = 1
    # kick at step 0: offsets 0.1, 0.3 (std 0.1); snare at 4: 0, 0 (std 0); hat at 8 not in the score: ignored
    samples = np.stack(
        [
            _loop([(0, 0, 1, 0.1), (4, 1, 1, 0.0), (8, 2, 1, 0.9)]),
            _loop([(0, 0, 1, 0.3), (4, 1, 1, 0.0), (8, 2, 1, -0.9)]),
        ]
    )
    assert metrics.offset_diversity(samples, score) == pytest.approx(0.05)
    # a position played by fewer than two samples is skipped
    samples[1, 4, 1] = 0
    assert metrics.offset_diversity(samples, score) == pytest.approx(0.1)
    assert np.isnan(metrics.offset_diversity(samples[:1], score))


def test_mean_and_se():
    m, se = metrics.mean_and_se([1.0, 3.0, float("nan")])
    assert m == 2.0 and se == pytest.approx(np.std([1, 3], ddof=1) / np.sqrt(2))


def test_hit_prf_known_answer():
    pred = np.array([1, 1, 0, 1, 0])
    ref = np.array([1, 0, 1, 1, 0])
    p, r, f = metrics.hit_prf(pred, ref)
    assert (p, r) == (pytest.approx(2 / 3), pytest.approx(2 / 3)) and f == pytest.approx(2 / 3)
    assert metrics.hit_prf(np.zeros(3), np.zeros(3)) == (1.0, 1.0, 1.0)


def test_wasserstein_and_hit_values():
    a = np.stack([_loop([(0, 0, 0.5, 0.2), (4, 0, 0.7, 0.4)])])
    b = np.stack([_loop([(0, 0, 0.5, 0.3), (4, 0, 0.7, 0.5)])])
    np.testing.assert_allclose(np.sort(metrics.hit_values(a, 0, "offset")), [0.2, 0.4], atol=1e-6)
    assert metrics.wasserstein(metrics.hit_values(a, 0, "offset"), metrics.hit_values(b, 0, "offset")) == pytest.approx(
        0.1
    )
    assert np.isnan(metrics.wasserstein(np.array([]), np.array([1.0])))


def test_offbeat_offsets_and_swing_groove():
    g = swing_groove(0.2)
    assert g[:, 0].all() and np.all(g[0::2, 2] == 0) and np.allclose(g[1::2, 2], 0.2)
    x = np.stack([_loop([(0, 0, 1, 0.5), (1, 2, 1, 0.2), (3, 2, 1, 0.4)])])
    np.testing.assert_allclose(np.sort(metrics.offbeat_offsets(x)), [0.2, 0.4], atol=1e-6)


def test_accent_contrast_and_groove_error():
    x = np.stack([_loop([(0, 0, 1.0, 0.0), (2, 0, 0.4, 0.1), (4, 0, 0.6, -0.2)])])
    acc = np.zeros(32)
    acc[0] = 1
    assert metrics.accent_contrast(x, acc) == pytest.approx(1.0 - 0.5)
    groove = np.zeros((32, 3))
    groove[[0, 2, 6], 0] = 1
    groove[[0, 2, 6], 2] = [0.1, 0.3, 0.9]  # step 6 is not played: ignored
    assert metrics.groove_offset_error(x, groove) == pytest.approx((0.1 + 0.2) / 2)
