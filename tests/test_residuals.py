"""beatguide_export.residuals: the share of a drum's velocity residual common to its loop."""

import numpy as np
import pytest

pytest.importorskip("torch")

from beatguide_export.residuals import MIN_NOTES, common_share  # noqa: E402


def test_a_level_held_through_each_loop_is_common_and_per_note_noise_is_not():
    rng = np.random.default_rng(0)
    res = np.full((400, 32, 9), np.nan)
    res[:, ::4, 0] = rng.normal(0, 0.1, (400, 1)) + rng.normal(0, 0.01, (400, 8))  # kick: a level per loop
    res[:, ::4, 1] = rng.normal(0, 0.1, (400, 8))  # snare: each note its own
    res[:, 0, 2] = 0.3  # closed hi-hat: one note a loop, fewer than MIN_NOTES
    kick, snare, hat = common_share(res)[:3]
    assert kick["share"] > 0.9 and kick["notes"] == 3200
    assert snare["share"] < 0.2 and snare["within"] == pytest.approx(0.1, abs=0.01)
    assert hat["notes"] == 0 and MIN_NOTES > 1
