"""The critic: keeping the best of several draws of each loop's notes (beatguide.critic), its training
and selection (beatguide_export.critic), and the engine's candidates."""

import json
from dataclasses import replace

import numpy as np
import pytest

from beatguide.critic import MAX_CANDIDATES, Critic
from beatguide.engine import Engine, Request, candidate_seed
from beatguide.errors import InputError, ModelError
from beatguide.grid import HITS, VELOCITIES


class _LoudestWins:
    """A stand-in session: a loop's score is its mean velocity."""

    def run(self, _, feed):
        return [feed["loops"][..., VELOCITIES].mean(axis=(1, 2))]


def test_scores_keep_the_candidates_shape_and_the_count_is_checked():
    loops = np.zeros((3, 2, 32, 27), np.float32)
    loops[..., VELOCITIES] = np.arange(6, dtype=np.float32).reshape(3, 2, 1, 1)
    assert np.allclose(Critic(_LoudestWins(), 3).scores(loops), np.arange(6).reshape(3, 2))
    for bad in (0, MAX_CANDIDATES + 1):
        with pytest.raises(ValueError):
            Critic(_LoudestWins(), bad)


def _loops(n, level, rng):
    x = np.zeros((n, 32, 27), np.float32)
    x[..., HITS] = rng.random((n, 32, 9)) < 0.3
    x[..., VELOCITIES] = x[..., HITS] * np.clip(rng.normal(level, 0.05, (n, 32, 9)), 0, 1)
    return x


def test_training_learns_what_tells_the_loops_apart():
    pytest.importorskip("torch")
    from beatguide_export.critic import train_critic

    rng = np.random.default_rng(0)
    real, gen = _loops(400, 0.8, rng), _loops(400, 0.4, rng)
    files = np.arange(400) % 40
    net, history = train_critic(real, files, gen, files, epochs=3, width=16)
    assert len(history) == 3 and max(history) > 0.95


def test_engine_keeps_the_critics_pick_of_each_variations_notes(tiny_drawing_model):
    pytest.importorskip("torch")
    import torch

    from beatguide_export.critic import CRITIC_FILE, CriticNet, attach, onnx_bytes

    folder, score = tiny_drawing_model
    req = Request("agvae2", 4, 1.0, 7, score=score)
    before = Engine(folder.parent).generate(req)
    torch.manual_seed(0)
    net = CriticNet(8)
    attach(folder, onnx_bytes(net), 6, {"held_out_auc": 0.5})
    engine = Engine(folder.parent)
    assert engine.models["agvae2"].critic.candidates == 6
    one = engine.generate(Request("agvae2", 4, 1.0, 7, score=score, candidates=1))
    assert np.array_equal(one.loops, before.loops)  # candidate 0 is the request's own draw
    picked = engine.generate(req)
    assert np.array_equal(picked.loops, engine.generate(req).loops)  # a seed gives one result
    critic = engine.models["agvae2"].critic
    drawn = [engine.generate(replace(req, seed=candidate_seed(7, c), candidates=1)) for c in range(6)]
    means = [critic.scores(d.loops).mean() for d in drawn]
    best = drawn[int(np.argmax(means))]
    assert picked.seed == best.seed and np.array_equal(picked.loops, best.loops) and np.array_equal(picked.z, best.z)
    assert (picked.score_seed, picked.groove_seed) == (best.score_seed, best.groove_seed)
    again = replace(req, seed=picked.seed, score_seed=picked.score_seed, groove_seed=picked.groove_seed, candidates=1)
    assert np.array_equal(engine.generate(again).loops, picked.loops)  # its seeds give back what was heard
    locked = engine.generate(replace(req, seed=8, groove_seed=picked.groove_seed))
    assert locked.groove_seed == picked.groove_seed  # a seed the request sets is kept by every candidate
    taps = np.zeros((32, 3), np.float32)
    taps[::2] = 1.0, 0.5, 0.0
    own = Request("agvae2", 2, 1.0, 7, score=score, groove=taps)  # every latent given: drawn once
    assert np.array_equal(engine.generate(own).loops, engine.generate(replace(own, candidates=1)).loops)
    assert engine.generate(own).seed == 7
    for bad in (0, MAX_CANDIDATES + 1, "many"):
        with pytest.raises(InputError, match="candidates"):
            engine.generate(Request("agvae2", 1, 1.0, 7, score=score, candidates=bad))

    (folder / CRITIC_FILE).write_bytes(b"not a critic")
    with pytest.raises(ModelError, match="corrupt"):
        Engine(folder.parent)
    attach(folder, onnx_bytes(net), 6)
    meta = json.loads((folder / "model.json").read_text())
    del meta["critic"]["candidates"]
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="unreadable critic"):
        Engine(folder.parent)
    attach(folder, None)  # removed: one draw again, and asking for more is an error
    engine = Engine(folder.parent)
    assert np.array_equal(engine.generate(req).loops, before.loops) and not (folder / CRITIC_FILE).exists()
    assert CRITIC_FILE not in json.loads((folder / "model.json").read_text())["sha256"]
    with pytest.raises(InputError, match="no critic"):
        engine.generate(Request("agvae2", 1, 1.0, 7, score=score, candidates=2))


def test_main_trains_selects_and_writes_the_kept_critic(tmp_path, fake_gmd, capsys):
    torch = pytest.importorskip("torch")
    from beatguide_export import critic
    from beatguide_export.models import build
    from beatguide_export.onnx_export import export_model

    torch.manual_seed(0)
    folder = tmp_path / "models" / "agvae2"
    export_model(build("agvae2", enc_hidden=16, mlp_hidden=32, dec_hidden=32, dec_layers=1, values="logistic"), folder)
    args = ["--gmd", str(fake_gmd), "--models", str(tmp_path / "models"), "--model", "agvae2"]
    args += ["--fit-windows", "8", "--epochs", "1", "--width", "8", "--candidates", "2", "--selection-seeds", "1"]
    assert critic.main([*args, "--write"]) == 0
    out = capsys.readouterr().out
    assert "## Fit" in out and "## Selection" in out and "(kept)" in out
    meta = json.loads((folder / "model.json").read_text())
    kept_two = "| 2 (kept) |" in out
    assert ("critic" in meta) == kept_two == (folder / critic.CRITIC_FILE).exists()
    if kept_two:
        assert meta["critic"]["candidates"] == 2 and meta["critic"]["draws"] == 2
    with pytest.raises(SystemExit):
        critic.main([*args, "--candidates", str(MAX_CANDIDATES + 1)])


def test_the_model_card_names_the_critic_where_a_model_has_one(tmp_path):
    pytest.importorskip("torch")
    from pathlib import Path

    from beatguide_export.critic import CRITIC_FILE
    from beatguide_export.model_card import write_card

    meta = json.loads((Path(__file__).resolve().parent.parent / "models" / "agvae2" / "model.json").read_text())
    meta.pop("critic", None)
    meta["files"].pop("critic", None)
    assert "beatguide.critic" not in write_card(tmp_path, meta).read_text()
    meta["files"]["critic"] = CRITIC_FILE
    meta["critic"] = {"candidates": 8, "train_windows": 17268, "draws": 2, "held_out_auc": 0.73}
    card = write_card(tmp_path, meta).read_text()
    assert f"`{CRITIC_FILE}`: the critic" in card and "request 8 times" in card and "0.730" in card


def test_the_lab_compares_one_draw_with_the_critics_picks(tiny_drawing_model, fake_gmd, capsys):
    pytest.importorskip("torch")
    import critic_pick
    from beatguide_export.critic import CriticNet, attach, onnx_bytes

    folder, _ = tiny_drawing_model
    args = ["--gmd", str(fake_gmd), "--models", str(folder.parent), "--model", "agvae2", "--candidates", "2"]
    with pytest.raises(SystemExit):
        critic_pick.main(args)  # no critic yet
    attach(folder, onnx_bytes(CriticNet(8)), 2)
    assert critic_pick.main(args) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "setting" not in line]
    assert [r.split(" | ")[0] for r in rows] == [
        "| one draw (critic off)",
        "| best of 2 whole draws",
        "| best of 2 draws of the notes alone",
        "| best of 2 whole draws, 4 variations",
    ]
    engine = Engine(folder.parent)
    loops = np.zeros((3, 32, 27), np.float32)
    loops[:, ::4, HITS.start] = 1
    picked = critic_pick.notes_alone(engine, "agvae2", loops, 3, 0)
    first = engine.generate(Request("agvae2", 1, 1.0, 0, score=loops[0, :, HITS], candidates=1))
    assert picked.shape == (3, 32, 27)
    assert (
        engine.models["agvae2"].critic.scores(picked[:1]) >= engine.models["agvae2"].critic.scores(first.loops) - 1e-5
    )
