"""server/lab/realism_features.py: which features, and which windows, tell generated loops from real."""

import numpy as np
import pytest

import realism_features
from beatguide.grid import HITS, VELOCITIES

KICK, LOW_TOM, CRASH = 0, 4, 7


def _windows(n: int, seed: int) -> np.ndarray:
    """Kick on every beat; a third of the windows add a low-tom fill, another third a crash."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 32, 27), np.float32)
    x[:, ::4, HITS.start + KICK] = 1
    x[:, ::4, VELOCITIES.start + KICK] = rng.uniform(0.4, 0.8, (n, 8))
    x[: n // 3, 28:, HITS.start + LOW_TOM] = 1
    x[: n // 3, 28:, VELOCITIES.start + LOW_TOM] = rng.uniform(0.6, 0.9, (n // 3, 4))
    x[n // 3 : 2 * n // 3, 0, HITS.start + CRASH] = 1
    x[n // 3 : 2 * n // 3, 0, VELOCITIES.start + CRASH] = rng.uniform(0.6, 0.9, 2 * n // 3 - n // 3)
    return x


def test_parts_split_the_windows_by_what_the_drummer_plays():
    x = _windows(30, 0)
    p = realism_features.parts(x)
    assert p["toms played"].sum() == 10 and p["crash played"].sum() == 10 and p["neither toms nor crash"].sum() == 10


def test_the_part_that_differs_carries_the_gap():
    pytest.importorskip("sklearn")
    real, gen = _windows(300, 1), _windows(300, 2)
    gen[:100, 28:, VELOCITIES.start + LOW_TOM] *= 0.5  # the generated fills played at half the drummer's level
    files = np.arange(300) // 6
    rows = {label: (auc, control) for label, _, auc, _, control in realism_features.part_aucs(real, gen, files)}
    assert rows["toms played"][0] > 0.9 and rows["toms played"][0] > rows["toms played"][1] + 0.1
    assert rows["neither toms nor crash"][0] < 0.7
