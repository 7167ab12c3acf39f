"""The example MIDI files: the repository's examples/ holds what ``beatguide examples`` writes (byte
for byte), and the README's generate commands run on them."""

from __future__ import annotations

from pathlib import Path

from beatguide.cli import main
from beatguide.drums import TAP_MAP
from beatguide.examples import write_examples
from beatguide.midi_io import read_loop

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NAMES = ("beat.mid", "taps.mid", "accents.mid")


def test_committed_examples_are_what_beatguide_examples_writes(tmp_path):
    assert sorted(p.name for p in write_examples(tmp_path)) == sorted(NAMES)
    for name in NAMES:
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name


def test_examples_read_as_two_bar_loops():
    read = read_loop(EXAMPLES / "beat.mid")
    beat, bpm = read.loop, read.bpm
    assert bpm == 100 and beat[:, 0].sum() == 6 and beat[:, 1].sum() == 4 and beat[:, 2].sum() == 16
    taps = read_loop(EXAMPLES / "taps.mid", TAP_MAP).loop
    assert taps[:, 0].sum() == 32 and (taps[1::2, 18] > 0.3).all() and (taps[::2, 18] == 0).all()


def test_readme_generate_command(tmp_path, models_dir):
    out = tmp_path / "out"
    assert (
        main(
            [
                "generate",
                "--score",
                str(EXAMPLES / "beat.mid"),
                "--groove",
                str(EXAMPLES / "taps.mid"),
                "--variations",
                "4",
                "--seed",
                "7",
                "--out",
                str(out),
                "--models",
                str(models_dir),
            ]
        )
        == 0
    )
    written = sorted(p.name for p in out.glob("*.mid"))
    assert [n for n in written if "aux" not in n] == [f"agvae2_v{v}.mid" for v in range(1, 5)]
    for name in written:
        read_loop(out / name, TAP_MAP)  # each is a readable 2-bar loop
