"""The tap reader: trained, exported and resumed (beatguide_export.tap_reader), read at runtime
(beatguide.tap_reader) and handed to the models by the engine when a request gives taps alone."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("torch")

from beatguide.drums import CLASSES  # noqa: E402
from beatguide.engine import Engine, Request  # noqa: E402
from beatguide.errors import ModelError  # noqa: E402
from beatguide.tap_reader import FOLDER, META_FILE, TapReader  # noqa: E402
from beatguide_export import tap_reader as trainer  # noqa: E402

TINY = ["--hidden", "8", "--threads", "1", "--lr", "1e-2"]


def _taps() -> np.ndarray:
    taps = np.zeros((32, 3), np.float32)
    taps[::2] = (1.0, 0.7, 0.1)
    taps[::8, 1] = 1.0
    return taps


@pytest.fixture
def reader_dir(fake_gmd, tmp_path):
    """A models folder holding a tap reader trained for two epochs on the tiny dataset."""
    out = tmp_path / "readers"
    assert (
        trainer.main(
            ["--gmd", str(fake_gmd), "--out", str(out), "--run", str(tmp_path / "run"), "--epochs", "2", *TINY]
        )
        == 0
    )
    return out


def test_export_matches_the_trained_network_and_describes_itself(reader_dir, tmp_path):
    import torch

    reader = TapReader(reader_dir / FOLDER)
    meta = json.loads((reader_dir / FOLDER / META_FILE).read_text())
    assert reader.threshold == meta["threshold"] and meta["threshold"] in trainer.THRESHOLDS
    assert meta["training"]["epochs_run"] == 2 and meta["training"]["train_windows"] > 0
    net = trainer.TapReaderNet(8)
    net.load_state_dict(torch.load(tmp_path / "run" / "best.pt"))
    taps = np.stack([_taps(), np.zeros((32, 3), np.float32)])
    np.testing.assert_allclose(
        reader.probabilities(taps), trainer.probabilities(net, torch.from_numpy(taps)), atol=1e-5
    )
    guess = reader.best_guess(taps)
    assert guess.shape == (2, 32, 9) and set(np.unique(guess)) <= {0.0, 1.0}
    np.testing.assert_array_equal(guess, reader.probabilities(taps) > reader.threshold)
    card = (reader_dir / FOLDER / "MODEL_CARD.md").read_text()
    assert "CC BY 4.0" in card and f"Threshold {meta['threshold']:.2f}" in card and str(tmp_path) not in card


def test_a_resumed_run_continues_exactly(fake_gmd, tmp_path):
    def run(name, *extra):
        args = ["--gmd", str(fake_gmd), "--out", str(tmp_path / name), "--run", str(tmp_path / f"run_{name}"), *TINY]
        assert trainer.main([*args, *extra]) == 0
        return json.loads((tmp_path / name / FOLDER / META_FILE).read_text())["training"]["history"]

    straight = run("a", "--epochs", "2")
    run("b", "--epochs", "1")
    shutil.rmtree(tmp_path / "b")
    resumed = run("b", "--epochs", "2", "--resume")
    assert [h["val_loss"] for h in resumed] == [h["val_loss"] for h in straight]


def test_cli_refuses_to_replace_unasked(reader_dir, fake_gmd, tmp_path, capsys):
    before = (reader_dir / FOLDER / META_FILE).read_bytes()
    args = ["--gmd", str(fake_gmd), "--out", str(reader_dir), "--run", str(tmp_path / "run2"), "--epochs", "1", *TINY]
    assert trainer.main(args) == 2
    assert "--replace" in capsys.readouterr().out
    assert (reader_dir / FOLDER / META_FILE).read_bytes() == before


def test_a_corrupt_reader_is_a_model_error(reader_dir, tiny_models):
    onnx = reader_dir / FOLDER / trainer.ONNX_FILE
    onnx.write_bytes(onnx.read_bytes()[:-10])
    with pytest.raises(ModelError, match="corrupt"):
        Engine([tiny_models[0], reader_dir])
    (reader_dir / FOLDER / META_FILE).write_text("{")
    with pytest.raises(ModelError, match="unreadable"):
        Engine([tiny_models[0], reader_dir])


def _score_side(model, z):
    size = sum(x["dim"] * x["groups"] for x in model.latents if x["gesture"] in ("score", "lanes"))
    return z[:, :size]  # the score-side latents come first in every model kind that has them


@pytest.mark.parametrize("kind", ["agvae2", "agvae11", "factorized"])
def test_taps_alone_play_the_readers_score_first(reader_dir, tiny_models, kind):
    with_reader, without = Engine([tiny_models[0], reader_dir]), Engine(tiny_models[0])
    assert with_reader.tap_reader is not None and without.tap_reader is None
    model = with_reader.models[kind]
    req = Request(kind, 3, 1.0, 11, groove=_taps())
    a, b = with_reader.generate(req), without.generate(req)
    # later variations are the model's own draws, as without the reader (to float rounding)
    np.testing.assert_allclose(a.z[1:], b.z[1:], atol=1e-5)
    # variation 0: the score side at the posterior mean of the reader's score
    guess = with_reader.tap_reader.best_guess(_taps()[None])[0]
    assert guess.any()
    inputs = {
        "score": guess[None],
        "lanes": guess.T[None].copy(),
        "groove": _taps()[None],
        "accents": np.zeros((1, 32), np.float32),
    }
    post = model.encode(inputs)
    mean = np.concatenate([post[x["name"]][0] for x in model.latents if x["gesture"] in ("score", "lanes")], axis=1)
    np.testing.assert_allclose(_score_side(model, a.z[:1]), mean, atol=1e-5)
    assert not np.allclose(_score_side(model, a.z[:1]), _score_side(model, b.z[:1]))
    # a score given: the reader is not asked
    scored = Request(kind, 2, 1.0, 11, groove=_taps(), score=guess)
    np.testing.assert_allclose(with_reader.generate(scored).z, without.generate(scored).z, atol=1e-5)


def test_lanes_set_empty_stay_empty_and_a_silent_reading_changes_nothing(reader_dir, tiny_models):
    engine = Engine([tiny_models[0], reader_dir])
    kick = CLASSES.index("kick")
    modes = tuple("empty" if c == kick else "decide" for c in range(len(CLASSES)))
    out = engine.generate(Request("agvae11", 2, 1.0, 5, groove=_taps(), lane_modes=modes))
    assert not out.loops[:, :, kick].any()
    meta = json.loads((reader_dir / FOLDER / META_FILE).read_text())
    (reader_dir / FOLDER / META_FILE).write_text(json.dumps({**meta, "threshold": 1.0}))  # hears nothing
    deaf, without = Engine([tiny_models[0], reader_dir]), Engine(tiny_models[0])
    req = Request("agvae2", 2, 1.0, 5, groove=_taps())
    np.testing.assert_allclose(deaf.generate(req).z, without.generate(req).z, atol=1e-5)
