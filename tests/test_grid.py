import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from beatguide.drums import DEFAULT_OUTPUT_PITCHES, GM_MAP, DrumMap
from beatguide.errors import DrumMapError, InputError, TempoError, WindowError
from beatguide.grid import (
    LOOP_BEATS,
    STEP_BEATS,
    Note,
    check_bpm,
    loop_to_notes,
    notes_beats_to_seconds,
    notes_seconds_to_beats,
    notes_to_loop,
)

pitches = st.sampled_from(DEFAULT_OUTPUT_PITCHES)
note_st = st.builds(
    Note, start=st.floats(0, LOOP_BEATS - STEP_BEATS / 2 - 1e-6), pitch=pitches, velocity=st.integers(1, 127)
)


def test_known_note_lands_in_its_cell():
    loop = notes_to_loop([Note(1.0 + STEP_BEATS / 4, 38, 100)])  # beat 1 = step 4, a quarter step late
    assert loop[4, 1] == 1
    assert loop[4, 9 + 1] == pytest.approx(100 / 127)
    assert loop[4, 18 + 1] == pytest.approx(0.5)
    assert loop[:, :9].sum() == 1


def test_half_step_late_is_plus_one_and_early_is_negative():
    late = notes_to_loop([Note(0.5 + STEP_BEATS * 0.499, 36, 90)])
    early = notes_to_loop([Note(0.5 - STEP_BEATS * 0.25, 36, 90)])
    assert late[2, 18] == pytest.approx(0.998, abs=1e-3)
    assert early[2, 18] == pytest.approx(-0.5)


def test_loudest_note_wins_a_cell():
    loop = notes_to_loop([Note(0.0, 36, 40), Note(0.02, 35, 120), Note(0.01, 36, 80)])
    assert loop[0, 9] == pytest.approx(120 / 127)
    assert loop[0, 18] == pytest.approx(0.02 / STEP_BEATS * 2)


def test_note_late_past_the_end_wraps_to_step_zero_in_a_loop():
    loop = notes_to_loop([Note(LOOP_BEATS - 0.05, 36, 100)])
    assert loop[0, 0] == 1 and loop[0, 18] == pytest.approx(-0.4)
    assert notes_to_loop([Note(LOOP_BEATS - 0.05, 36, 100)], wrap=False)[:, :9].sum() == 0


def test_outside_window_is_an_error_or_dropped():
    with pytest.raises(WindowError):
        notes_to_loop([Note(9.0, 36, 100)])
    with pytest.raises(WindowError):
        notes_to_loop([Note(-1.0, 36, 100)])
    assert notes_to_loop([Note(9.0, 36, 100)], strict=False).sum() == 0


def test_unknown_pitch_is_skipped_or_raises():
    assert notes_to_loop([Note(0, 100, 100)]).sum() == 0
    with pytest.raises(DrumMapError):
        notes_to_loop([Note(0, 100, 100)], skip_unknown=False)


@pytest.mark.parametrize("bad", [Note(float("nan"), 36, 100), Note(0, 36, 0), Note(0, 36, 300)])
def test_bad_notes_raise_input_error(bad):
    with pytest.raises(InputError):
        notes_to_loop([bad])


@pytest.mark.parametrize("bpm", [None, 0, -5, 5000, float("nan"), float("inf")])
def test_absurd_or_missing_tempo(bpm):
    with pytest.raises(TempoError):
        check_bpm(bpm)


def test_drum_map_output_pitches_are_configurable():
    m = DrumMap.parse_output("60 61 62 63 64 65 66 67 68")
    notes = loop_to_notes(notes_to_loop([Note(0, 36, 100), Note(1, 51, 100)]), m)
    assert [n.pitch for n in notes] == [60, 68]
    with pytest.raises(DrumMapError):
        DrumMap.parse_output("1 2 3")
    with pytest.raises(DrumMapError):
        DrumMap.parse_output("1 2 3 4 5 6 7 8 200")


@settings(max_examples=200, deadline=None)
@given(st.lists(note_st, max_size=40))
@example([Note(1.5625, 36, 1), Note(1.5, 36, 1)])  # a velocity tie: the earlier note wins, in any order
def test_round_trip_onsets_within_rounding(notes):
    loop = notes_to_loop(notes)
    back = loop_to_notes(loop)
    # every cell holds the loudest of the notes quantized to it (ties: earlier, then lower pitch)
    # and it comes back at its onset
    cells = {}
    for n in notes:
        pos = n.start / STEP_BEATS
        step = int(math.floor(pos + 0.5))
        key = (step % 32, GM_MAP.class_of(n.pitch))
        rank = (n.velocity, -(pos - step), -n.pitch)
        if key not in cells or rank > cells[key][0]:
            cells[key] = (rank, n)
    cells = {key: n for key, (_, n) in cells.items()}
    assert len(back) == len(cells)
    got = {(int(math.floor(b.start / STEP_BEATS + 0.5)) % 32, GM_MAP.class_of(b.pitch)): b for b in back}
    for key, n in cells.items():
        b = got[key]
        assert b.velocity == n.velocity
        d = (b.start - n.start) % LOOP_BEATS
        assert min(d, LOOP_BEATS - d) < 1e-4


@settings(max_examples=100, deadline=None)
@given(st.lists(note_st, max_size=30), st.floats(40, 300))
def test_tempo_independence(notes, bpm):
    in_seconds = notes_beats_to_seconds(notes, bpm)
    again = notes_seconds_to_beats(in_seconds, bpm)
    np.testing.assert_allclose(notes_to_loop(again), notes_to_loop(notes), atol=1e-4)


@settings(max_examples=100, deadline=None)
@given(st.floats(-3, 3), st.sampled_from([0, 4, 16, 31]))
def test_offsets_are_clamped(shift, step):
    loop = notes_to_loop([Note(max(0.0, (step + shift) * STEP_BEATS), 36, 100)], strict=False)
    assert np.all(np.abs(loop[:, 18:]) <= 1.0)
