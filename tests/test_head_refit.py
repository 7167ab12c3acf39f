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


def _windows(n=4):
    """Random loops (gestures, targets) as torch tensors, for teacher forcing."""
    import torch

    from beatguide_export.data import gesture_arrays

    rng = np.random.default_rng(0)
    hits = (rng.random((n, 32, 9)) < 0.2).astype(np.float32)
    target = np.concatenate([hits, hits * rng.random((n, 32, 9)), hits * (rng.random((n, 32, 9)) - 0.5)], -1)
    target = target.astype(np.float32)
    return {k: torch.from_numpy(v) for k, v in gesture_arrays(target).items()}, torch.from_numpy(target)


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


def test_a_history_refit_starts_from_the_head_it_grows_and_keeps_its_offsets(drawn_model, fake_gmd, tmp_path):
    """--history: a level head reading the running residuals is added, its output at zero, so before
    any training the decoder draws exactly what it drew; it alone trains, so the offsets' distributions
    stay the head's own; the export records and loads it. A head not yet refitted censored is refused."""
    import torch

    from beatguide_export.finetune import load_base

    assert main(["agvae2", "--gmd", str(fake_gmd), "--models", str(drawn_model), "--name", "h", "--out",
                 str(tmp_path / "refused"), "--history"]) == 2  # fmt: skip
    refit("agvae2", fake_gmd, "agvae2_c", tmp_path / "c", models=[drawn_model], epochs=1, progress=False)
    model = load_base("agvae2_c", [tmp_path / "c"]).model.eval()
    z, u = torch.randn(4, model.z_size), torch.rand(4, 32, 27)
    before = model.sample(z, u, torch.tensor(1.0))
    model.decoder.read_history()
    torch.testing.assert_close(model.sample(z, u, torch.tensor(1.0)), before)
    meta = refit("agvae2_c", fake_gmd, "agvae2_h", tmp_path / "out", models=[tmp_path / "c"], history=True,
                 epochs=1, lr=1e-2, progress=False)  # fmt: skip
    assert meta["config"]["history"] is True and meta["training"]["level_refit"]["base"] == "agvae2_c"
    assert meta["training"]["head_refit"]["base"] == "agvae2"  # the censored refit it grew from, kept
    grown = load_base("agvae2_h", [tmp_path / "out"]).model.eval()
    gest, target = _windows()
    with torch.no_grad():
        old, new = model(gest, target, sample=False)[1], grown(gest, target, sample=False)[1]
    i = 27 + 9  # the head's outputs: velocity locations, offset locations, velocity scales, offset scales
    torch.testing.assert_close(new[..., i : i + 9], old[..., i : i + 9])
    torch.testing.assert_close(new[..., i + 27 :], old[..., i + 27 :])
    assert not torch.allclose(new[..., 27:36], old[..., 27:36])
    r = (
        Engine([tmp_path / "out"])
        .models["agvae2_h"]
        .decode(z.numpy(), u.numpy(), 1.0, -np.ones((4, 32, 9), np.float32))
    )
    assert r.shape == (4, 32, 27) and np.isfinite(r).all()
