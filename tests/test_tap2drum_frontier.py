"""server/lab/tap2drum_frontier.py: how close to the taps against how real."""

import numpy as np

import tap2drum_frontier


def test_agreement_is_f1_when_the_reading_is_sure():
    hits = np.zeros((2, 32, 9), bool)
    hits[0, ::4, 0] = True  # 8 hits
    hits[1, ::8, 0] = True  # 4 of them
    p = hits[:1].astype(np.float64)  # a reader sure of row 0
    score = tap2drum_frontier.agreement(p, hits)
    assert score.shape == (1, 2)
    assert np.isclose(score[0, 0], 1.0) and np.isclose(score[0, 1], 2 * 4 / (8 + 4))


def test_weighted_draw_follows_the_weights():
    rng = np.random.default_rng(0)
    score = np.tile([0.0, 0.5, 0.1], (2000, 1))
    greedy = tap2drum_frontier.weighted_draw(score, 0.001, rng)
    assert (greedy == 1).all()
    flat = np.bincount(tap2drum_frontier.weighted_draw(score, 1e6, rng), minlength=3) / 2000
    assert np.allclose(flat, 1 / 3, atol=0.05)


def test_script_prints_every_choice_and_plots(fake_gmd, tiny_models, capsys, tmp_path):
    png = tmp_path / "frontier.png"
    args = ["--gmd", str(fake_gmd), "--models", str(tiny_models[0]), "--plot", str(png)]
    assert tap2drum_frontier.main(args) == 0
    out = capsys.readouterr().out
    for label in ("at random", "exp(agreement / 0.03)", "most agreeing window", "no reader", "best of 8",
                  "most agreeing bank row", "threshold 0.5", "(shipped)"):  # fmt: skip
        assert label in out, label
    assert png.stat().st_size > 0


def test_without_a_reader_it_says_what_it_needs(fake_gmd, tiny_models, capsys, monkeypatch):
    from beatguide.tap_reader import TapReader

    monkeypatch.setattr(TapReader, "find", classmethod(lambda cls, dirs, threads=1: None))
    assert tap2drum_frontier.main(["--gmd", str(fake_gmd), "--models", str(tiny_models[0])]) == 2
    assert "needs a tap reader" in capsys.readouterr().out
