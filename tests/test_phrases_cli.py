"""``beatguide generate --bars / --fill / --timing / --velocity`` and ``beatguide data phrases``."""

from __future__ import annotations

import mido
import pytest

from beatguide.cli import EXIT_USER_ERROR, main
from beatguide.grid import Note
from beatguide.midi_io import TICKS_PER_BEAT, write_midi


@pytest.fixture
def score(tmp_path):
    notes = [Note(b, 36, 110) for b in range(8)] + [Note(b, 38, 100) for b in (1, 3, 5, 7)]
    notes += [Note(b / 2, 42, 70) for b in range(16)]
    return write_midi(tmp_path / "score.mid", notes, 100)


def gen(models_dir, score, out, *argv) -> list[str]:
    return [
        "generate",
        "--models",
        str(models_dir),
        "--score",
        str(score),
        "--variations",
        "2",
        "--seed",
        "3",
        "--out",
        str(out),
        *argv,
    ]


def beats(path) -> tuple[list[float], float]:
    """Note-on onsets and the file's length, in beats."""
    tick, ons = 0, []
    for msg in mido.MidiFile(str(path)).tracks[0]:
        tick += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            ons.append(tick / TICKS_PER_BEAT)
    return ons, tick / TICKS_PER_BEAT


@pytest.mark.parametrize("bars", [4, 8])
def test_generate_writes_phrases_of_the_bars_asked(models_dir, score, tmp_path, bars):
    out = tmp_path / "out"
    assert main(gen(models_dir, score, out, "--bars", str(bars), "--fill", "always", "--timing", "80")) == 0
    for v in (1, 2):
        ons, length = beats(out / f"agvae2_v{v}.mid")
        assert length >= bars * 4 and max(ons) > (bars - 1) * 4 and all(0 <= t < bars * 4 for t in ons)
    ons, length = beats(out / "agvae2_v1_aux_score.mid")
    assert 8 <= length < 9 and max(ons) < 8, "the readings stay 2-bar loops"


def test_full_amounts_write_todays_files_byte_for_byte(models_dir, score, tmp_path):
    assert main(gen(models_dir, score, tmp_path / "a")) == 0
    assert main(gen(models_dir, score, tmp_path / "b", "--timing", "100", "--velocity", "100", "--bars", "2")) == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert all((tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes() for n in names)
    assert main(gen(models_dir, score, tmp_path / "c", "--timing", "0")) == 0
    assert (tmp_path / "c" / "agvae2_v1.mid").read_bytes() != (tmp_path / "a" / "agvae2_v1.mid").read_bytes()


@pytest.mark.parametrize(
    "argv, message",
    [(["--timing", "151"], "timing must be 0-150 %"), (["--velocity", "-5"], "velocity must be 0-150 %"),
     (["--velocity", "nan"], "velocity must be 0-150 %")],
)  # fmt: skip
def test_bad_amounts_exit_2_and_write_nothing(models_dir, score, tmp_path, capsys, argv, message):
    assert main(gen(models_dir, score, tmp_path / "out", *argv)) == EXIT_USER_ERROR
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", [["--bars", "3"], ["--bars", "four"], ["--fill", "sometimes"]])
def test_bad_bars_or_fill_are_usage_errors(models_dir, score, tmp_path, argv):
    with pytest.raises(SystemExit) as e:
        main(gen(models_dir, score, tmp_path / "out", *argv))
    assert e.value.code == EXIT_USER_ERROR


def test_data_phrases_needs_long_performances(fake_gmd, models_dir, tmp_path, capsys):
    out = tmp_path / "phrases.npz"
    argv = ["data", "phrases", "--gmd", str(fake_gmd), "--models", str(models_dir), "--out", str(out)]
    assert main([*argv, "--cache-dir", str(tmp_path / "cache")]) == EXIT_USER_ERROR
    assert "no phrase-aligned 4-bar window" in capsys.readouterr().err
    assert not out.exists()
