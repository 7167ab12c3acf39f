import subprocess
import sys

import mido
import numpy as np
import pytest

from beatguide.errors import EmptyInputError, MidiReadError, OutputError, TempoError, TimeSignatureError
from beatguide.grid import Note, notes_to_loop
from beatguide.midi_io import read_loop, read_midi, write_loop, write_midi


def test_round_trip_through_mido(tmp_path):
    loop = notes_to_loop([Note(0.03, 36, 100), Note(1.0, 38, 90), Note(0.5, 42, 70), Note(7.9, 42, 50)])
    path = write_loop(tmp_path / "a.mid", loop, 93.0)
    read = read_loop(path)
    back, bpm = read.loop, read.bpm
    assert bpm == pytest.approx(93.0, abs=1e-3)
    np.testing.assert_allclose(back, loop, atol=2 / 480 * 8 + 1e-6)  # tick rounding of offsets
    np.testing.assert_array_equal(back[:, :18] > 0, loop[:, :18] > 0)
    content = read_midi(path)
    assert all(m.channel == 9 for m in mido.MidiFile(path).tracks[0] if m.type == "note_on")
    assert len(content.notes) == 4


@pytest.mark.parametrize(
    ("division", "says"), [(b"\x00\x00", "a corrupt MIDI file"), (b"\xe7\x28", "SMPTE timing, which is not supported")]
)
def test_a_header_without_ticks_per_beat_is_refused(midi_file, division, says):
    """A header's division of 0 (corrupt) or with the top bit set (SMPTE frames) gives no beats to read."""
    path = midi_file("a.mid", [mido.Message("note_on", note=36, velocity=100, time=0)])
    data = bytearray(path.read_bytes())
    data[12:14] = division
    path.write_bytes(bytes(data))
    with pytest.raises(MidiReadError, match=f"{says} \\(its header gives -?\\d+ ticks per beat\\)"):
        read_midi(path)


def test_empty_corrupt_and_missing_files(tmp_path, midi_file):
    with pytest.raises(EmptyInputError):
        read_midi(midi_file("empty.mid", [mido.MetaMessage("set_tempo", tempo=500000)]))
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06garbage-bytes")
    with pytest.raises(MidiReadError):
        read_midi(bad)
    with pytest.raises(MidiReadError):
        read_midi(tmp_path / "nope.mid")


def test_non_4_4_and_absurd_tempo(midi_file):
    note = [mido.Message("note_on", note=36, velocity=100, channel=9, time=0)]
    with pytest.raises(TimeSignatureError):
        read_midi(midi_file("waltz.mid", [mido.MetaMessage("time_signature", numerator=3, denominator=4)] + note))
    with pytest.raises(TempoError):
        read_midi(midi_file("slow.mid", [mido.MetaMessage("set_tempo", tempo=16_000_000)] + note))


def test_missing_tempo_is_the_midi_default(midi_file):
    path = midi_file("notempo.mid", [mido.Message("note_on", note=36, velocity=100, channel=9, time=240)])
    c = read_midi(path)
    assert c.bpm == 120.0 and c.notes[0].start == 0.5


def test_file_with_no_mapped_drums(tmp_path):
    path = write_midi(tmp_path / "melody.mid", [Note(0, 100, 90)], 120)
    with pytest.raises(EmptyInputError):
        read_loop(path)


def test_longer_file_reads_the_chosen_bars(tmp_path):
    path = write_midi(tmp_path / "long.mid", [Note(0, 36, 90), Note(8.0, 38, 90), Note(12.0, 38, 90)], 120)
    loop = read_loop(path, start_bar=2).loop
    assert loop[0, 1] == 1 and loop[16, 1] == 1 and loop[:, 0].sum() == 0


def test_write_is_atomic_on_failure(tmp_path, monkeypatch):
    """The save itself fails half way: the file already there is untouched and no temporary is left."""
    path = write_midi(tmp_path / "x.mid", [Note(0, 36, 90)], 120)
    before = path.read_bytes()

    def broken_save(self, filename=None, file=None):
        file.write(b"MThd half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mido.MidiFile, "save", broken_save)
    with pytest.raises(OutputError, match="No space left"):
        write_midi(path, [Note(0, 38, 90), Note(1, 42, 60)], 120)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["x.mid"]
    monkeypatch.undo()
    with pytest.raises(TempoError):  # a bad tempo fails before anything is written
        write_midi(tmp_path / "y.mid", [Note(0, 36, 90)], 0)
    assert [p.name for p in tmp_path.iterdir()] == ["x.mid"]


def test_cli_bad_input_is_a_message_not_a_traceback(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "beatguide.cli", "data", "build", "--gmd", str(tmp_path)], capture_output=True, text=True
    )
    assert r.returncode == 2
    assert "beatguide: error:" in r.stderr and "Traceback" not in r.stderr
