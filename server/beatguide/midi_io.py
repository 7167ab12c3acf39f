"""MIDI files <-> notes and loops, through mido. Drums are written on channel 10 (index 9)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mido

from .drums import DrumMap, GM_MAP
from .errors import EmptyInputError, MidiReadError, TempoError, TimeSignatureError
from .grid import LOOP_BEATS, Note, check_bpm, loop_to_notes, notes_to_loop

DRUM_CHANNEL = 9
DEFAULT_BPM = 120.0  # the MIDI standard's tempo when a file sets none
TICKS_PER_BEAT = 480


@dataclass
class MidiContent:
    """The notes of a MIDI file in beats, its tempo and time signature."""

    notes: list[Note]
    bpm: float
    time_signature: tuple[int, int]


def read_midi(path, *, require_4_4: bool = True) -> MidiContent:
    """Read every note-on of a MIDI file (all channels) with onsets in beats.

    Raises MidiReadError (missing, corrupt), TimeSignatureError (not 4/4), TempoError (absurd tempo),
    EmptyInputError (no notes).
    """
    try:
        mid = mido.MidiFile(str(path))
    except FileNotFoundError:
        raise MidiReadError(f"{path}: no such file") from None
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as e:
        raise MidiReadError(f"{path}: not a readable MIDI file ({e})") from None
    if mid.type == 2:
        raise MidiReadError(f"{path}: MIDI type 2 files are not supported")
    tpb = mid.ticks_per_beat or TICKS_PER_BEAT
    notes: list[Note] = []
    tempos: list[int] = []
    signatures: list[tuple[int, int]] = []
    pending: dict[tuple[int, int], list[int]] = {}
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempos.append(msg.tempo)
            elif msg.type == "time_signature":
                signatures.append((msg.numerator, msg.denominator))
            elif msg.type == "note_on" and msg.velocity > 0:
                notes.append(Note(tick / tpb, msg.note, msg.velocity))
                pending.setdefault((msg.channel, msg.note), []).append(len(notes) - 1)
            elif msg.type in ("note_off", "note_on"):
                idx = pending.get((msg.channel, msg.note))
                if idx:
                    i = idx.pop(0)
                    n = notes[i]
                    notes[i] = Note(n.start, n.pitch, n.velocity, max(tick / tpb - n.start, 1e-3))
    bpm = mido.tempo2bpm(tempos[0]) if tempos else DEFAULT_BPM
    try:
        bpm = check_bpm(bpm)
    except TempoError as e:
        raise TempoError(f"{path}: {e}") from None
    sig = signatures[0] if signatures else (4, 4)
    if require_4_4 and any(s != (4, 4) for s in signatures):
        bad = next(s for s in signatures if s != (4, 4))
        raise TimeSignatureError(f"{path}: time signature {bad[0]}/{bad[1]}; only 4/4 is supported")
    if not notes:
        raise EmptyInputError(f"{path}: the file has no notes")
    notes.sort(key=lambda n: n.start)
    return MidiContent(notes, bpm, sig)


def write_midi(path, notes, bpm: float, *, channel: int = DRUM_CHANNEL) -> Path:
    """Write notes (beats) as a type-0 MIDI file at a tempo, atomically: the file appears whole or not at all."""
    bpm = check_bpm(bpm)
    events = []
    for n in notes:
        on = int(round(n.start * TICKS_PER_BEAT))
        off = on + max(1, int(round(n.duration * TICKS_PER_BEAT)))
        events.append((on, 1, mido.Message("note_on", channel=channel, note=int(n.pitch), velocity=int(n.velocity))))
        events.append((off, 0, mido.Message("note_off", channel=channel, note=int(n.pitch), velocity=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    track.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    last = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - last))
        last = tick
    end = max(last, int(LOOP_BEATS * TICKS_PER_BEAT))
    track.append(mido.MetaMessage("end_of_track", time=end - last))
    mid = mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_BEAT)
    mid.tracks.append(track)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".mid.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            mid.save(file=f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_loop(path, drum_map: DrumMap = GM_MAP, *, start_bar: int = 0) -> tuple:
    """Read a 2-bar loop from a MIDI file starting at ``start_bar``; returns (loop, bpm).

    Notes before or after the 2 bars are left out; a file with no known drum notes in them raises.
    """
    content = read_midi(path)
    offset = start_bar * 4.0
    window = [Note(n.start - offset, n.pitch, n.velocity, n.duration) for n in content.notes
              if offset - 0.125 <= n.start < offset + LOOP_BEATS]
    loop = notes_to_loop(window, drum_map, wrap=True, strict=False)
    if not loop[:, :9].any():
        raise EmptyInputError(f"{path}: no drum notes of the map in bars {start_bar + 1}-{start_bar + 2}")
    return loop, content.bpm


def write_loop(path, loop, bpm: float, drum_map: DrumMap = GM_MAP) -> Path:
    """Write a (32, 27) loop as a 2-bar drum MIDI file at a tempo."""
    return write_midi(path, loop_to_notes(loop, drum_map), bpm)
