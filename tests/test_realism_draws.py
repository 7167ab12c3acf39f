"""export/lab/realism_draws.py: the value head's PITs, their dependence and other ways to draw."""

import numpy as np
import pytest

pytest.importorskip("torch")

import realism_draws as rd  # noqa: E402


def _scores(rng, loops=3000):
    """Normal scores (loops, 32, 18): every 4th step of kick and snare played; each (loop, drum) shares
    half its variance, the other half the note's own."""
    z = np.full((loops, 32, 18), np.nan)
    common = rng.standard_normal((loops, 1, 18))
    z[:, ::4, [0, 1, 9, 10]] = np.sqrt(0.5) * common[..., [0, 1, 9, 10]] + np.sqrt(0.5) * rng.standard_normal(
        (loops, 8, 4)
    )
    return z


def test_pair_correlations_find_a_drums_common_part_and_nothing_across_drums():
    corr = rd.pair_correlations(_scores(np.random.default_rng(0)))
    other, same_step, drum, bar = corr[0]
    assert abs(other) < 0.05 and abs(same_step) < 0.05
    assert drum == pytest.approx(0.5, abs=0.05) and bar == pytest.approx(0.5, abs=0.05)
    assert corr[1] == pytest.approx(corr[0], abs=0.06)  # offsets built the same way


def test_within_spread_is_narrower_than_independent_draws_when_a_loop_shares_its_draws():
    spread = rd.within_spread(_scores(np.random.default_rng(1)), np.random.default_rng(2))
    assert spread.shape == (2, 2, 3)
    assert (spread[:, 0, 1] < spread[:, 1, 1] - 0.1).all()  # medians: shared half vs independent


def test_copula_from_correlations_stacks_the_shares_within_bounds():
    f = rd.copula_from(np.array([[0.05, -0.2, 0.15, 0.5], [-0.1, 0.0, 0.1, 1.5]]))
    assert f.loop == (0.05, 0.0) and f.drum == (0.1, 0.1)
    assert f.bar == (0.35, 0.8)  # offsets capped: loop + drum + bar <= 0.9


def test_donor_fields_replace_the_cells_the_donor_played():
    fields = np.full((2, 32, 18), np.nan)
    fields[1, 0, 0] = 0.25
    f = rd.DonorFields(fields=fields, donors=np.array([1]), first=7)
    u = f.apply(np.full((1, 32, 27), 0.5, np.float32), 7, 1)
    assert u[0, 0, 9] == 0.25 and (u[0, 1:, 9:] == 0.5).all() and (u[0, 0, 10:] == 0.5).all()


def test_nearest_cells_picks_the_loop_playing_the_same_cells():
    pool = np.zeros((3, 32, 9), bool)
    pool[0, ::4, 0] = pool[1, ::2, 1] = pool[2, ::8, 0] = True
    assert rd.nearest_cells(pool[[1, 0]], pool, 1, np.random.default_rng(0)).tolist() == [1, 0]


def test_teacher_forced_pits_lie_in_the_unit_interval_where_played():
    import torch

    from beatguide_export.data import WindowSet
    from beatguide_export.models import build

    torch.manual_seed(0)
    m = build("agvae2", enc_hidden=16, mlp_hidden=32, dec_hidden=32, values="logistic", censored=True, history=True)
    rng = np.random.default_rng(0)
    loops = np.zeros((6, 32, 27), np.float32)
    loops[..., :9] = rng.random((6, 32, 9)) < 0.2
    loops[..., 9:18] = loops[..., :9] * rng.choice([0.5, 1.0], (6, 32, 9))  # some at the top, 127
    pits, drawn, located = rd.teacher_forced(m, WindowSet(loops))
    played = np.concatenate([loops[..., :9], loops[..., :9]], -1) > 0.5
    assert np.isfinite(pits[played]).all() and np.isnan(pits[~played]).all()
    assert ((pits[played] >= 0) & (pits[played] <= 1)).all()
    for x in (drawn, located):
        assert np.array_equal(x[..., :9], loops[..., :9]) and (x[..., 9:18][loops[..., :9] > 0.5] > 0).all()


def test_script_prints_every_table(fake_gmd, tmp_path, capsys):
    import torch

    from beatguide_export.models import build
    from beatguide_export.onnx_export import export_model

    torch.manual_seed(0)
    model = build("agvae2", enc_hidden=16, mlp_hidden=32, dec_hidden=32, free_bits=48.0, values="logistic")
    hits = np.random.default_rng(0).random((16, 32, 9)) < 0.2
    bank = {"z": torch.randn(16, model.z_size).numpy(), "steps": hits.any(axis=2), "hits": hits}
    export_model(model, tmp_path / "agvae2", bank=bank)
    assert rd.main(["--gmd", str(fake_gmd), "--models", str(tmp_path), "--donors", "2"]) == 0
    out = capsys.readouterr().out
    for label in ("| kick |", "| train | velocity |", "| validation | offset |", "teacher-forced draws",
                  "the shipped copula", "scale mixture", "PIT field"):  # fmt: skip
        assert label in out, label
