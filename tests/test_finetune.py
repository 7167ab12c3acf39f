"""``beatguide finetune``: a few-step fine-tune end to end into a temporary per-user models folder
(listed by the engine and the server), the reader of a producer's folder, and bad inputs that give
a clear message, exit 2 and write nothing."""

from __future__ import annotations

import json
import shutil

import mido
import numpy as np
import pytest

pytest.importorskip("torch")

from beatguide.cli import main  # noqa: E402
from beatguide.drums import GM_MAP  # noqa: E402
from beatguide.engine import Engine, Request  # noqa: E402
from beatguide.fitted_prior import FittedPrior
from beatguide.grid import Note  # noqa: E402
from beatguide.midi_io import write_midi  # noqa: E402
from beatguide.model_paths import model_dirs, user_models_dir  # noqa: E402
from beatguide_export import finetune as ft  # noqa: E402
from beatguide_export.onnx_export import load_exported  # noqa: E402

PITCHES = (36, 38, 42, 46, 45, 48, 50, 49, 51)


def drum_file(path, bars: int, seed: int, bpm: float = 120.0, pitches=PITCHES) -> None:
    """A drum performance: kick, snare and hats with a little timing and velocity play, and a random extra drum."""
    rng = np.random.default_rng(seed)
    notes = []
    for step in range(bars * 16):
        beat = step / 4
        played = [pitches[2]] + ([pitches[0]] if step % 8 == 0 else []) + ([pitches[1]] if step % 8 == 4 else [])
        played += [pitches[rng.integers(3, 9)]] if rng.random() < 0.1 else []
        for p in played:
            notes.append(Note(max(0.0, beat + rng.normal(0, 0.02)), p, int(rng.integers(40, 127))))
    write_midi(path, notes, bpm)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A user data folder of its own: the per-user models folder lands in tmp_path, not in the real home."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BEATGUIDE_MODELS", raising=False)
    assert str(user_models_dir()).startswith(str(tmp_path))
    return user_models_dir()


@pytest.fixture
def loops_folder(tmp_path):
    """Four files of 6 bars at different tempi (24 windows), one in a sub-folder."""
    folder = tmp_path / "my loops"
    (folder / "more").mkdir(parents=True)
    for i, bpm in enumerate((90, 120, 140, 174)):
        drum_file(folder / ("more" if i == 3 else "") / f"secret-take{i}.mid", 6, seed=i, bpm=bpm)
    return folder


def finetune_cli(tiny, folder, *extra) -> int:
    return main(["finetune", "agvae2", "--midi", str(folder), "--models", str(tiny), *map(str, extra)])


def test_finetune_end_to_end(tiny_models, home, loops_folder, capsys):
    tiny, _ = tiny_models
    assert finetune_cli(tiny, loops_folder, "--name", "my-groove", "--minutes", 0.05, "--threads", 1) == 0
    out = capsys.readouterr().out
    assert "read 4 MIDI files: 4 used (24 two-bar windows), 0 skipped" in out
    assert "wrote model 'my-groove'" in out
    folder = home / "my-groove"
    meta = json.loads((folder / "model.json").read_text())
    assert meta["name"] == "my-groove" and meta["kind"] == "agvae2"
    f = meta["training"]["finetune"]
    assert (f["base"], f["files"], f["windows"], f["input_map"]) == ("agvae2", 4, 24, "gm")
    assert f["train_files"] + f["validation_files"] == 4 and f["validation_files"] >= 1
    assert meta["training"]["train_windows"] + meta["training"]["validation_windows"] == 24
    # the bank holds the producer's own codes, or the base's where those came no closer
    assert f["bank"] in ("yours", "base") and meta["bank_rows"] == (24 if f["bank"] == "yours" else 64)
    assert meta["prior"] == "prior.npz" and (folder / "prior.npz").is_file()  # the base's fitted prior ships along
    card = (folder / "MODEL_CARD.md").read_text()
    assert "the base model's training windows' codes" in card
    whose = "24 of the producer's windows" if f["bank"] == "yours" else "64 of the base model's random training windows"
    assert f"posterior means of {whose}" in card
    assert "Fine-tuned from `agvae2`" in card and "24 2-bar windows" in card and "| before (base model) |" in card
    assert "secret" not in card + json.dumps(meta) and "my loops" not in card + json.dumps(meta)  # no file names
    assert not [p for p in home.iterdir() if p.name.startswith(".")]  # no leftovers of the export

    load_exported(folder)  # loadable for a further fine-tune
    engine = Engine(model_dirs([tiny]))
    assert "my-groove" in engine.names and "agvae2" in engine.names
    assert engine.capabilities("my-groove")["latent_sources"] == ["prior", "bank", "fitted"]
    assert engine.models["my-groove"].default_source == "bank"
    score = np.zeros((32, 9), np.float32)
    score[::4, 0] = 1
    for source in ("bank", None):  # None: the model's default
        assert engine.generate(Request("my-groove", 2, score=score, latent_source=source)).loops.shape == (2, 32, 27)

    from beatguide.client import Client
    from beatguide.osc_server import OscServer

    with OscServer(engine, port=0).start(warm_up=False) as srv, Client(srv.port) as c:
        assert "my-groove" in c.ping()


def test_existing_name_needs_force(tiny_models, home, loops_folder, capsys):
    tiny, _ = tiny_models
    (home / "mine").mkdir(parents=True)
    (home / "mine" / "keep.txt").write_text("mine")
    assert finetune_cli(tiny, loops_folder, "--name", "mine", "--minutes", 0.02) == 2
    assert "already exists" in capsys.readouterr().err
    assert (home / "mine" / "keep.txt").read_text() == "mine"
    assert finetune_cli(tiny, loops_folder, "--name", "mine", "--minutes", 0.02, "--force") == 0
    assert (home / "mine" / "model.json").is_file() and not (home / "mine" / "keep.txt").exists()
    assert sorted(p.name for p in home.iterdir()) == ["mine"]


@pytest.mark.parametrize(
    "name, message", [("agvae2", "choose another name"), ("../evil", "model name"), (".hidden", "model name")]
)
def test_names_refused(tiny_models, home, loops_folder, capsys, name, message):
    tiny, _ = tiny_models
    assert finetune_cli(tiny, loops_folder, "--name", name, "--minutes", 0.02, "--force") == 2
    assert message in capsys.readouterr().err
    assert not home.exists() or not any(home.iterdir())


def write_3_4(path) -> None:
    track = mido.MidiTrack([mido.MetaMessage("time_signature", numerator=3, denominator=4)])
    for i in range(48):
        track += [
            mido.Message("note_on", channel=9, note=36, velocity=100, time=0 if i == 0 else 240),
            mido.Message("note_off", channel=9, note=36, velocity=0, time=0),
        ]
    mid = mido.MidiFile()
    mid.tracks.append(track)
    mid.save(str(path))


def bad_folder(tmp_path, case: str):
    folder = tmp_path / case
    folder.mkdir()
    if case == "empty":
        (folder / "notes.txt").write_text("no MIDI here")
    elif case == "unreadable":
        (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    elif case == "three-four":
        write_3_4(folder / "waltz.mid")
    elif case == "too little":
        drum_file(folder / "short.mid", 8, seed=0)  # 8 windows
        drum_file(folder / "short2.mid", 4, seed=1)  # 4 more
    elif case == "no drums":
        drum_file(folder / "melody.mid", 24, seed=0, pitches=tuple(range(88, 97)))
    return folder


@pytest.mark.parametrize(
    "case, message",
    [
        ("empty", "no MIDI files"),
        ("unreadable", "broken.mid: not a readable MIDI file"),
        ("three-four", "time signature 3/4; only 4/4 is supported"),
        ("too little", "too little data: 12 two-bar windows from 2 usable files; fine-tuning needs at least 16"),
        ("no drums", "no drum notes"),
    ],
)
def test_bad_folders_exit_2_and_write_nothing(tiny_models, home, tmp_path, capsys, case, message):
    tiny, _ = tiny_models
    assert finetune_cli(tiny, bad_folder(tmp_path, case), "--name", "x", "--minutes", 0.02) == 2
    out, err = capsys.readouterr()
    assert message in out + err and "beatguide: error:" in err
    assert not home.exists() or not any(home.iterdir())


def test_missing_folder_and_model(tiny_models, home, tmp_path, loops_folder, capsys):
    tiny, _ = tiny_models
    assert finetune_cli(tiny, tmp_path / "nowhere", "--name", "x") == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["finetune", "nosuch", "--midi", str(loops_folder), "--name", "x", "--models", str(tiny)]) == 2
    assert "no model 'nosuch'" in capsys.readouterr().err
    assert not home.exists() or not any(home.iterdir())


def test_bad_files_are_skipped_with_reasons(tmp_path, loops_folder):
    write_3_4(loops_folder / "waltz.mid")
    (loops_folder / "broken.midi").write_bytes(b"not midi")
    files = ft.midi_files(loops_folder)
    data = ft.read_windows(files, GM_MAP)
    assert len(files) == 6 and len(data.files) == 4 and len(data) == 24
    assert len(data.skipped) == 2 and any("3/4" in s for s in data.skipped)
    assert "2 skipped" in ft.describe(data, len(files))


def test_reader_prefers_channel_10_and_any_tempo(tmp_path):
    """Two bars of kicks on channel 10 plus a piano on channel 1 at 93 BPM: the piano is left out."""
    msgs = [mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(93))]
    for i in range(8):
        msgs += [
            mido.Message("note_on", channel=9, note=36, velocity=90, time=0 if i == 0 else 480),
            mido.Message("note_on", channel=0, note=38, velocity=90, time=0),
        ]
    mid = mido.MidiFile(ticks_per_beat=480)
    mid.tracks.append(mido.MidiTrack(msgs))
    mid.save(str(tmp_path / "a.mid"))
    data = ft.read_windows([tmp_path / "a.mid"], GM_MAP)
    assert len(data) == 2  # windows starting on bars 1 and 2
    assert data.loops[0][:, :9].sum() == 8 and data.loops[0][:, 0].sum() == 8  # kicks only
    assert data.left_out == {"on channels other than 10": 8}


def test_split_by_file_holds_out_whole_files():
    index = np.repeat(np.arange(5), [10, 40, 12, 8, 30])
    tr, va = ft.split_by_file(index, 0.2, seed=0)
    assert not set(index[tr]) & set(index[va]) and set(index[tr]) | set(index[va]) == set(range(5))
    assert 10 <= len(va) <= 40
    tr, va = ft.split_by_file(np.zeros(20, np.int64), 0.2)  # one file: its last windows, one dropped between
    assert list(va) == [16, 17, 18, 19] and tr.max() == 14


def test_few_steps_improve_on_own_data(tiny_models, home, loops_folder):
    """The function behind the command: a few steps, the step limit honoured, numbers before and after."""
    tiny, _ = tiny_models
    meta = ft.finetune("agvae2", loops_folder, "steps", models=[tiny], minutes=1, max_steps=3, progress=False)
    f = meta["training"]["finetune"]
    assert f["steps"] == 3 and f["stopped"] == "step limit"
    assert set(f["before"]) == set(f["after"]) >= {"loss", "hit_f1", "offset_w", "velocity_w"}
    with np.load(tiny / "agvae2" / "weights.npz") as base, np.load(home / "steps" / "weights.npz") as tuned:
        same = [np.array_equal(base[k], tuned[k]) for k in base.files if k.startswith("encoders.")]
        assert all(same) and f["prior"] in ("adapted", "kept")  # a fitted prior is adapted, never folded in
        assert all(np.array_equal(base[k], tuned[k]) for k in base.files if k.startswith("encoders.") and ".rnn." in k)
        assert meta["training"]["best_epoch"] == 0 or any(
            not np.array_equal(base[k], tuned[k]) for k in base.files if k.startswith("decoder.")
        )
    b, a = f["start"], f["after"]  # the best weights are kept (the base's if no round beat them)
    assert a["offset_w"] + a["velocity_w"] <= b["offset_w"] + b["velocity_w"] and a["hit_f1"] >= b["hit_f1"] - 0.02
    assert set(f["before"]) == set(a)  # the base with its own bank, as a producer hears it


@pytest.mark.parametrize("closer", [True, False])
def test_bank_of_your_codes_only_if_closer(tiny_models, loops_folder, monkeypatch, capsys, closer):
    """Your windows' codes become the bank where, every file held out in turn, the held-out scores
    humanized with the other files' codes come at least as close to your playing as with the base's
    bank; else the base's bank is used and ships. Rounds are chosen with the training windows' codes."""
    tiny, _ = tiny_models
    base = ft.load_base("agvae2", [tiny])
    data = ft.read_producer_data(loops_folder, "gm")
    split = ft.Split.of(data, ft.VALIDATION_SHARE, 0)
    base_numbers = {"offset_w": 0.2, "velocity_w": 0.1, "hit_f1": 0.9}
    yours_numbers = {"offset_w": 0.15 if closer else 0.25, "velocity_w": 0.1, "hit_f1": 0.9}
    seen = []

    def numbers(m, windows, seed, prior, bank=None):
        seen.append((len(windows), bank))
        return {**(base_numbers if bank is base.bank else yours_numbers), "windows": len(windows)}

    monkeypatch.setattr(ft, "held_out_numbers", numbers)
    bank, action = ft._choose_bank(base.model, base.bank, data, split, base.prior, "kept", 0)
    files = len(np.unique(data.file_index))
    assert len(seen) == 2 * files  # each file held out once, humanized with each bank
    for held, own in seen[::2]:  # the held-out file's scores, the other files' codes
        assert own is not base.bank and len(own.z) == len(data) - held
    assert action == ("yours" if closer else "base")
    said = capsys.readouterr().out
    assert f"{files} groups of files held out in turn" in said and ("not kept" not in said) is closer
    assert bank is base.bank if not closer else len(bank.z) == len(split.train)
    # a folded prior moved the codes: the base's bank no longer fits, yours is taken untried
    _, action = ft._choose_bank(base.model, base.bank, data, split, None, "folded", 0)
    assert action == "yours" and len(seen) == 2 * files


def test_study_halves_and_goal():
    """The measurement's pieces: halves by file with about as many windows, the goal's arithmetic."""
    import finetune_study as fs

    index = np.repeat(np.arange(6), [30, 5, 12, 20, 8, 25])
    data = ft.MidiWindows(np.zeros((len(index), 32, 27), np.float32), index, [f"f{i}" for i in range(6)])
    a, b = fs.halves(data, seed=0)
    assert sorted(a + b) == data.files and not set(a) & set(b)
    sizes = [sum((index == int(f[1:])).sum() for f in half) for half in (a, b)]
    assert abs(sizes[0] - sizes[1]) <= 30
    base = {"offset_mean": 0.2, "velocity_mean": 0.1, "offset_weighted": 0.2, "velocity_weighted": 0.1, "hit_f1": 0.9}
    good = {
        "offset_mean": 0.15,
        "velocity_mean": 0.07,
        "offset_weighted": 0.14,
        "velocity_weighted": 0.08,
        "hit_f1": 0.89,
    }
    c = fs.compare(base, good)
    assert c["closer"]["offset_mean"] == pytest.approx(0.25) and c["goal_met"] == {"mean": True, "weighted": False}
    assert not fs.compare(base, good | {"hit_f1": 0.87})["goal_met"]["mean"]  # F1 dropped by 0.03


def test_ctrl_c_keeps_the_best_so_far(tiny_models, home, loops_folder, monkeypatch):
    """Ctrl-C during training: training stops, the best weights so far are exported."""
    tiny, _ = tiny_models
    real_step, calls = ft.finetune_step, []

    def step(*args):
        calls.append(1)
        if len(calls) == 20:  # in the second round
            raise KeyboardInterrupt
        return real_step(*args)

    monkeypatch.setattr(ft, "finetune_step", step)
    meta = ft.finetune("agvae2", loops_folder, "stopped", models=[tiny], minutes=5, progress=False)
    f = meta["training"]["finetune"]
    assert f["stopped"] == "interrupted" and f["steps"] == 19 and len(f["curve"]) == 1
    assert (home / "stopped" / "model.json").is_file()


@pytest.mark.parametrize("kind", ["agvae2", "agvae11", "factorized"])
def test_fold_prior_keeps_given_grooves_and_moves_prior_draws(tiny_models, loops_folder, kind):
    """After fold_prior a given groove decodes as before (means exactly, spreads nearly), and a prior
    draw u decodes as the base model decodes mean + std * u: the drummer's codes."""
    import copy

    import torch

    from beatguide_export.data import WindowSet

    _, models = tiny_models
    base = models[kind]
    ds = WindowSet(ft.read_windows(ft.midi_files(loops_folder), GM_MAP).loops)
    prior = ft.groove_prior(base, ds)
    assert prior and all(lat.gesture not in ft.SCORE_SIDE for lat in base.latents if lat.name in prior)
    folded = copy.deepcopy(base)
    ft.fold_prior(folded, prior)
    hit_control = -torch.ones_like(ds.loops[..., :9])

    @torch.no_grad()
    def decode(model, zs):
        z = model.join(zs)
        return model.decoder.teacher_forced(z, model.controls(z, model.reconstruct(zs), hit_control), ds.loops)

    post_b, post_f = base.encode(ds.gestures), folded.encode(ds.gestures)
    means_b, means_f = ({k: v[0] for k, v in post.items()} for post in (post_b, post_f))
    torch.testing.assert_close(decode(folded, means_f), decode(base, means_b), atol=1e-4, rtol=1e-4)
    for name, (m, s) in prior.items():
        assert torch.allclose(post_f[name][1] * s, post_b[name][1], rtol=0.5)
        u = torch.randn_like(m.expand(len(ds), -1))
        torch.testing.assert_close(
            decode(folded, means_f | {name: u}), decode(base, means_b | {name: m + s * u}), atol=1e-4, rtol=1e-4
        )


def test_l2sp_holds_the_weights_near_the_start(tiny_models, loops_folder):
    """The L2-SP pull: a strong one keeps the trained weights nearer the starting ones than none does."""
    import copy

    import torch

    from beatguide_export.data import WindowSet

    _, models = tiny_models
    ds = WindowSet(ft.read_windows(ft.midi_files(loops_folder), GM_MAP).loops)
    moved = []
    for l2sp in (0.0, 1e4):
        model = copy.deepcopy(models["agvae2"])
        anchor = {n: p.detach().clone() for n, p in model.named_parameters() if n.startswith("decoder.")}
        opt = torch.optim.SGD([model.get_parameter(n) for n in anchor], lr=1e-4)
        torch.manual_seed(0)
        for _ in range(5):
            ft.finetune_step(model, opt, ds.gestures, ds.loops, anchor=anchor, l2sp=l2sp)
        moved.append(sum(float(((model.get_parameter(n).detach() - a) ** 2).sum()) for n, a in anchor.items()))
    assert 0 < moved[1] < moved[0]


def _without_fitted_prior(tiny, tmp_path):
    """A copy of the tiny agvae2 that ships no fitted prior."""
    folder = tmp_path / "no-prior" / "agvae2"
    shutil.copytree(tiny / "agvae2", folder)
    meta = json.loads((folder / "model.json").read_text())
    (folder / meta.pop("prior")).unlink()
    meta["capabilities"]["latent_sources"].remove("fitted")
    (folder / "model.json").write_text(json.dumps(meta))
    return folder.parent


@pytest.mark.parametrize("fitted", [True, False], ids=["base-with-fitted-prior", "base-without"])
@pytest.mark.parametrize("fit_prior", ["no", "yes", "if-closer"])
def test_fit_prior_choices(tiny_models, home, loops_folder, tmp_path, fit_prior, fitted):
    """--fit-prior: never, always, or only when the held-out files come closer; a base's fitted prior is
    adapted, else the codes are folded into the N(0, I) prior; recorded in model.json."""
    tiny, _ = tiny_models
    base = tiny if fitted else _without_fitted_prior(tiny, tmp_path)
    meta = ft.finetune(
        "agvae2",
        loops_folder,
        f"p-{fit_prior}",
        models=[base],
        minutes=1,
        max_steps=1,
        lr=0.0,
        fit_prior=fit_prior,
        progress=False,
    )
    f = meta["training"]["finetune"]
    moved = "adapted" if fitted else "folded"
    assert f["fit_prior"] == fit_prior and f["prior"] in {"no": ("kept",), "yes": (moved,)}.get(
        fit_prior, ("kept", moved)
    )
    assert ("prior" in meta) is fitted
    if fit_prior == "if-closer" and f["prior"] != "kept":
        assert (
            f["after"]["offset_w"] <= f["before"]["offset_w"] and f["after"]["velocity_w"] <= f["before"]["velocity_w"]
        )
    with pytest.raises(ft.InputError, match="fit_prior"):
        ft.finetune("agvae2", loops_folder, "bad", models=[base], minutes=1, fit_prior="maybe", progress=False)


def test_parts_limit_what_is_trained(tiny_models, home, loops_folder):
    """``parts``: only parameters with those name prefixes may change; the encoders are refused."""
    tiny, _ = tiny_models
    ft.finetune(
        "agvae2",
        loops_folder,
        "out-only",
        models=[tiny],
        minutes=1,
        max_steps=3,
        fit_prior="no",
        parts=("decoder.out",),
        progress=False,
    )
    with np.load(tiny / "agvae2" / "weights.npz") as base, np.load(home / "out-only" / "weights.npz") as tuned:
        assert all(np.array_equal(base[k], tuned[k]) for k in base.files if not k.startswith("decoder.out"))
    for parts in (("encoders.",), ("nothing",)):
        with pytest.raises(ft.InputError, match="parts"):
            ft.finetune("agvae2", loops_folder, "bad", models=[tiny], minutes=1, parts=parts, progress=False)
    assert not (home / "bad").exists()


def test_the_base_fitted_prior_ships_adapted_or_as_is(tiny_models, home, loops_folder):
    """The fine-tuned model ships its base's fitted prior: with ``fit_prior="yes"`` its means and weights
    moved toward the producer's codes (covariances kept), with "no" unchanged; either is the model's default."""
    tiny, _ = tiny_models
    base = FittedPrior.from_file(tiny / "agvae2" / "prior.npz")
    for fit, name in (("yes", "adapted"), ("no", "as-is")):
        meta = ft.finetune(
            "agvae2", loops_folder, name, models=[tiny], minutes=1, max_steps=1, fit_prior=fit, progress=False
        )
        shipped = FittedPrior.from_file(home / name / "prior.npz")
        assert meta["prior_adapted"] is (fit == "yes") and meta["training"]["finetune"]["prior"] == (
            "adapted" if fit == "yes" else "kept"
        )
        np.testing.assert_allclose(shipped.covariances, base.covariances, rtol=1e-6)
        moved = np.abs(shipped.means - base.means).max()
        assert moved > 1e-3 if fit == "yes" else moved == 0
        assert meta["prior_fit"] == json.loads((tiny / "agvae2" / "model.json").read_text())["prior_fit"]
    engine = Engine(model_dirs([tiny]))
    assert engine.models["adapted"].default_source == "bank"
    score = np.zeros((32, 9), np.float32)
    score[::4, 0] = 1
    assert engine.generate(Request("adapted", 2, score=score)).loops.shape == (2, 32, 27)


def test_the_base_feel_is_kept(tiny_models, home, loops_folder, tmp_path):
    """A fine-tuned model draws its values with its base's feel (beatguide.feel)."""
    tiny, _ = tiny_models
    base = tmp_path / "base" / "agvae2"
    shutil.copytree(tiny / "agvae2", base)
    meta = json.loads((base / "model.json").read_text())
    meta["feel"] = {"loop": [0.2, 0.1], "drum": [0.1, 0.1], "bar": [0.0, 0.2], "spread": 1.0}
    (base / "model.json").write_text(json.dumps(meta))
    ft.finetune("agvae2", loops_folder, "felt", models=[base.parent], minutes=1, max_steps=1, progress=False)
    assert json.loads((home / "felt" / "model.json").read_text())["feel"] == meta["feel"]
    assert Engine(model_dirs([home])).models["felt"].feel.loop == (0.2, 0.1)
