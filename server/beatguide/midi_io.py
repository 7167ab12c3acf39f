"""MIDI files <-> notes and loops, through mido. Drums are written on channel 10 (index 9)."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import mido
import numpy as np

from .drums import GM_MAP, DrumMap
from .errors import EmptyInputError, InputError, MidiReadError, OutputError, TempoError, TimeSignatureError
from .grid import (
    BARS,
    BEATS_PER_BAR,
    HITS,
    LOOP_BEATS,
    STEP_BEATS,
    Note,
    check_bpm,
    check_loop,
    loop_to_notes,
    notes_to_loop,
)

DRUM_CHANNEL = 9
DEFAULT_BPM = 120.0  # the MIDI standard's tempo when a file sets none
TICKS_PER_BEAT = 480


@dataclass
class MidiContent:
    """The notes of a MIDI file in beats, the channel of each (0-15), its tempo and time signature."""

    notes: list[Note]
    channels: list[int]
    bpm: float
    time_signature: tuple[int, int]


def _open(path) -> mido.MidiFile:
    try:
        return mido.MidiFile(str(path))
    except FileNotFoundError:
        raise MidiReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise MidiReadError(f"{path}: a folder, not a MIDI file") from None
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as e:
        raise MidiReadError(f"{path}: not a readable MIDI file ({e})") from None


def read_midi(path, *, require_4_4: bool = True) -> MidiContent:
    """Read every note-on of a MIDI file (all channels) with onsets in beats.

    Raises MidiReadError (missing, corrupt), TimeSignatureError (not 4/4), TempoError (absurd tempo),
    EmptyInputError (no notes).
    """
    mid = _open(path)
    if mid.type == 2:
        raise MidiReadError(f"{path}: MIDI type 2 files are not supported")
    tpb = mid.ticks_per_beat
    if tpb <= 0:  # 0: a corrupt header; negative: SMPTE frames instead of beats
        kind = "a corrupt MIDI file" if tpb == 0 else "SMPTE timing, which is not supported"
        raise MidiReadError(f"{path}: {kind} (its header gives {tpb} ticks per beat)")
    notes: list[Note] = []
    channels: list[int] = []
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
                channels.append(msg.channel)
                pending.setdefault((msg.channel, msg.note), []).append(len(notes) - 1)
            elif msg.type in ("note_off", "note_on"):
                idx = pending.get((msg.channel, msg.note))
                if idx:
                    i = idx.pop(0)
                    n = notes[i]
                    notes[i] = Note(n.start, n.pitch, n.velocity, max(tick / tpb - n.start, 1e-3))
    bpm = _bpm(path, tempos[0]) if tempos else DEFAULT_BPM
    sig = signatures[0] if signatures else (4, 4)
    if require_4_4 and any(s != (4, 4) for s in signatures):
        bad = next(s for s in signatures if s != (4, 4))
        raise TimeSignatureError(f"{path}: time signature {bad[0]}/{bad[1]}; only 4/4 is supported")
    if not notes:
        raise EmptyInputError(f"{path}: the file has no notes")
    order = sorted(range(len(notes)), key=lambda i: notes[i].start)
    return MidiContent([notes[i] for i in order], [channels[i] for i in order], bpm, sig)


def _bpm(path, tempo: int) -> float:
    """The BPM of a set_tempo value (microseconds per beat), or TempoError."""
    if tempo <= 0:
        raise TempoError(f"{path}: a tempo of {tempo} microseconds per beat")
    try:
        return check_bpm(mido.tempo2bpm(tempo))
    except TempoError as e:
        raise TempoError(f"{path}: {e}") from None


def write_midi(
    path,
    notes,
    bpm: float,
    *,
    channel: int = DRUM_CHANNEL,
    loop: bool = False,
    loop_beats: float = LOOP_BEATS,
    track_name: str | None = None,
) -> Path:
    """Write notes (beats) as a type-0 MIDI file at a tempo, atomically: the file appears whole or not at all.

    With ``loop`` every note-on lands inside the loop of ``loop_beats`` (2 bars: [0, 3840) ticks): an
    onset that rounds to the loop's end is its downbeat. ``track_name``: the name a DAW shows for the track.
    """
    bpm = check_bpm(bpm)
    loop_ticks = int(loop_beats * TICKS_PER_BEAT)
    events = []
    for n in notes:
        on = int(round(n.start * TICKS_PER_BEAT))
        if loop:
            on %= loop_ticks
        off = on + max(1, int(round(n.duration * TICKS_PER_BEAT)))
        events.append((on, 1, mido.Message("note_on", channel=channel, note=int(n.pitch), velocity=int(n.velocity))))
        events.append((off, 0, mido.Message("note_off", channel=channel, note=int(n.pitch), velocity=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    if track_name:
        track.append(mido.MetaMessage("track_name", name=track_name, time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    track.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    last = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - last))
        last = tick
    end = max(last, loop_ticks)
    track.append(mido.MetaMessage("end_of_track", time=end - last))
    mid = mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_BEAT)
    mid.tracks.append(track)
    return save_atomically(Path(path), mid.save)


def save_atomically(path: Path, save) -> Path:
    """Call ``save(file=f)`` on a temporary file beside ``path``, then move it into place; on any
    failure nothing is left behind. A path that cannot be written raises OutputError."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise OutputError(f"cannot write in {path.parent}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            save(file=f)
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
        raise
    return path


def drum_notes(content: MidiContent) -> list[Note]:
    """The notes to read as drums: channel 10's (the General MIDI drum channel) when the file uses
    it, else every note."""
    if DRUM_CHANNEL not in content.channels:
        return content.notes
    return [n for n, c in zip(content.notes, content.channels) if c == DRUM_CHANNEL]


@dataclass
class LoopInput:
    """A 2-bar loop read from a file, the file's tempo, what was left out (lines for the user), and
    the notes of the 2 bars (onsets in beats from the loop start) it was read from."""

    loop: np.ndarray
    bpm: float
    ignored: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def read_loop(path, drum_map: DrumMap = GM_MAP, *, start_bar: int = 0) -> LoopInput:
    """Read a 2-bar loop from a MIDI file, from bar ``start_bar`` (0: the file's first bar).

    When the file has notes on channel 10 only those are read (the General MIDI drum channel);
    notes before or after the 2 bars and pitches outside the map are left out, and said so in
    ``ignored``. A file with no notes of the map in the 2 bars raises EmptyInputError.
    """
    start_bar = int(start_bar)
    if start_bar < 0:
        raise InputError(f"the first bar to read must be 0 or more (0 is the file's first bar), got {start_bar}")
    content = read_midi(path)
    ignored = []
    notes = drum_notes(content)
    if len(notes) < len(content.notes):
        others = Counter(c + 1 for c in content.channels if c != DRUM_CHANNEL)
        ignored.append(
            f"{path}: read channel 10 only; left out "
            + ", ".join(f"{_count(n, 'note')} on channel {c}" for c, n in sorted(others.items()))
        )
    offset = start_bar * BEATS_PER_BAR
    window = [
        Note(n.start - offset, n.pitch, n.velocity, n.duration)
        for n in notes
        if offset - STEP_BEATS / 2 <= n.start < offset + LOOP_BEATS
    ]
    outside = len(notes) - len(window)
    if outside:
        ignored.append(f"{path}: left out {_count(outside, 'note')} outside bars {start_bar + 1}-{start_bar + BARS}")
    unknown = Counter(n.pitch for n in window if drum_map.class_of(n.pitch) is None)
    if unknown:
        ignored.append(
            f"{path}: left out {_count(sum(unknown.values()), 'note')} with pitches the input map does "
            "not read: " + ", ".join(f"{p} (x{k})" if k > 1 else str(p) for p, k in sorted(unknown.items()))
        )
    loop = notes_to_loop(window, drum_map, wrap=True, strict=False)
    if not loop[:, HITS].any():
        raise EmptyInputError(f"{path}: no drum notes of the map in bars {start_bar + 1}-{start_bar + BARS}")
    return LoopInput(loop, content.bpm, ignored, window)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def write_loop(path, loop, bpm: float, drum_map: DrumMap = GM_MAP, *, track_name: str | None = None) -> Path:
    """Write a (32, 27) loop as a 2-bar drum MIDI file at a tempo (every onset inside the loop); a
    phrase (32 k, 27) as a 2 k-bar file."""
    loop = check_loop(loop)
    return write_midi(
        path, loop_to_notes(loop, drum_map), bpm, loop=True, loop_beats=len(loop) * STEP_BEATS, track_name=track_name
    )
