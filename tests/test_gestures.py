import numpy as np
import pytest

from beatguide import gestures
from beatguide.grid import Note, empty_loop, notes_to_loop


def _loop():
    # kick on 0 (vel 100, late +0.2), snare on 4 (vel 60), hat on 0 (vel 120, early -0.4), hat on 2 (vel 50)
    loop = empty_loop()
    for step, cls, vel, off in [(0, 0, 100, 0.2), (4, 1, 60, 0.0), (0, 2, 120, -0.4), (2, 2, 50, 0.1)]:
        loop[step, cls], loop[step, 9 + cls], loop[step, 18 + cls] = 1, vel / 127, off
    return loop


def test_score_keeps_hits_only():
    s = gestures.score(_loop())
    assert s.shape == (32, 9)
    assert {tuple(x) for x in np.argwhere(s)} == {(0, 0), (4, 1), (0, 2), (2, 2)}


def test_groove_takes_the_loudest_note_per_step():
    g = gestures.groove(_loop())
    assert g.shape == (32, 3)
    np.testing.assert_allclose(g[0], [1, 120 / 127, -0.4], atol=1e-6)  # the hat is louder than the kick
    np.testing.assert_allclose(g[2], [1, 50 / 127, 0.1], atol=1e-6)
    np.testing.assert_allclose(g[4], [1, 60 / 127, 0.0], atol=1e-6)
    assert g[[1, 3] + list(range(5, 32))].sum() == 0


def test_accents_are_one_std_above_the_drums_mean():
    # hats: 8 notes at 60 and one at 120 -> only the loud one is an accent; kick: all equal -> none
    notes = [Note(i * 0.5, 42, 60) for i in range(8)] + [Note(4.5, 42, 120)] + [Note(i, 36, 100) for i in range(8)]
    a = gestures.accents(notes_to_loop(notes))
    assert a.shape == (32,)
    assert np.flatnonzero(a).tolist() == [18]


def test_accents_single_note_or_empty_loop_has_none():
    assert gestures.accents(notes_to_loop([Note(0, 36, 127)])).sum() == 0
    assert gestures.accents(empty_loop()).sum() == 0


def test_lanes_are_score_rows():
    lanes = gestures.lanes(_loop())
    assert lanes.shape == (9, 32)
    np.testing.assert_array_equal(lanes, gestures.score(_loop()).T)


def test_gestures_are_batched():
    batch = np.stack([_loop(), empty_loop()])
    assert gestures.groove(batch).shape == (2, 32, 3)
    assert gestures.accents(batch).shape == (2, 32)
    assert gestures.lanes(batch).shape == (2, 9, 32)


def test_way_back_to_audible_loops():
    g = gestures.groove(_loop())
    heard = gestures.groove_to_loop(g, drum_class=1)
    assert heard[:, 1].sum() == 3 and heard[0, 9 + 1] == pytest.approx(120 / 127)
    np.testing.assert_allclose(gestures.groove(heard), g)
    s = gestures.score_to_loop(gestures.score(_loop()))
    np.testing.assert_array_equal(gestures.score(s), gestures.score(_loop()))
    assert np.all(s[:, 18:] == 0)


def test_accents_are_exact_on_a_tie():
    # two hits: the louder lies exactly on mean + 1 sd, which is not "more than" (float32 said yes for some)
    for low in range(1, 127):
        for high in range(low + 1, 128, 7):
            assert gestures.accents(notes_to_loop([Note(0, 36, low), Note(1, 36, high)])).sum() == 0


def test_read_notes_is_the_loop_reading_for_mapped_pitches_whatever_the_order():
    rng = np.random.default_rng(3)
    pitches = [36, 38, 42, 46, 45, 48, 50, 49, 51]
    for _ in range(200):
        notes = [
            Note(float(rng.integers(0, 32)) / 4 + float(rng.choice([0, 0.02, -0.03])), int(rng.choice(pitches)), int(v))
            for v in rng.choice([60, 100, 127], int(rng.integers(1, 30)))
        ]
        loop = notes_to_loop(notes, strict=False)
        for order in (notes, notes[::-1]):
            r = gestures.read_notes(order)
            np.testing.assert_array_equal(r.score, gestures.score(loop))
            np.testing.assert_array_equal(r.groove, gestures.groove(loop))
            np.testing.assert_array_equal(r.accents, gestures.accents(loop))


def test_read_notes_groove_reads_every_pitch_after_the_drums():
    class Muted(Note):
        mute = True

    r = gestures.read_notes([Note(0, 100, 127), Note(1, 101, 50), Note(1.02, 38, 50), Muted(2, 36, 90)])
    assert r.score.sum() == 1 and r.score[4, 1] == 1
    np.testing.assert_allclose(r.groove[0], [1, 1, 0], atol=1e-6)  # pitch 100: no drum there
    np.testing.assert_allclose(r.groove[4], [1, 50 / 127, 0.16], atol=1e-6)  # tie: the snare, not pitch 101
    assert r.groove[8, 0] == 0  # muted
