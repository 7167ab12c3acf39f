"""server/lab/bank_codes.py: drawing a score's groove from the bank rows nearest in score code."""

import numpy as np

import bank_codes
from beatguide.engine import Engine, Request, _gestures
from beatguide.model_paths import model_dirs


def test_nearest_rows_are_those_whose_score_code_is_closest(tiny_models, monkeypatch):
    engine = Engine(model_dirs([tiny_models[0]]))
    model = engine.models["agvae2"]
    score = np.zeros((32, 9), np.float32)
    score[::4, 0] = 1
    parsed = _gestures(model, Request("agvae2", score=score))
    side = bank_codes.score_side(model)
    assert side.any() and not side.all()
    code = np.concatenate([model.encode(parsed.inputs)[lat["name"]][0][0] for lat in model.latents])[side]
    rows = np.arange(10)
    monkeypatch.setattr(bank_codes.engine_module, "_bank_candidates", lambda m, p: rows)
    bank = model.bank.copy()
    bank[rows] = 5.0  # far from any code ...
    bank[7, side] = code  # ... but row 7, which holds the score's own
    bank[3, side] = code + 0.1  # and row 3, next to it
    monkeypatch.setattr(model, "bank", bank)
    assert list(bank_codes.nearest_in_code(2)(model, parsed)) == [7, 3]
    taps = np.zeros((32, 3), np.float32)
    taps[::2, :2] = 1.0  # a tap on every 8th, full velocity
    groove_only = _gestures(model, Request("agvae2", groove=taps))
    assert list(bank_codes.nearest_in_code(2)(model, groove_only)) == list(rows)  # no score side: all rows


def test_script_prints_every_setting(fake_gmd, tiny_models, capsys):
    args = ["--gmd", str(fake_gmd), "--models", str(tiny_models[0]), "--model", "agvae2", "--windows", "2"]
    assert bank_codes.main(args) == 0
    out = capsys.readouterr().out
    assert "(the engine's)" in out
    for k in bank_codes.NEAREST:
        assert f"the {k} of those nearest in score code" in out, k
