"""beatguide_export.bank: an exported model's latent bank rebuilt in place, with each row's score."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest

pytest.importorskip("torch")

from beatguide.engine import Engine  # noqa: E402
from beatguide_export.bank import main  # noqa: E402


def test_rebuild_writes_codes_and_scores_and_the_model_still_loads(tiny_models, fake_gmd, tmp_path, capsys):
    folder = tmp_path / "agvae2"
    shutil.copytree(tiny_models[0] / "agvae2", folder)
    before = (folder / "encoder.onnx").read_bytes()
    assert main([str(folder), "--gmd", str(fake_gmd)]) == 0
    assert "bank rows written" in capsys.readouterr().out
    meta = json.loads((folder / "model.json").read_text())
    with np.load(folder / "bank.npz") as bank:
        z, steps, hits = bank["z"], bank["steps"], bank["hits"]
    assert meta["bank_rows"] == len(z) == len(hits) and hits.shape[1:] == (32, 9) and hits.any()
    assert meta["sha256"]["bank.npz"] == hashlib.sha256((folder / "bank.npz").read_bytes()).hexdigest()
    assert (folder / "encoder.onnx").read_bytes() == before  # nothing else changes
    m = Engine(tmp_path).models["agvae2"]
    assert m.bank_hits.shape == (len(z), 32, 9) and np.array_equal(m.bank_steps, steps)


def test_a_folder_without_a_model_is_a_clear_error(fake_gmd, tmp_path, capsys):
    assert main([str(tmp_path), "--gmd", str(fake_gmd)]) == 2
    assert "not an exported model" in capsys.readouterr().out
