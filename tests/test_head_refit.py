"""beatguide_export.head_refit: a trained model's value head refitted with censored velocities."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from beatguide.engine import Engine  # noqa: E402
from beatguide_export.head_refit import main, refit  # noqa: E402


@pytest.fixture
def drawn_model(tmp_path):
    """A small agvae2 whose values are drawn (a logistic head), exported: (folder, name)."""
    import torch

    from beatguide_export.models import build
    from beatguide_export.onnx_export import export_model

    torch.manual_seed(0)
    m = build(
        "agvae2", enc_hidden=16, mlp_hidden=32, dec_hidden=32, dec_layers=1, free_bits=48.0, values="logistic"
    ).eval()
    export_model(m, tmp_path / "base" / "agvae2")
    return tmp_path / "base"


def test_refit_changes_the_head_alone_and_records_it(drawn_model, fake_gmd, tmp_path):
    folder, out = drawn_model, tmp_path / "out"
    meta = refit("agvae2", fake_gmd, "agvae2_c", out, models=[folder], progress=False)
    assert meta["config"]["censored"] is True and meta["name"] == "agvae2_c"
    record = meta["training"]["head_refit"]
    assert record["base"] == "agvae2" and record["epochs"] and record["train_windows"] > 0
    engine = Engine([out, folder])
    base, new = engine.models["agvae2"], engine.models["agvae2_c"]
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4, base.meta["z_size"])).astype(np.float32)
    u = rng.random((4, 32, 27)).astype(np.float32)
    free = -np.ones((4, 32, 9), np.float32)
    a, b = base.decode(z, u, 1.0, free), new.decode(z, u, 1.0, free)
    np.testing.assert_array_equal(a[..., :9], b[..., :9])  # the same hits (weights kept, to float16)
    assert not np.allclose(a[..., 9:18], b[..., 9:18])  # velocities drawn by the refitted head


def test_cli_refuses_to_replace_unasked_and_needs_a_head(tiny_models, fake_gmd, tmp_path, capsys):
    folder, _ = tiny_models
    (tmp_path / "agvae2_c").mkdir()
    args = ["agvae2", "--gmd", str(fake_gmd), "--models", str(folder), "--out", str(tmp_path)]
    assert main([*args, "--name", "agvae2_c"]) == 2
    assert "--replace" in capsys.readouterr().out
    assert main(["baseline", *args[1:], "--name", "b"]) == 2  # squared-error values: nothing drawn
    assert "no value head" in capsys.readouterr().out
    assert not (tmp_path / "b").exists()
    assert json.loads((folder / "agvae2" / "model.json").read_text())["config"].get("censored") in (None, False)


def test_a_history_refit_starts_from_the_head_it_grows(drawn_model, fake_gmd, tmp_path):
    """--history: the head gains the running residuals as inputs, their weights at zero, so before any
    training it draws exactly what the head it grew from draws; the export records and loads it."""
    import torch

    from beatguide_export.finetune import load_base
    from beatguide_export.head_refit import read_history

    model = load_base("agvae2", [drawn_model]).model
    z, u = torch.randn(4, model.z_size), torch.rand(4, 32, 27)
    before = model.sample(z, u, torch.tensor(1.0))
    read_history(model.decoder)
    assert model.decoder.history and model.decoder.dist[0].in_features == 32 + 27
    torch.testing.assert_close(model.sample(z, u, torch.tensor(1.0)), before)
    meta = refit("agvae2", fake_gmd, "agvae2_h", tmp_path / "out", models=[drawn_model], history=True, epochs=1,
                 progress=False)  # fmt: skip
    assert meta["config"]["history"] is True and meta["training"]["head_refit"]["history"] is True
    r = (
        Engine([tmp_path / "out"])
        .models["agvae2_h"]
        .decode(z.numpy(), u.numpy(), 1.0, -np.ones((4, 32, 9), np.float32))
    )
    assert r.shape == (4, 32, 27) and np.isfinite(r).all()
