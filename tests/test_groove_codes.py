"""server/lab/groove_codes.py: what the drummer's own groove gives the decoder."""

import numpy as np

import groove_codes
from beatguide.grid import HITS, OFFSETS, VELOCITIES

KICK, SNARE, HAT = 0, 1, 2


def test_groove_share_counts_one_loudest_hit_per_step_that_plays():
    loop = np.zeros((1, 32, 27), np.float32)
    loop[0, 0, [KICK, HAT]] = 1  # two hits at step 0, one at step 4
    loop[0, 4, SNARE] = 1
    assert groove_codes.groove_share(loop) == 2 / 3


def test_transplant_keeps_the_donors_values_and_fills_the_rest_from_them():
    donor = np.zeros((32, 27), np.float32)
    donor[::4, KICK] = 1
    donor[::4, VELOCITIES.start + KICK] = np.linspace(0.4, 0.8, 8)
    donor[::4, OFFSETS.start + KICK] = 0.1
    score = np.zeros((32, 9), np.float32)
    score[0, KICK] = score[2, KICK] = score[4, SNARE] = 1
    out = groove_codes.transplant(score, donor)
    assert np.array_equal(out[:, HITS], score)
    assert out[0, VELOCITIES.start + KICK] == donor[0, VELOCITIES.start + KICK]  # played by the donor: its own
    assert out[2, VELOCITIES.start + KICK] == np.float32(0.6)  # not played there: its kick's mean
    assert out[2, OFFSETS.start + KICK] == 0.0  # nothing at that step of the beat
    assert out[4, VELOCITIES.start + SNARE] == np.float32(0.6)  # a drum it never plays: its mean over all
    assert out[4, OFFSETS.start + SNARE] == np.float32(0.1)  # on the beat, where it plays at 0.1


def test_script_prints_every_setting(fake_gmd, tiny_models, capsys, monkeypatch):
    monkeypatch.setattr(groove_codes, "same_file_partners", lambda files, bars, rng: np.roll(np.arange(len(files)), 1))
    args = ["--gmd", str(fake_gmd), "--models", str(tiny_models[0]), "--model", "agvae2", "--pool", "8"]
    assert groove_codes.main(args) == 0
    out = capsys.readouterr().out
    for label in ("default source", "re-encoded (2x)", "a train window like the score", "moved onto the score",
                  "same-file partner", "own groove", "held-out files"):  # fmt: skip
        assert label in out, label
    monkeypatch.setattr(groove_codes, "same_file_partners", lambda files, bars, rng: np.arange(len(files)))
    assert groove_codes.main(args) == 2  # no window with a partner: said, not a crash
    assert "no validation window has a same-file partner" in capsys.readouterr().out
