"""server/lab/bank_match.py: rules for matching a request against the latent bank."""

from types import SimpleNamespace

import numpy as np

import bank_match
from beatguide.drums import CLASSES
from beatguide.engine import lane_groups


def test_each_rule_ranks_the_row_that_plays_like_the_input_first():
    crash = CLASSES.index("crash")
    cells = np.zeros((32, 9), bool)
    cells[::4, 0] = cells[::8, crash] = True
    hits = np.zeros((2, 32, 9), bool)
    hits[:, ::4, 0] = True
    hits[1, ::8, crash] = True  # row 1 plays the input; row 0 misses its crashes
    model = SimpleNamespace(
        bank=np.zeros((2, 4)), bank_steps=hits.any(axis=2), bank_hits=hits, bank_groups=lane_groups(hits)
    )
    parsed = SimpleNamespace(steps=cells.any(axis=1), cells=cells)
    parsed.known = np.ones(9, bool)
    for label, rule in bank_match.RULES.items():
        pick = bank_match.engine_module._bank_candidates if rule is None else bank_match.candidates(rule)
        first = pick(model, parsed)[0]
        assert first == (0 if label == "steps alone" else 1), label  # steps alone cannot tell them apart


def test_script_prints_every_rule(fake_gmd, tiny_models, capsys):
    args = ["--gmd", str(fake_gmd), "--models", str(tiny_models[0]), "--model", "agvae2"]
    assert bank_match.main(args) == 0
    out = capsys.readouterr().out
    for label in ["the fitted prior", *bank_match.RULES]:
        assert label in out, label
