"""Stored-output regression test for the bundled models: the same requests give the same loops.

Hits must match exactly; velocities and offsets within ``ATOL``. The stored outputs
(tests/data/bundled_outputs.json) name the model files they came from (their sha256), so new models
fail here until the outputs are regenerated, on purpose, with the one command:

    pytest tests/test_regression.py --update-regression
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from beatguide import protocol as P
from beatguide.demo import tasks
from beatguide.engine import Engine, Request
from beatguide.grid import HITS, OFFSETS, VELOCITIES

STORED = Path(__file__).parent / "data" / "bundled_outputs.json"
ATOL = 2e-4
VARIATIONS, SEED = 3, 11
UPDATE = "pytest tests/test_regression.py --update-regression"


def outputs(engine: Engine) -> dict:
    """{model: {"files": {file: sha256}, "tasks": {task: [per variation {"masks", "velocities", "offsets"}]}}}."""
    out = {}
    for name in engine.names:
        model = engine.models[name]
        runs = {}
        for task, kw in tasks(engine.capabilities(name)).items():
            loops = engine.generate(Request(name, VARIATIONS, seed=SEED, **kw)).loops
            runs[task] = [
                {
                    "masks": [P.steps_to_mask(loop[:, HITS][:, c]) for c in range(loop[:, HITS].shape[1])],
                    "velocities": np.round(loop[:, VELOCITIES][loop[:, HITS] > 0.5].astype(np.float64), 6).tolist(),
                    "offsets": np.round(loop[:, OFFSETS][loop[:, HITS] > 0.5].astype(np.float64), 6).tolist(),
                }
                for loop in loops
            ]
        files = dict(model.meta.get("sha256", {}))
        if engine.tap_reader is not None:  # taps alone: the first variation plays the reader's score
            files["tap_reader"] = engine.tap_reader.meta["sha256"]
        out[name] = {
            "files": dict(sorted(files.items())),
            "feel": model.feel.to_meta(),
            "tasks": runs,
        }
    return out


def test_bundled_models_give_the_stored_outputs(models_dir, request):
    got = outputs(Engine(models_dir))
    if request.config.getoption("--update-regression"):
        STORED.parent.mkdir(exist_ok=True)
        STORED.write_text(json.dumps(got, indent=1) + "\n")
        pytest.skip(f"wrote {STORED}")
    if not STORED.is_file():
        pytest.fail(f"no stored outputs at {STORED}: create them with `{UPDATE}`")
    want = json.loads(STORED.read_text())
    assert sorted(got) == sorted(want), f"other models than those stored: regenerate on purpose with `{UPDATE}`"
    for name in want:
        assert got[name]["files"] == want[name]["files"], (
            f"{name}: the model files (or the tap reader) changed since the outputs were stored; check the new model, then `{UPDATE}`"
        )
        assert got[name]["feel"] == want[name].get("feel"), (
            f"{name}: the model's feel (model.json) changed since the outputs were stored; check it, then `{UPDATE}`"
        )
        assert list(got[name]["tasks"]) == list(want[name]["tasks"])
        for task, runs in want[name]["tasks"].items():
            for v, (g, w) in enumerate(zip(got[name]["tasks"][task], runs)):
                where = f"{name} {task} variation {v}"
                assert g["masks"] == w["masks"], f"{where}: hits differ"
                np.testing.assert_allclose(g["velocities"], w["velocities"], atol=ATOL, err_msg=where)
                np.testing.assert_allclose(g["offsets"], w["offsets"], atol=ATOL, err_msg=where)
