"""beatguide.levels: per-drum maps of drawn velocities onto the drummers'; the engine applies them
where the groove was drawn; beatguide_export.levels_fit fits and selects them."""

import hashlib
import json

import numpy as np
import pytest

from beatguide.engine import Engine, Request
from beatguide.errors import ModelError
from beatguide.grid import HITS, MIN_VELOCITY, VELOCITIES
from beatguide.levels import LEVELS_FILE, MIN_NOTES, PROBS, Levels, drum_map, drum_velocities, quantiles

SNARE = 1


def _loops(velocities: np.ndarray) -> np.ndarray:
    """Loops with a snare on every 8th, velocities (N, 16)."""
    loops = np.zeros((len(velocities), 32, 27), np.float32)
    loops[:, ::2, SNARE] = 1
    loops[:, ::2, VELOCITIES.start + SNARE] = velocities
    return loops


def test_the_map_moves_a_drums_velocities_onto_the_drummers_distribution():
    rng = np.random.default_rng(0)
    drawn = _loops(rng.uniform(0.2, 0.6, (300, 16)))
    real = _loops(np.where(rng.random((300, 16)) < 0.2, 1.0, rng.uniform(0.4, 0.9, (300, 16))))  # a fifth at the top
    x, y = drum_map(quantiles(drawn)[SNARE], quantiles(real)[SNARE])
    mapped = np.interp(rng.uniform(0.2, 0.6, 5000), x, y)
    assert abs(mapped.mean() - drum_velocities(real, SNARE).mean()) < 0.02
    assert abs(np.mean(mapped >= 0.999) - 0.2) < 0.03
    assert np.all(np.diff(x) > 0) and np.all(np.diff(y) >= 0)


def test_an_atom_maps_to_its_mid_rank_and_rare_drums_keep_their_velocities():
    drawn = np.quantile(np.r_[np.full(500, 1.0), np.linspace(0.1, 0.9, 500)], PROBS)
    real = np.quantile(np.linspace(0.1, 1.0, 1000), PROBS)
    x, y = drum_map(drawn, real)
    assert x[-1] == 1.0 and y[-1] == pytest.approx(0.1 + 0.9 * 0.75, abs=0.01)  # the top half: its middle, 0.75
    few = _loops(np.full((MIN_NOTES // 16, 16), 0.5))
    assert np.isnan(quantiles(few)[SNARE]).all() and drum_map(quantiles(few)[SNARE], real) is None


def test_apply_maps_hits_alone_keeps_their_order_and_leaves_other_sources():
    rng = np.random.default_rng(1)
    drawn = _loops(rng.uniform(0.2, 0.6, (200, 16)))
    real = _loops(np.clip(rng.uniform(0.5, 1.2, (200, 16)), 0, 1))
    lv = Levels.fit({"bank": drawn}, real)
    out = lv.apply(drawn[:5], "bank")
    assert np.array_equal(out[..., HITS], drawn[:5, :, HITS])
    assert not out[:, 1::2].any() and np.array_equal(out[..., 18:], drawn[:5, :, 18:])  # silent cells, offsets
    v, w = drawn[:5, ::2, VELOCITIES.start + SNARE], out[:, ::2, VELOCITIES.start + SNARE]
    assert np.all(np.diff(np.take_along_axis(w, np.argsort(v, 1), 1), axis=1) >= 0)  # louder stays louder
    assert drum_velocities(out, SNARE).mean() > 0.7
    assert np.array_equal(lv.apply(drawn[:5], "fitted"), drawn[:5])  # no map for that source
    silent = Levels({"bank": (quantiles(drawn), np.zeros((9, len(PROBS))))}).apply(drawn[:1], "bank")
    assert drum_velocities(silent, SNARE).min() == pytest.approx(MIN_VELOCITY)  # never below a sounding note


def test_file_round_trip_and_bad_files(tmp_path):
    rng = np.random.default_rng(2)
    lv = Levels.fit({"bank": _loops(rng.uniform(0.2, 0.6, (100, 16)))}, _loops(rng.uniform(0.4, 1.0, (100, 16))))
    np.savez(tmp_path / "a.npz", **lv.arrays())
    again = Levels.from_file(tmp_path / "a.npz")
    assert set(again.quantiles) == {"bank"} and np.allclose(
        again.quantiles["bank"][1], lv.quantiles["bank"][1], equal_nan=True
    )
    bad = {**lv.arrays(), "bank_real": lv.arrays()["bank_real"][:, ::-1]}
    np.savez(tmp_path / "b.npz", **bad)
    with pytest.raises(ValueError, match="increasing"):
        Levels.from_file(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", probs=PROBS, bank_drawn=lv.arrays()["bank_drawn"])
    with pytest.raises(KeyError):
        Levels.from_file(tmp_path / "c.npz")


def test_engine_maps_drawn_grooves_alone(tmp_path, tiny_drawing_model):
    folder, score = tiny_drawing_model
    taps = np.zeros((32, 3), np.float32)
    taps[::2] = 1.0, 0.5, 0.0  # a tap on every 8th, half velocity, on the grid
    drawn, given = Request("agvae2", 4, 1.0, 7, score=score), Request("agvae2", 4, 1.0, 7, score=score, groove=taps)
    before = [Engine(tmp_path).generate(r).loops for r in (drawn, given)]
    from beatguide_export.levels_fit import attach

    source = Engine(tmp_path).models["agvae2"].default_source
    loud = _loops(np.ones((20, 16)))  # drummers who play every note at the top
    attach(folder, Levels.fit({source: _loops(np.linspace(0.05, 1.0, 320).reshape(20, 16))}, loud))
    engine = Engine(tmp_path)
    after = [engine.generate(r).loops for r in (drawn, given)]
    assert drum_velocities(after[0], SNARE).min() >= 0.99 and np.array_equal(after[0][..., HITS], before[0][..., HITS])
    assert np.array_equal(after[1], before[1])  # the player's own groove: as decoded
    (folder / LEVELS_FILE).write_bytes(b"not levels")
    with pytest.raises(ModelError, match="corrupt"):
        Engine(tmp_path)
    meta = json.loads((folder / "model.json").read_text())
    meta["sha256"][LEVELS_FILE] = hashlib.sha256(b"not levels").hexdigest()
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="not a model's levels"):
        Engine(tmp_path)
    attach(folder, None)  # removed: as decoded again
    assert np.array_equal(Engine(tmp_path).generate(drawn).loops, before[0]) and not (folder / LEVELS_FILE).exists()


def test_fit_and_select_write_the_kept_levels(tmp_path, fake_gmd, capsys):
    torch = pytest.importorskip("torch")
    from beatguide_export import levels_fit
    from beatguide_export.models import build
    from beatguide_export.onnx_export import export_model

    torch.manual_seed(0)
    folder = tmp_path / "models" / "agvae2"
    export_model(build("agvae2", enc_hidden=16, mlp_hidden=32, dec_hidden=32, dec_layers=1, values="logistic"), folder)
    rng = np.random.default_rng(0)
    loops = _loops(np.where(rng.random((60, 16)) < 0.3, 1.0, rng.uniform(0.5, 0.9, (60, 16))))
    engine = Engine(tmp_path / "models")
    fitted, settings = levels_fit.fit(engine, "agvae2", loops)
    assert set(settings) == {*engine.capabilities("agvae2")["latent_sources"], "own groove"}
    assert set(fitted.quantiles) == set(engine.capabilities("agvae2")["latent_sources"])
    assert engine.models["agvae2"].levels.quantiles == {}  # levels off while fitting, restored after
    mapped = fitted.apply(settings["prior"], "prior")
    real = drum_velocities(loops, SNARE)
    assert abs(drum_velocities(mapped, SNARE).mean() - real.mean()) < abs(
        drum_velocities(settings["prior"], SNARE).mean() - real.mean()
    )
    args = ["--gmd", str(fake_gmd), "--models", str(tmp_path / "models"), "--model", "agvae2", "--fit-windows", "8"]
    args.append("--write")
    assert levels_fit.main(args) == 0
    out = capsys.readouterr().out
    assert "## Fit" in out and "## Selection" in out and "(kept)" in out
    meta = json.loads((folder / "model.json").read_text())
    kept_with = "with the fitted levels (kept)" in out
    assert ("levels" in meta) == kept_with == (folder / LEVELS_FILE).exists()
    assert levels_fit.main([*args, "--keep"]) == 0  # stored whatever the selection
    assert json.loads((folder / "model.json").read_text())["levels"] == LEVELS_FILE and (folder / LEVELS_FILE).exists()


def test_the_model_card_names_the_levels_where_a_model_has_them(tmp_path):
    pytest.importorskip("torch")
    from pathlib import Path

    from beatguide_export.model_card import write_card

    meta = json.loads((Path(__file__).resolve().parent.parent / "models" / "agvae2" / "model.json").read_text())
    meta.pop("levels", None)
    assert "beatguide.levels" not in write_card(tmp_path, meta).read_text()
    meta["levels"] = LEVELS_FILE
    assert f"`{LEVELS_FILE}`: per drum and latent source" in write_card(tmp_path, meta).read_text()
