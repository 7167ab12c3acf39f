"""Issue 13's nine cases (no traceback on any input, nothing written on an error), each a test,
through the command line as a user meets them, plus the default input map and what is left out.
Cases 9 (OSC) live beside the protocol: tests/test_protocol.py::test_score_flag_without_hits_is_no_input,
tests/test_osc_server.py::test_out_of_range_reply_port_is_logged_as_such."""

from __future__ import annotations

import subprocess
import sys

import mido
import numpy as np
import pytest

from beatguide import protocol as P
from beatguide.cli import EXIT_USER_ERROR, main
from beatguide.drums import GM_MAP, GMD_MAP
from beatguide.engine import Engine
from beatguide.errors import EmptyInputError, InputError, TempoError
from beatguide.grid import HITS, LOOP_BEATS, Note, empty_loop, loop_to_notes
from beatguide.midi_io import TICKS_PER_BEAT, read_loop, read_midi, write_loop, write_midi


def drum(note, time=0, velocity=100, channel=9):
    return mido.Message("note_on", note=note, velocity=velocity, channel=channel, time=time)


@pytest.fixture
def score(tmp_path):
    """Kick on every beat, snare on 2 and 4, closed hats on 8ths, 2 bars at 100 BPM."""
    notes = [Note(b, 36, 110) for b in range(8)] + [Note(b, 38, 100) for b in (1, 3, 5, 7)]
    notes += [Note(b / 2, 42, 70) for b in range(16)]
    return write_midi(tmp_path / "score.mid", notes, 100)


def run(argv, capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def gen(models_dir, *argv) -> list[str]:
    return ["generate", "--models", str(models_dir), "--variations", "1", *map(str, argv)]


def note_ticks(path) -> list[int]:
    tick, out = 0, []
    for msg in mido.MidiFile(str(path)).tracks[0]:
        tick += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            out.append(tick)
    return out


# -- 1. a tempo of 0 microseconds per beat -------------------------------------------------------


def test_1_zero_tempo_is_an_error_not_a_traceback(midi_file, models_dir, tmp_path, capsys):
    path = midi_file("zero.mid", [mido.MetaMessage("set_tempo", tempo=0), drum(36)])
    with pytest.raises(TempoError, match="0 microseconds per beat"):
        read_midi(path)
    code, _, err = run(gen(models_dir, "--score", path, "--out", tmp_path / "out"), capsys)
    assert code == EXIT_USER_ERROR and "0 microseconds per beat" in err
    assert not (tmp_path / "out").exists()


# -- 2. --out that cannot be written ------------------------------------------------------------


@pytest.mark.parametrize("where", ["existing file", "below a file", "unwritable"])
def test_2_out_that_cannot_be_written(where, score, models_dir, tmp_path, capsys):
    taken = tmp_path / "taken.mid"
    taken.write_bytes(b"keep me")
    out = {"existing file": taken, "below a file": taken / "sub", "unwritable": "/proc/beatguide-test"}[where]
    code, _, err = run(gen(models_dir, "--score", score, "--out", out), capsys)
    assert code == EXIT_USER_ERROR and "beatguide: error:" in err and "Traceback" not in err
    assert taken.read_bytes() == b"keep me"


def test_2_existing_files_are_kept_unless_forced(score, models_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(gen(models_dir, "--score", score, "--out", out), capsys)[0] == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    code, _, err = run(gen(models_dir, "--score", score, "--out", out, "--seed", 5), capsys)
    assert code == EXIT_USER_ERROR and "already holds" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    assert run(gen(models_dir, "--score", score, "--out", out, "--seed", 5, "--force"), capsys)[0] == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} != first


# -- 3. and 4. tempos: 0 is an error, and an error writes nothing ---------------------------------


@pytest.mark.parametrize("bpm", ["0", "1", "1000", "nan", "-120", "inf"])
def test_3_4_bad_bpm_is_an_error_and_writes_nothing(bpm, score, models_dir, tmp_path, capsys):
    out = tmp_path / "new" / "folder"
    code, _, err = run(gen(models_dir, "--score", score, "--bpm", bpm, "--out", out), capsys)
    assert code == EXIT_USER_ERROR and "BPM" in err
    assert not (tmp_path / "new").exists()


def test_4_an_error_after_generating_leaves_no_folder(score, models_dir, tmp_path, capsys):
    out = tmp_path / "new" / "folder"
    code, _, err = run(gen(models_dir, "--score", score, "--output-pitches", "1 2 3", "--out", out), capsys)
    assert code == EXIT_USER_ERROR and not (tmp_path / "new").exists()


# -- 5. an early downbeat stays inside the loop in every writer ---------------------------------


@pytest.mark.parametrize("offset", [-1e-9, -1e-7, -1e-4, -0.001, -0.5, -1.0])
def test_5_early_downbeat_lands_inside_the_loop(offset, tmp_path):
    loop = empty_loop()
    loop[0, 2], loop[0, 11], loop[0, 20] = 1, 0.6, offset  # a closed hat early on the downbeat
    loop[31, 0], loop[31, 9], loop[31, 18] = 1, 0.6, 1.0  # a late kick on the last step
    starts = [n.start for n in loop_to_notes(loop)]
    assert all(0 <= s < LOOP_BEATS for s in starts)
    assert all(0 <= n[1] < LOOP_BEATS for n in P.loop_notes(loop))
    ticks = note_ticks(write_loop(tmp_path / "x.mid", loop, 120))
    assert len(ticks) == 2 and all(0 <= t < LOOP_BEATS * TICKS_PER_BEAT for t in ticks)


def test_5_generated_files_never_hold_a_note_at_the_loop_end(models_dir, score, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [
        "generate",
        "--models",
        str(models_dir),
        "--model",
        "agvae2",
        "--score",
        str(score),
        "--variations",
        "8",
        "--temperature",
        "1.5",
        "--out",
        str(out),
    ]
    assert run(argv, capsys)[0] == 0
    for path in out.glob("*.mid"):
        assert all(t < LOOP_BEATS * TICKS_PER_BEAT for t in note_ticks(path)), path.name


# -- 6. a negative start bar ---------------------------------------------------------------------


def test_6_negative_start_bar(score, models_dir, tmp_path, capsys):
    with pytest.raises(InputError):
        read_loop(score, start_bar=-1)
    code, _, err = run(gen(models_dir, "--score", score, "--start-bar", "-1", "--out", tmp_path / "o"), capsys)
    assert code == EXIT_USER_ERROR and "0 or more" in err and not (tmp_path / "o").exists()


# -- 7. empty lanes are empty, for every model ---------------------------------------------------


def test_7_all_lanes_empty(score, models_dir, tmp_path, capsys):
    code, _, err = run(gen(models_dir, "--model", "agvae11", "--all-lanes", "empty", "--out", tmp_path / "a"), capsys)
    assert code == EXIT_USER_ERROR and "nothing to play" in err
    code, _, _ = run(
        gen(
            models_dir,
            "--model",
            "agvae11",
            "--all-lanes",
            "empty",
            "--groove",
            score,
            "--variations",
            4,
            "--out",
            tmp_path / "b",
        ),
        capsys,
    )
    assert code == 0
    for v in range(1, 5):
        assert not read_midi_notes(tmp_path / "b" / f"agvae11_v{v}.mid")


def read_midi_notes(path) -> list:
    return [m for m in mido.MidiFile(str(path)).tracks[0] if m.type == "note_on" and m.velocity > 0]


@pytest.mark.parametrize("model", ["baseline", "factorized", "agvae2", "agvae11"])
def test_7_8_lanes_are_honoured_by_every_model(model, score, models_dir, tmp_path, capsys):
    """--lanes is no longer ignored by models without lanes: kick empty, and snare exact where the
    model takes the exact mode (models exported before it say so: an error, not a silent change)."""
    exact = "exact" in Engine(models_dir).capabilities(model)["lane_modes"]
    out = tmp_path / model
    code, _, err = run(
        gen(
            models_dir,
            "--model",
            model,
            "--score",
            score,
            "--lanes",
            "kick=empty,snare=exact",
            "--variations",
            4,
            "--out",
            out,
        ),
        capsys,
    )
    assert code == (0 if exact else EXIT_USER_ERROR), err
    if not exact:
        assert "exact" in err
        code, _, err = run(
            gen(
                models_dir, "--model", model, "--score", score, "--lanes", "kick=empty", "--variations", 4, "--out", out
            ),
            capsys,
        )
        assert code == 0, err
    snare_drawn = [4, 12, 20, 28]
    for v in range(1, 5):
        loop = read_loop(out / f"{model}_v{v}.mid").loop
        assert not loop[:, 0].any()  # kick empty
        if exact:
            assert np.nonzero(loop[:, 1])[0].tolist() == snare_drawn  # snare exactly as drawn


# -- 8. the default input map, channels, what is left out ------------------------------------------


def test_8_default_map_reads_roland_hats_22_and_26(midi_file):
    """A GMD-style file (Roland TD-11 pitches): every note is read, as the GMD map reads them."""
    pitches = [36, 38, 22, 26, 42, 46, 44, 40, 37, 51, 49, 43, 45, 48, 50, 47]
    msgs = [drum(p, time=120 if i else 0) for i, p in enumerate(pitches * 2)]
    read = read_loop(midi_file("roland.mid", msgs))
    assert read.loop[:, HITS].sum() == len(pitches) * 2 and not read.ignored
    assert GM_MAP.class_of(22) == GMD_MAP.class_of(22) == 2 and GM_MAP.class_of(26) == GMD_MAP.class_of(26) == 3
    differ = [p for p in range(128) if GMD_MAP.class_of(p) is not None and GM_MAP.class_of(p) != GMD_MAP.class_of(p)]
    assert differ == [45, 48, 58]  # toms named differently, and the Roland's floor-tom rim


def test_8_channel_10_preferred_and_the_rest_reported(midi_file, models_dir, tmp_path, capsys):
    piano = [mido.Message("note_on", note=p, velocity=80, channel=0, time=0) for p in (36, 38, 42)]
    drums = [drum(36, time=480), drum(38, time=480), drum(100, time=0), drum(42, time=480)]
    path = midi_file("band.mid", piano + drums)
    read = read_loop(path)
    assert read.loop[:, HITS].sum() == 3  # the three drum notes of the map; the piano is left out
    text = " ".join(read.ignored)
    assert "channel 10 only" in text and "3 notes on channel 1" in text and "100" in text
    code, _, err = run(gen(models_dir, "--score", path, "--out", tmp_path / "o"), capsys)
    assert code == 0 and "beatguide: note:" in err and "channel 1" in err


def test_8_no_map_pitch_in_the_window(midi_file):
    with pytest.raises(EmptyInputError):
        read_loop(midi_file("melody.mid", [drum(100), drum(101, time=480)]))


def test_8_accents_file_written_or_said_to_be_left_out(score, models_dir, tmp_path, capsys):
    code, _, err = run(
        gen(models_dir, "--model", "agvae11", "--score", score, "--accents", score, "--out", tmp_path / "a"), capsys
    )
    assert code == 0, err
    names = {p.name for p in (tmp_path / "a").iterdir()}
    assert {
        "agvae11_v1.mid",
        "agvae11_v1_aux_score.mid",
        "agvae11_v1_aux_groove.mid",
        "agvae11_v1_aux_accents.mid",
    } <= names
    code, _, err = run(
        gen(models_dir, "--model", "baseline", "--score", score, "--accents", score, "--out", tmp_path / "b"), capsys
    )
    assert code == 0 and "baseline does not read accents" in err


def test_8_options_a_model_does_not_take_are_errors(score, models_dir, tmp_path, capsys):
    code, _, err = run(
        gen(models_dir, "--model", "baseline", "--score", score, "--latent-source", "bank", "--out", tmp_path / "o"),
        capsys,
    )
    has_bank = "bank" in Engine(models_dir).capabilities("baseline")["latent_sources"]
    assert code == (0 if has_bank else EXIT_USER_ERROR)
    code, _, err = run(gen(models_dir, "--model", "nosuchmodel", "--score", score, "--out", tmp_path / "p"), capsys)
    assert code == EXIT_USER_ERROR and "nosuchmodel" in err and not (tmp_path / "p").exists()
    code, _, err = run(gen(models_dir, "--score", score, "--lanes", "cowbell=empty", "--out", tmp_path / "q"), capsys)
    assert code == EXIT_USER_ERROR and "cowbell" in err


# -- the command line as a subprocess: messages, never tracebacks ---------------------------------


def test_cli_smoke_generate_subprocess(score, models_dir, tmp_path):
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "beatguide.cli",
        "generate",
        "--models",
        str(models_dir),
        "--score",
        str(score),
        "--groove",
        str(score),
        "--variations",
        "2",
        "--seed",
        "3",
        "--out",
        str(out),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout and "100 BPM" in r.stdout
    assert {"agvae2_v1.mid", "agvae2_v2.mid", "agvae2_v1_aux_score.mid", "agvae2_v1_aux_groove.mid"} <= {
        p.name for p in out.iterdir()
    }
    back = read_loop(out / "agvae2_v1.mid")
    assert back.bpm == pytest.approx(100) and back.loop[:, HITS].any()
    bad = subprocess.run(cmd[:-1] + [str(tmp_path / "o2"), "--bpm", "nan"], capture_output=True, text=True)
    assert bad.returncode == EXIT_USER_ERROR and "Traceback" not in bad.stderr
